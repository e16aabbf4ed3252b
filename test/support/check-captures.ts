/** Development aid: decodes and re-encodes every PDU of the captures and prints failures. */
import * as fs from "node:fs";
import { fixturePath } from "../../scripts/support/fixtures.js";
import { readS7Messages } from "../../scripts/support/pcap.js";
import { toHex } from "../../src/protocol/bytes.js";
import { decodePdu, encodePdu } from "../../src/protocol/pdu.js";

for (const name of fs.readdirSync(fixturePath("captures")).filter((f) => /\.pcap(ng)?$/.test(f))) {
  let total = 0, ok = 0, same = 0, other = 0;
  for (const m of readS7Messages(fixturePath("captures", name))) {
    if (m.message.kind !== "pdu") continue;
    total++;
    const pdu = m.message.pdu;
    try {
      const d = decodePdu(pdu);
      ok++;
      const svc = d.kind === "notification" ? "N" : d.message.service;
      if (svc === "Other") other++;
      const re = encodePdu(d);
      if (re.equals(pdu)) same++;
      else console.log(`  REENC ${name} ${svc}\n    ${toHex(pdu).slice(0, 300)}\n    ${toHex(re).slice(0, 300)}`);
    } catch (e) {
      console.log(`  FAIL ${name}: ${(e as Error).message}\n    ${toHex(pdu).slice(0, 400)}`);
    }
  }
  console.log(`${name}: total ${total} decoded ${ok} identical ${same} other ${other}`);
}
