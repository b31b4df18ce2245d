/**
 * Automatic rotation-centre finding for parallel-beam tomography, in TomoPy's centre convention
 * (src/tomo/geometry.ts: detector pixel j spans [j, j+1), the centre is the column where the
 * axis projects).
 *
 * Two stages:
 * 1. A coarse estimate on the host from the projections themselves (no reconstruction):
 *    - opposed projections: a projection at θ + 180° is the mirror image of the one at θ about
 *      the axis, so cross-correlating one with the other mirrored gives twice the axis offset
 *      (sub-pixel by a parabola through the correlation peak); used when some pair of angles is
 *      180° ± one angular step apart;
 *    - otherwise the centre-of-mass sinusoid: the mass centroid of each projection moves as
 *      c + a·cos θ + b·sin θ for an object inside the field of view; a least-squares fit gives c.
 * 2. Refinement by reconstruction: a few detector rows are ramp-filtered once and
 *    back-projected on the GPU (the FBP kernels of src/tomo/fbp.ts; all candidate centres of a
 *    chunk in one batched dispatch) at candidate centres around the estimate: every 0.5 px over
 *    the search range (extended while the best sits at an end), then every 0.1 px within
 *    ±0.5 px of the best. Each candidate's slices are scored on the host by the entropy of their
 *    histogram (TomoPy's find_center criterion) and the minimum,
 *    refined by a parabola through the 0.1 px samples, is returned.
 *
 * Convention check: TomoPy's `find_center` scores gridrec reconstructions, and gridrec puts
 * pixel centres half a pixel from libtomo's (tomopy issue #409, see geometry.ts), so a centre
 * TomoPy's find_center reports is expected about 0.5 px BELOW the value found here for the same
 * data; the value here is the one our projectors, FBP and TomoPy's iterative methods
 * (art, sirt, ...) reconstruct sharpest with.
 */
import type { GpuContext } from '../gpu/context.js';
import { InputError } from '../core/errors.js';
import type { Volume } from '../core/array.js';
import { makeGeometry, cosSinDeg } from './geometry.js';
import { angleTable, backprojectSinograms, filterProjections } from './fbp.js';

/** One scored candidate centre. */
export interface CenterScore {
  /** Candidate centre (TomoPy convention, column units). */
  center: number;
  /** Cost of the reconstruction at that centre (lower is better). */
  score: number;
}

/** Options of {@link findCenter}. */
export interface FindCenterOptions {
  /** Detector rows (slices) to reconstruct for scoring; default up to 3 rows with the most signal. */
  rows?: number[];
  /**
   * Centres to search [lo, hi] (column units). Default: the coarse estimate ± 4 px, widened to
   * cover the other coarse estimate when the two disagree, and extended while the best score
   * sits at an end of the range.
   */
  searchRange?: [number, number];
  /** Size of the reconstructed n × n region used for scoring, centred on the axis (default min(cols, 320), even). */
  n?: number;
}

/** What {@link findCenter} returns. */
export interface CenterResult {
  /** The rotation centre (TomoPy convention: detector column units, pixel j spans [j, j+1)). */
  center: number;
  /** How it was found, e.g. 'opposed projections (1 pair) + GPU FBP entropy over 27 candidate centres'. */
  method: string;
  /** Every candidate scored (coarse and fine passes), sorted by centre. */
  scores?: CenterScore[];
  /** The host-side coarse estimate the search started from. */
  coarse?: number;
  /** The rows reconstructed for scoring. */
  rows?: number[];
}

/**
 * Scoring metrics of candidate reconstructions; all are costs (lower = better). 'entropy' is
 * what {@link findCenter} uses; 'negativity' works on 180° scans but fails on 360° scans (a
 * wrong centre there blurs rather than adds undershoots), so it is kept for diagnostics only.
 */
export type CenterMetric = 'entropy' | 'negativity';

// ---------------------------------------------------------------------------------------------
// Host-side helpers (no reconstruction arithmetic)
// ---------------------------------------------------------------------------------------------

