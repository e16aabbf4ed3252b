/**
 * Replays the client side of real sessions (test/fixtures/captures) against
 * the simulator and compares the structure of its answers with the real
 * controller's: the same services, objects and attributes, the same items
 * answered with a value or an error, and values of the same kind and
 * datatype. The captures are pre-TLS sessions; their S7CommPlus layer is
 * replayed with the session ids mapped to the simulator's.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { Ids } from "../../src/protocol/constants.js";
import { decodePdu, encodePdu, type DecodedPdu } from "../../src/protocol/pdu.js";
import { getAttribute } from "../../src/protocol/pobject.js";
import type { PValue } from "../../src/protocol/pvalue.js";
import { parsePlcTypeName } from "../../src/values/plc-type.js";
import { TagTable } from "../../src/simulator/tag-table.js";
import { ControllerModel } from "../../src/simulator/controller.js";
import { SimulatedSession } from "../../src/simulator/session.js";
import type { DataBlockConfig, MemberConfig } from "../../src/simulator/config.js";
import { fixturePath } from "../../scripts/support/fixtures.js";
import { readS7Messages } from "../../scripts/support/pcap.js";

/** Data blocks of the S7-1511 all-types project, from the XML shipped with its capture (types the simulator knows). */
function projectBlocks(): DataBlockConfig[] {
  const xml = fs.readFileSync(fixturePath("captures", "S7-1511-opc-request-all-types.xml"), "utf8");
  const blocks: DataBlockConfig[] = [];
  for (const db of xml.matchAll(/<dataBlock name="([^"]+)" logicalAddress="%DB(\d+)"[^>]*>([\s\S]*?)<\/dataBlock>/g)) {
    const members = parseMembers(db[3]!);
    if (members.length > 0) blocks.push({ name: db[1]!, number: Number(db[2]), members });
  }
  return blocks;
}

