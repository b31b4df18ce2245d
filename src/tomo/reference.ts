/**
 * CPU float64 references of the tomography kernels: the projector pair, its row weights, the
 * ART/SART/SIRT updates and the analytic ellipsoid projections. Used by the tests (against fresh
 * random inputs) and by the benchmark as the CPU baseline. Plain loops, written from the matrix
 * definition (projector.ts), not from the GPU kernels' ray stepping.
 */
import { angleTrig, detectorOffset, pixelU, type TomoGeometry } from './geometry.js';
import type { Ellipsoid } from './phantom.js';
import { ellipsoidFrame } from './phantom.js';

/** Calls `visit(j, w)` for the (at most two) detector pixels voxel (i, k) meets at one angle. */
function voxelBins(jf: number, m: number, cols: number, visit: (j: number, w: number) => void): void {
  const j0 = Math.floor(jf - m) + 1;
  for (let j = j0; j <= j0 + 1; j++) {
    if (j < 0 || j >= cols) continue;
    const w = Math.max(0, 1 - Math.abs(j - jf) / m) / m;
    if (w > 0) visit(j, w);
  }
}

interface AngleConsts {
  c: number;
  s: number;
  m: number;
  off: number;
}

function angleConsts(geometry: TomoGeometry): AngleConsts[] {
  const { cos, sin } = angleTrig(geometry);
  return Array.from(cos, (c, a) => ({ c, s: sin[a], m: Math.max(Math.abs(c), Math.abs(sin[a])), off: detectorOffset(geometry, c, sin[a]) }));
}

function allAngles(geometry: TomoGeometry): number[] {
  return Array.from({ length: geometry.anglesDeg.length }, (_, i) => i);
}

/**
 * Forward projection `[angles.length, rows, cols]` of a volume `[rows, n, n]`, in float64, by the
 * matrix definition (each voxel scatters into its pixels).
 */
export function projectRef(volume: ArrayLike<number>, geometry: TomoGeometry, angles: ArrayLike<number> = allAngles(geometry)): Float64Array {
  const { rows, cols, n } = geometry;
  const consts = angleConsts(geometry);
  const out = new Float64Array(angles.length * rows * cols);
  for (let t = 0; t < angles.length; t++) {
    const g = consts[angles[t]];
    for (let s = 0; s < rows; s++) {
      const row = (t * rows + s) * cols;
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < n; k++) {
          const v = volume[(s * n + i) * n + k];
          if (v === 0) continue;
          voxelBins(g.off + k * g.c - i * g.s, g.m, cols, (j, w) => {
            out[row + j] += w * v;
          });
        }
      }
    }
  }
  return out;
}

/** Back-projection `[rows, n, n]` of projections `[angles.length, rows, cols]` (the transpose of {@link projectRef}). */
export function backProjectRef(projections: ArrayLike<number>, geometry: TomoGeometry, angles: ArrayLike<number> = allAngles(geometry)): Float64Array {
  const { rows, cols, n } = geometry;
  const consts = angleConsts(geometry);
  const out = new Float64Array(rows * n * n);
  for (let t = 0; t < angles.length; t++) {
    const g = consts[angles[t]];
    for (let s = 0; s < rows; s++) {
      const row = (t * rows + s) * cols;
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < n; k++) {
          let acc = 0;
          voxelBins(g.off + k * g.c - i * g.s, g.m, cols, (j, w) => {
            acc += w * projections[row + j];
          });
          out[(s * n + i) * n + k] += acc;
        }
      }
    }
  }
  return out;
}

/** Row sums (`'sum'`) or squared row norms (`'norm2'`) of the projector, `[angles, cols]`. */
export function rowWeightsRef(geometry: TomoGeometry, kind: 'sum' | 'norm2'): Float64Array {
  const { cols, n } = geometry;
  const consts = angleConsts(geometry);
  const out = new Float64Array(consts.length * cols);
  consts.forEach((g, a) => {
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) {
        voxelBins(g.off + k * g.c - i * g.s, g.m, cols, (j, w) => {
          out[a * cols + j] += kind === 'sum' ? w : w * w;
        });
      }
    }
  });
  return out;
}

/** Options of the reference iterative solvers (the same meaning as in the GPU algorithms). */
export interface ReferenceIterativeOptions {
  iterations: number;
  relaxation: number;
  /** Blocks of angle indices, in the order they are applied within one iteration (per iteration when a function). */
  blocks: number[][] | ((iteration: number) => number[][]);
  /** 'norm2': rows scaled by 1/‖row‖² and no column normalisation (ART); 'sum': 1/row sum and 1/column sum (SART, SIRT). */
  normalisation: 'norm2' | 'sum';
  nonNegative?: boolean;
  initial?: ArrayLike<number>;
}

/** Result of a reference solver: the volume and the per-iteration residual ‖b − Ax‖/‖b‖ (each ray evaluated just before its block's update). */
export interface ReferenceIterativeResult {
  volume: Float64Array;
  residuals: number[];
}

/**
 * Block-iterative solver in float64, the reference for ART (blocks of one angle, 'norm2'), SART
 * (blocks, 'sum') and SIRT (one block of all angles, 'sum'). Per block B:
 * r = b_B − A_B x; x ← x + Aᵀ_B (β r / ‖row‖²) (ART) or x ← x + (Aᵀ_B (λ r / rowsum)) / colsum_B
 * (SART/SIRT); then x ← max(x, 0) when non-negative.
 */
