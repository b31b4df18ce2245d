/**
 * Quality measures against a known truth (simulations): the object error after removing the
 * global complex factor (phase and amplitude scale) and the best SUB-PIXEL shift, inside a region
 * (the scanned, well-illuminated area), and the probe error after the best complex factor.
 *
 * Host-side float64 (an evaluation against a truth, not part of the reconstruction). The
 * sub-pixel shift is applied to the estimate with a Fourier phase ramp (fft.js through
 * ReferenceFft2d) on a zero-seam periodic extension of the array (see {@link fourierShift}).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ComplexArray } from '../core/array.js';
import { InputError } from '../core/errors.js';
import { ReferenceFft2d } from '../fft/reference.js';
import { readNpy } from '../io/npy.js';
import type { ScanGeometry } from './scan.js';

/** Result of {@link objectError}. */
export interface ObjectErrorResult {
  /** ||γ·S_d x − t|| / ||t|| over the region, minimised over the complex factor γ and the shift d. */
  error: number;
  /**
   * The shift d = (rows, cols) that fits best: the estimate at q + d matches the truth at q, so an
   * estimate that is the truth moved by (+dy, +dx) gives d = (dy, dx). Fractional unless
   * sub-pixel refinement is off.
   */
  shift: [number, number];
  /** The complex factor γ as (re, im). */
  factor: [number, number];
  /** The error at the best whole-pixel shift (before the sub-pixel refinement). */
  wholePixelError: number;
  /** The best whole-pixel shift. */
  wholePixelShift: [number, number];
}

/** Options of {@link objectError}. */
export interface ObjectErrorOptions {
  /** Refine the whole-pixel shift to sub-pixel precision (default true). */
  subpixel?: boolean;
  /** Stop the sub-pixel search when its step is below this many pixels (default 1e-4). */
  tolerance?: number;
}

/** Σ over the region of conj(a)·b, |a|², |b|² for a = x at q + (sy, sx) (whole pixels) and b = t at q. */
function wholePixelSums(x: ArrayLike<number>, t: ArrayLike<number>, rows: number, cols: number, region: Uint8Array, sy: number, sx: number): [number, number, number, number] {
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
  return [xr, xi, xx, tt];
}

