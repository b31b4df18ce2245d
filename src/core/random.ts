/**
 * Seeded pseudo-random numbers (mulberry32) for everything that must repeat run to run:
 * simulated noise, random angle orders, and Poisson samples drawn from them.
 */

/** A generator of floats in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A Poisson sample of mean `lambda` from `rand` (uniform in [0, 1)): Knuth's product method below
 * 30, a rounded normal approximation (Box–Muller, two draws) above; 0 for `lambda` ≤ 0.
 */
export function poisson(lambda: number, rand: () => number): number {
  if (lambda <= 0) return 0;
  if (lambda < 30) {
    const l = Math.exp(-lambda);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= rand();
    } while (p > l);
    return k - 1;
  }
  const u = Math.max(rand(), 1e-300);
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * z));
}