export function blockIterativeRef(data: ArrayLike<number>, geometry: TomoGeometry, options: ReferenceIterativeOptions): ReferenceIterativeResult {
  const { rows, cols, n } = geometry;
  const consts = angleConsts(geometry);
  const weights = rowWeightsRef(geometry, options.normalisation);
  const rowscale = weights.map((w) => (w > 0 ? 1 / w : 0));
  const x = options.initial ? Float64Array.from(options.initial) : new Float64Array(rows * n * n);
  let bss = 0;
  for (let i = 0; i < data.length; i++) bss += data[i] * data[i];
  const residuals: number[] = [];
  for (let it = 0; it < options.iterations; it++) {
    const blocks = typeof options.blocks === 'function' ? options.blocks(it) : options.blocks;
    let rss = 0;
    for (const block of blocks) {
      const q = projectRef(x, geometry, block);
      for (let t = 0; t < block.length; t++) {
        const a = block[t];
        for (let s = 0; s < rows; s++) {
          for (let j = 0; j < cols; j++) {
            const o = (t * rows + s) * cols + j;
            const r = data[(a * rows + s) * cols + j] - q[o];
            rss += r * r;
            q[o] = options.relaxation * r * rowscale[a * cols + j];
          }
        }
      }
      for (let s = 0; s < rows; s++) {
        for (let i = 0; i < n; i++) {
          for (let k = 0; k < n; k++) {
            let acc = 0;
            let wsum = 0;
            for (let t = 0; t < block.length; t++) {
              const g = consts[block[t]];
              const row = (t * rows + s) * cols;
              voxelBins(g.off + k * g.c - i * g.s, g.m, cols, (j, w) => {
                acc += w * q[row + j];
                wsum += w;
              });
            }
            const delta = options.normalisation === 'sum' ? (wsum > 0 ? acc / wsum : 0) : acc;
            const o = (s * n + i) * n + k;
            x[o] += delta;
            if (options.nonNegative && x[o] < 0) x[o] = 0;
          }
        }
      }
    }
    residuals.push(Math.sqrt(rss / (bss || 1)));
  }
  return { volume: x, residuals };
}

/** Reference ART: Kaczmarz sweeps, one angle per block, in `order` (default 0, 1, 2, ...). */
export function artRef(data: ArrayLike<number>, geometry: TomoGeometry, options: { iterations: number; relaxation?: number; nonNegative?: boolean; initial?: ArrayLike<number>; order?: (iteration: number) => number[] }): ReferenceIterativeResult {
  const order = options.order ?? (() => allAngles(geometry));
  return blockIterativeRef(data, geometry, { ...options, relaxation: options.relaxation ?? 1, normalisation: 'norm2', blocks: (it) => order(it).map((a) => [a]) });
}

/** Reference SIRT: x ← x + λ C Aᵀ R (b − A x) with R = 1/row sums, C = 1/column sums. */
export function sirtRef(data: ArrayLike<number>, geometry: TomoGeometry, options: { iterations: number; relaxation?: number; nonNegative?: boolean; initial?: ArrayLike<number> }): ReferenceIterativeResult {
  return blockIterativeRef(data, geometry, { ...options, relaxation: options.relaxation ?? 1, normalisation: 'sum', blocks: [allAngles(geometry)] });
}

/**
 * Analytic line integrals of a set of ellipsoids (phantom.ts) through the centres of the detector
 * pixels, `[angles, rows, cols]`, in float64; `supersample` k averages k×k rays per pixel.
 */
export function ellipsoidProjectionsRef(ellipsoids: readonly Ellipsoid[], geometry: TomoGeometry, supersample = 1): Float64Array {
  const { rows, cols, n } = geometry;
  const { cos, sin } = angleTrig(geometry);
  const frames = ellipsoids.map((e) => ellipsoidFrame(e, n, rows));
  const out = new Float64Array(cos.length * rows * cols);
  const ss = supersample;
  for (let a = 0; a < cos.length; a++) {
    const c = cos[a];
    const s = sin[a];
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) {
        let total = 0;
        for (let sr = 0; sr < ss; sr++) {
          const z = rows / 2 - 0.5 - r + 0.5 - (sr + 0.5) / ss;
          for (let sj = 0; sj < ss; sj++) {
            const u = pixelU(geometry, j) - 0.5 + (sj + 0.5) / ss;
            // ray: p(t) = (u c, u s, z) + t (s, −c, 0), t in voxel units
            const p0 = [u * c, u * s, z];
            const d = [s, -c, 0];
            for (const f of frames) {
              let qq = 0;
              let qv = 0;
              let vv = 0;
              for (let row = 0; row < 3; row++) {
                let q = 0;
                let v = 0;
                for (let col = 0; col < 3; col++) {
                  q += f.m[row * 3 + col] * (p0[col] - f.centre[col]);
                  v += f.m[row * 3 + col] * d[col];
                }
                qq += q * q;
                qv += q * v;
                vv += v * v;
              }
              const disc = qv * qv - vv * (qq - 1);
              if (disc > 0) total += (f.value * 2 * Math.sqrt(disc)) / vv;
            }
          }
        }
        out[(a * rows + r) * cols + j] = total / (ss * ss);
      }
    }
  }
  return out;
}
