/**
 * Plain single-threaded CPU baselines for the benchmark (bench/run.ts): the same algorithms and
 * the same matrices as the GPU code, written as efficient loops over typed arrays (float32
 * volumes, float64 accumulators, no closures or allocations per voxel). They exist only to be
 * timed against the GPU; the product never runs them.
 *
 * Joseph's projector (src/tomo/projector.ts): for slice s, angle θ, detector pixel j and voxel
 * (i, k), with jf = off + k·cos θ − i·sin θ and m = max(|cos θ|, |sin θ|),
 *
 *     A[(θ, s, j), (s, i, k)] = max(0, 1 − |j − jf| / m) / m,
 *
 * so a voxel meets at most the two pixels j0 = ⌊jf − m⌋ + 1 and j0 + 1. Forward projection
 * scatters each voxel into them, back-projection gathers from them (the exact transpose).
 *
 * Slices are independent in parallel-beam geometry, so every baseline works on a contiguous
 * range of slices `[s0, s1)`: the benchmark times a subset and scales linearly per slice.
 */
import { angleTrig, detectorOffset, type TomoGeometry } from '../src/tomo/geometry.js';
import { angleWeights } from '../src/tomo/fbp.js';
import { filterResponse, paddedLength, parseFilterName } from '../src/tomo/filters.js';
import FFT from 'fft.js';

/** Per-angle projector constants as flat arrays (float64). */
interface AngleArrays {
  cos: Float64Array;
  sin: Float64Array;
  m: Float64Array;
  invm: Float64Array;
  off: Float64Array;
}

function angleArrays(geometry: TomoGeometry): AngleArrays {
  const { cos, sin } = angleTrig(geometry);
  const na = cos.length;
  const m = new Float64Array(na);
  const invm = new Float64Array(na);
  const off = new Float64Array(na);
  for (let a = 0; a < na; a++) {
    m[a] = Math.max(Math.abs(cos[a]), Math.abs(sin[a]));
    invm[a] = 1 / m[a];
    off[a] = detectorOffset(geometry, cos[a], sin[a]);
  }
  return { cos, sin, m, invm, off };
}

/**
 * Row weights of the projector per (angle, pixel), `[angles, cols]`: Σ_voxels w ('sum') or Σ w²
 * ('norm2'). They do not depend on the slice.
 */
export function cpuRowWeights(geometry: TomoGeometry, kind: 'sum' | 'norm2'): Float64Array {
  const { cols, n } = geometry;
  const g = angleArrays(geometry);
  const na = g.cos.length;
  const out = new Float64Array(na * cols);
  const square = kind === 'norm2';
  for (let a = 0; a < na; a++) {
    const c = g.cos[a];
    const s = g.sin[a];
    const m = g.m[a];
    const invm = g.invm[a];
    const o = a * cols;
    for (let i = 0; i < n; i++) {
      const base = g.off[a] - i * s;
      for (let k = 0; k < n; k++) {
        const jf = base + k * c;
        const j0 = Math.floor(jf - m) + 1;
        for (let j = j0; j <= j0 + 1; j++) {
          if (j < 0 || j >= cols) continue;
          const t = 1 - Math.abs(j - jf) * invm;
          if (t <= 0) continue;
          const w = t * invm;
          out[o + j] += square ? w * w : w;
        }
      }
    }
  }
  return out;
}

/** Column sums Σ_angles Σ_pixels w per voxel of one slice `[n, n]` (the same for every slice). */
export function cpuColumnSums(geometry: TomoGeometry): Float64Array {
  const { cols, n } = geometry;
  const g = angleArrays(geometry);
  const out = new Float64Array(n * n);
  for (let a = 0; a < g.cos.length; a++) {
    const c = g.cos[a];
    const s = g.sin[a];
    const m = g.m[a];
    const invm = g.invm[a];
    for (let i = 0; i < n; i++) {
      const base = g.off[a] - i * s;
      for (let k = 0; k < n; k++) {
        const jf = base + k * c;
        const j0 = Math.floor(jf - m) + 1;
        let acc = 0;
        for (let j = j0; j <= j0 + 1; j++) {
          if (j < 0 || j >= cols) continue;
          const t = 1 - Math.abs(j - jf) * invm;
          if (t > 0) acc += t * invm;
        }
        out[i * n + k] += acc;
      }
    }
  }
  return out;
}

/** Forward projection of one slice `x` `[n, n]` at angle `a` into `q` `[cols]` (overwritten). */
function projectSliceAngle(x: Float32Array, xo: number, g: AngleArrays, a: number, n: number, cols: number, q: Float64Array): void {
  q.fill(0);
  const c = g.cos[a];
  const s = g.sin[a];
  const m = g.m[a];
  const invm = g.invm[a];
  for (let i = 0; i < n; i++) {
    const base = g.off[a] - i * s;
    const row = xo + i * n;
    for (let k = 0; k < n; k++) {
      const v = x[row + k];
      const jf = base + k * c;
      const j0 = Math.floor(jf - m) + 1;
      if (j0 >= 0 && j0 < cols) {
        const t = 1 - Math.abs(j0 - jf) * invm;
        if (t > 0) q[j0] += t * invm * v;
      }
      const j1 = j0 + 1;
      if (j1 >= 0 && j1 < cols) {
        const t = 1 - Math.abs(j1 - jf) * invm;
        if (t > 0) q[j1] += t * invm * v;
      }
    }
  }
}

