/**
 * Tomography services of a GPU worker process: the same library functions the parent would run
 * in-process (the iterative sweep on a wave of slabs, FBP of a row range, preprocessing and the
 * centre search), on the worker's own device. Same kernels, same per-slice arithmetic, so the
 * results are bit-identical to the in-process path.
 */
import type { RealArray, Volume } from '../../core/array.js';
import type { ProgressEvent } from '../../core/progress.js';
import type { GpuContext } from '../context.js';
import type { KernelTimes } from '../timing.js';
import { reconstructFbp } from '../../tomo/fbp.js';
import type { FilterPadding } from '../../tomo/filters.js';
import { makeGeometry } from '../../tomo/geometry.js';
import { SweepDevice, type SweepPlan } from '../../tomo/iterative.js';
import { preprocessProjections } from '../../tomo/preprocess.js';
import { findCenter } from '../../tomo/center.js';
import type { Emit, ServiceTable } from './services.js';

/** `tomo.sweep.open`: sets up the sweep of one reconstruction on the worker's device. */
export interface SweepOpenRequest {
  plan: SweepPlan;
  slicesPerWorkgroup?: number;
  maxBindingBytes?: number;
  maxDispatch?: number;
}
export interface SweepOpenReply {
  handle: number;
  maxSlabRows: number;
}

/** `tomo.sweep.run`: one wave, rows `[r0, r0 + rows)` of the projections (and starting volume); `ranges` are absolute rows. */
export interface SweepRunRequest {
  handle: number;
  ranges: Array<[number, number]>;
  r0: number;
  rows: number;
  projections: Float32Array;
  initial?: Float32Array;
}
/** The wave's slices `[rows, n, n]` and the sweep's kernel times so far; progress events are {@link SweepIterationEvent}s. */
export interface SweepRunReply {
  volume: Float32Array;
  kernels: KernelTimes;
}
export interface SweepIterationEvent {
  it: number;
  rss: number;
}

/** `tomo.fbp`: FBP of a projection stack `[angles, rows, cols]` (a row range of the parent's). */
export interface FbpRequest {
  projections: Volume;
  anglesDeg: Float64Array;
  center: number;
  n: number;
  filter?: string;
  padding?: FilterPadding;
}
export interface FbpReply {
  volume: Volume;
  kernels: KernelTimes;
}

/** `tomo.preprocess`: dark/flat normalisation and −log. */
export interface PreprocessRequest {
  projections: Volume;
  flat?: RealArray;
  dark?: RealArray;
  log?: boolean;
  source?: string;
}

/** `tomo.center`: the rotation-axis search. */
export interface CenterRequest {
  projections: Volume;
  anglesDeg: Float64Array;
}
export interface CenterReply {
  center: number;
  method: string;
  rows?: number[];
}

const sweeps = new Map<number, SweepDevice>();
let nextHandle = 1;

export const tomoServices: ServiceTable = {
  'tomo.sweep.open': async (ctx: GpuContext, req: SweepOpenRequest): Promise<SweepOpenReply> => {
    const sweep = new SweepDevice(ctx, req.plan, req.slicesPerWorkgroup, req.maxBindingBytes, req.maxDispatch);
    try {
      await sweep.init();
    } catch (err) {
      sweep.destroy();
      throw err;
    }
    const handle = nextHandle++;
    sweeps.set(handle, sweep);
    return { handle, maxSlabRows: sweep.maxSlabRows() };
  },
  'tomo.sweep.run': async (_ctx: GpuContext, req: SweepRunRequest, emit: Emit): Promise<SweepRunReply> => {
    const sweep = sweeps.get(req.handle);
    if (!sweep) throw new Error(`no open sweep ${req.handle}`);
    const { n } = sweep.plan.geometry;
    const out = new Float32Array(req.rows * n * n);
    await sweep.run(req.ranges, { r0: req.r0, rows: req.rows, projections: req.projections, initial: req.initial, out }, (it, rss) => emit({ it, rss } satisfies SweepIterationEvent));
    return { volume: out, kernels: sweep.kernelTimes() };
  },
  'tomo.sweep.close': async (_ctx: GpuContext, req: { handle: number }): Promise<void> => {
    sweeps.get(req.handle)?.destroy();
    sweeps.delete(req.handle);
  },
  'tomo.fbp': async (ctx: GpuContext, req: FbpRequest, emit: Emit): Promise<FbpReply> => {
    const [, rows, cols] = req.projections.shape;
    const g = makeGeometry(req.anglesDeg, rows, cols, { center: req.center, n: req.n });
    const r = await reconstructFbp(ctx, req.projections, g, { filter: req.filter, padding: req.padding, onProgress: (e: ProgressEvent) => emit(e) });
    return { volume: r.volume, kernels: r.kernels };
  },
  'tomo.preprocess': async (ctx: GpuContext, req: PreprocessRequest, emit: Emit): Promise<Volume> => {
    const r = await preprocessProjections(ctx, req.projections, { flat: req.flat, dark: req.dark, log: req.log, source: req.source, onProgress: (e: ProgressEvent) => emit(e) });
    return r.volume;
  },
  'tomo.center': async (ctx: GpuContext, req: CenterRequest): Promise<CenterReply> => {
    const r = await findCenter(ctx, req.projections, req.anglesDeg);
    return { center: r.center, method: r.method, rows: r.rows };
  },
};
