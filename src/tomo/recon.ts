/**
 * One call from a projection stack to a volume: preprocessing (dark/flat, −log) → geometry
 * (angles, centre, size) → the chosen algorithm. The CLI, the demo and the benchmark all go
 * through here.
 */
import { InputError } from '../core/errors.js';
import type { RealArray, Volume } from '../core/array.js';
import { secondsSince, type ProgressCallback } from '../core/progress.js';
import type { GpuContext } from '../gpu/context.js';
import type { KernelTimes } from '../gpu/timing.js';
import { makeGeometry, type TomoGeometry } from './geometry.js';
import { preprocessProjections } from './preprocess.js';
import { reconstructFbp } from './fbp.js';
import type { FilterName, FilterPadding } from './filters.js';
import { ITERATIVE_ALGORITHMS, reconstructIterative, type IterativeAlgorithm, type IterativeOptions } from './iterative.js';
import { findCenter } from './center.js';
import { copyRowsOut } from './slabs.js';

/** Every reconstruction algorithm of `reconstructTomo`. */
export const TOMO_ALGORITHMS = [...ITERATIVE_ALGORITHMS, 'fbp'] as const;
export type TomoAlgorithm = IterativeAlgorithm | 'fbp';

/**
 * Options of {@link reconstructTomo}; the iterative algorithms' own options (iterations,
 * relaxation, order, seed, blockSize, nonNegative, initial) mean what they mean in
 * {@link IterativeOptions}.
 */
export interface TomoReconOptions extends Pick<IterativeOptions, 'iterations' | 'relaxation' | 'order' | 'seed' | 'blockSize' | 'nonNegative' | 'initial'> {
  /** 'art', 'sart', 'sirt' or 'fbp'. */
  algorithm: TomoAlgorithm;
  /** Projection angles in degrees, one per projection (TomoPy's direction; see geometry.ts). */
  anglesDeg: ArrayLike<number>;
  /** Rotation-axis column (TomoPy's `center`), or 'auto' to find it; default the detector middle. */
  center?: number | 'auto';
  /** Slice size n of the `[rows, n, n]` volume; default the number of detector columns. */
  size?: number;
  /** Flat (white) field, one frame or a stack. */
  flat?: RealArray;
  /** Dark field, one frame or a stack. */
  dark?: RealArray;
  /** Take −log of the transmission; default true when a flat field is given, false otherwise (data already line integrals). */
  log?: boolean;
  /** FBP filter; default 'ramp'. */
  filter?: FilterName | string;
  /** FBP zero padding; default 'auto'. */
  padding?: FilterPadding;
  /** Progress events of every stage. */
  onProgress?: ProgressCallback;
  /** Name of the input, for error messages. */
  source?: string;
}

/** Result of {@link reconstructTomo}. */
export interface TomoReconResult {
  /** The volume `[rows, n, n]` (attenuation per voxel length). */
  volume: Volume;
  /** The geometry used (with the centre found, when 'auto'). */
  geometry: TomoGeometry;
  /** Per-iteration residual of the iterative algorithms. */
  residuals: number[];
  /** Wall-clock seconds per stage: preprocess, center, reconstruct. */
  timings: Record<string, number>;
  /** GPU kernel seconds when timestamps are available. */
  kernels: KernelTimes;
  /** How the centre was chosen. */
  centerMethod: 'given' | 'default' | string;
}

/**
 * Reconstructs a projection stack `[angles, rows, cols]`. Raw data with flat (and dark) fields
 * is normalised and −log'ed on the GPU first; `center: 'auto'` searches the rotation axis on the
 * preprocessed data. With several devices, the reconstruction's rows are split across them
 * (preprocessing and the centre search run on the first); the volume is the same as on one.
 */
