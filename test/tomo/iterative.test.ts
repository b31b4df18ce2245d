/**
 * ART, SART and SIRT on the GPU against the float64 block-iterative reference (same angle order,
 * same normalisation), plus convergence on a phantom whose truth is known.
 */
import { describe, expect, it } from 'vitest';
import { allFinite, freshSeed, randomArray, relL2, testContext } from '../helpers/gpu.js';
import { makeGeometry } from '../../src/tomo/geometry.js';
import { groupRuns, reconstructIterative, sweepOrder } from '../../src/tomo/iterative.js';
import { artRef, blockIterativeRef, projectRef, sirtRef } from '../../src/tomo/reference.js';
import { sheppLogan3d, voxelizePhantom } from '../../src/tomo/phantom.js';
import { ellipsoidProjectionsRef } from '../../src/tomo/reference.js';

const linspace = (a: number, b: number, n: number) => Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));

// Both traversals of the sweep (the band walk used on CPU adapters, the voxel-driven update used on
// GPUs) compute the same matrix; each is checked against the reference here.
for (const sweepTraversal of ['bands', 'voxels'] as const)
describe(`iterative reconstructions match the float64 reference (${sweepTraversal} traversal)`, () => {
  const rows = 5;
  const cols = 20;
  const angles = linspace(-70, 75, 9);
  const g = makeGeometry(angles, rows, cols, { center: 10.4 });
  const shape: [number, number, number] = [angles.length, rows, cols];

  for (const spw of [1, 2, 4, 8]) {
    it(`ART, 2 sequential sweeps, β = 0.7, ${spw} slice(s) per workgroup`, async () => {
      const ctx = await testContext();
      const seed = freshSeed();
      const b = randomArray(angles.length * rows * cols, seed, 0, 1);
      const gpu = await reconstructIterative(ctx, { data: b, shape }, g, 'art', { iterations: 2, relaxation: 0.7, slicesPerWorkgroup: spw, sweepTraversal });
      const ref = artRef(b, g, { iterations: 2, relaxation: 0.7 });
      expect(allFinite(gpu.volume.data)).toBe(true);
      expect(relL2(gpu.volume.data, ref.volume), `seed ${seed}`).toBeLessThan(1e-4);
      for (let i = 0; i < 2; i++) expect(gpu.residuals[i]).toBeCloseTo(ref.residuals[i], 5);
    });
  }

  it('ART in seeded random order with non-negativity and an initial volume', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const b = randomArray(angles.length * rows * cols, seed, -0.2, 1);
    const x0 = randomArray(rows * cols * cols, seed + 1, 0, 0.05);
    const opts = { iterations: 2, relaxation: 1, nonNegative: true, initial: { data: x0, shape: [rows, cols, cols] as [number, number, number] }, order: 'random' as const, seed: 5 };
    const gpu = await reconstructIterative(ctx, { data: b, shape }, g, 'art', { ...opts, sweepTraversal });
    const ref = artRef(b, g, { ...opts, initial: x0, order: (it) => Array.from(sweepOrder(angles.length, 'random', 5, it)) });
    expect(Math.min(...gpu.volume.data)).toBeGreaterThanOrEqual(0);
    expect(relL2(gpu.volume.data, ref.volume), `seed ${seed}`).toBeLessThan(1e-4);
    expect(Array.from(sweepOrder(angles.length, 'random', 5, 0))).not.toEqual(Array.from(sweepOrder(angles.length, 'random', 5, 1)));
  });

  for (const blockSize of [1, 4]) {
    it(`SART with blocks of ${blockSize} angle(s)`, async () => {
      const ctx = await testContext();
      const seed = freshSeed();
      const b = randomArray(angles.length * rows * cols, seed, 0, 1);
      const gpu = await reconstructIterative(ctx, { data: b, shape }, g, 'sart', { iterations: 2, relaxation: 0.9, blockSize, sweepTraversal });
      const blocks: number[][] = [];
      for (let a = 0; a < angles.length; a += blockSize) blocks.push(Array.from({ length: Math.min(blockSize, angles.length - a) }, (_, i) => a + i));
      const ref = blockIterativeRef(b, g, { iterations: 2, relaxation: 0.9, normalisation: 'sum', blocks });
      expect(relL2(gpu.volume.data, ref.volume), `seed ${seed}`).toBeLessThan(1e-4);
    });
  }

  it('SIRT, 5 iterations, non-negative', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const b = randomArray(angles.length * rows * cols, seed, -0.1, 1);
    const gpu = await reconstructIterative(ctx, { data: b, shape }, g, 'sirt', { iterations: 5, nonNegative: true, sweepTraversal });
    const ref = sirtRef(b, g, { iterations: 5, nonNegative: true });
    expect(relL2(gpu.volume.data, ref.volume), `seed ${seed}`).toBeLessThan(1e-4);
    gpu.residuals.forEach((r, i) => expect(r).toBeCloseTo(ref.residuals[i], 5));
  });

  // The sweep walks bands between neighbouring rays (sweep_packed.wgsl): every voxel of every
  // slice must fall in exactly one band at every angle — whichever way the rays are ordered across
  // the principal axis (all four quadrants), for slices larger and smaller than the detector, and
  // for voxels no ray reaches (an initial volume with negative values there must still be clamped).
  for (const [label, n, center] of [['n > cols', 27, 7.3], ['n < cols', 14, 11.8]] as const) {
    it(`ART, SART and SIRT over a full circle of angles, ${label}, non-negative from a signed start`, async () => {
      const ctx = await testContext();
      const seed = freshSeed();
      const circle = [-179.5, -133, -91, -60.2, -45, -12.5, 0, 30, 44.9, 45.1, 90, 121, 135, 170.3, 225.7, 301];
      const gc = makeGeometry(circle, rows, cols, { center, n });
      const b = randomArray(circle.length * rows * cols, seed, -0.1, 1);
      const x0 = randomArray(rows * n * n, seed + 7, -0.5, 0.5);
      const initial = { data: x0, shape: [rows, n, n] as [number, number, number] };
      const art = await reconstructIterative(ctx, { data: b, shape: [circle.length, rows, cols] }, gc, 'art', { iterations: 2, relaxation: 0.6, nonNegative: true, initial, sweepTraversal });
      const artR = artRef(b, gc, { iterations: 2, relaxation: 0.6, nonNegative: true, initial: x0 });
      expect(Math.min(...art.volume.data)).toBeGreaterThanOrEqual(0);
      expect(relL2(art.volume.data, artR.volume), `ART seed ${seed}`).toBeLessThan(1e-4);
      const sart = await reconstructIterative(ctx, { data: b, shape: [circle.length, rows, cols] }, gc, 'sart', { iterations: 2, relaxation: 0.8, sweepTraversal });
      const sartR = blockIterativeRef(b, gc, { iterations: 2, relaxation: 0.8, normalisation: 'sum', blocks: circle.map((_, a) => [a]) });
      expect(relL2(sart.volume.data, sartR.volume), `SART seed ${seed}`).toBeLessThan(1e-4);
      const sirt = await reconstructIterative(ctx, { data: b, shape: [circle.length, rows, cols] }, gc, 'sirt', { iterations: 3, nonNegative: true, initial, sweepTraversal });
      const sirtR = sirtRef(b, gc, { iterations: 3, nonNegative: true, initial: x0 });
      expect(relL2(sirt.volume.data, sirtR.volume), `SIRT seed ${seed}`).toBeLessThan(1e-4);
    });
  }

  it('ART on a wide detector (1400 columns) around a small slice, eight slices per workgroup', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const wide = 1400;
    const gw = makeGeometry([-50, 3, 47, 95], 8, wide, { center: 700.3, n: 20 });
    const b = randomArray(4 * 8 * wide, seed, 0, 1);
    const gpu = await reconstructIterative(ctx, { data: b, shape: [4, 8, wide] }, gw, 'art', { iterations: 2, relaxation: 0.7, slicesPerWorkgroup: 8, nonNegative: true, sweepTraversal });
    const ref = artRef(b, gw, { iterations: 2, relaxation: 0.7, nonNegative: true });
    // Detector positions near 700 carry float32 rounding of ~4e-5 pixel into every weight, so the
    // bound is the float32 floor of this width (the voxel-driven update measured 1.5e-4 as well).
    expect(relL2(gpu.volume.data, ref.volume), `seed ${seed}`).toBeLessThan(4e-4);
  });

  it('slabs (a tiny binding limit) give the same volume', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const b = randomArray(angles.length * rows * cols, seed, 0, 1);
    for (const spw of [1, 4, 8]) {
      const one = await reconstructIterative(ctx, { data: b, shape }, g, 'art', { iterations: 1, slicesPerWorkgroup: spw, sweepTraversal });
      const many = await reconstructIterative(ctx, { data: b, shape }, g, 'art', { iterations: 1, slicesPerWorkgroup: spw, maxBindingBytes: 2 * cols * cols * 4, sweepTraversal });
      expect(Array.from(many.volume.data), `${spw} slices per workgroup`).toEqual(Array.from(one.volume.data));
    }
  });

  it('an iteration cut into several dispatches (watchdog-safe sweeps; runs of slice groups on the band walk) gives the same volume and residuals', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const b = randomArray(angles.length * rows * cols, seed, 0, 1);
    for (const [alg, spw] of [['art', 1], ['art', 4], ['sart', 8]] as const) {
      const whole = await reconstructIterative(ctx, { data: b, shape }, g, alg, { iterations: 2, slicesPerWorkgroup: spw, blockSize: 2, sweepTraversal });
      const cut = await reconstructIterative(ctx, { data: b, shape }, g, alg, { iterations: 2, slicesPerWorkgroup: spw, blockSize: 2, maxDispatchVoxelAngles: 2 * cols * cols, sweepTraversal });
      expect(Array.from(cut.volume.data), `${alg}, seed ${seed}`).toEqual(Array.from(whole.volume.data));
      cut.residuals.forEach((r, i) => expect(Math.abs(r - whole.residuals[i]) / whole.residuals[i]).toBeLessThan(1e-6));
    }
  });

  it('runs of slice groups with blocks of several angles, a short last block, random order and the clamp give the same volume as one run', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const b = randomArray(angles.length * rows * cols, seed, -0.2, 1);
    // 9 angles in blocks of 2: the last block holds one angle; random order moves it around.
    const opts = { iterations: 2, slicesPerWorkgroup: 1, blockSize: 2, nonNegative: true, order: 'random' as const, seed: 7, sweepTraversal };
    const whole = await reconstructIterative(ctx, { data: b, shape }, g, 'sart', opts);
    const cut = await reconstructIterative(ctx, { data: b, shape }, g, 'sart', { ...opts, maxDispatchVoxelAngles: 2 * cols * cols });
    expect(Array.from(cut.volume.data), `seed ${seed}`).toEqual(Array.from(whole.volume.data));
    expect(Math.min(...whole.volume.data)).toBeGreaterThanOrEqual(0);
    const fixed: number[][] = [];
    for (let a = 0; a < angles.length; a += 2) fixed.push(Array.from({ length: Math.min(2, angles.length - a) }, (_, i) => a + i));
    const blocks = (it: number) => Array.from(sweepOrder(fixed.length, 'random', 7, it), (k) => fixed[k]);
    const ref = blockIterativeRef(b, g, { iterations: 2, relaxation: 1, normalisation: 'sum', nonNegative: true, blocks });
    expect(relL2(whole.volume.data, ref.volume), `seed ${seed}`).toBeLessThan(1e-4);
  });

  it('rejects bad options with clear errors', async () => {
    const ctx = await testContext();
    const b = new Float32Array(angles.length * rows * cols);
    await expect(reconstructIterative(ctx, { data: b, shape }, g, 'art', { relaxation: 2.5 })).rejects.toThrow(/relaxation must be in \(0, 2\)/);
    await expect(reconstructIterative(ctx, { data: b, shape }, g, 'art', { iterations: 0 })).rejects.toThrow(/iterations/);
    await expect(reconstructIterative(ctx, { data: b, shape }, g, 'art', { maxDispatchVoxelAngles: 0 })).rejects.toThrow(/maxDispatchVoxelAngles must be a positive integer/);
    await expect(reconstructIterative(ctx, { data: b, shape: [angles.length - 1, rows, cols] }, g, 'art')).rejects.toThrow(/projections but/);
  });
});

