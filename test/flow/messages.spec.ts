import { strict as assert } from "node:assert";
import { readRequestFromMessage, readResultMessage } from "../../src/flow/read-message.js";
import { writeEntriesFromMessage, writeResultMessage } from "../../src/flow/write-message.js";
import { switchCommandFromMessage, switchStatusPayload } from "../../src/flow/switch-message.js";
import { connectionNodeStatus, flowNodeStatus, tagFailureStatus, COMMAND_REJECTED_STATUS } from "../../src/flow/status.js";
import { RepeatedFailureGate, failureReason } from "../../src/flow/repeated-failure.js";
import { connectionCertificateLists, offeredFingerprint } from "../../src/flow/connection-certificates.js";
import { applyInt64Mode } from "../../src/flow/int64.js";
import { ItemError, S7Error, ValueError } from "../../src/errors.js";
import type { ConnectionStatus } from "../../src/client/controller-connection.js";

const itemError = (tag: string): ItemError => new ItemError("invalid LID", 0xff01n, { plc: "PLC1", tag });

describe("s7-read messages", () => {
  it("takes msg.tags first, then the configured tags, then msg.topic", () => {
    assert.deepEqual(readRequestFromMessage({ tags: ["A.x", " B.y "], topic: "C.z" }, ["D.w"]), { tags: ["A.x", "B.y"], single: false });
    assert.deepEqual(readRequestFromMessage({ tags: "A.x" }, ["D.w"]), { tags: ["A.x"], single: true });
    assert.deepEqual(readRequestFromMessage({ topic: "C.z" }, ["D.w", "E.v"]), { tags: ["D.w", "E.v"], single: false });
    assert.deepEqual(readRequestFromMessage({ topic: "C.z" }, []), { tags: ["C.z"], single: true });
    assert.throws(() => readRequestFromMessage({}, []), /no tags to read/);
    assert.throws(() => readRequestFromMessage({ tags: [1, 2] }, []), ValueError);
  });

  it("gives the bare value for one tag and an object keyed by tag for several; failed tags go to msg.errors", () => {
    assert.deepEqual(readResultMessage([{ tag: "A.x", ok: true, value: 1.5 }], { tags: ["A.x"], single: true }, "bigint"), {
      payload: 1.5,
      nothingRead: false,
    });
    const mixed = readResultMessage(
      [
        { tag: "A.x", ok: true, value: 7n },
        { tag: "B.y", ok: false, error: itemError("B.y") },
        { tag: "C.z", ok: true, value: [1n, 2n] },
      ],
      { tags: ["A.x", "B.y", "C.z"], single: false },
      "string",
    );
    assert.deepEqual(mixed.payload, { "A.x": "7", "C.z": ["1", "2"] });
    assert.deepEqual(Object.keys(mixed.errors ?? {}), ["B.y"]);
    assert.equal(mixed.error?.code, "ERR_S7_ITEM");
    assert.equal(mixed.nothingRead, false);
    const none = readResultMessage([{ tag: "B.y", ok: false, error: itemError("B.y") }], { tags: ["B.y"], single: true }, "bigint");
    assert.equal(none.nothingRead, true);
    assert.match(none.error!.message, /B\.y/);
  });

  it("converts 64-bit values deep inside structures but leaves dates and buffers alone", () => {
    const d = new Date(0);
    const b = Buffer.from([1]);
    assert.deepEqual(applyInt64Mode({ a: [1n], d, b, n: 2 }, "number"), { a: [1], d, b, n: 2 });
    assert.equal((applyInt64Mode({ d }, "string") as { d: Date }).d, d);
  });
});

