/**
 * The ptychography API: one call from a dataset to the object, the probe and the metrics.
 *
 *   const ds = await loadPtycho('siemens-star-tike');
 *   const result = await reconstructPtycho(ds, { algorithm: 'dm', iterations: 50, probeUpdateStart: 5 });
 *   await writePtychoResult('out', result);
 */
import { GpuContext, type GpuOptions } from '../gpu/context.js';
import { InputError } from '../core/errors.js';
import type { ComplexArray } from '../core/array.js';
import { secondsSince, type ProgressCallback } from '../core/progress.js';
import type { PtychoDataset } from './dataset.js';
import { DmEngine, type DmEngineOptions } from './engine.js';
import { EpieEngine, type EpieEngineOptions } from './epie.js';
import type { ScanGeometry } from './scan.js';

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
  /** The adapter used. */
  device: string;
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
  const ctx = options.context ?? (await GpuContext.acquire(options.gpu ?? {}));
  const engine = algorithm === 'epie' ? await EpieEngine.create(ctx, dataset, options) : await DmEngine.create(ctx, dataset, { ...options, variant: algorithm });
  try {
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
    const { onProgress: _p, context: _c, initialObject: _o, ...plain } = options;
    return {
      object,
      probe,
      geometry: engine.geometry,
      algorithm,
      errors,
      iterationSeconds,
      totalSeconds: secondsSince(t0),
      device: ctx.info.description || ctx.info.device,
      options: { ...plain, algorithm, iterations, probeUpdateStart: probeStart },
    };
  } finally {
    engine.destroy();
    if (!options.context) ctx.destroy();
  }
}
