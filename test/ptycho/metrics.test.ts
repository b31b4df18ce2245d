/**
 * The object error against a known truth: global complex factor and sub-pixel shift removal
 * (src/ptycho/metrics.ts). The shifted truths are built ANALYTICALLY (a smooth object evaluated
 * at q − d), independent of the Fourier shift the metric uses.
 */
import { describe, expect, it } from 'vitest';
import { objectError, fourierShift } from '../../src/ptycho/metrics.js';
import { phantomObject } from '../../src/ptycho/simulate.js';
import type { ComplexArray } from '../../src/core/array.js';
import { freshSeed, rng } from '../helpers/gpu.js';

/** A smooth complex object (Gaussian blobs in amplitude and phase) sampled at (y − dy, x − dx), times g·e^{iφ}. */
function smoothObject(rows: number, cols: number, seed: number, dy = 0, dx = 0, g = 1, phi = 0): ComplexArray {
  const r = rng(seed);
  const blobs = Array.from({ length: 12 }, () => [r() * rows, r() * cols, 3 + 4 * r(), r() - 0.5, 2 * (r() - 0.5)]);
  const data = new Float32Array(2 * rows * cols);
  for (let y = 0; y < rows; y++) for (let x = 0; x < cols; x++) {
    let amp = 0.8, ph = 0;
    for (const [by, bx, s, a, p] of blobs) {
      const e = Math.exp(-((y - dy - by) ** 2 + (x - dx - bx) ** 2) / (2 * s * s));
      amp += 0.3 * a * e;
      ph += p * e;
    }
    data[2 * (y * cols + x)] = g * amp * Math.cos(ph + phi);
    data[2 * (y * cols + x) + 1] = g * amp * Math.sin(ph + phi);
  }
  return { data, shape: [rows, cols], complex: true };
}

function interior(rows: number, cols: number, border: number): Uint8Array {
  const m = new Uint8Array(rows * cols);
  for (let y = border; y < rows - border; y++) for (let x = border; x < cols - border; x++) m[y * cols + x] = 1;
  return m;
}

describe('objectError: global factor and sub-pixel shift removal', () => {
  it('a truth moved by (0.3, −1.7) px and multiplied by 1.3·e^{iφ}: error < 5e-4 (≈ 0), the shift and the factor recovered', () => {
    const seed = freshSeed();
    const rows = 96, cols = 80, phi = 2.1, g = 1.3;
    const truth = smoothObject(rows, cols, seed);
    const est = smoothObject(rows, cols, seed, 0.3, -1.7, g, phi);
    const r = objectError(est, truth, interior(rows, cols, 12), 3);
    console.log(`seed ${seed}: error ${r.error.toExponential(2)} (whole-pixel ${r.wholePixelError.toExponential(2)} at ${r.wholePixelShift}), shift ${r.shift.map((v) => v.toFixed(4))}`);
    expect(r.error, `seed ${seed}`).toBeLessThan(5e-4); // floor: Fourier-interpolation ringing from the array border (~1e-4)
    expect(r.wholePixelError).toBeGreaterThan(10 * r.error);
    expect(r.wholePixelShift).toEqual([0, -2]);
    expect(Math.abs(r.shift[0] - 0.3)).toBeLessThan(2e-3);
    expect(Math.abs(r.shift[1] + 1.7)).toBeLessThan(2e-3);
    // γ·est = truth → γ = e^{−iφ}/g
    expect(Math.hypot(r.factor[0] - Math.cos(-phi) / g, r.factor[1] - Math.sin(-phi) / g)).toBeLessThan(1e-3);
  });

  it('random fractional shifts and phases (fresh seed): shift recovered to < 2e-3 px, error < 5e-4 (whole-pixel alignment leaves ~1e-2)', () => {
    const seed = freshSeed();
    const r0 = rng(seed + 1);
    for (let k = 0; k < 3; k++) {
      const d: [number, number] = [4 * (r0() - 0.5), 4 * (r0() - 0.5)];
      const phi = 2 * Math.PI * r0();
      const truth = smoothObject(72, 88, seed + k);
      const est = smoothObject(72, 88, seed + k, d[0], d[1], 0.7, phi);
      const r = objectError(est, truth, interior(72, 88, 10), 3);
      expect(r.error, `seed ${seed}, shift ${d}`).toBeLessThan(5e-4);
      expect(Math.abs(r.shift[0] - d[0]), `seed ${seed}`).toBeLessThan(2e-3);
      expect(Math.abs(r.shift[1] - d[1]), `seed ${seed}`).toBeLessThan(2e-3);
    }
  });

  it('sharp phantom moved with fourierShift is aligned back exactly; subpixel: false keeps the whole-pixel answer', () => {
    const truth = phantomObject(100, 90, 1);
    const est = fourierShift(truth, [-0.45, 1.25]); // est(q) = truth(q − 0.45, q + 1.25): truth moved by (0.45, −1.25)
    const region = interior(100, 90, 12);
    const r = objectError(est, truth, region, 2);
    expect(r.error).toBeLessThan(5e-3); // limited by the sinc tails of the phantom's edges near the array border
    expect(Math.abs(r.shift[0] - 0.45)).toBeLessThan(1e-2);
    expect(Math.abs(r.shift[1] + 1.25)).toBeLessThan(1e-2);
    const w = objectError(est, truth, region, 2, { subpixel: false });
    expect(w.shift).toEqual(w.wholePixelShift);
    expect(w.error).toBe(r.wholePixelError);
    expect(w.error).toBeGreaterThan(10 * r.error);
  });

  it('identical arrays: zero error and zero shift', () => {
    const t = smoothObject(64, 64, 7);
    const r = objectError(t, t, interior(64, 64, 8), 2);
    expect(r.error).toBeLessThan(1e-6);
    expect(Math.abs(r.shift[0]) + Math.abs(r.shift[1])).toBeLessThan(2e-3);
  });
});
