/**
 * The ptychography API: one call from a dataset to the object, the probe and the metrics.
 *
 *   const ds = await loadPtycho('siemens-star-tike');
 *   const result = await reconstructPtycho(ds, { algorithm: 'dm', iterations: 50, probeUpdateStart: 5 });
 *   await writePtychoResult('out', result);
 */
import { GpuContext, type GpuOptions } from '../gpu/context.js';
import { acquireDevices, closeDevices, isWorkerDevice, type PoolDevice, type WorkerSpec } from '../gpu/pool.js';
import { InputError } from '../core/errors.js';
import type { ComplexArray } from '../core/array.js';
import { secondsSince, type ProgressCallback } from '../core/progress.js';
import type { PtychoDataset } from './dataset.js';
import { DmEngine, type DmEngineOptions } from './engine.js';
import { EpieEngine, type EpieEngineOptions } from './epie.js';
import type { ScanGeometry } from './scan.js';
import { runDistributedDm } from './distributed.js';

/** Reconstruction algorithms. */
export type PtychoAlgorithm = 'dm' | 'raar' | 'epie';

/** Options of {@link reconstructPtycho}. */
export interface PtychoReconOptions extends Omit<DmEngineOptions, 'variant'>, Omit<EpieEngineOptions, 'modes' | 'subpixel' | 'margin' | 'scaleProbe'> {
  /** 'dm' (default), 'raar' or 'epie'. */
  algorithm?: PtychoAlgorithm;
  /** Iterations (default 50). */
  iterations?: number;
  /** First iteration (0-based) that updates the probe (default 1; a value ≥ iterations keeps the probe fixed). */
  probeUpdateStart?: number;
  /** Progress callback: one event per iteration, residual = Fourier error. */
  onProgress?: ProgressCallback;
  /** GPU to use (default: acquire one with `gpu` options and release it at the end). */
  context?: GpuContext;
  /**
   * Several GPUs (DM and RAAR; ePIE runs on one): the frames are split into spatially compact groups (stripes or blocks), one per
   * device, with an all-reduce of the overlap sums (src/ptycho/distributed.ts). Takes precedence
   * over `context`; the caller keeps ownership. One in-process context runs the single-device
   * engine; devices in worker processes (acquireDevices with `workers` or `processPerDevice`)
   * host their partitions there, with the same result.
   */
  contexts?: PoolDevice[];
  /** Devices to open when neither `context` nor `contexts` is given (as tomography's pool: a count or 'all'). */
  devices?: number | 'all';
  /** Adapter names, one device each, when neither `context` nor `contexts` is given. */
  adapters?: string[];
  /** With `devices`/`adapters`: open each device in its own worker process. */
  processPerDevice?: boolean;
  /** Extra devices, each in a worker process with these environment variables (one GPU per process; see the README). */
  workers?: WorkerSpec[];
  /** Extra pixels of each device's object window beyond its frames (default: the scan margin). */
  windowMargin?: number;
  /**
   * DM/RAAR: split the scan into this many partitions whatever the number of devices (default: one
   * per device, and none on one device). The result depends only on this count: 1, 2, … devices
   * give it bit for bit (see DistributedDmOptions.partitions).
   */
  partitions?: number;
  /** Adapter selection when no context is given. */
  gpu?: GpuOptions;
}

/** What a reconstruction returns. */
export interface PtychoResult {
  /** The object [rows, cols], complex; frame 0's view starts at `geometry.offset`. */
  object: ComplexArray;
  /** The probe [h, w] (or [modes, h, w]), complex. */
  probe: ComplexArray;
  /** Where each view lies in the object. */
  geometry: ScanGeometry;
  algorithm: PtychoAlgorithm;
  /** Fourier error per iteration (of the model each iteration started from). */
  errors: number[];
  /** Wall-clock seconds per iteration (submit to read-back). */
  iterationSeconds: number[];
  /** Seconds for the whole call, set-up included. */
  totalSeconds: number;
  /** The adapter used (several: their names joined by ', '). */
  device: string;
  /** Devices the result came from (1 for the single-device engine). */
  devices?: number;
  /** Partitions of the scan (DM/RAAR split across devices or by `partitions`). */
  partitions?: number;
  /** Several devices: bytes the overlap all-reduce moved in the last iteration, and devices dropped after failing mid-run. */
  reductionBytesPerIteration?: number;
  droppedDevices?: string[];
  /** How it ran, when that differs from what was asked (ePIE given several devices runs on one). */
  note?: string;
  /** Options as used (without callbacks). */
  options: Record<string, unknown>;
}