function parseMembers(text: string): MemberConfig[] {
  const out: MemberConfig[] = [];
  const re = /<dataTag name="([^"]+)"[^>]*datatype="([^"]+)"[^>]*lid="(\d+)"[^>]*?(\/>|>([\s\S]*?)<\/dataTag>)/g;
  for (const m of text.matchAll(re)) {
    const [, name, datatype, lid, , inner] = m;
    if (datatype === "Struct") {
      out.push({ name: name!, lid: Number(lid), members: parseMembers(inner ?? "") });
      continue;
    }
    const type = datatype === "String" ? "String[254]" : datatype!.replace("Array[", "Array[").replace(/^Array \[/, "Array[");
    try {
      parsePlcTypeName(type);
    } catch {
      continue; // system types the simulator does not model (HW_*, OB_*, IEC_* …)
    }
    out.push({ name: name!, lid: Number(lid), type });
  }
  return out;
}

interface Exchange {
  request: DecodedPdu & { kind: "request" };
  version: number;
  answer: DecodedPdu & { kind: "response" };
}

/** Request/answer pairs per TCP connection of the capture (each connection is its own session). */
function sessions(file: string): Exchange[][] {
  const byConnection = new Map<string, { pending: Map<number, { request: DecodedPdu & { kind: "request" }; version: number }>; out: Exchange[] }>();
  for (const m of readS7Messages(fixturePath("captures", file))) {
    if (m.message.kind !== "pdu") continue;
    const key = `${m.generation} ${m.flow.split(">").sort().join("<>")}`;
    let c = byConnection.get(key);
    if (c === undefined) byConnection.set(key, (c = { pending: new Map(), out: [] }));
    const d = decodePdu(m.message.pdu);
    if (d.kind === "request") c.pending.set(d.header.sequenceNumber, { request: d, version: m.message.version });
    else if (d.kind === "response") {
      const p = c.pending.get(d.header.sequenceNumber);
      if (p) {
        c.out.push({ ...p, answer: d });
        c.pending.delete(d.header.sequenceNumber);
      }
    }
  }
  return [...byConnection.values()].map((c) => c.out).filter((x) => x.some((e) => e.request.message.service === "CreateObject"));
}

function shape(v: PValue): string {
  const flags = v.flags & ~0x80;
  if (v.kind === "scalar") return `scalar ${v.value.type === "PackedStruct" ? "Struct" : v.value.type}`;
  return `${v.kind}/${flags.toString(16)} ${v.datatype}[${v.kind === "array" ? v.elements.length : v.entries.length}]`;
}

/** Replays a capture through a fresh simulated session; returns the comparisons made. */
function replay(file: string, blocks: DataBlockConfig[], checkCrc: boolean, firmware: string): { compared: string[] } {
  const table = new TagTable(blocks);
  table.checkCrc = checkCrc;
  const model = new ControllerModel({ name: "REPLAY", orderNumber: "6ES7 511-1AK02-0AB0", firmware, protectionLevel: 1, readMax: 50, writeMax: 50, runState: "RUN" });
  const compared: string[] = [];
  let nextId = 0x70001000;
  for (const exchangesOfOneConnection of sessions(file)) {
    const session = new SimulatedSession(model, table, { exportKeyingMaterial: () => Buffer.alloc(32) }, { sessionId: nextId });
    nextId += 3;
    compared.push(...replayConnection(file, session, exchangesOfOneConnection));
  }
  return { compared };
}

function replayConnection(file: string, session: SimulatedSession, exchanges: Exchange[]): string[] {
  let realSession: number | undefined;
  const compared: string[] = [];
  for (const x of exchanges) {
    const req = structuredClone(x.request);
    const map = (id: number): number => (realSession !== undefined && id === realSession ? session.sessionId : id);
    req.header.sessionId = map(req.header.sessionId);
    const msg = req.message;
    if (msg.service === "SetMultiVariables") msg.body.inObjectId = map(msg.body.inObjectId);
    if (msg.service === "GetVarSubStreamed" || msg.service === "SetVariable") msg.body.inObjectId = map(msg.body.inObjectId);
    if (msg.service === "DeleteObject") msg.body.objectId = map(msg.body.objectId);
    if (msg.service === "Other" || msg.service === "InitSsl") continue;
    const ours = session.handle(x.version, encodePdu(req));
    if (ours === undefined) continue;
    const mine = decodePdu(ours.pdu);
    assert.equal(mine.kind, "response");
    if (mine.kind !== "response") continue;
    const real = x.answer.message;
    const label = `${file} seq ${x.request.header.sequenceNumber} ${msg.service}`;
    assert.equal(mine.message.service, real.service, `${label}: service`);
    if (real.service === "CreateObject" && mine.message.service === "CreateObject" && realSession === undefined) {
      realSession = real.body.objectIds[0];
      assert.equal(mine.message.body.objectIds.length, real.body.objectIds.length, `${label}: object ids`);
      const realObj = real.body.objects[0]!;
      const myObj = mine.message.body.objects[0]!;
      assert.equal(myObj.classId, realObj.classId, `${label}: class`);
      const realVersion = getAttribute(realObj, Ids.ServerSessionVersion)!;
      const myVersion = getAttribute(myObj, Ids.ServerSessionVersion)!;
      const members = (v: PValue): string[] => (v.kind === "scalar" && v.value.type === "Struct" ? v.value.members.map((m) => `${m.id}:${shape(m.value)}`) : []);
      assert.deepEqual(members(myVersion), members(realVersion), `${label}: ServerSessionVersion members`);
      for (const e of myObj.elements) if (e.tag === "attribute") assert.ok(getAttribute(realObj, e.id) !== undefined, `${label}: attribute ${e.id} is one a real CPU sends`);
      compared.push(`${label}: session object`);
    } else if (real.service === "GetMultiVariables" && mine.message.service === "GetMultiVariables") {
      const realValues = new Map(real.body.values.map((v) => [v.itemNumber, v.value]));
      const myValues = new Map(mine.message.body.values.map((v) => [v.itemNumber, v.value]));
      assert.deepEqual([...myValues.keys()].sort(), [...realValues.keys()].sort(), `${label}: items answered with a value`);
      assert.deepEqual(mine.message.body.errors.map((e) => e.itemNumber), real.body.errors.map((e) => e.itemNumber), `${label}: items answered with an error`);
      for (const [n, v] of realValues) assert.equal(shape(myValues.get(n)!), shape(v), `${label}: item ${n}`);
      compared.push(`${label}: ${realValues.size} values`);
    } else if (real.service === "SetMultiVariables" && mine.message.service === "SetMultiVariables") {
      assert.deepEqual(mine.message.body.errors.map((e) => e.itemNumber), real.body.errors.map((e) => e.itemNumber), `${label}: item errors`);
      compared.push(`${label}: written`);
    } else if (real.service === "GetVarSubStreamed" && mine.message.service === "GetVarSubStreamed") {
      const attribute = msg.service === "GetVarSubStreamed" ? msg.body.addresses.join(".") : "?";
      assert.equal(mine.message.body.returnValue === 0n, real.body.returnValue === 0n, `${label} ${attribute}: success`);
      assert.equal(shape(mine.message.body.value), shape(real.body.value), `${label} ${attribute}: value`);
      compared.push(`${label}: attribute ${attribute}`);
    } else if (real.service === "DeleteObject" && mine.message.service === "DeleteObject") {
      assert.equal(mine.message.body.objectId, map(real.body.objectId), `${label}: object id`);
      compared.push(`${label}: deleted`);
    }
  }
  return compared;
}

describe("simulator: replaying the client side of real sessions (captures)", () => {
  it("S7-1511 all-types read by an OPC server: session object, system limits and all 40 typed values have the real answers' structure (symbol CRCs checked)", () => {
    const { compared } = replay("S7-1511-opc-request-all-types.pcap", projectBlocks(), true, "3.1");
    assert.ok(compared.some((c) => /session object/.test(c)));
    assert.ok(compared.some((c) => /40 values/.test(c)), compared.join("\n"));
  });

  for (const [file, what] of [["S7-1511_db2_var1_HMI.pcap", /values/], ["S7-1511_db3_var1_HMI.pcap", /values/], ["S7-1511_db6w0_HMI.pcap", /attribute/]] as const) {
    it(`${file}: the WinCC session (create, setup, reads) has the real answers' structure`, () => {
      const { compared } = replay(file, projectBlocks(), true, "3.1");
      assert.ok(compared.some((c) => /session object/.test(c)));
      assert.ok(compared.some((c) => what.test(c)), compared.join("\n"));
    });
  }

  it("s7-1200-hmi.pcap (S7-1211C): session, system limits, the DB3 reads and the String write (its project's names are unknown: CRCs not checked)", () => {
    const blocks: DataBlockConfig[] = [{ name: "DB3", number: 3, members: [{ name: "var1", lid: 10, type: "Byte" }, { name: "var2", lid: 12, type: "Word" }, { name: "varstring", lid: 14, type: "String[254]" }] }];
    const { compared } = replay("s7-1200-hmi.pcap", blocks, false, "4.7");
    assert.ok(compared.some((c) => /written/.test(c)), compared.join("\n"));
    assert.ok(compared.filter((c) => /values/.test(c)).length >= 2, compared.join("\n"));
  });
});
