/**
 * A seedable pseudo-random number generator whose whole state is plain JSON, so that a sampler's chain state
 * (which carries it) is checkpointed with JSON.stringify and resumes bit for bit.
 *
 * Generator: xoshiro128** (Blackman & Vigna, "Scrambled linear pseudorandom number generators", ACM TOMS 47 (2021),
 * arXiv:1805.01407): four 32-bit words, period 2^128 - 1, passes BigCrush; 32-bit words keep every operation on
 * JavaScript's exact int32 path (Math.imul, shifts). Doubles take 53 bits from two outputs. Seeding expands a
 * (up to 53-bit) integer seed through a Weyl sequence hashed by MurmurHash3's fmix32 finaliser (a splitmix-style
 * expansion, as Vigna recommends for seeding xoshiro), which never yields the all-zero state in practice and
 * is checked for it.
 *
 * Normal draws: the Box-Muller transform (Box & Muller 1958), which yields two independent normals per pair of
 * uniforms; the second is kept in the state (`spare`) for the next call, so nothing is allocated per draw and
 * a resumed chain sees the same sequence.
 */

/** The generator's state: plain numbers, round-trips through JSON exactly. */
export interface RngState {
  /** The four 32-bit words of xoshiro128** (unsigned, 0 .. 2^32-1). */
  s: number[];
  /** A normal deviate left over from the last Box-Muller pair, or null. */
  spare: number | null;
}

const TWO_POW_32 = 4294967296;

/** MurmurHash3's 32-bit finaliser (a bijection of the 32-bit integers with full avalanche). */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function checkSeed(seed: number, what: string): void {
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new Error(`${what}: the seed must be a non-negative integer below 2^53, got ${seed}`);
}

/** Split a safe integer into its low and high 32-bit words. */
const words = (seed: number): [number, number] => [seed >>> 0, Math.floor(seed / TWO_POW_32) >>> 0];

/** A fresh generator state from an integer seed in [0, 2^53). */
export function rngState(seed: number): RngState {
  checkSeed(seed, 'rngState');
  const [lo, hi] = words(seed);
  // the Weyl sequence starts from a hash of both words, so seeds differing only in the high word differ at once
  let weyl = (fmix32(lo ^ 0x6a09e667) ^ fmix32(hi + 0x3c6ef372)) >>> 0;
  const s: number[] = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    weyl = (weyl + 0x9e3779b9) >>> 0;
    s[i] = fmix32(weyl);
  }
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1; // the one forbidden state of xoshiro
  return { s, spare: null };
}

/**
 * `n` seeds for independent chains derived from one seed: each is a 53-bit hash of (seed, chain index), so the
 * chains' generators start at unrelated points of the 2^128 period (overlap has probability ~ n^2 L / 2^128
 * for L draws per chain). Deterministic, distinct, and `chainSeeds(s, n)` is a prefix of `chainSeeds(s, n + 1)`.
 */
export function chainSeeds(seed: number, n: number): number[] {
  checkSeed(seed, 'chainSeeds');
  if (!Number.isInteger(n) || n < 0) throw new Error(`chainSeeds: the number of chains must be a non-negative integer, got ${n}`);
  const [lo, hi] = words(seed);
  const out: number[] = [];
  const seen = new Set<number>();
  for (let c = 0; out.length < n; c++) {
    const a = fmix32(fmix32(lo + Math.imul(c, 0x9e3779b9)) ^ hi ^ 0x243f6a88);
    const b = fmix32(a ^ fmix32(hi + c + 0x13198a2e));
    const derived = (b & 0x1fffff) * TWO_POW_32 + a; // 21 + 32 = 53 bits
    if (!seen.has(derived)) {
      seen.add(derived);
      out.push(derived);
    }
  }
  return out;
}

/**
 * A generator working in place on an RngState (a chain's state.rng): every draw updates `state`, so the state
 * can be serialised at any point and a new Rng over the parsed copy continues the same sequence.
 */
export class Rng {
  private readonly s: number[];

  constructor(readonly state: RngState) {
    if (!state || !Array.isArray(state.s) || state.s.length !== 4 || !state.s.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_POW_32))
      throw new Error('Rng: the state must be {s: four unsigned 32-bit integers, spare: number | null} (from rngState(seed))');
    this.s = state.s;
  }

  /** The next 32-bit output (unsigned): xoshiro128** (Blackman & Vigna 2021, the `**` scrambler). */
  nextUint32(): number {
    const s = this.s;
    const s0 = s[0] | 0, s1 = s[1] | 0, s2 = s[2] | 0, s3 = s[3] | 0;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    s[1] = (s1 ^ n2) >>> 0;
    s[0] = (s0 ^ n3) >>> 0;
    s[2] = (n2 ^ t) >>> 0;
    s[3] = ((n3 << 11) | (n3 >>> 21)) >>> 0;
    return result;
  }

  /** Uniform on [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) * 1.1102230246251565e-16; // (a 2^26 + b) / 2^53
  }

  /** An integer uniform on 0 .. n-1 (n <= 2^32), without modulo bias (rejection of the top partial block). */
  integer(n: number): number {
    if (!(n >= 1 && n <= TWO_POW_32 && Number.isInteger(n))) throw new Error(`Rng.integer: n must be an integer in [1, 2^32], got ${n}`);
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const u = this.nextUint32();
      if (u < limit) return u % n;
    }
  }

  /** A standard normal deviate (Box-Muller; the pair's second value is kept for the next call). */
  normal(): number {
    const st = this.state;
    if (st.spare !== null) {
      const z = st.spare;
      st.spare = null;
      return z;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: log finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    st.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Fill `out` with standard normal deviates. */
  normals(out: Float64Array): Float64Array {
    for (let i = 0; i < out.length; i++) out[i] = this.normal();
    return out;
  }
}