/** Runs DM, RAAR or ePIE on a dataset on the GPU. */
export async function reconstructPtycho(dataset: PtychoDataset, options: PtychoReconOptions = {}): Promise<PtychoResult> {
  const t0 = performance.now();
  const algorithm = options.algorithm ?? 'dm';
  if (!['dm', 'raar', 'epie'].includes(algorithm)) throw new InputError(`unknown algorithm '${algorithm}' (dm, raar or epie)`, '--algorithm');
  const iterations = options.iterations ?? 50;
  if (!Number.isInteger(iterations) || iterations < 1) throw new InputError(`iterations must be a positive integer, got ${iterations}`, '--iterations');
  const probeStart = options.probeUpdateStart ?? 1;
  const wantsPool = (options.devices !== undefined && options.devices !== 1) || (options.adapters?.length ?? 0) > 1 || options.processPerDevice === true || (options.workers?.length ?? 0) > 0;
  const many = options.contexts ?? (!options.context && wantsPool ? await acquireDevices({ ...options.gpu, devices: options.devices, adapters: options.adapters, processPerDevice: options.processPerDevice, workers: options.workers }) : undefined);
  const pooled = many !== undefined && (many.length > 1 || isWorkerDevice(many[0]));
  if (options.partitions !== undefined && algorithm === 'epie') {
    if (many && !options.contexts) await closeDevices(many);
    throw new InputError('partitions split DM and RAAR; ePIE updates the object frame by frame and runs unsplit', '--partitions');
  }
  if ((pooled || options.partitions !== undefined) && algorithm !== 'epie') {
    // Several devices, or a fixed partition count (then even one device runs the partitions, and
    // the result is the same bit for bit on any number of devices).
    const devs: PoolDevice[] = many ?? [options.context ?? (await GpuContext.acquire(options.gpu ?? {}))];
    try {
      const r = await runDistributedDm(devs, dataset, { ...options, variant: algorithm, iterations, probeStart, onProgress: options.onProgress, stage: algorithm });
      const { onProgress: _p, context: _c, contexts: _cs, initialObject: _o, ...plain } = options;
      return {
        object: r.object,
        probe: r.probe,
        geometry: r.geometry,
        algorithm,
        errors: r.errors,
        iterationSeconds: r.iterationSeconds,
        totalSeconds: secondsSince(t0),
        device: r.deviceNames.join(', '),
        devices: r.devices,
        partitions: r.partitions,
        reductionBytesPerIteration: r.reductionBytesPerIteration,
        droppedDevices: r.droppedDevices,
        options: { ...plain, algorithm, iterations, probeUpdateStart: probeStart },
      };
    } finally {
      if (!options.contexts) {
        if (many) await closeDevices(many);
        else if (!options.context) await closeDevices(devs);
      }
    }
  }
  // ePIE updates the object frame after frame, so it does not split: given a pool, it runs on the
  // pool's first in-process device (the same result as on that device alone) and says so.
  let single = many?.[0] as GpuContext | undefined;
  let note: string | undefined;
  if (pooled) {
    const local = many.find((d): d is GpuContext => !isWorkerDevice(d));
    if (!local) {
      if (!options.contexts) await closeDevices(many);
      throw new InputError('ePIE runs on one device in this process (its frame-by-frame updates do not split across devices), and every device given is a worker process: leave out --process-per-device/--device-env, or use --algorithm dm or raar', '--process-per-device');
    }
    single = local;
    note = `ePIE updates the object frame by frame, so it ran on one device (${local.info.description || local.info.device}) of the ${many.length} given`;
  }
  const ctx = single ?? options.context ?? (await GpuContext.acquire(options.gpu ?? {}));
  let engine: EpieEngine | DmEngine | undefined;
  try {
    engine = algorithm === 'epie' ? await EpieEngine.create(ctx, dataset, options) : await DmEngine.create(ctx, dataset, { ...options, variant: algorithm });
    const errors: number[] = [];
    const iterationSeconds: number[] = [];
    const tIter = performance.now();
    for (let it = 0; it < iterations; it++) {
      const t = performance.now();
      const { error } = await engine.iterate(it >= probeStart);
      errors.push(error);
      iterationSeconds.push(secondsSince(t));
      options.onProgress?.({ stage: algorithm, iteration: it + 1, of: iterations, residual: error, seconds: secondsSince(tIter) });
    }
    const object = await engine.readObject();
    const probe = await engine.readProbe();
    const { onProgress: _p, context: _c, contexts: _cs, initialObject: _o, ...plain } = options;
    return {
      object,
      probe,
      geometry: engine.geometry,
      algorithm,
      errors,
      iterationSeconds,
      totalSeconds: secondsSince(t0),
      device: ctx.info.description || ctx.info.device,
      devices: 1,
      ...(note ? { note } : {}),
      options: { ...plain, algorithm, iterations, probeUpdateStart: probeStart },
    };
  } finally {
    engine?.destroy();
    if (!options.contexts) {
      if (many) await closeDevices(many);
      else if (!options.context) ctx.destroy();
    }
  }
}
