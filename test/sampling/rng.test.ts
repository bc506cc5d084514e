import { describe, expect, it } from 'vitest';
import { Rng, chainSeeds, rngState } from '../../core/sampling/rng.js';
import { chi2Quantile } from './sampler-checks.js';

describe('rng (xoshiro128**)', () => {
  it('reproduces the reference algorithm', () => {
    // the first outputs from state {1, 2, 3, 0xdeadbeef}, computed with a direct C transcription of
    // Blackman & Vigna's xoshiro128** (uint32_t arithmetic)
    const r = new Rng({ s: [1, 2, 3, 0xdeadbeef], spare: null });
    expect(Array.from({ length: 6 }, () => r.nextUint32())).toEqual([11520, 0, 1156443276, 2068460736, 1253564880, 3017539913]);
  });

  it('continues identically after a JSON round trip of its state (a pending normal included)', () => {
    const a = new Rng(rngState(42));
    for (let i = 0; i < 1001; i++) a.normal(); // odd: a spare normal is pending
    expect(a.state.spare).not.toBeNull();
    const b = new Rng(JSON.parse(JSON.stringify(a.state)));
    for (let i = 0; i < 100; i++) {
      expect(b.normal()).toBe(a.normal());
      expect(b.uniform()).toBe(a.uniform());
      expect(b.integer(7)).toBe(a.integer(7));
    }
  });

  it('uniform and normal draws have the right distribution (chi-square and moment z-scores)', () => {
    const r = new Rng(rngState(7));
    const n = 200_000;
    // uniform: 100 equal bins, chi^2 with 99 degrees of freedom, two-sided at 1e-3
    const bins = new Float64Array(100);
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
      bins[Math.floor(u * 100)]++;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    let chi2 = 0;
    for (const b of bins) chi2 += (b - n / 100) ** 2 / (n / 100);
    expect(chi2).toBeGreaterThan(chi2Quantile(99, 0.0005));
    expect(chi2).toBeLessThan(chi2Quantile(99, 0.9995));
    // normal: mean (var 1/n), variance (var of x^2 is 2), fourth moment (var of x^4 is 105 - 9 = 96)
    let s1 = 0, s2 = 0, s4 = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s1 += z;
      s2 += z * z;
      s4 += z ** 4;
    }
    expect(Math.abs(s1 / n) / Math.sqrt(1 / n)).toBeLessThan(3.9);
    expect(Math.abs(s2 / n - 1) / Math.sqrt(2 / n)).toBeLessThan(3.9);
    expect(Math.abs(s4 / n - 3) / Math.sqrt(96 / n)).toBeLessThan(3.9);
  });

  it('integer(n) is uniform on 0..n-1', () => {
    const r = new Rng(rngState(3));
    const n = 7, N = 70_000;
    const c = new Float64Array(n);
    for (let i = 0; i < N; i++) c[r.integer(n)]++;
    let chi2 = 0;
    for (const v of c) chi2 += (v - N / n) ** 2 / (N / n);
    // chi^2 with 6 degrees of freedom: P(> 22.46) = 1e-3
    expect(chi2).toBeLessThan(22.46);
  });

  it('derives distinct, reproducible per-chain seeds', () => {
    const s = chainSeeds(2024, 8);
    expect(new Set(s).size).toBe(8);
    expect(chainSeeds(2024, 8)).toEqual(s);
    expect(chainSeeds(2024, 3)).toEqual(s.slice(0, 3));
    expect(chainSeeds(2025, 8).some((v) => s.includes(v))).toBe(false);
    for (const v of s) expect(Number.isSafeInteger(v) && v >= 0).toBe(true);
    // seeds differing only above 2^32 give different streams
    const hi = chainSeeds(2 ** 40 + 5, 1)[0], lo = chainSeeds(5, 1)[0];
    expect(hi).not.toBe(lo);
    expect(new Rng(rngState(2 ** 40 + 5)).nextUint32()).not.toBe(new Rng(rngState(5)).nextUint32());
  });

  it('rejects bad seeds and states with clear errors', () => {
    expect(() => rngState(-1)).toThrow(/seed must be a non-negative integer/);
    expect(() => rngState(1.5)).toThrow(/seed must be a non-negative integer/);
    expect(() => chainSeeds(1, -2)).toThrow(/number of chains/);
    expect(() => new Rng({ s: [1, 2, 3], spare: null })).toThrow(/four unsigned 32-bit integers/);
  });
});