/** ||γa − b||/||b|| at the optimal γ = ⟨a, b⟩/⟨a, a⟩, from the sums of {@link wholePixelSums}. */
function fitError([xr, xi, xx, tt]: [number, number, number, number]): { error: number; factor: [number, number] } {
  if (xx === 0 || tt === 0) return { error: Infinity, factor: [1, 0] };
  // ||γa − b||² = |b|² − |⟨a,b⟩|²/|a|²
  return { error: Math.sqrt(Math.max(0, tt - (xr * xr + xi * xi) / xx) / tt), factor: [xr / xx, xi / xx] };
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * A complex [rows, cols] array prepared for sub-pixel shifts: its spectrum on a power-of-two grid
 * [mr, mc] ⊇ the array plus at least `pad` pixels, filled so the periodic extension has no seam
 * (linear blends from the last row/column back to the first), which keeps the ringing of the
 * Fourier interpolation away from the interior.
 */
class ShiftableArray {
  readonly mr: number;
  readonly mc: number;
  private readonly spec: Float64Array;
  private readonly ramp: Float64Array;
  private readonly out: Float64Array;
  private readonly fft: ReferenceFft2d;

  constructor(a: ArrayLike<number>, readonly rows: number, readonly cols: number, pad = 16) {
    this.mr = nextPow2(rows + pad);
    this.mc = nextPow2(cols + pad);
    const { mr, mc } = this;
    const ext = new Float64Array(2 * mr * mc);
    for (let y = 0; y < rows; y++) for (let x = 0; x < cols; x++) {
      ext[2 * (y * mc + x)] = a[2 * (y * cols + x)];
      ext[2 * (y * mc + x) + 1] = a[2 * (y * cols + x) + 1];
    }
    // rows beyond the array: blend from the last row to the first one
    for (let y = rows; y < mr; y++) {
      const s = (y - rows + 1) / (mr - rows + 1);
      for (let x = 0; x < cols; x++) for (let k = 0; k < 2; k++) {
        ext[2 * (y * mc + x) + k] = (1 - s) * ext[2 * ((rows - 1) * mc + x) + k] + s * ext[2 * x + k];
      }
    }
    // columns beyond the array (all rows): blend from the last column to the first one
    for (let x = cols; x < mc; x++) {
      const s = (x - cols + 1) / (mc - cols + 1);
      for (let y = 0; y < mr; y++) for (let k = 0; k < 2; k++) {
        ext[2 * (y * mc + x) + k] = (1 - s) * ext[2 * (y * mc + cols - 1) + k] + s * ext[2 * (y * mc) + k];
      }
    }
    this.fft = new ReferenceFft2d(mr, mc);
    this.spec = new Float64Array(2 * mr * mc);
    this.fft.transform(ext, this.spec, 0, 'forward');
    this.ramp = new Float64Array(2 * mr * mc);
    this.out = new Float64Array(2 * mr * mc);
  }

  /** The array sampled at q + d (Fourier interpolation), on the padded grid [mr, mc]. */
  shifted(dy: number, dx: number): Float64Array {
    const { mr, mc, spec, ramp } = this;
    // e^{2πi(k_y d_y/M_r + k_x d_x/M_c)} with signed frequencies: x(q + d) ↔ X(k)·e^{2πi k·d/M}
    const cy = new Float64Array(2 * mr), cx = new Float64Array(2 * mc);
    for (let k = 0; k < mr; k++) {
      const ph = (2 * Math.PI * (k < mr / 2 ? k : k - mr) * dy) / mr;
      cy[2 * k] = Math.cos(ph); cy[2 * k + 1] = Math.sin(ph);
    }
    for (let k = 0; k < mc; k++) {
      const ph = (2 * Math.PI * (k < mc / 2 ? k : k - mc) * dx) / mc;
      cx[2 * k] = Math.cos(ph); cx[2 * k + 1] = Math.sin(ph);
    }
    for (let y = 0; y < mr; y++) for (let x = 0; x < mc; x++) {
      const er = cy[2 * y] * cx[2 * x] - cy[2 * y + 1] * cx[2 * x + 1];
      const ei = cy[2 * y] * cx[2 * x + 1] + cy[2 * y + 1] * cx[2 * x];
      const i = 2 * (y * mc + x);
      ramp[i] = spec[i] * er - spec[i + 1] * ei;
      ramp[i + 1] = spec[i] * ei + spec[i + 1] * er;
    }
    this.fft.transform(ramp, this.out, 0, 'inverse');
    return this.out;
  }
}

/**
 * The complex array `a` [rows, cols] sampled at q + d by Fourier interpolation (a sub-pixel
 * shift by −d: an object at position p moves to p − d), computed on a seam-free periodic
 * extension of the array, so pixels more than a few pixels from the border are exact for
 * band-limited content. Returns a new complex array of the same shape (float32).
 */
export function fourierShift(a: ComplexArray, shift: [number, number]): ComplexArray {
  const [rows, cols] = a.shape as [number, number];
  const s = new ShiftableArray(a.data, rows, cols);
  const v = s.shifted(shift[0], shift[1]);
  const data = new Float32Array(2 * rows * cols);
  for (let y = 0; y < rows; y++) for (let x = 0; x < 2 * cols; x++) data[2 * y * cols + x] = v[2 * y * s.mc + x];
  return { data, shape: [rows, cols], complex: true };
}

/**
 * Relative error of `estimate` against `truth` (same shape [rows, cols], complex) on the pixels
 * where `region` is nonzero, after the best complex factor γ = ⟨x, t⟩/⟨x, x⟩ (global phase and
 * scale) and the best shift: first the best whole-pixel shift within ±maxShift pixels (exact
 * index shifts), then (by default) a sub-pixel refinement within ±1 pixel of it that minimises
 * the same error with the estimate shifted by a Fourier phase ramp (parabolic start, then a
 * compass search down to `tolerance`).
 */
export function objectError(estimate: ComplexArray, truth: ComplexArray, region: Uint8Array, maxShift = 2, options: ObjectErrorOptions = {}): ObjectErrorResult {
  const [rows, cols] = truth.shape as [number, number];
  if (estimate.shape[0] !== rows || estimate.shape[1] !== cols) throw new Error(`objectError: the estimate is [${estimate.shape.join(', ')}] but the truth is [${rows}, ${cols}]`);
  const x = estimate.data, t = truth.data;
  let wholeErr = Infinity, whole: [number, number] = [0, 0], wholeFactor: [number, number] = [1, 0];
  const table = new Map<string, number>();
  for (let sy = -maxShift; sy <= maxShift; sy++) for (let sx = -maxShift; sx <= maxShift; sx++) {
    const f = fitError(wholePixelSums(x, t, rows, cols, region, sy, sx));
    table.set(`${sy},${sx}`, f.error);
    if (f.error < wholeErr) { wholeErr = f.error; whole = [sy, sx]; wholeFactor = f.factor; }
  }
  const base: ObjectErrorResult = { error: wholeErr, shift: whole, factor: wholeFactor, wholePixelError: wholeErr, wholePixelShift: whole };
  if (options.subpixel === false || !Number.isFinite(wholeErr)) return base;

  const s = new ShiftableArray(x, rows, cols);
  const evaluate = (dy: number, dx: number): { error: number; factor: [number, number] } => {
    const v = s.shifted(dy, dx);
    let xr = 0, xi = 0, xx = 0, tt = 0;
    for (let y = 0; y < rows; y++) for (let c = 0; c < cols; c++) {
      const q = y * cols + c;
      if (!region[q]) continue;
      const p = 2 * (y * s.mc + c);
      const ar = v[p], ai = v[p + 1], br = t[2 * q], bi = t[2 * q + 1];
      xr += ar * br + ai * bi;
      xi += ar * bi - ai * br;
      xx += ar * ar + ai * ai;
      tt += br * br + bi * bi;
    }
    return fitError([xr, xi, xx, tt]);
  };
  // Parabolic start per axis from the whole-pixel errors (squared errors are near-quadratic in d).
  const e2 = (sy: number, sx: number): number => {
    const k = `${sy},${sx}`;
    if (!table.has(k)) table.set(k, fitError(wholePixelSums(x, t, rows, cols, region, sy, sx)).error);
    return table.get(k)! ** 2;
  };
  const vertex = (m: number, c: number, p: number): number => {
    const den = m - 2 * c + p;
    return den > 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (m - p)) / den)) : 0;
  };
  const [wy, wx] = whole;
  let dy = wy + vertex(e2(wy - 1, wx), e2(wy, wx), e2(wy + 1, wx));
  let dx = wx + vertex(e2(wy, wx - 1), e2(wy, wx), e2(wy, wx + 1));
  let best = evaluate(dy, dx);
  if (!(best.error <= wholeErr)) { dy = wy; dx = wx; best = { error: wholeErr, factor: wholeFactor }; }
  // Compass search within ±1 pixel of the whole-pixel shift.
  const tol = options.tolerance ?? 1e-4;
  for (let step = 0.25; step >= tol; ) {
    let moved = false;
    for (const [ay, ax] of [[step, 0], [-step, 0], [0, step], [0, -step]] as const) {
      const ny = dy + ay, nx = dx + ax;
      if (Math.abs(ny - wy) > 1 || Math.abs(nx - wx) > 1) continue;
      const f = evaluate(ny, nx);
      if (f.error < best.error) { best = f; dy = ny; dx = nx; moved = true; break; }
    }
    if (!moved) step /= 2;
  }
  return { error: best.error, shift: [dy, dx], factor: best.factor, wholePixelError: wholeErr, wholePixelShift: whole };
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