export async function reconstructTomo(devices: GpuContext | readonly GpuContext[], projections: Volume, options: TomoReconOptions): Promise<TomoReconResult> {
  const pool = Array.isArray(devices) ? [...(devices as readonly GpuContext[])] : [devices as GpuContext];
  if (pool.length === 0) throw new InputError('no GPU device given');
  const ctx = pool[0];
  const timings: Record<string, number> = {};
  const [na, rows, cols] = projections.shape;
  if (!(TOMO_ALGORITHMS as readonly string[]).includes(options.algorithm)) {
    throw new InputError(`unknown algorithm '${options.algorithm}' (known: ${TOMO_ALGORITHMS.join(', ')})`, '--algorithm');
  }
  if (options.anglesDeg.length !== na) {
    throw new InputError(`${options.anglesDeg.length} angles but ${na} projections`, options.source);
  }
  const log = options.log ?? options.flat !== undefined;
  let data = projections;
  if (options.flat || options.dark || log) {
    const t = performance.now();
    data = (await preprocessProjections(ctx, projections, { flat: options.flat, dark: options.dark, log, source: options.source, onProgress: options.onProgress })).volume;
    timings.preprocess = secondsSince(t);
  }
  let center: number | undefined;
  let centerMethod = 'default';
  if (options.center === 'auto') {
    const t = performance.now();
    const found = await findCenter(ctx, data, options.anglesDeg);
    center = found.center;
    centerMethod = found.method;
    timings.center = secondsSince(t);
    options.onProgress?.({ stage: 'center', seconds: timings.center, metrics: { center } });
  } else if (options.center !== undefined) {
    center = options.center;
    centerMethod = 'given';
  }
  const geometry = makeGeometry(options.anglesDeg, rows, cols, { center, n: options.size }, options.source);
  const t = performance.now();
  let volume: Volume;
  let residuals: number[] = [];
  let kernels: KernelTimes;
  if (options.algorithm === 'fbp') {
    const r = await fbpOnDevices(pool, data, geometry, options);
    volume = r.volume;
    kernels = r.kernels;
  } else {
    const r = await reconstructIterative(pool, data, geometry, options.algorithm, {
      iterations: options.iterations,
      relaxation: options.relaxation,
      order: options.order,
      seed: options.seed,
      blockSize: options.blockSize,
      nonNegative: options.nonNegative,
      initial: options.initial,
      onProgress: options.onProgress,
    });
    volume = r.volume;
    residuals = r.residuals;
    kernels = r.kernels;
  }
  timings.reconstruct = secondsSince(t);
  return { volume, geometry, residuals, timings, kernels, centerMethod };
}

/** FBP with the rows split evenly across devices, each device running its part independently. */
async function fbpOnDevices(pool: GpuContext[], data: Volume, geometry: TomoGeometry, options: TomoReconOptions): Promise<{ volume: Volume; kernels: KernelTimes }> {
  const fbpOptions = { filter: options.filter, padding: options.padding, onProgress: options.onProgress };
  if (pool.length === 1) return reconstructFbp(pool[0], data, geometry, fbpOptions);
  const { rows, cols, n } = geometry;
  const na = geometry.anglesDeg.length;
  const parts = Math.min(pool.length, rows);
  const out = new Float32Array(rows * n * n);
  const kernels: KernelTimes = {};
  await Promise.all(
    Array.from({ length: parts }, async (_, d) => {
      const r0 = Math.floor((d * rows) / parts);
      const r1 = Math.floor(((d + 1) * rows) / parts);
      const sub: Volume = { data: copyRowsOut(data.data, na, rows, cols, r0, r1), shape: [na, r1 - r0, cols] };
      const g = makeGeometry(geometry.anglesDeg, r1 - r0, cols, { center: geometry.center, n });
      const r = await reconstructFbp(pool[d], sub, g, fbpOptions);
      out.set(r.volume.data, r0 * n * n);
      for (const [k, v] of Object.entries(r.kernels)) {
        const t = (kernels[k] ??= { count: 0, seconds: 0 });
        t.count += v.count;
        t.seconds += v.seconds;
      }
    }),
  );
  return { volume: { data: out, shape: [rows, n, n] }, kernels };
}
