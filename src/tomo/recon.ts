/**
 * One call from a projection stack to a volume: preprocessing (dark/flat, −log) → geometry
 * (angles, centre, size) → the chosen algorithm. The CLI, the demo and the benchmark all go
 * through here.
 */
import { InputError } from '../core/errors.js';
import type { RealArray, Volume } from '../core/array.js';
import { secondsSince, type ProgressCallback } from '../core/progress.js';
import { GpuError } from '../core/errors.js';
import { GpuContext } from '../gpu/context.js';
import type { PoolDevice } from '../gpu/pool.js';
import { WorkerDevice } from '../gpu/worker/device.js';
import { fbpOnWorker, findCenterOnWorker, preprocessOnWorker, workerFailed } from '../gpu/worker/tomo-client.js';
import type { KernelTimes } from '../gpu/timing.js';
import { makeGeometry, type TomoGeometry } from './geometry.js';
import { preprocessProjections, type PreprocessOptions } from './preprocess.js';
import { reconstructFbp } from './fbp.js';
import type { FilterName, FilterPadding } from './filters.js';
import { ITERATIVE_ALGORITHMS, reconstructIterative, type IterativeAlgorithm, type IterativeOptions } from './iterative.js';
import { findCenter, type CenterResult } from './center.js';
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
 * preprocessed data. With several devices (in this process or worker processes, see
 * acquireDevices), the reconstruction's rows are split across them (preprocessing and the centre
 * search run on the first in-process device, or on the first device when all are workers); the
 * volume is the same as on one.
 */
export async function reconstructTomo(devices: PoolDevice | readonly PoolDevice[], projections: Volume, options: TomoReconOptions): Promise<TomoReconResult> {
  const pool = Array.isArray(devices) ? [...(devices as readonly PoolDevice[])] : [devices as PoolDevice];
  if (pool.length === 0) throw new InputError('no GPU device given');
  const ctx = primaryDevice(pool);
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
    data = await preprocessOn(ctx, projections, { flat: options.flat, dark: options.dark, log, source: options.source, onProgress: options.onProgress });
    timings.preprocess = secondsSince(t);
  }
  let center: number | undefined;
  let centerMethod = 'default';
  if (options.center === 'auto') {
    const t = performance.now();
    const found = await findCenterOn(ctx, data, options.anglesDeg);
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

/** The device for the single-device stages (preprocessing, centre search): the first in-process one, else the first. */
export function primaryDevice(pool: readonly PoolDevice[]): PoolDevice {
  return pool.find((d) => d instanceof GpuContext) ?? pool[0];
}

/** Dark/flat normalisation and −log (preprocessProjections) on any pool device; returns the preprocessed stack. */
export async function preprocessOn(device: PoolDevice, projections: Volume, options: Pick<PreprocessOptions, 'flat' | 'dark' | 'log' | 'source' | 'onProgress'>): Promise<Volume> {
  if (device instanceof WorkerDevice) return preprocessOnWorker(device, projections, options);
  return (await preprocessProjections(device, projections, options)).volume;
}

/** The rotation-centre search (findCenter) on any pool device. */
export async function findCenterOn(device: PoolDevice, projections: Volume, anglesDeg: ArrayLike<number>): Promise<Pick<CenterResult, 'center' | 'method' | 'rows'>> {
  if (device instanceof WorkerDevice) return findCenterOnWorker(device, projections, anglesDeg);
  return findCenter(device, projections, anglesDeg);
}

/**
 * FBP with the rows split evenly across devices, each device running its part independently (a
 * worker process gets only its rows). A part whose device fails (device lost, out of memory, its
 * worker process gone) is redone on a remaining device; slices are independent, so the volume is
 * the same.
 */
async function fbpOnDevices(pool: PoolDevice[], data: Volume, geometry: TomoGeometry, options: TomoReconOptions): Promise<{ volume: Volume; kernels: KernelTimes }> {
  const fbpOptions = { filter: options.filter, padding: options.padding, onProgress: options.onProgress };
  if (pool.length === 1 && pool[0] instanceof GpuContext) return reconstructFbp(pool[0], data, geometry, fbpOptions);
  const { rows, cols, n } = geometry;
  const na = geometry.anglesDeg.length;
  const parts = Math.min(pool.length, rows);
  const out = new Float32Array(rows * n * n);
  const kernels: KernelTimes = {};
  const queue = Array.from({ length: parts }, (_, d): [number, number] => [Math.floor((d * rows) / parts), Math.floor(((d + 1) * rows) / parts)]);
  const alive = new Set(pool);
  let done = 0;
  let lastFailure: unknown;
  const runDevice = async (device: PoolDevice): Promise<void> => {
    while (queue.length > 0 && alive.has(device)) {
      const [r0, r1] = queue.shift()!;
      const sub: Volume = { data: copyRowsOut(data.data, na, rows, cols, r0, r1), shape: [na, r1 - r0, cols] };
      const g = makeGeometry(geometry.anglesDeg, r1 - r0, cols, { center: geometry.center, n });
      try {
        const r = device instanceof WorkerDevice ? await fbpOnWorker(device, sub, g, fbpOptions) : await reconstructFbp(device, sub, g, fbpOptions);
        out.set(r.volume.data, r0 * n * n);
        for (const [k, v] of Object.entries(r.kernels)) {
          const t = (kernels[k] ??= { count: 0, seconds: 0 });
          t.count += v.count;
          t.seconds += v.seconds;
        }
        done++;
      } catch (err) {
        const lost = device instanceof WorkerDevice ? await workerFailed(device, err) : await contextFailed(device, err);
        if (alive.size <= 1 || !lost) throw err;
        alive.delete(device);
        lastFailure = err;
        queue.unshift([r0, r1]);
      }
    }
  };
  // Parts beyond the first `parts` devices never start; a device that frees up takes a retried part.
  await Promise.all(pool.slice(0, Math.max(parts, 1)).map(runDevice));
  while (queue.length > 0 && alive.size > 0) await Promise.all([...alive].map(runDevice));
  if (done !== parts) {
    throw new GpuError('device-lost', `every GPU device failed before FBP finished (last error: ${(lastFailure as Error)?.message ?? 'unknown'})`, { cause: lastFailure });
  }
  return { volume: { data: out, shape: [rows, n, n] }, kernels };
}

/** True when `err` means an in-process device itself failed (lost, out of memory). */
async function contextFailed(ctx: GpuContext, err: unknown): Promise<boolean> {
  if (err instanceof GpuError && (err.kind === 'device-lost' || err.kind === 'out-of-memory' || err.kind === 'internal')) return true;
  if (err instanceof InputError) return false;
  return Promise.race([ctx.device.lost.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 250))]);
}