/** Sums the selected rows of every projection: profiles [angles, cols] (float64). */
export function rowProfiles(projections: Volume, rows: readonly number[]): Float64Array {
  const [A, R, C] = projections.shape;
  const out = new Float64Array(A * C);
  for (let a = 0; a < A; a++) {
    for (const r of rows) {
      const base = (a * R + r) * C;
      for (let c = 0; c < C; c++) out[a * C + c] += projections.data[base + c]!;
    }
  }
  return out;
}

/**
 * Picks up to `count` detector rows with the most structure (variance across columns and
 * angles), spread over the detector: the rows are split into `count` equal bands (the outer
 * 10 % skipped when there are enough rows) and the best row of each band is taken.
 */
export function selectRows(projections: Volume, count = 3): number[] {
  const [A, R, C] = projections.shape;
  if (R <= count) return Array.from({ length: R }, (_, r) => r);
  const margin = R >= 20 ? Math.floor(R * 0.1) : 0;
  const lo = margin;
  const hi = R - margin;
  const energy = new Float64Array(R);
  for (let r = lo; r < hi; r++) {
    let s = 0;
    let s2 = 0;
    for (let a = 0; a < A; a++) {
      const base = (a * R + r) * C;
      for (let c = 0; c < C; c++) {
        const v = projections.data[base + c]!;
        s += v;
        s2 += v * v;
      }
    }
    const m = s / (A * C);
    energy[r] = s2 / (A * C) - m * m;
  }
  const picked: number[] = [];
  for (let b = 0; b < count; b++) {
    const r0 = lo + Math.floor(((hi - lo) * b) / count);
    const r1 = lo + Math.floor(((hi - lo) * (b + 1)) / count);
    let best = r0;
    for (let r = r0; r < r1; r++) if (energy[r]! > energy[best]!) best = r;
    picked.push(best);
  }
  return [...new Set(picked)].sort((x, y) => x - y);
}

