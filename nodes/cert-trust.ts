/**
 * cert-trust: the device certificate store as messages (docs/NODES.md §2): actions
 * list, trust, untrust, details, importCrl, import (a certificate file:
 * a path or its bytes); an output message whenever a
 * certificate lands in untrusted/, is trusted, untrusted again, a CRL
 * changes, or a root CA enters or leaves issuers/.
 */
import * as path from "node:path";
import { S7Error } from "../src/errors.js";
import { acquireStore, releaseStore } from "../src/trust/registry.js";
import type { StoredCertificate } from "../src/trust/store.js";
import { certificateView, crlView } from "../src/trust/certificate-info.js";
import { MAX_CERTIFICATE_BYTES } from "../src/trust/store.js";
import { readStoreFile } from "../src/trust/store-file.js";
import { storeDirectory, type RedNode, type RedRuntime, type NodeMessage } from "./red.js";

interface CertTrustConfig {
  id: string;
  name?: string;
  storeDir?: string;
}

const ACTIONS = ["list", "trust", "untrust", "details", "importCrl", "import"] as const;
type Action = (typeof ACTIONS)[number];

const view = certificateView;

/**
 * The bytes of a certificate file from msg.payload: a path (relative ones
 * inside the user directory; a regular file within the certificate cap), or
 * a Buffer named by msg.filename.
 */
async function certificateFileOf(msg: NodeMessage, userDir: string, badPayload: string): Promise<{ data: Buffer; source: string }> {
  if (Buffer.isBuffer(msg.payload)) return { data: msg.payload, source: typeof msg.filename === "string" && msg.filename !== "" ? path.basename(msg.filename) : "msg.payload" };
  if (typeof msg.payload !== "string" || msg.payload.trim() === "") throw new S7Error("ERR_S7_VALUE", badPayload);
  const file = path.resolve(userDir, msg.payload.trim());
  try {
    return { data: await readStoreFile(undefined, file, MAX_CERTIFICATE_BYTES), source: file };
  } catch (err) {
    throw new S7Error("ERR_S7_STORE", `${file}: ${(err as Error).message}; not imported`, { file });
  }
}

export = function register(RED: RedRuntime): void {
  function CertTrustNode(this: RedNode, config: CertTrustConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const store = acquireStore(storeDirectory(RED, config.storeDir));

    const showCounts = (): void => {
      store.snapshot().then(
        (snap) => node.status({ fill: snap.problems.length > 0 ? "yellow" : "green", shape: "dot", text: RED._("cert-trust.status.storeOk", { trusted: String(snap.trusted.length), untrusted: String(snap.untrusted.length) }) }),
        (err: unknown) => node.status({ fill: "red", shape: "ring", text: RED._("cert-trust.status.storeError") + `: ${(err as Error).message}` }),
      );
    };
    const events: [string, string][] = [
      ["untrusted-stored", "untrusted"],
      ["trusted", "trusted"],
      ["untrusted", "untrusted-again"],
      ["crl-changed", "crl"],
      ["issuers-changed", "issuers"],
    ];
    const listeners = events.map(([event, topic]) => {
      const listener = (payload: Partial<StoredCertificate> & { file: string }): void => {
        node.send({ topic, payload: view(payload) });
        showCounts();
      };
      store.on(event, listener);
      return [event, listener] as const;
    });
    showCounts();

    node.on("input", (msg, send, done) => {
      void (async () => {
        try {
          const action = String(msg.action ?? msg.topic ?? "") as Action;
          if (!ACTIONS.includes(action)) throw new S7Error("ERR_S7_VALUE", RED._("cert-trust.errors.unknownAction", { action }));
          const id = typeof msg.payload === "string" ? msg.payload.trim() : "";
          let payload: unknown;
          if (action === "list") {
            const snap = await store.snapshot();
            payload = {
              store: store.dir,
              trusted: snap.trusted.map(view),
              untrusted: snap.untrusted.map(view),
              issuers: snap.issuers.map(view),
              crls: snap.crls.map(crlView),
              problems: snap.problems,
            };
          } else if (action === "importCrl") {
            if (!Buffer.isBuffer(msg.payload) && typeof msg.payload !== "string") throw new S7Error("ERR_S7_VALUE", RED._("cert-trust.errors.crlPayload"));
            const { file, crl } = await store.importCrl(msg.payload as Buffer | string, typeof msg.filename === "string" ? msg.filename : undefined);
            payload = crlView({ file, crl });
          } else if (action === "import") {
            const { data, source } = await certificateFileOf(msg, RED.settings.userDir ?? process.cwd(), RED._("cert-trust.errors.importPayload"));
            const { der: _der, ...result } = await store.importCertificate(data, source);
            payload = result;
          } else {
            if (id === "") throw new S7Error("ERR_S7_VALUE", RED._("cert-trust.errors.badPayload"));
            const c = action === "trust" ? await store.trust(id) : action === "untrust" ? await store.untrust(id) : await store.details(id);
            payload = view(c);
          }
          send({ ...msg, topic: action, payload } as NodeMessage);
          showCounts();
          done();
        } catch (err) {
          done(err instanceof Error ? err : new Error(String(err)));
        }
      })();
    });

    node.on("close", (_removed, done) => {
      for (const [event, listener] of listeners) store.off(event, listener);
      releaseStore(store);
      done();
    });
  }
  RED.nodes.registerType("cert-trust", CertTrustNode);
};