/** A known truth to compare a reconstruction with (see {@link loadTruth}). */
export interface PtychoTruth {
  /** The true object [rows, cols] in the reconstruction's geometry. */
  object: ComplexArray;
  /** The true probe [h, w], when known. */
  probe?: ComplexArray;
  /** The object file (for messages). */
  source: string;
}

async function readComplex(path: string, what: string): Promise<ComplexArray> {
  const a = await readNpy(path);
  if (!a.complex || a.shape.length !== 2) throw new InputError(`the true ${what} must be a complex [rows, cols] array, got ${a.complex ? '' : 'real '}shape [${a.shape.join(', ')}]`, path);
  return { data: Float32Array.from(a.data as ArrayLike<number>), shape: a.shape, complex: true };
}

/**
 * Reads a truth: a folder as `webrecon ptycho simulate --truth DIR` writes it (object.npy, and
 * probe.npy when present) or one complex .npy file holding the object.
 * @throws InputError naming the file when it is missing or not a complex 2-D array.
 */
export async function loadTruth(path: string): Promise<PtychoTruth> {
  const s = await stat(path).catch((e) => {
    throw new InputError('truth not found', path, { cause: e });
  });
  if (!s.isDirectory()) return { object: await readComplex(path, 'object'), source: path };
  const objectPath = join(path, 'object.npy');
  const probePath = join(path, 'probe.npy');
  const object = await readComplex(objectPath, 'object');
  const hasProbe = await stat(probePath).then(() => true, () => false);
  return { object, probe: hasProbe ? await readComplex(probePath, 'probe') : undefined, source: objectPath };
}