/** Solves a small dense system M x = v (Gaussian elimination with partial pivoting). */
function solve(M: number[][], v: number[]): number[] {
  const n = v.length;
  const a = M.map((row, i) => [...row, v[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    const d = a[c]![c]!;
    if (Math.abs(d) < 1e-300) return new Array(n).fill(NaN);
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / d;
      for (let k = c; k <= n; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  return a.map((row, i) => row[n]! / row[i]!);
}

/**
 * Centre from the centre-of-mass sinusoid: for each angle the centroid (in column units, pixel
 * j's centre at j + 0.5) of the non-negative part of the row profile, fitted by
 * c + a·cos θ + b·sin θ in least squares. Returns undefined when fewer than 3 angles carry mass
 * or the angles do not determine the fit.
 * `spread` is the RMS residual of the fit in pixels (large when the object leaves the field of view).
 */
export function centerOfMassCenter(profiles: Float64Array, anglesDeg: ArrayLike<number>, cols: number): { center: number; spread: number } | undefined {
  const A = anglesDeg.length;
  const M = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  const v = [0, 0, 0];
  const samples: Array<[number, number, number]> = [];
  for (let a = 0; a < A; a++) {
    let m = 0;
    let mx = 0;
    for (let c = 0; c < cols; c++) {
      const w = Math.max(0, profiles[a * cols + c]!);
      m += w;
      mx += w * (c + 0.5);
    }
    if (!(m > 0)) continue;
    const [co, si] = cosSinDeg(anglesDeg[a]!);
    const com = mx / m;
    const basis = [1, co, si];
    for (let i = 0; i < 3; i++) {
      v[i]! += basis[i]! * com;
      for (let j = 0; j < 3; j++) M[i]![j]! += basis[i]! * basis[j]!;
    }
    samples.push([com, co, si]);
  }
  if (samples.length < 3) return undefined;
  const [c, ca, sa] = solve(M, v);
  if (!Number.isFinite(c!)) return undefined;
  let ss = 0;
  for (const [com, co, si] of samples) ss += (com - (c! + ca! * co + sa! * si)) ** 2;
  return { center: c!, spread: Math.sqrt(ss / samples.length) };
}

/**
 * Sub-pixel peak of samples y[k] at index `k` by a parabola through k−1, k, k+1 (clamped to ±0.5).
 */
function parabolicPeak(y: ArrayLike<number>, k: number): number {
  if (k <= 0 || k >= y.length - 1) return k;
  const a = y[k - 1]!;
  const b = y[k]!;
  const c = y[k + 1]!;
  const den = a - 2 * b + c;
  if (den === 0) return k;
  return k + Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / den));
}

/**
 * Centre from opposed projections: every pair of angles 180° apart (within `tolDeg`) gives a
 * shift d between the projection at θ and the mirror image of the one at θ + 180°, found by
 * normalised cross-correlation of their gradients (sub-pixel); centre = (cols + d) / 2. The
 * median over pairs is returned, or undefined when no pair exists.
 */
export function opposedCenter(profiles: Float64Array, anglesDeg: ArrayLike<number>, cols: number, tolDeg: number): { center: number; pairs: number } | undefined {
  const A = anglesDeg.length;
  const estimates: number[] = [];
  const used = new Set<number>();
  for (let a = 0; a < A; a++) {
    if (used.has(a)) continue;
    let best = -1;
    let bestErr = tolDeg;
    for (let b = 0; b < A; b++) {
      if (b === a || used.has(b)) continue;
      const diff = ((((anglesDeg[b]! - anglesDeg[a]!) % 360) + 360) % 360) - 180;
      if (Math.abs(diff) <= bestErr) {
        bestErr = Math.abs(diff);
        best = b;
      }
    }
    if (best < 0) continue;
    used.add(a);
    used.add(best);
    const d = mirrorShift(profiles.subarray(a * cols, (a + 1) * cols), profiles.subarray(best * cols, (best + 1) * cols));
    if (d !== undefined) estimates.push((cols + d) / 2);
  }
  if (estimates.length === 0) return undefined;
  estimates.sort((x, y) => x - y);
  const mid = estimates.length >> 1;
  const center = estimates.length % 2 ? estimates[mid]! : 0.5 * (estimates[mid - 1]! + estimates[mid]!);
  return { center, pairs: estimates.length };
}

/**
 * The shift d (pixels) with h(x) ≈ f(x + d), where h is g mirrored (h[j] = g[cols−1−j]).
 * Cross-correlation of mean-removed profiles over all overlaps, normalised by the overlap.
 */
function mirrorShift(f: Float64Array, g: Float64Array): number | undefined {
  const n = f.length;
  const h = new Float64Array(n);
  for (let j = 0; j < n; j++) h[j] = g[n - 1 - j]!;
  // gradients: insensitive to offsets and slow background
  const df = new Float64Array(n - 1);
  const dh = new Float64Array(n - 1);
  for (let j = 0; j + 1 < n; j++) {
    df[j] = f[j + 1]! - f[j]!;
    dh[j] = h[j + 1]! - h[j]!;
  }
  const m = n - 1;
  const maxShift = Math.floor(m / 2);
  const corr = new Float64Array(2 * maxShift + 1);
  for (let s = -maxShift; s <= maxShift; s++) {
    // h[j] ≈ f[j + s]
    let sum = 0;
    let nf = 0;
    let nh = 0;
    for (let j = Math.max(0, -s); j < Math.min(m, m - s); j++) {
      sum += dh[j]! * df[j + s]!;
      nf += df[j + s]! * df[j + s]!;
      nh += dh[j]! * dh[j]!;
    }
    corr[s + maxShift] = nf > 0 && nh > 0 ? sum / Math.sqrt(nf * nh) : -Infinity;
  }
  let k = 0;
  for (let i = 1; i < corr.length; i++) if (corr[i]! > corr[k]!) k = i;
  if (!Number.isFinite(corr[k]!)) return undefined;
  return parabolicPeak(corr, k) - maxShift;
}

// ---------------------------------------------------------------------------------------------
// Scoring of candidate reconstructions (host side)
// ---------------------------------------------------------------------------------------------

/**
 * Cost of one candidate reconstruction (its slices [slices, n, n]), over the inscribed circle;
 * lower is better, averaged over the slices:
 * - 'entropy': Shannon entropy (bits) of a 128-bin histogram over the fixed value `range`
 *   (the same range for every candidate). A wrong centre smears each feature into arcs and
 *   spreads the histogram; the right one concentrates it (TomoPy's find_center criterion).
 * - 'negativity': the negative mass Σ max(0, −f) over the absolute mass Σ|f|: the arcs of a
 *   wrong centre come with negative undershoots next to every edge.
 */
export function scoreReconstruction(img: Float32Array, slices: number, n: number, metric: CenterMetric, range?: [number, number]): number {
  const r2 = (n / 2 - 1) ** 2;
  const half = n / 2;
  const bins = 128;
  const [lo, hi] = range ?? [0, 1];
  const scale = bins / (hi - lo);
  let cost = 0;
  for (let z = 0; z < slices; z++) {
    const base = z * n * n;
    const hist = new Float64Array(bins);
    let count = 0;
    let neg = 0;
    let all = 0;
    for (let i = 0; i < n; i++) {
      const y = i + 0.5 - half;
      for (let k = 0; k < n; k++) {
        const x = k + 0.5 - half;
        if (x * x + y * y > r2) continue;
        const v = img[base + i * n + k]!;
        if (metric === 'entropy') {
          const b = Math.min(bins - 1, Math.max(0, Math.floor((v - lo) * scale)));
          hist[b]!++;
          count++;
        } else {
          all += Math.abs(v);
          if (v < 0) neg -= v;
        }
      }
    }
    if (metric === 'entropy') {
      let e = 0;
      for (const h of hist) if (h > 0) e -= (h / count) * Math.log2(h / count);
      cost += e;
    } else {
      cost += all > 0 ? neg / all : 0;
    }
  }
  return cost / slices;
}

/** The value range [0.5 %, 99.5 %] percentiles of an image (for the entropy histogram). */
export function robustRange(img: ArrayLike<number>): [number, number] {
  const sorted = Float32Array.from(img).sort();
  const lo = sorted[Math.floor((sorted.length - 1) * 0.005)]!;
  const hi = sorted[Math.floor((sorted.length - 1) * 0.995)]!;
  return hi > lo ? [lo, hi] : [lo - 1, lo + 1];
}

// ---------------------------------------------------------------------------------------------
// GPU reconstructions at candidate centres
// ---------------------------------------------------------------------------------------------

/** Filtered sinograms of the selected rows, ready for {@link backprojectCandidates}. */
export interface FilteredRows {
  sinograms: Float32Array;
  slices: number;
  angles: number;
  cols: number;
  table: Float32Array;
}

/** Filters the selected rows on the GPU (ramp filter, padded): sinograms [rows, angles, cols]. */
export async function filterRows(ctx: GpuContext, projections: Volume, anglesDeg: ArrayLike<number>, rows: readonly number[]): Promise<FilteredRows> {
  const [A, R, C] = projections.shape;
  const nr = rows.length;
  const sub = new Float32Array(A * nr * C);
  for (let a = 0; a < A; a++) {
    rows.forEach((r, q) => sub.set(projections.data.subarray((a * R + r) * C, (a * R + r + 1) * C), (a * nr + q) * C));
  }
  const sinograms = await filterProjections(ctx, { data: sub, shape: [A, nr, C] }, 'ramp');
  const geometry = makeGeometry(anglesDeg, nr, C);
  return { sinograms, slices: nr, angles: A, cols: C, table: angleTable(geometry) };
}

/**
 * Back-projects the filtered rows at every candidate centre on the GPU (one dispatch per chunk
 * of candidates that fits a storage binding) and scores each on the host.
 */
export async function scoreCandidates(
  ctx: GpuContext,
  f: FilteredRows,
  centers: readonly number[],
  n: number,
  metric: CenterMetric,
  range?: [number, number],
): Promise<{ scores: CenterScore[]; range?: [number, number] }> {
  const perCandidate = f.slices * n * n * 4;
  const maxJ = Math.max(1, Math.floor(Math.min(ctx.maxBinding, 128 * 2 ** 20) / perCandidate));
  const scores: CenterScore[] = [];
  let r = range;
  for (let j0 = 0; j0 < centers.length; j0 += maxJ) {
    const chunk = centers.slice(j0, j0 + maxJ);
    const out = await backprojectSinograms(ctx, f.sinograms, { slices: f.slices, angles: f.angles, cols: f.cols, n }, f.table, chunk);
    const size = f.slices * n * n;
    if (metric === 'entropy' && !r) {
      // one histogram range for every candidate: robust percentiles of the middle candidate of the first chunk
      const mid = chunk.length >> 1;
      r = robustRange(out.subarray(mid * size, (mid + 1) * size));
    }
    for (let j = 0; j < chunk.length; j++) {
      scores.push({ center: chunk[j]!, score: scoreReconstruction(out.subarray(j * size, (j + 1) * size), f.slices, n, metric, r) });
    }
  }
  return { scores, range: r };
}

/** Index of the smallest score. */
function argmin(scores: readonly CenterScore[]): number {
  let k = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]!.score < scores[k]!.score) k = i;
  return k;
}

