/** Shared test helpers: one GPU context per test file, seeded random data, error measures. */
import { GpuContext, type GpuOptions } from '../../src/gpu/context.js';
import { mulberry32 } from '../../src/core/random.js';
import { relativeL2 } from '../../src/tomo/metrics.js';

let shared: Promise<GpuContext> | undefined;

/** The test file's GPU context (the default adapter: lavapipe here, a real GPU elsewhere). */
export function testContext(options?: GpuOptions): Promise<GpuContext> {
  if (options) return GpuContext.acquire(options);
  shared ??= GpuContext.acquire({});
  return shared;
}

/** A small, fast, seeded PRNG (mulberry32, src/core/random.ts) giving floats in [0, 1). */
export const rng = mulberry32;

/** A fresh seed per run (printed by the caller on failure) unless WEBRECON_SEED is set. */
export function freshSeed(): number {
  const env = process.env.WEBRECON_SEED;
  return env ? Number(env) : (Math.random() * 2 ** 31) >>> 0;
}

/** Float32 array of uniform values in [lo, hi). */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** Relative L2 error ||a - b|| / ||b|| computed in float64 (b is the reference). */
export const relL2 = relativeL2;

/** Largest absolute element difference. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** True when every element is finite (poisoned NaN outputs that were never written fail this). */
export function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}