describe("s7-write messages", () => {
  it("writes the configured tag or msg.topic with msg.payload, or every key of a payload object", () => {
    assert.deepEqual(writeEntriesFromMessage({ topic: "X.y", payload: 3 }, "A.b"), [{ tag: "A.b", value: 3 }]);
    assert.deepEqual(writeEntriesFromMessage({ topic: "X.y", payload: 3 }, ""), [{ tag: "X.y", value: 3 }]);
    assert.deepEqual(writeEntriesFromMessage({ payload: { "A.b": 1, "C.d": "x" } }, ""), [
      { tag: "A.b", value: 1 },
      { tag: "C.d", value: "x" },
    ]);
    assert.throws(() => writeEntriesFromMessage({ payload: 5 }, ""), /nothing to write/);
    assert.throws(() => writeEntriesFromMessage({ payload: {} }, ""), /empty object/);
  });

  it("reports per tag what was written", () => {
    const out = writeResultMessage([
      { tag: "A.b", ok: true, value: 1 },
      { tag: "C.d", ok: false, error: itemError("C.d") },
    ]);
    assert.deepEqual(out.result["A.b"], { ok: true, value: 1 });
    assert.equal(out.result["C.d"]!.ok, false);
    assert.equal(out.error?.code, "ERR_S7_ITEM");
  });

  it("names what was written and what was not when a write stops part-way", () => {
    const lost = new S7Error("ERR_S7_CONNECTION_CLOSED", "connection lost before the answer");
    const out = writeResultMessage([
      { tag: "A.a", ok: true, value: 1 },
      { tag: "A.b", ok: true, value: 2 },
      { tag: "A.c", ok: false, error: lost },
      { tag: "A.d", ok: false, error: lost },
    ]);
    assert.deepEqual(out.result, { "A.a": { ok: true, value: 1 }, "A.b": { ok: true, value: 2 }, "A.c": { ok: false, error: lost.message }, "A.d": { ok: false, error: lost.message } });
    assert.equal(out.error?.message, "2 of 4 tags were not written (A.c, A.d; written: A.a, A.b): connection lost before the answer");
    assert.equal(out.error?.code, "ERR_S7_CONNECTION_CLOSED");
  });
});

