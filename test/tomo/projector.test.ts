/**
 * The Joseph projector pair against the float64 matrix definition (src/tomo/reference.ts), on
 * fresh random inputs, plus adjointness and analytic checks.
 */
import { describe, expect, it } from 'vitest';
import { allFinite, freshSeed, randomArray, relL2, testContext } from '../helpers/gpu.js';
import { makeGeometry } from '../../src/tomo/geometry.js';
import { backProject, forwardProject, rowWeights } from '../../src/tomo/projector.js';
import { backProjectRef, projectRef, rowWeightsRef } from '../../src/tomo/reference.js';

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

// Angles that exercise both stepping modes, the exact axes and both signs.
const ANGLES = [0, 17.3, 45, 63.1, 90, 112.5, 135, 161, 180, -30, -73, 271.7];

describe('Joseph projector pair', () => {
  const cases = [
    { rows: 3, cols: 24, n: 24, center: undefined as number | undefined },
    { rows: 2, cols: 30, n: 21, center: 13.3 },
    { rows: 1, cols: 17, n: 32, center: 9.75 },
  ];
  for (const c of cases) {
    it(`forward and back projection match the float64 reference (rows ${c.rows}, cols ${c.cols}, n ${c.n}, centre ${c.center ?? 'middle'})`, async () => {
      const ctx = await testContext();
      const seed = freshSeed();
      const g = makeGeometry(ANGLES, c.rows, c.cols, { n: c.n, center: c.center });
      const x = randomArray(c.rows * c.n * c.n, seed);
      const y = randomArray(ANGLES.length * c.rows * c.cols, seed + 1);
      const ax = await forwardProject(ctx, { data: x, shape: [c.rows, c.n, c.n] }, g);
      const aty = await backProject(ctx, { data: y, shape: [ANGLES.length, c.rows, c.cols] }, g);
      expect(allFinite(ax.data), `seed ${seed}`).toBe(true);
      expect(allFinite(aty.data), `seed ${seed}`).toBe(true);
      expect(relL2(ax.data, projectRef(x, g)), `seed ${seed}`).toBeLessThan(1e-5);
      expect(relL2(aty.data, backProjectRef(y, g)), `seed ${seed}`).toBeLessThan(1e-5);
      // ⟨Ax, y⟩ = ⟨x, Aᵀy⟩
      const lhs = dot(ax.data, y);
      const rhs = dot(x, aty.data);
      expect(Math.abs(lhs - rhs) / Math.sqrt(dot(ax.data, ax.data) * dot(y, y)), `seed ${seed}`).toBeLessThan(1e-5);
    });
  }

  it('a subset of angles in any order projects the same rays', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const g = makeGeometry(ANGLES, 2, 20, {});
    const x = randomArray(2 * 20 * 20, seed);
    const subset = [7, 0, 4, 11];
    const ax = await forwardProject(ctx, { data: x, shape: [2, 20, 20] }, g, { angles: subset });
    expect(ax.shape).toEqual([4, 2, 20]);
    expect(relL2(ax.data, projectRef(x, g, subset)), `seed ${seed}`).toBeLessThan(1e-5);
  });

  it('row sums and squared row norms match the reference', async () => {
    const ctx = await testContext();
    const g = makeGeometry(ANGLES, 1, 26, { n: 22, center: 12.4 });
    expect(relL2(await rowWeights(ctx, g, 'sum'), rowWeightsRef(g, 'sum'))).toBeLessThan(1e-5);
    expect(relL2(await rowWeights(ctx, g, 'norm2'), rowWeightsRef(g, 'norm2'))).toBeLessThan(1e-5);
  });

  it('a single voxel projects onto the pixel below it at 0° and is mirrored at 180°', async () => {
    const ctx = await testContext();
    const n = 16;
    const g = makeGeometry([0, 90, 180], 1, n, {});
    const x = new Float32Array(n * n);
    const i = 3;
    const k = 11;
    x[i * n + k] = 1;
    const p = (await forwardProject(ctx, { data: x, shape: [1, n, n] }, g)).data;
    const at = (a: number, j: number) => p[a * n + j];
    expect(at(0, k)).toBeCloseTo(1, 6);
    expect(p.slice(0, n).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
    // 90°: u = y, the top row (i small) lands at large detector columns.
    expect(at(1, n - 1 - i)).toBeCloseTo(1, 6);
    // 180°: u = −x
    expect(at(2, n - 1 - k)).toBeCloseTo(1, 6);
  });

  it('a uniform disc projects to its chord lengths at every angle', async () => {
    const ctx = await testContext();
    const n = 64;
    const R = 20;
    const angles = [0, 10, 33, 45, 77, 90, 123];
    const g = makeGeometry(angles, 1, n, {});
    const x = new Float32Array(n * n);
    const ss = 8; // supersampled voxel coverage
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) {
        let inside = 0;
        for (let a = 0; a < ss; a++) for (let b = 0; b < ss; b++) {
          const xx = k + (b + 0.5) / ss - n / 2;
          const yy = n / 2 - i - (a + 0.5) / ss;
          if (xx * xx + yy * yy <= R * R) inside++;
        }
        x[i * n + k] = inside / (ss * ss);
      }
    }
    const p = (await forwardProject(ctx, { data: x, shape: [1, n, n] }, g)).data;
    let err = 0;
    let ref = 0;
    for (let a = 0; a < angles.length; a++) {
      for (let j = 0; j < n; j++) {
        const u = j + 0.5 - n / 2;
        const chord = Math.abs(u) < R ? 2 * Math.sqrt(R * R - u * u) : 0;
        err += (p[a * n + j] - chord) ** 2;
        ref += chord * chord;
      }
    }
    expect(Math.sqrt(err / ref)).toBeLessThan(0.02);
  });

  it('slabs (a tiny binding limit) give the same projections and back-projections', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const g = makeGeometry(ANGLES, 5, 16, {});
    const x = randomArray(5 * 16 * 16, seed);
    const y = randomArray(ANGLES.length * 5 * 16, seed + 1);
    const limit = 2 * ANGLES.length * 16 * 4; // two rows per slab
    const a1 = await forwardProject(ctx, { data: x, shape: [5, 16, 16] }, g);
    const a2 = await forwardProject(ctx, { data: x, shape: [5, 16, 16] }, g, { maxBindingBytes: limit });
    expect(Array.from(a2.data)).toEqual(Array.from(a1.data));
    const b1 = await backProject(ctx, { data: y, shape: [ANGLES.length, 5, 16] }, g);
    const b2 = await backProject(ctx, { data: y, shape: [ANGLES.length, 5, 16] }, g, { maxBindingBytes: limit });
    expect(Array.from(b2.data)).toEqual(Array.from(b1.data));
  });
});
