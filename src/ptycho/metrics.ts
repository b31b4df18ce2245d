/**
 * Quality measures against a known truth (simulations): the object error after removing the
 * global phase factor (and amplitude scale) and the best whole-pixel shift, inside a region.
 */
import type { ComplexArray } from '../core/array.js';

/** Result of {@link objectError}. */
export interface ObjectErrorResult {
  /** ||γ·S_d x − t|| / ||t|| over the region, minimised over the complex factor γ and the shift d. */
  error: number;
  /** The shift (rows, cols) of the estimate that fits best. */
  shift: [number, number];
  /** The complex factor γ as (re, im). */
  factor: [number, number];
}

/**
 * Relative error of `estimate` against `truth` (same shape, complex) on the pixels where
 * `region` is nonzero, after the best complex factor γ = ⟨x, t⟩/⟨x, x⟩ (global phase and scale)
 * and the best integer shift within ±maxShift pixels. Host-side float64 (an evaluation, not
 * part of the reconstruction).
 */
export function objectError(estimate: ComplexArray, truth: ComplexArray, region: Uint8Array, maxShift = 2): ObjectErrorResult {
  const [rows, cols] = truth.shape as [number, number];
  const x = estimate.data, t = truth.data;
  let best: ObjectErrorResult = { error: Infinity, shift: [0, 0], factor: [1, 0] };
  for (let sy = -maxShift; sy <= maxShift; sy++) for (let sx = -maxShift; sx <= maxShift; sx++) {
    let xr = 0, xi = 0, xx = 0, tt = 0;
    for (let y = 0; y < rows; y++) {
      const ys = y + sy;
      if (ys < 0 || ys >= rows) continue;
      for (let c = 0; c < cols; c++) {
        const q = y * cols + c;
        if (!region[q]) continue;
        const cs = c + sx;
        if (cs < 0 || cs >= cols) continue;
        const p = ys * cols + cs;
        const ar = x[2 * p], ai = x[2 * p + 1], br = t[2 * q], bi = t[2 * q + 1];
        xr += ar * br + ai * bi; // conj(a)·b
        xi += ar * bi - ai * br;
        xx += ar * ar + ai * ai;
        tt += br * br + bi * bi;
      }
    }
    if (xx === 0 || tt === 0) continue;
    const gr = xr / xx, gi = xi / xx;
    // ||γx − t||² = tt − |⟨x,t⟩|²/xx
    const err = Math.sqrt(Math.max(0, tt - (xr * xr + xi * xi) / xx) / tt);
    if (err < best.error) best = { error: err, shift: [sy, sx], factor: [gr, gi] };
  }
  return best;
}

/**
 * The well-illuminated region: object pixels whose summed probe intensity Σ_j |P(q − r_j)|²
 * (whole-pixel positions) exceeds `fraction` of its maximum.
 */
export function illuminatedRegion(probe: ComplexArray, positions: Float64Array, objectShape: [number, number], fraction = 0.1): Uint8Array {
  const [rows, cols] = objectShape;
  const h = probe.shape[probe.shape.length - 2], w = probe.shape[probe.shape.length - 1];
  const cover = new Float64Array(rows * cols);
  for (let j = 0; j < positions.length / 2; j++) {
    const y0 = Math.round(positions[2 * j]), x0 = Math.round(positions[2 * j + 1]);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const q = (y0 + y) * cols + x0 + x;
      if (q >= 0 && q < cover.length) cover[q] += probe.data[2 * i] ** 2 + probe.data[2 * i + 1] ** 2;
    }
  }
  let max = 0;
  for (const v of cover) max = Math.max(max, v);
  return Uint8Array.from(cover, (v) => (v > fraction * max ? 1 : 0));
}

/** Relative probe error after the best complex factor: ||γp − t|| / ||t||. */
export function probeError(estimate: ComplexArray, truth: ComplexArray): number {
  const x = estimate.data, t = truth.data;
  let xr = 0, xi = 0, xx = 0, tt = 0;
  for (let i = 0; i < t.length; i += 2) {
    xr += x[i] * t[i] + x[i + 1] * t[i + 1];
    xi += x[i] * t[i + 1] - x[i + 1] * t[i];
    xx += x[i] ** 2 + x[i + 1] ** 2;
    tt += t[i] ** 2 + t[i + 1] ** 2;
  }
  return Math.sqrt(Math.max(0, tt - (xr * xr + xi * xi) / xx) / tt);
}
