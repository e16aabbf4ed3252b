/** A small seeded PRNG (mulberry32) for repeatable property tests. */
export interface SeededRandom {
  /** Uniform 32-bit unsigned integer. */
  u32(): number;
  /** Uniform 64-bit unsigned integer. */
  u64(): bigint;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** A buffer of `n` random bytes. */
  bytes(n: number): Buffer;
}

export function seededRandom(seed: number): SeededRandom {
  // mulberry32: tiny, fast and good enough for test inputs.
  let state = seed >>> 0;
  const u32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    u32,
    u64: () => (BigInt(u32()) << 32n) | BigInt(u32()),
    int: (n) => Math.floor((u32() / 0x100000000) * n),
    bytes: (n) => {
      const out = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) out[i] = u32() & 0xff;
      return out;
    },
  };
}
