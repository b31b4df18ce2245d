import { describe, expect, it } from 'vitest';
import { averageFrames, preprocessProjections } from '../../src/tomo/preprocess.js';
import { averageFramesReference, preprocessReference } from '../../src/tomo/fbp-reference.js';
import { InputError } from '../../src/core/errors.js';
import type { Volume } from '../../src/core/array.js';
import { allFinite, freshSeed, maxAbsDiff, randomArray, relL2, rng, testContext } from '../helpers/gpu.js';

describe('preprocessing (dark/flat, -log)', () => {
  it('averages dark/flat frames like a float64 reference', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const [n, rows, cols] = [7, 13, 29];
    const frames = randomArray(n * rows * cols, seed, 0, 100);
    const got = await averageFrames(ctx, { data: frames, shape: [n, rows, cols] }, 'dark');
    expect(got.shape).toEqual([rows, cols]);
    const ref = averageFramesReference(frames, n, rows * cols);
    expect(allFinite(got.data), `seed ${seed}`).toBe(true);
    expect(relL2(got.data, ref), `seed ${seed}`).toBeLessThan(1e-6);
  });

  it('normalises and takes -log like a float64 reference, across several chunks, zero flats finite', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const [A, rows, cols] = [37, 11, 23];
    const frame = rows * cols;
    const r = rng(seed + 3);
    const darks = randomArray(3 * frame, seed + 1, 90, 110);
    const flats = randomArray(4 * frame, seed + 2, 900, 1100);
    // dead flat pixels: flat == dark (zero denominator) and flat < dark (negative one)
    const dead = [0, 5, frame - 1];
    // (pixel 0: flat == dark exactly; pixel 5: flat all zero; last pixel: flat below dark)
    for (let k = 0; k < 3; k++) darks[k * frame] = 100;
    for (let k = 0; k < 4; k++) {
      flats[k * frame] = 100;
      flats[k * frame + 5] = 0;
      flats[k * frame + frame - 1] = 50;
    }
    const proj = new Float32Array(A * frame);
    for (let i = 0; i < proj.length; i++) proj[i] = 80 + 1000 * r(); // some below the dark level → t < 0
    const projections: Volume = { data: proj, shape: [A, rows, cols] };
    const { volume } = await preprocessProjections(ctx, projections, {
      dark: { data: darks, shape: [3, rows, cols] },
      flat: { data: flats, shape: [4, rows, cols] },
      maxChunkBytes: 5 * frame * 4, // 8 chunks, the last one short
    });
    const dMean = averageFramesReference(darks, 3, frame);
    const fMean = averageFramesReference(flats, 4, frame);
    const ref = preprocessReference(proj, frame, dMean, fMean, true, 1e-6);
    expect(allFinite(volume.data), `seed ${seed}`).toBe(true);
    // |Δ(−log t)| ≈ |Δt|/t: float32 rounding of p, d and f (~2^-24 each, relative) is amplified by
    // the cancellation in p − d, so each element's bound is its own condition number times a few ulps
    // (a raw value just above the dark level is legitimately uncertain in float32).
    let worst = 0;
    for (let a = 0; a < A; a++) {
      for (let j = 0; j < frame; j++) {
        const i = a * frame + j;
        const num = Math.abs(proj[i] - dMean[j]);
        const den = Math.abs(fMean[j] - dMean[j]);
        const cond = (Math.abs(proj[i]) + Math.abs(dMean[j])) / Math.max(num, 1e-6 * den, 1e-30) + (Math.abs(fMean[j]) + Math.abs(dMean[j])) / Math.max(den, 1e-30);
        const bound = 1e-6 + 8 * 2 ** -24 * cond;
        worst = Math.max(worst, Math.abs(volume.data[i] - ref[i]) / bound);
      }
    }
    expect(worst, `seed ${seed}: worst error / its float32 bound`).toBeLessThan(1);
    expect(relL2(volume.data, ref), `seed ${seed}`).toBeLessThan(1e-4);
    // dead pixels give t = 1 → 0; pixels below the dark level give the floor value
    for (let a = 0; a < A; a++) for (const j of dead) expect(volume.data[a * frame + j] === 0, `pixel ${j}`).toBe(true);
    expect(Math.max(...volume.data)).toBeCloseTo(-Math.log(1e-6), 3);
  });

  it('normalises without -log, and applies -log alone to normalised data', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const [A, rows, cols] = [5, 8, 9];
    const frame = rows * cols;
    const proj = randomArray(A * frame, seed, 0.05, 1.2);
    const flat = randomArray(frame, seed + 1, 1, 2);
    const { volume: norm } = await preprocessProjections(ctx, { data: proj, shape: [A, rows, cols] }, { flat: { data: flat, shape: [rows, cols] }, log: false });
    expect(relL2(norm.data, preprocessReference(proj, frame, undefined, flat, false, 1e-6)), `seed ${seed}`).toBeLessThan(1e-6);
    const { volume: logged } = await preprocessProjections(ctx, { data: proj, shape: [A, rows, cols] }, {});
    expect(relL2(logged.data, preprocessReference(proj, frame, undefined, undefined, true, 1e-6)), `seed ${seed}`).toBeLessThan(1e-5);
    // analytic: a constant transmission e^-2 gives exactly 2
    const c = new Float32Array(A * frame).fill(Math.exp(-2) * 3);
    const { volume: two } = await preprocessProjections(ctx, { data: c, shape: [A, rows, cols] }, { flat: { data: new Float32Array(frame).fill(3), shape: [rows, cols] } });
    expect(maxAbsDiff(two.data, new Float32Array(A * frame).fill(2))).toBeLessThan(1e-6);
  });

  it('turns NaN/Inf input into finite output and rejects mismatched fields', async () => {
    const ctx = await testContext();
    const proj = new Float32Array([Number.NaN, Number.POSITIVE_INFINITY, -1, 0, 1, 2]);
    const { volume } = await preprocessProjections(ctx, { data: proj, shape: [1, 2, 3] }, { flat: { data: new Float32Array(6).fill(1), shape: [2, 3] } });
    expect(allFinite(volume.data)).toBe(true);
    expect(volume.data[0] === 0 && volume.data[1] === 0).toBe(true);
    await expect(preprocessProjections(ctx, { data: proj, shape: [1, 2, 3] }, { flat: { data: new Float32Array(4), shape: [2, 2] }, source: 'flat.tif' })).rejects.toThrow(InputError);
    await expect(preprocessProjections(ctx, { data: proj, shape: [1, 2, 3] }, { dark: { data: new Float32Array(6), shape: [2, 3] } })).rejects.toThrow(/without a flat/);
  });
});
