import { strict as assert } from "node:assert";
import {
  legacyLegitimationResponse,
  legitimationKey,
  encryptLegitimation,
  decryptLegitimation,
  sha1,
} from "../../src/protocol/legitimation.js";
import { fromHex, toHex } from "../../src/protocol/bytes.js";
import { createHash } from "node:crypto";

// test/fixtures/vectors/README.md §13 (DERIVED: exporter output from the PY tests' SHA-256 row, password "secret",
// challenge 00 01 … 13).
const EXPORTER = fromHex("5a550e5a87a60cee1df5080a2577236918924aa49fda7f87a2b48ebd3c68d7d4");
const CHALLENGE = Buffer.from(Array.from({ length: 20 }, (_, i) => i));
const PLAINTEXT = fromHex(
  "00 17 00 00 9d d0 82 bb 51 00 04 01 82 bb 52 00 14 00 00 82 bb 53 00 14 00 14 e5 e9 fa 1b a3 1e cd 1a e8 4f 75 ca aa 47 4f 3a 66 3f 05 f4 00",
);
const CIPHERTEXT =
  "d9 92 ba 28 37 32 63 e2 5c 27 99 2f ee bd f0 20 99 47 95 c7 f8 52 a0 fd d4 2c 37 b0 1b 0f c7 fd fe 19 d3 35 e0 c7 e9 3e ab 44 b6 b0 49 f0 97 4d";

describe("password legitimation crypto (test/fixtures/vectors/README.md §13)", () => {
  it("legacy: SHA-1(password) XOR challenge", () => {
    assert.equal(toHex(sha1("secret")), "e5 e9 fa 1b a3 1e cd 1a e8 4f 75 ca aa 47 4f 3a 66 3f 05 f4");
    assert.equal(toHex(legacyLegitimationResponse("secret", CHALLENGE)), "e5 e8 f8 18 a7 1b cb 1d e0 46 7f c1 a6 4a 41 35 76 2e 17 e7");
  });

  it("new: key = SHA-256(exporter), AES-256-CBC with IV = challenge[0..16)", () => {
    const key = legitimationKey(EXPORTER, 1);
    assert.equal(key.toString("hex"), "1269a25d48c9a9cd0beef0c3e88972b69172eec73ca59ad7537da67caca194ea");
    assert.equal(toHex(encryptLegitimation(PLAINTEXT, key, CHALLENGE)), CIPHERTEXT);
    assert.deepEqual(decryptLegitimation(fromHex(CIPHERTEXT), key, CHALLENGE), PLAINTEXT);
  });

  it("rolls the key with SHA-256 for every further attempt on the session", () => {
    const first = legitimationKey(EXPORTER, 1);
    const second = legitimationKey(EXPORTER, 2);
    assert.notDeepEqual(first, second);
    assert.deepEqual(second, createHash("sha256").update(first).digest());
    assert.throws(() => decryptLegitimation(encryptLegitimation(PLAINTEXT, second, CHALLENGE), first, CHALLENGE));
  });

  it("refuses a challenge of the wrong length", () => {
    assert.throws(() => legacyLegitimationResponse("x", Buffer.alloc(16)), /20 bytes, got 16/);
  });
});