describe('iterative reconstructions converge on a 3-D Shepp-Logan phantom (analytic projections)', () => {
  it('ART, SART and SIRT: residual falls every iteration and the error against the truth falls', async () => {
    const ctx = await testContext();
    const n = 48;
    const rows = 8;
    const angles = linspace(-73, 73, 30);
    const g = makeGeometry(angles, rows, n, {});
    const phantom = sheppLogan3d();
    const truth = voxelizePhantom(phantom, rows, n, 2);
    const b = Float32Array.from(ellipsoidProjectionsRef(phantom, g, 2));
    const shape: [number, number, number] = [angles.length, rows, n];
    for (const [alg, iters] of [['art', 4], ['sart', 4], ['sirt', 30]] as const) {
      const r1 = await reconstructIterative(ctx, { data: b, shape }, g, alg, { iterations: 1, nonNegative: true });
      const rN = await reconstructIterative(ctx, { data: b, shape }, g, alg, { iterations: iters, nonNegative: true });
      for (let i = 1; i < rN.residuals.length; i++) expect(rN.residuals[i], `${alg} iteration ${i + 1}`).toBeLessThan(rN.residuals[i - 1]);
      const e1 = relL2(r1.volume.data, truth.data);
      const eN = relL2(rN.volume.data, truth.data);
      expect(eN, alg).toBeLessThan(e1);
      expect(eN, alg).toBeLessThan(0.6);
    }
    // The reference projector reproduces the analytic data closely (a sanity check of conventions).
    const p = projectRef(truth.data, g);
    expect(relL2(p, b)).toBeLessThan(0.05);
  });
});

describe('band-walk runs of slice groups', () => {
  it('cover every group once, hold about 4 MiB per core, at least one group per core, and respect a cap', () => {
    const mib = 2 ** 20;
    expect(groupRuns(32, 2 * mib, Infinity, 2)).toEqual([[0, 4], [4, 4], [8, 4], [12, 4], [16, 4], [20, 4], [24, 4], [28, 4]]);
    expect(groupRuns(5, 32 * mib, Infinity, 2)).toEqual([[0, 2], [2, 2], [4, 1]]);
    expect(groupRuns(6, 1024, Infinity, 2)).toEqual([[0, 6]]);
    expect(groupRuns(5, 1024, 2, 16)).toEqual([[0, 2], [2, 2], [4, 1]]);
    expect(groupRuns(3, 1024, 0, 2)).toEqual([[0, 1], [1, 1], [2, 1]]);
    // groupBytes 0: a GPU, one run unless capped.
    expect(groupRuns(1024, 0, Infinity, 16)).toEqual([[0, 1024]]);
    expect(groupRuns(1024, 0, 512, 16)).toEqual([[0, 512], [512, 512]]);
  });
});