/** Throws an InputError naming the truth file when its object does not have the scan's object shape. */
export function checkTruthShape(truth: PtychoTruth, objectShape: readonly number[]): void {
  const s = truth.object.shape;
  if (s[0] !== objectShape[0] || s[1] !== objectShape[1]) {
    throw new InputError(`the true object is [${s.join(', ')}] but this scan's object is [${objectShape.join(', ')}] (same positions and margin 2 needed, as ptycho simulate writes them)`, truth.source);
  }
}

/** Errors of a reconstruction against a truth, as written to metrics.json. */
export interface TruthMetrics {
  /** Object error after the global complex factor and the sub-pixel shift, in the illuminated region. */
  objectError: number;
  /** The shift (row, col) removed, px. */
  objectShift: [number, number];
  /** Object error at the best whole-pixel shift. */
  objectErrorWholePixel: number;
  /** Pixels of the region (probe intensity sum above 30 % of its maximum). */
  regionPixels: number;
  /** Probe error after the best complex factor (first mode), when the truth has a probe of the same size. */
  probeError?: number;
}

/**
 * Compares a reconstruction (object, probe [h, w] or [modes, h, w], geometry) with a truth: the
 * object error of {@link objectError} (sub-pixel shift, ±2 px whole-pixel search) on the region
 * where the summed intensity of the true probe (else the reconstructed one) exceeds 30 % of its
 * maximum, and the probe error of the first mode.
 */
export function truthMetrics(result: { object: ComplexArray; probe: ComplexArray; geometry: ScanGeometry }, truth: PtychoTruth): TruthMetrics {
  checkTruthShape(truth, result.object.shape);
  const [h, w] = result.geometry.frame;
  const probe0: ComplexArray = { data: result.probe.data.subarray(0, 2 * h * w), shape: [h, w], complex: true };
  const sameProbe = truth.probe && truth.probe.shape[0] === h && truth.probe.shape[1] === w;
  const region = illuminatedRegion(sameProbe ? truth.probe! : probe0, result.geometry.positions, result.geometry.objectShape, 0.3);
  const oe = objectError(result.object, truth.object, region, 2);
  const out: TruthMetrics = { objectError: oe.error, objectShift: oe.shift, objectErrorWholePixel: oe.wholePixelError, regionPixels: region.reduce((a, b) => a + b, 0) };
  if (sameProbe) out.probeError = probeError(probe0, truth.probe!);
  return out;
}