/** Back-projection of `r` `[cols]` at angle `a`, added to slice `acc` `[n, n]` (float64). */
function backprojectSliceAngle(acc: Float64Array, g: AngleArrays, a: number, n: number, cols: number, r: Float64Array): void {
  const c = g.cos[a];
  const s = g.sin[a];
  const m = g.m[a];
  const invm = g.invm[a];
  for (let i = 0; i < n; i++) {
    const base = g.off[a] - i * s;
    const row = i * n;
    for (let k = 0; k < n; k++) {
      const jf = base + k * c;
      const j0 = Math.floor(jf - m) + 1;
      let sum = 0;
      if (j0 >= 0 && j0 < cols) {
        const t = 1 - Math.abs(j0 - jf) * invm;
        if (t > 0) sum += t * r[j0];
      }
      const j1 = j0 + 1;
      if (j1 >= 0 && j1 < cols) {
        const t = 1 - Math.abs(j1 - jf) * invm;
        if (t > 0) sum += t * r[j1];
      }
      acc[row + k] += sum * invm;
    }
  }
}

/** Options of the CPU iterative baselines. */
export interface CpuIterativeOptions {
  iterations: number;
  /** Relaxation β (ART) or λ (SIRT); default 1. */
  relaxation?: number;
  /** Clamp at zero after every update. */
  nonNegative?: boolean;
  /** First slice (inclusive); default 0. */
  s0?: number;
  /** Last slice (exclusive); default all rows. */
  s1?: number;
}

/** Result of a CPU baseline on slices `[s0, s1)`. */
export interface CpuResult {
  /** The reconstructed slices `[s1 − s0, n, n]`. */
  volume: Float32Array;
  s0: number;
  s1: number;
  /** Wall-clock seconds of the set-up (row/column weights, filter), not scaled per slice. */
  setupSeconds: number;
  /** Wall-clock seconds of the reconstruction loops over the slices. */
  seconds: number;
}

function sliceRange(geometry: TomoGeometry, s0?: number, s1?: number): [number, number] {
  const a = s0 ?? 0;
  const b = s1 ?? geometry.rows;
  if (!(Number.isInteger(a) && Number.isInteger(b) && 0 <= a && a < b && b <= geometry.rows)) throw new Error(`bad slice range [${a}, ${b}) for ${geometry.rows} rows`);
  return [a, b];
}

/** `scale / w` for every positive weight w, 0 where w is 0 (rays or voxels the projector misses). */
function reciprocals(weights: ArrayLike<number>, scale: number): Float64Array {
  const out = new Float64Array(weights.length);
  for (let i = 0; i < weights.length; i++) out[i] = weights[i] > 0 ? scale / weights[i] : 0;
  return out;
}

/**
 * ART (Kaczmarz, one angle per block, sequential order) on slices `[s0, s1)`:
 * per angle, r = β (b − A_θ x) / ‖row‖², x ← x + A_θᵀ r, then x ← max(x, 0) when non-negative.
 * `data` is the whole projection stack `[angles, rows, cols]`.
 */
export function cpuArt(data: Float32Array, geometry: TomoGeometry, options: CpuIterativeOptions): CpuResult {
  const { rows, cols, n } = geometry;
  const [s0, s1] = sliceRange(geometry, options.s0, options.s1);
  const relax = options.relaxation ?? 1;
  const clamp = options.nonNegative === true;
  const t0 = performance.now();
  const g = angleArrays(geometry);
  const na = g.cos.length;
  const norm2 = cpuRowWeights(geometry, 'norm2');
  const scale = reciprocals(norm2, relax);
  const setupSeconds = (performance.now() - t0) / 1000;

  const t1 = performance.now();
  const vol = new Float32Array((s1 - s0) * n * n);
  const q = new Float64Array(cols);
  const acc = new Float64Array(n * n);
  for (let s = s0; s < s1; s++) {
    const xo = (s - s0) * n * n;
    for (let it = 0; it < options.iterations; it++) {
      for (let a = 0; a < na; a++) {
        projectSliceAngle(vol, xo, g, a, n, cols, q);
        const b = (a * rows + s) * cols;
        const w = a * cols;
        for (let j = 0; j < cols; j++) q[j] = (data[b + j] - q[j]) * scale[w + j];
        acc.fill(0);
        backprojectSliceAngle(acc, g, a, n, cols, q);
        for (let v = 0; v < n * n; v++) {
          let x = vol[xo + v] + acc[v];
          if (clamp && x < 0) x = 0;
          vol[xo + v] = x;
        }
      }
    }
  }
  return { volume: vol, s0, s1, setupSeconds, seconds: (performance.now() - t1) / 1000 };
}

