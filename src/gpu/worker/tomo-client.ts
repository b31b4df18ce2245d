/**
 * The parent's side of the tomography services (tomo-services.ts): a {@link WaveRunner} that
 * runs waves of slabs in a worker process, and FBP, preprocessing and the centre search on a
 * worker. The wave scheduler (src/tomo/iterative.ts) and FBP split (src/tomo/recon.ts) use these
 * exactly like their in-process counterparts.
 */
import { GpuError, InputError } from '../../core/errors.js';
import type { RealArray, Volume } from '../../core/array.js';
import type { ProgressCallback, ProgressEvent } from '../../core/progress.js';
import type { KernelTimes } from '../timing.js';
import type { IterationSums, SweepPlan, WaveBlock, WaveRunner } from '../../tomo/iterative.js';
import type { FilterPadding } from '../../tomo/filters.js';
import type { TomoGeometry } from '../../tomo/geometry.js';
import { copyRowsOut } from '../../tomo/slabs.js';
import type { WorkerDevice } from './device.js';
import type { CenterReply, CenterRequest, FbpReply, FbpRequest, PreprocessRequest, SweepIterationEvent, SweepOpenReply, SweepOpenRequest, SweepRunReply, SweepRunRequest } from './tomo-services.js';

/** `a` itself when it spans its whole buffer, else a copy (IPC sends a view's whole buffer). */
export function compact<T extends Float32Array | Float64Array>(a: T): T {
  return (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : a.slice()) as T;
}

/** `v` with its data compacted (see {@link compact}). */
function compactVolume<V extends { data: Float32Array }>(v: V): V {
  return { ...v, data: compact(v.data) };
}

/** True when `err`, from a call to `device`, means the device (or its process) failed rather than the input. */
export async function workerFailed(device: WorkerDevice, err: unknown): Promise<boolean> {
  if (err instanceof GpuError && (err.kind === 'device-lost' || err.kind === 'out-of-memory' || err.kind === 'internal')) return true;
  if (err instanceof InputError) return false;
  return !device.alive;
}

/** The iterative sweep in a worker process: one `tomo.sweep.open`, a `tomo.sweep.run` per wave. */
export class RemoteSweep implements WaveRunner {
  private handle?: number;
  private maxRows = 0;
  private kernels: KernelTimes = {};

  constructor(
    readonly device: WorkerDevice,
    readonly plan: SweepPlan,
    private readonly slicesPerWorkgroup?: number,
    private readonly maxBindingBytes?: number,
    private readonly maxDispatch?: number,
  ) {}

  async init(): Promise<void> {
    const req: SweepOpenRequest = { plan: this.plan, slicesPerWorkgroup: this.slicesPerWorkgroup, maxBindingBytes: this.maxBindingBytes, maxDispatch: this.maxDispatch };
    const r = await this.device.call<SweepOpenReply>('tomo.sweep.open', req);
    this.handle = r.handle;
    this.maxRows = r.maxSlabRows;
  }

  maxSlabRows(): number {
    return this.maxRows;
  }

  /** Sends the wave's rows of the projections (and starting volume), and writes the slices it gets back into `block.out`. */
  async run(ranges: Array<[number, number]>, block: WaveBlock, onIteration: IterationSums): Promise<void> {
    const { geometry } = this.plan;
    const { cols, n } = geometry;
    const na = geometry.anglesDeg.length;
    const a = Math.min(...ranges.map(([r0]) => r0));
    const b = Math.max(...ranges.map(([, r1]) => r1));
    const projections = copyRowsOut(block.projections, na, block.rows, cols, a - block.r0, b - block.r0);
    const initial = block.initial?.slice((a - block.r0) * n * n, (b - block.r0) * n * n);
    const req: SweepRunRequest = { handle: this.handle!, ranges, r0: a, rows: b - a, projections: compact(projections), initial };
    const r = await this.device.call<SweepRunReply>('tomo.sweep.run', req, (e) => {
      const { it, rss } = e as SweepIterationEvent;
      onIteration(it, rss);
    });
    for (const [r0, r1] of ranges) block.out.set(r.volume.subarray((r0 - a) * n * n, (r1 - a) * n * n), (r0 - block.r0) * n * n);
    this.kernels = r.kernels;
  }

  kernelTimes(): KernelTimes {
    return this.kernels;
  }

  failed(err: unknown): Promise<boolean> {
    return workerFailed(this.device, err);
  }

  /** Closes the sweep in the worker (its buffers go; the worker stays). */
  destroy(): void {
    if (this.handle === undefined || !this.device.alive) return;
    this.device.call('tomo.sweep.close', { handle: this.handle }).catch(() => undefined);
    this.handle = undefined;
  }
}

/** FBP of `projections` (`[angles, rows, cols]` with `geometry`) on a worker; progress events pass through. */
export async function fbpOnWorker(device: WorkerDevice, projections: Volume, geometry: TomoGeometry, options: { filter?: string; padding?: FilterPadding; onProgress?: ProgressCallback }): Promise<FbpReply> {
  const req: FbpRequest = { projections: compactVolume(projections), anglesDeg: geometry.anglesDeg, center: geometry.center, n: geometry.n, filter: options.filter, padding: options.padding };
  return device.call<FbpReply>('tomo.fbp', req, (e) => options.onProgress?.(e as ProgressEvent));
}

/** Dark/flat normalisation and −log on a worker (see preprocessProjections). */
export async function preprocessOnWorker(device: WorkerDevice, projections: Volume, options: { flat?: RealArray; dark?: RealArray; log?: boolean; source?: string; onProgress?: ProgressCallback }): Promise<Volume> {
  const req: PreprocessRequest = { projections: compactVolume(projections), flat: options.flat, dark: options.dark, log: options.log, source: options.source };
  return device.call<Volume>('tomo.preprocess', req, (e) => options.onProgress?.(e as ProgressEvent));
}

/** The rotation-centre search on a worker (see findCenter). */
export async function findCenterOnWorker(device: WorkerDevice, projections: Volume, anglesDeg: ArrayLike<number>): Promise<CenterReply> {
  const req: CenterRequest = { projections: compactVolume(projections), anglesDeg: Float64Array.from(anglesDeg) };
  return device.call<CenterReply>('tomo.center', req);
}
