import { strict as assert } from "node:assert";
import { Backoff } from "../../src/client/backoff.js";
import { ConfigError } from "../../src/errors.js";
import { seededRandom } from "../../scripts/support/random.js";

describe("reconnect back-off", () => {
  it("grows from 1 s to the maximum and stays there (no jitter)", () => {
    const b = new Backoff({ minMs: 1000, maxMs: 10_000, jitter: 0 });
    assert.deepEqual(Array.from({ length: 7 }, () => b.next()), [1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
    assert.equal(b.attempts, 7);
    b.reset();
    assert.equal(b.next(), 1000);
  });

  it("spreads delays by the jitter but never leaves [min, max]", () => {
    const rnd = seededRandom(42);
    const b = new Backoff({ minMs: 1000, maxMs: 30_000, jitter: 0.5, random: () => rnd.u32() / 0x100000000 });
    const seen = new Set<number>();
    for (let round = 0; round < 200; round++) {
      b.reset();
      for (let i = 0; i < 8; i++) {
        const d = b.next();
        const base = Math.min(30_000, 1000 * 2 ** i);
        assert.ok(d >= Math.max(1000, base * 0.5) && d <= Math.min(30_000, base * 1.5), `attempt ${i}: ${d}`);
        seen.add(d);
      }
    }
    assert.ok(seen.size > 100, "jitter produces different delays");
  });

  it("rejects impossible settings with a ConfigError", () => {
    assert.throws(() => new Backoff({ minMs: 0 }), ConfigError);
    assert.throws(() => new Backoff({ minMs: 5000, maxMs: 1000 }), ConfigError);
    assert.throws(() => new Backoff({ jitter: 2 }), ConfigError);
  });
});