/**
 * SIRT on slices `[s0, s1)`: x ← x + λ C Aᵀ R (b − A x), R = 1/row sums, C = 1/column sums, then
 * x ← max(x, 0) when non-negative.
 */
export function cpuSirt(data: Float32Array, geometry: TomoGeometry, options: CpuIterativeOptions): CpuResult {
  const { rows, cols, n } = geometry;
  const [s0, s1] = sliceRange(geometry, options.s0, options.s1);
  const relax = options.relaxation ?? 1;
  const clamp = options.nonNegative === true;
  const t0 = performance.now();
  const g = angleArrays(geometry);
  const na = g.cos.length;
  const rowsum = cpuRowWeights(geometry, 'sum');
  const rscale = reciprocals(rowsum, relax);
  const colsum = cpuColumnSums(geometry);
  const cscale = reciprocals(colsum, 1);
  const setupSeconds = (performance.now() - t0) / 1000;

  const t1 = performance.now();
  const vol = new Float32Array((s1 - s0) * n * n);
  const q = new Float64Array(na * cols);
  const qa = new Float64Array(cols);
  const acc = new Float64Array(n * n);
  for (let s = s0; s < s1; s++) {
    const xo = (s - s0) * n * n;
    for (let it = 0; it < options.iterations; it++) {
      for (let a = 0; a < na; a++) {
        projectSliceAngle(vol, xo, g, a, n, cols, qa);
        const b = (a * rows + s) * cols;
        const w = a * cols;
        for (let j = 0; j < cols; j++) q[w + j] = (data[b + j] - qa[j]) * rscale[w + j];
      }
      acc.fill(0);
      for (let a = 0; a < na; a++) backprojectSliceAngle(acc, g, a, n, cols, q.subarray(a * cols, (a + 1) * cols));
      for (let v = 0; v < n * n; v++) {
        let x = vol[xo + v] + acc[v] * cscale[v];
        if (clamp && x < 0) x = 0;
        vol[xo + v] = x;
      }
    }
  }
  return { volume: vol, s0, s1, setupSeconds, seconds: (performance.now() - t1) / 1000 };
}

/**
 * FBP on slices `[s0, s1)`, the same algorithm as src/tomo/fbp.ts: each detector row zero-padded
 * to P (filters.ts `paddedLength`), filtered by the filter's frequency response with a float64
 * FFT (fft.js), then a voxel-driven back-projection with linear interpolation on the detector,
 * each angle weighted by its Δθ (fbp.ts `angleWeights`).
 */
export function cpuFbp(data: Float32Array, geometry: TomoGeometry, options: { filter?: string; s0?: number; s1?: number } = {}): CpuResult {
  const { rows, cols, n, center } = geometry;
  const [s0, s1] = sliceRange(geometry, options.s0, options.s1);
  const t0 = performance.now();
  const { cos, sin } = angleTrig(geometry);
  const na = cos.length;
  const weights = angleWeights(geometry.anglesDeg);
  const P = paddedLength(cols, 'auto');
  const H = filterResponse(parseFilterName(options.filter ?? 'ramp'), P);
  const fft = new FFT(P);
  const input = fft.createComplexArray() as number[];
  const spec = fft.createComplexArray() as number[];
  const back = fft.createComplexArray() as number[];
  const setupSeconds = (performance.now() - t0) / 1000;

  const t1 = performance.now();
  const vol = new Float32Array((s1 - s0) * n * n);
  const sino = new Float64Array(na * cols);
  const half = n / 2;
  const base = center - 0.5;
  for (let s = s0; s < s1; s++) {
    // filter the slice's sinogram rows
    for (let a = 0; a < na; a++) {
      input.fill(0);
      const b = (a * rows + s) * cols;
      for (let j = 0; j < cols; j++) input[2 * j] = data[b + j];
      fft.transform(spec, input);
      for (let k = 0; k < P; k++) {
        spec[2 * k] *= H[k];
        spec[2 * k + 1] *= H[k];
      }
      fft.inverseTransform(back, spec);
      for (let j = 0; j < cols; j++) sino[a * cols + j] = back[2 * j];
    }
    // back-project every angle into each voxel
    const xo = (s - s0) * n * n;
    for (let i = 0; i < n; i++) {
      const y = half - 0.5 - i;
      for (let k = 0; k < n; k++) {
        const x = k + 0.5 - half;
        let sum = 0;
        for (let a = 0; a < na; a++) {
          const jf = base + x * cos[a] + y * sin[a];
          if (!(jf > -1 && jf < cols)) continue;
          const j0 = Math.floor(jf);
          const f = jf - j0;
          const o = a * cols;
          const v0 = j0 >= 0 ? sino[o + j0] : 0;
          const v1 = j0 + 1 < cols ? sino[o + j0 + 1] : 0;
          sum += weights[a] * (v0 + f * (v1 - v0));
        }
        vol[xo + i * n + k] = sum;
      }
    }
  }
  return { volume: vol, s0, s1, setupSeconds, seconds: (performance.now() - t1) / 1000 };
}
