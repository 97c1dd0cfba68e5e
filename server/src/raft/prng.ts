/**
 * A small, fast, seedable pseudo-random generator (xoshiro128**, seeded through
 * splitmix32). The Raft core never touches a global source of randomness: the
 * driver injects one of these, so the simulator can replay any run from a seed.
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new Error(`prng: seed must be a safe integer, got ${seed}`);
    // Mix both halves of the seed so seeds beyond 2^32 still give distinct streams.
    let s = (seed >>> 0) ^ Math.imul((seed / 4294967296) >>> 0, 0x9e3779b1);
    const next = () => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    // An all-zero state would only ever produce zeros.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.nextU32() / 4294967296;
  }

  /** An integer in [0, n), without modulo bias for any n up to 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) throw new Error(`prng: bad bound ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    // Rejection sampling: the loop runs more than twice with probability < 1/4.
    for (let i = 0; i < 64; i++) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
    return this.nextU32() % n;
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    if (hi < lo) throw new Error(`prng: empty range [${lo}, ${hi}]`);
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('prng: pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** An independent generator derived from this one, for a sub-component. */
  fork(): Prng {
    return new Prng(this.nextU32() * 2097152 + (this.nextU32() >>> 11));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