describe("s7-switch-connection messages", () => {
  it("reads actions from msg.action, a string payload or a payload object", () => {
    assert.deepEqual(switchCommandFromMessage({ action: "switch" }, "PLC1"), { kind: "action", action: "switch" });
    assert.deepEqual(switchCommandFromMessage({ payload: "switchBack" }, "PLC1"), { kind: "action", action: "switchBack" });
    assert.deepEqual(switchCommandFromMessage({ payload: { action: "switch" } }, "PLC1"), { kind: "action", action: "switch" });
    assert.throws(() => switchCommandFromMessage({ action: "jump" }, "PLC1"), /unknown action "jump"/);
  });

  it("takes the empty topic of a default inject node as no topic", () => {
    assert.deepEqual(switchCommandFromMessage({ topic: "", payload: "switch" }, "PLC1"), { kind: "action", action: "switch" });
    assert.deepEqual(switchCommandFromMessage({ topic: "  ", payload: "switchBack" }, "PLC1"), { kind: "action", action: "switchBack" });
    assert.deepEqual(switchCommandFromMessage({ topic: null, payload: "switch" }, "PLC1"), { kind: "action", action: "switch" });
    assert.throws(() => switchCommandFromMessage({ topic: "", payload: "jump" }, "PLC1"), /unknown action "jump"/);
  });

  it("takes a system tag in msg.topic, with or without the @connection@ prefix", () => {
    assert.deepEqual(switchCommandFromMessage({ topic: "@PLC1@ForceConnectionState", payload: 0 }, "PLC1"), {
      kind: "set",
      values: [["ForceConnectionState", 0]],
    });
    assert.deepEqual(switchCommandFromMessage({ topic: "useAlternativeAddress", payload: 1 }, "PLC1"), {
      kind: "set",
      values: [["UseAlternativeAddress", 1]],
    });
    assert.throws(() => switchCommandFromMessage({ topic: "@PLC2@ForceConnectionState", payload: 0 }, "PLC1"), /names connection "PLC2"/);
    assert.throws(() => switchCommandFromMessage({ topic: "Speed", payload: 0 }, "PLC1"), /not a system tag/);
  });

  it("applies an object in the order address, disconnect, selection, connect", () => {
    assert.deepEqual(
      switchCommandFromMessage({ payload: { ForceConnectionState: 1, UseAlternativeAddress: 1, AlternativeAddress: "IPAddress=127.0.0.2;" } }, "PLC1"),
      { kind: "set", values: [["AlternativeAddress", "IPAddress=127.0.0.2;"], ["UseAlternativeAddress", 1], ["ForceConnectionState", 1]] },
    );
    assert.deepEqual(switchCommandFromMessage({ payload: { UseAlternativeAddress: 1, ForceConnectionState: 0 } }, "PLC1"), {
      kind: "set",
      values: [["ForceConnectionState", 0], ["UseAlternativeAddress", 1]],
    });
    assert.throws(() => switchCommandFromMessage({ payload: { Colour: 1 } }, "PLC1"), /unknown key "Colour"/);
    assert.deepEqual(switchCommandFromMessage({}, "PLC1"), { kind: "query" });
  });

  const connected: ConnectionStatus = {
    state: "connected",
    endpoint: { host: "127.0.0.1", port: 10102, accessPoint: "" },
    alternative: false,
    systemTags: { ForceConnectionState: 1, UseAlternativeAddress: 0, AlternativeAddress: "" },
    info: {
      tlsVersion: "TLSv1.3",
      cipher: "TLS_AES_256_GCM_SHA384",
      verdict: {
        certificate: {
          subject: "CN=PLC1",
          issuer: "CN=PLC1",
          fingerprint256: "ab".repeat(32),
          serialNumber: "01",
          validFrom: new Date("2026-01-01T00:00:00Z"),
          validTo: new Date("2026-06-01T00:00:00Z"),
          selfSigned: true,
          ipAddresses: ["127.0.0.1"],
          dnsNames: [],
        },
        trustedBy: "store",
        revocationChecked: false,
        warnings: [{ code: "EXPIRED", message: "certificate expired on 2026-06-01" }],
      },
      identity: { paom: "", orderNumber: "6ES7 511-1AK02-0AB0", firmware: "3.1", family: "S7-1500", secureCommunication: true, legitimation: "new" },
      protectionLevel: 1,
      limits: { readMax: 20, writeMax: 20 },
    },
  };

  it("builds the status message with tags, address, TLS and certificate summary", () => {
    const p = switchStatusPayload("PLC1", connected, new Date("2026-11-24T00:00:00Z"));
    assert.equal(p.state, "connected");
    assert.deepEqual(p.address, { host: "127.0.0.1", port: 10102, alternative: false });
    assert.deepEqual(p.tls, { version: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" });
    assert.equal(p.certificate?.expired, true);
    assert.deepEqual(p.certificate?.warnings, ["certificate expired on 2026-06-01"]);
    assert.equal(p.ForceConnectionState, 1);
    assert.equal(p.error, null);
  });

  it("maps connection states to node status: expired warns, untrusted waits, forced off is grey", () => {
    assert.deepEqual(connectionNodeStatus(connected), { fill: "yellow", shape: "dot", key: "expired" });
    const fresh = { ...connected, info: { ...connected.info!, verdict: { ...connected.info!.verdict, warnings: [] } } };
    assert.deepEqual(connectionNodeStatus(fresh), { fill: "green", shape: "dot", key: "connected", params: { version: "1.3" } });
    assert.equal(connectionNodeStatus({ ...connected, state: "reconnect-wait", lastError: new S7Error("ERR_S7_UNTRUSTED", "manual trust required") }).key, "untrusted");
    const off = { ...connected, state: "disconnected" as const, systemTags: { ...connected.systemTags, ForceConnectionState: 0 as const } };
    assert.equal(connectionNodeStatus(off).key, "forcedOff");
  });

  it("names the alternative controller by its certificate's CN, else its address", () => {
    const fresh = { ...connected, info: { ...connected.info!, verdict: { ...connected.info!.verdict, warnings: [] } } };
    const plc2 = { ...fresh, alternative: true, info: { ...fresh.info, verdict: { ...fresh.info.verdict, certificate: { ...fresh.info.verdict.certificate, subject: "O=Plant, CN=PLC2" } } } };
    assert.deepEqual(connectionNodeStatus(plc2), { fill: "green", shape: "dot", key: "alternative", params: { name: "PLC2" } });
    const noCn = { ...plc2, info: { ...plc2.info, verdict: { ...plc2.info.verdict, certificate: { ...plc2.info.verdict.certificate, subject: "O=Plant" } } } };
    assert.deepEqual(connectionNodeStatus(noCn).params, { name: "127.0.0.1" });
  });

  it("shows a node's own problem only while the connection is up", () => {
    const fresh = { ...connected, info: { ...connected.info!, verdict: { ...connected.info!.verdict, warnings: [] } } };
    const own = tagFailureStatus(1, 4);
    assert.deepEqual(own, { fill: "yellow", shape: "dot", key: "tagsFailed", params: { failed: "1", total: "4" } });
    assert.deepEqual(flowNodeStatus(fresh, own), own);
    assert.deepEqual(flowNodeStatus(fresh, undefined), connectionNodeStatus(fresh));
    const waiting = { ...fresh, state: "reconnect-wait" as const, lastError: new S7Error("ERR_S7_UNTRUSTED", "manual trust required") };
    assert.equal(flowNodeStatus(waiting, own).key, "untrusted");
    assert.equal(COMMAND_REJECTED_STATUS.key, "commandRejected");
  });
});

describe("the repeated-failure rule", () => {
  it("reports once per distinct reason until a success, counted over a run of polls", () => {
    const gate = new RepeatedFailureGate();
    const untrusted = failureReason(new S7Error("ERR_S7_UNTRUSTED", "manual trust required"));
    const off = failureReason(new S7Error("ERR_S7_CLOSED", "ForceConnectionState = 0"));
    const polls = [untrusted, untrusted, untrusted, off, off, "ok", off, off, untrusted];
    const reported = polls.filter((reason) => {
      if (reason === "ok") {
        gate.succeeded();
        return false;
      }
      return gate.shouldReport(reason);
    });
    assert.deepEqual(reported, [untrusted, off, off, untrusted]);
  });

  it("takes per-tag failures as one reason whatever the order of the tags", () => {
    const e = new S7Error("ERR_S7_ITEM", "2 of 3 tags could not be read");
    assert.equal(failureReason(e, { "A.x": "no member x", "A.y": "no member y" }), failureReason(e, { "A.y": "no member y", "A.x": "no member x" }));
    assert.notEqual(failureReason(e, { "A.x": "no member x" }), failureReason(e, { "A.x": "access denied" }));
  });
});

describe("the Security tab's certificate lists", () => {
  const a = { fingerprint256: "aa".repeat(32), subject: "CN=A" };
  const b = { fingerprint256: "bb".repeat(32), subject: "CN=B" };
  const c = { fingerprint256: "cc".repeat(32), subject: "CN=C" };

  it("puts the offered certificates first, trusted or not, and keeps the rest apart", () => {
    const lists = connectionCertificateLists({ trusted: [a, c], untrusted: [b] }, [b.fingerprint256, "AA:".repeat(31) + "AA"]);
    assert.deepEqual(lists.thisConnection, [{ ...b, trusted: false }, { ...a, trusted: true }]);
    assert.deepEqual(lists.trusted, [c]);
    assert.deepEqual(lists.otherUntrusted, []);
    assert.deepEqual(connectionCertificateLists({ trusted: [], untrusted: [b] }, []).otherUntrusted, [b]);
  });

  it("finds the offered certificate in a connected status or in a refusal", () => {
    const base = { state: "reconnect-wait" as const, endpoint: { host: "h", port: 102, accessPoint: "" }, alternative: false, systemTags: { ForceConnectionState: 1 as const, UseAlternativeAddress: 0 as const, AlternativeAddress: "" } };
    assert.equal(offeredFingerprint({ ...base, lastError: new S7Error("ERR_S7_UNTRUSTED", "manual trust required", { file: `/pki/untrusted/PLC1-${"ab".repeat(32)}.der` }) }), "ab".repeat(32));
    assert.equal(offeredFingerprint({ ...base, lastError: new S7Error("ERR_S7_REVOKED", `revoked (SHA-256 ${"cd".repeat(32)})`) }), "cd".repeat(32));
    assert.equal(offeredFingerprint({ ...base, lastError: new S7Error("ERR_S7_CONNECT", "refused") }), undefined);
    assert.equal(offeredFingerprint(base), undefined);
  });
});
