import { strict as assert } from "node:assert";
import { toHex } from "../../src/protocol/bytes.js";
import { decodePdu, encodePdu } from "../../src/protocol/pdu.js";
import { fixturePath } from "../../scripts/support/fixtures.js";
import { readS7Messages } from "../../scripts/support/pcap.js";

// Observed in the capture files (PDUs, of which a codec models the service).
const FILES: { file: string; pdus: number; modelled: number; systemEvents: number }[] = [
  { file: "S7-1200-Uploading-OB1-TIAV12.pcap", pdus: 86, modelled: 74, systemEvents: 0 },
  { file: "S7-1511-opc-request-all-types.pcap", pdus: 18, modelled: 18, systemEvents: 0 },
  { file: "S7-1511_db2_var1_HMI.pcap", pdus: 18, modelled: 18, systemEvents: 0 },
  { file: "S7-1511_db3_var1_HMI.pcap", pdus: 19, modelled: 19, systemEvents: 0 },
  { file: "S7-1511_db6w0_HMI.pcap", pdus: 8, modelled: 8, systemEvents: 0 },
  { file: "V13_1200_TP1200sim_MW100_Int_SPS_5s_MW102_Int_SPS_10s_MW102_ab_1000_Timer_sync.pcapng", pdus: 72, modelled: 72, systemEvents: 0 },
  {
    file: "V13_1200_TP1200sim_MW100_Int_SPS_5s_MW102_Int_SPS_10s_MW102_ab_1000_Timer_sync_FehlerbeiMW100.pcapng",
    pdus: 66,
    modelled: 66,
    systemEvents: 0,
  },
  { file: "s7-1200-hmi.pcap", pdus: 24, modelled: 24, systemEvents: 0 },
];

describe("real captures (test/fixtures/captures)", function () {
  this.timeout(20000);
  for (const f of FILES) {
    it(`${f.file}: all ${f.pdus} PDUs decode; the ${f.modelled} of modelled services re-encode byte for byte`, () => {
      const messages = readS7Messages(fixturePath("captures", f.file));
      const pdus = messages.flatMap((m) => (m.message.kind === "pdu" ? [m.message.pdu] : []));
      assert.equal(pdus.length, f.pdus);
      assert.equal(messages.filter((m) => m.message.kind === "systemEvent").length, f.systemEvents);
      let modelled = 0;
      let identical = 0;
      for (const pdu of pdus) {
        const d = decodePdu(pdu);
        const service = d.kind === "notification" ? "Notification" : d.message.service;
        if (service === "Other") continue;
        modelled++;
        assert.equal(toHex(encodePdu(d)), toHex(pdu), `${service} re-encodes identically`);
        identical++;
      }
      assert.equal(modelled, f.modelled);
      assert.equal(identical, f.modelled);
    });
  }

  it("the TIA V12 capture's unmodelled PDUs are GetLink, BeginSequence and EndSequence only", () => {
    const codes = new Set<number>();
    for (const m of readS7Messages(fixturePath("captures", FILES[0]!.file))) {
      if (m.message.kind !== "pdu") continue;
      const d = decodePdu(m.message.pdu);
      if (d.kind !== "notification" && d.message.service === "Other") codes.add(d.header.functionCode);
    }
    assert.deepEqual([...codes].sort(), [0x0524, 0x0556, 0x0560]);
  });

  it("the V13 capture's notifications use the old layout (u8 sequence) and count up", () => {
    const seqs: number[] = [];
    for (const m of readS7Messages(fixturePath("captures", FILES[5]!.file))) {
      if (m.message.kind !== "pdu") continue;
      const d = decodePdu(m.message.pdu);
      if (d.kind === "notification" && d.notification.subscriptionId === 0x1000006a) seqs.push(d.notification.sequenceNumber);
    }
    assert.ok(seqs.length > 20);
    assert.deepEqual(seqs.slice(0, 5), [1, 2, 3, 4, 5]);
  });
});