/** Evenly spaced values lo, lo+step, ... ≤ hi (rounded to 1e-6). */
function grid(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  for (let i = 0; lo + i * step <= hi + 1e-9; i++) out.push(Math.round((lo + i * step) * 1e6) / 1e6);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The search
// ---------------------------------------------------------------------------------------------

/**
 * Finds the rotation centre of normalised (−log) projections [angles, rows, cols], in TomoPy's
 * convention (pixel j spans [j, j+1); the default, uncorrected centre would be cols/2).
 *
 * A coarse estimate from opposed projections (or the centre-of-mass sinusoid when no pair of
 * angles is 180° apart) is refined by reconstructing a few rows with GPU FBP at candidate
 * centres (0.5 px steps over the search range, then 0.1 px steps around the best) and scoring
 * each candidate on the host (histogram entropy by default; see {@link scoreReconstruction}).
 *
 * @param ctx         GPU context (FBP runs there)
 * @param projections normalised projections [angles, rows, cols] (after dark/flat and −log)
 * @param anglesDeg   one angle in degrees per projection
 * @param options     `rows` to score (default: up to 3 rows with the most structure),
 *                    `searchRange` [lo, hi] of centres (default: coarse estimate ± 8 px)
 * @returns the centre, the method used, and every candidate's score
 * @throws InputError for mismatched angles, rows outside the detector, an empty search range
 *   or non-finite data.
 */
export async function findCenter(ctx: GpuContext, projections: Volume, anglesDeg: ArrayLike<number>, options: FindCenterOptions = {}): Promise<CenterResult> {
  const [A, R, C] = projections.shape;
  if (projections.data.length !== A * R * C) throw new InputError(`projection data holds ${projections.data.length} values, not ${A} × ${R} × ${C}`, 'projections');
  if (anglesDeg.length !== A) throw new InputError(`${anglesDeg.length} angles but ${A} projections`, 'centre finding');
  if (A < 2) throw new InputError('centre finding needs at least 2 projections', 'centre finding');
  const rows = options.rows ? [...options.rows] : selectRows(projections, 3);
  for (const r of rows) {
    if (!Number.isInteger(r) || r < 0 || r >= R) throw new InputError(`row ${r} is outside the ${R} detector rows`, 'centre finding');
  }
  if (rows.length === 0) throw new InputError('no rows given for centre finding', 'centre finding');
  for (const r of rows) {
    for (let a = 0; a < A; a++) {
      const base = (a * R + r) * C;
      for (let c = 0; c < C; c++) {
        const v = projections.data[base + c]!;
        if (v - v !== 0) throw new InputError(`the projections contain ${v} at [${a}, ${r}, ${c}]; normalise and clean them before centre finding`, 'centre finding');
      }
    }
  }
  const metric: CenterMetric = 'entropy';
  const n = options.n ?? Math.min(C - (C % 2), 320);
  if (!Number.isInteger(n) || n < 8) throw new InputError(`the scoring size n must be an integer of at least 8, got ${n}`, 'centre finding');

  // 1. coarse estimates on the host
  const profiles = rowProfiles(projections, rows);
  const step = angularStep(anglesDeg);
  const opposed = opposedCenter(profiles, anglesDeg, C, 0.5 * step + 1e-6);
  const com = centerOfMassCenter(profiles, anglesDeg, C);
  const inside = (c: number | undefined): c is number => c !== undefined && Number.isFinite(c) && c > 0 && c < C;
  let coarse: number;
  let how: string;
  if (opposed && inside(opposed.center)) {
    coarse = opposed.center;
    how = `opposed projections (${opposed.pairs} pair${opposed.pairs > 1 ? 's' : ''})`;
  } else if (com && inside(com.center)) {
    coarse = com.center;
    how = 'centre-of-mass fit';
  } else {
    coarse = C / 2;
    how = 'detector middle';
  }

  // 2. refinement: GPU FBP of the rows at candidate centres, scored on the host
  const minC = 0.5;
  const maxC = C - 0.5;
  let lo: number;
  let hi: number;
  const fixed = options.searchRange !== undefined;
  if (fixed) {
    [lo, hi] = options.searchRange!;
    if (!(Number.isFinite(lo) && Number.isFinite(hi)) || hi < lo) throw new InputError(`the centre search range ${lo}:${hi} is empty`, 'centre finding');
  } else {
    lo = coarse - 4;
    hi = coarse + 4;
    const other = opposed && com && inside(com.center) ? com.center : undefined;
    if (other !== undefined && Math.abs(other - coarse) > 2) {
      lo = Math.min(lo, other - 2);
      hi = Math.max(hi, other + 2);
    }
  }
  lo = Math.max(lo, minC);
  hi = Math.min(hi, maxC);
  if (hi < lo) throw new InputError(`the centre search range lies outside the detector (0 .. ${C})`, 'centre finding');
  lo = Math.round(lo * 2) / 2;
  hi = Math.round(hi * 2) / 2;

  const filtered = await filterRows(ctx, projections, anglesDeg, rows);
  const seen = new Map<number, number>();
  let range: [number, number] | undefined;
  const evaluate = async (centers: number[]): Promise<void> => {
    const todo = centers.filter((c) => !seen.has(c));
    if (todo.length === 0) return;
    const r = await scoreCandidates(ctx, filtered, todo, n, metric, range);
    range = r.range;
    for (const s of r.scores) seen.set(s.center, s.score);
  };
  const best = (): number => {
    let bc = NaN;
    let bs = Infinity;
    for (const [c, sc] of seen) if (sc < bs) [bc, bs] = [c, sc];
    return bc;
  };
  // coarse pass every 0.5 px; extend (up to 8 times, 4 px at a time) while the best is at an end
  await evaluate(grid(lo, hi, 0.5));
  for (let ext = 0; ext < 8 && !fixed; ext++) {
    const b = best();
    if (b <= lo && lo > minC) {
      const nlo = Math.max(minC, Math.round((lo - 4) * 2) / 2);
      await evaluate(grid(nlo, lo, 0.5));
      lo = nlo;
    } else if (b >= hi && hi < maxC) {
      const nhi = Math.min(maxC, Math.round((hi + 4) * 2) / 2);
      await evaluate(grid(hi, nhi, 0.5));
      hi = nhi;
    } else break;
  }
  // fine pass every 0.1 px around the best
  const c0 = best();
  await evaluate(grid(c0 - 0.5, c0 + 0.5, 0.1).map((c) => Math.round(c * 10) / 10).filter((c) => c >= minC && c <= maxC));
  const all = [...seen].map(([center, score]) => ({ center, score })).sort((p, q) => p.center - q.center);
  const fine = all.filter((s) => Math.abs(s.center - c0) <= 0.5 + 1e-9);
  const kf = argmin(fine);
  let center = fine[kf]!.center;
  if (kf > 0 && kf < fine.length - 1) center = fine[0]!.center + 0.1 * parabolicMin(fine.map((s) => s.score), kf);
  center = Math.round(center * 100) / 100;
  return { center, method: `${how} + GPU FBP ${metric} over ${all.length} candidate centres`, scores: all, coarse, rows };
}

/** Sub-sample position of the minimum of y near index k (parabola through neighbours). */
function parabolicMin(y: readonly number[], k: number): number {
  return parabolicPeak(y.map((v) => -v), k);
}

/** Median spacing of the sorted angles (degrees), 1 when undefined. */
function angularStep(anglesDeg: ArrayLike<number>): number {
  const s = Array.from(anglesDeg).sort((a, b) => a - b);
  const d: number[] = [];
  for (let i = 1; i < s.length; i++) if (s[i]! > s[i - 1]!) d.push(s[i]! - s[i - 1]!);
  if (d.length === 0) return 1;
  d.sort((a, b) => a - b);
  return d[d.length >> 1]!;
}
