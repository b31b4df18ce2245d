/**
 * The difference map (DM/RAAR) across several GPU devices: frames split into spatially compact
 * groups (stripes, or a grid of blocks; {@link scanPartitions}), one {@link DmPartition} per
 * device holding only the object window its frames touch (plus a margin), and an all-reduce of the overlap projection's partial sums after every half-step.
 *
 * The reduction (the all-reduce SHARP runs with MPI, here between devices of one process):
 *   object: each device sums num = Σ S_jᵀ(P̄ψ_j) and den = Σ S_jᵀ|P|² over its own frames on its
 *           window, packs the pixels its window shares with each other window (pack_overlap.wgsl)
 *           and they are read back; each device receives the other devices' partials for exactly
 *           its overlaps and sums every contribution in device-index order before finalising
 *           (reduce_object.wgsl). Only the overlaps travel, never whole windows.
 *   probe:  the partial sums (num, den over the whole probe, small) of every device are read
 *           back and each device receives the others', summed in device-index order
 *           (reduce_probe.wgsl).
 * The order is fixed, so results are deterministic, and every device holds bit-identical values
 * for shared pixels and the probe. With one device the arithmetic is exactly DmEngine's.
 *
 * A device that fails (lost, out of memory) stops the iteration with a GpuError naming it;
 * {@link runDistributedDm} then restarts the reconstruction from the beginning on the remaining
 * devices (never continuing from a state that lost a device's exit waves).
 */
import { deviceInfo, isWorkerDevice, type PoolDevice } from '../gpu/pool.js';
import { RemoteDmPartition } from '../gpu/worker/ptycho-client.js';
import { GpuError, InputError } from '../core/errors.js';
import type { ComplexArray } from '../core/array.js';
import { secondsSince, type ProgressCallback } from '../core/progress.js';
import { type PtychoDataset, validateDataset } from './dataset.js';
import { type DmEngineOptions, dmCoefficients, type DmCoefficients, hasFractions, initialProbeModes, resolvePowerBound } from './engine.js';
import { DmPartition, type DmPartitionSpec, type PixelRect, overlapOffsets } from './partition.js';
import { scanGeometry, type ScanGeometry } from './scan.js';

/** A device's share of the reconstruction, in this process or in a worker process. */
type Partition = DmPartition | RemoteDmPartition;

/** One device's share: its frames and its window of the global object. */
export interface PartitionLayout {
  /** Global frame indices, ascending. */
  frames: Uint32Array;
  /** Top-left corner of the window in the global object, and its shape. */
  offset: [number, number];
  shape: [number, number];
}

/**
 * Splits the frames into `parts` spatially compact groups of (nearly) equal frame counts: a grid of
 * R × C cells (R·C = parts), R bands along the rows, each band cut into C cells along the columns.
 * The grid minimises the total boundary length (R − 1)·cols + (C − 1)·rows, which the overlap
 * bytes are proportional to: N stripes across the longer axis for N = 2 or 3, 2 × 2 for four
 * devices on a square scan. Each cell's window covers its frames' footprints (views plus the
 * bilinear tap) plus `margin` pixels, over the whole band's rows; the first and last band and cell
 * reach the object's edges and neighbours leave no gap, so the windows cover the object.
 */
export function scanPartitions(geometry: ScanGeometry, parts: number, margin = geometry.margin): PartitionLayout[] {
  const { n, positions } = geometry;
  const [h, w] = geometry.frame;
  const [rows, cols] = geometry.objectShape;
  const count = Math.max(1, Math.min(parts, n));
  let best = [count, 1];
  for (let r = 1; r <= count; r++) {
    if (count % r !== 0) continue;
    const c = count / r;
    const cost = (r - 1) * cols + (c - 1) * rows, bestCost = (best[0] - 1) * cols + (best[1] - 1) * rows;
    if (cost < bestCost || (cost === bestCost && r > best[0])) best = [r, c];
  }
  const [R, C] = best;
  const byAxis = (frames: number[], axis: number) => frames.sort((a, b) => positions[2 * a + axis] - positions[2 * b + axis] || a - b);
  // [start, end) along `axis` covering the frames' footprints plus the margin, contiguous with the previous one
  const extent = (frames: number[], axis: number, first: boolean, last: boolean, prevEnd: number): [number, number] => {
    const size = axis === 0 ? h : w, full = axis === 0 ? rows : cols;
    let a = Infinity, b = -Infinity;
    for (const j of frames) {
      const p0 = Math.floor(positions[2 * j + axis]);
      a = Math.min(a, p0);
      b = Math.max(b, p0 + size + 1);
    }
    const start = first ? 0 : Math.min(Math.max(0, a - margin), prevEnd);
    const end = last ? full : Math.max(start + 1, Math.min(full, b + margin));
    return [start, end];
  };
  const all = byAxis(Array.from({ length: n }, (_, j) => j), 0);
  const out: PartitionLayout[] = [];
  let rowEnd = 0;
  for (let r = 0; r < R; r++) {
    const band = all.slice(Math.floor((r * n) / R), Math.floor(((r + 1) * n) / R));
    const [y0, y1] = extent(band, 0, r === 0, r === R - 1, rowEnd);
    rowEnd = Math.max(rowEnd, y1);
    const inBand = byAxis([...band], 1);
    let colEnd = 0;
    for (let c = 0; c < C; c++) {
      const cell = inBand.slice(Math.floor((c * band.length) / C), Math.floor(((c + 1) * band.length) / C));
      const [x0, x1] = extent(cell, 1, c === 0, c === C - 1, colEnd);
      colEnd = Math.max(colEnd, x1);
      out.push({ frames: Uint32Array.from(cell.sort((a, b) => a - b)), offset: [y0, x0], shape: [y1 - y0, x1 - x0] });
    }
  }
  return out;
}

/** The overlap of windows a and b in a's window coordinates (null: none). */
function overlapOf(a: PartitionLayout, b: PartitionLayout): PixelRect | null {
  const y0 = Math.max(a.offset[0], b.offset[0]), y1 = Math.min(a.offset[0] + a.shape[0], b.offset[0] + b.shape[0]);
  const x0 = Math.max(a.offset[1], b.offset[1]), x1 = Math.min(a.offset[1] + a.shape[1], b.offset[1] + b.shape[1]);
  if (y1 <= y0 || x1 <= x0) return null;
  return { y0: y0 - a.offset[0], x0: x0 - a.offset[1], h: y1 - y0, w: x1 - x0 };
}

/** Options of the distributed difference map (those of DmEngine, plus the window margin). */
export interface DistributedDmOptions extends DmEngineOptions {
  /** Extra pixels of each device's window beyond its frames' footprints (default: the scan margin). */
  windowMargin?: number;
  /**
   * Partitions of the scan (default: one per device). The result depends only on this count, not
   * on how many devices run the partitions: partition d runs on device ⌊d·N/P⌋ of N, and the
   * all-reduce sums partitions in partition order. So with a fixed count (e.g. 4), 1, 2, 3 or 4
   * devices give bit-identical results, also after a device is lost and its partitions move.
   */
  partitions?: number;
}

/** The device (index into the pool of `devices`) that runs partition `d` of `parts`. */
export function deviceOfPartition(d: number, parts: number, devices: number): number {
  return Math.floor((d * devices) / parts);
}

/** Bytes the all-reduce moves, per kind. */
export interface ReductionBytes {
  /** Object overlap partials read back from the devices. */
  objectRead: number;
  /** Object overlap partials written to the devices. */
  objectWritten: number;
  /** Probe partials read back and written. */
  probeRead: number;
  probeWritten: number;
}

/**
 * A DM/RAAR reconstruction on several devices: create, {@link iterate}, read, destroy. The
 * interface matches DmEngine's (iterate, readObject, readProbe, geometry).
 */
export class DistributedDm {
  readonly geometry: ScanGeometry;
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly modes: number;
  readonly coefficients: DmCoefficients;
  readonly innerIterations: number;
  readonly exactOverlap: boolean;
  readonly inertia: { object: number; probe: number };
  /** The devices' shares (frames and windows), in reduction order. */
  readonly layouts: PartitionLayout[];
  /** Bytes moved by the reduction so far, and in the last iteration. */
  readonly bytes: ReductionBytes = { objectRead: 0, objectWritten: 0, probeRead: 0, probeWritten: 0 };
  lastIterationBytes = 0;
  private readonly initialObject: Float32Array;
  /** Per device e: pixel offsets of its overlaps in its packed layout. */
  private readonly offsets: number[][];
  private readonly overlaps: Array<Array<PixelRect | null>>;
  private iterationCount = 0;

  private constructor(
    private readonly partitions: Partition[],
    /** The devices; partition d runs on pool[deviceOfPartition(d, partitions, pool)]. */
    private readonly pool: PoolDevice[],
    init: { geometry: ScanGeometry; n: number; h: number; w: number; modes: number; coefficients: DmCoefficients; inner: number; exact: boolean; inertia: { object: number; probe: number }; layouts: PartitionLayout[]; overlaps: Array<Array<PixelRect | null>>; object: Float32Array },
  ) {
    this.geometry = init.geometry;
    this.n = init.n;
    this.h = init.h;
    this.w = init.w;
    this.modes = init.modes;
    this.coefficients = init.coefficients;
    this.innerIterations = init.inner;
    this.exactOverlap = init.exact;
    this.inertia = init.inertia;
    this.layouts = init.layouts;
    this.overlaps = init.overlaps;
    this.offsets = init.overlaps.map((o) => overlapOffsets(o).offsets);
    this.initialObject = init.object;
  }

  /** The number of devices in use (partitions spread over the pool; fewer partitions leave devices idle). */
  get devices(): number {
    return Math.min(this.pool.length, this.partitions.length);
  }

  /** The number of partitions (at most the number of frames). */
  get partitionCount(): number {
    return this.partitions.length;
  }

  /** The devices in use (in-process contexts or worker processes), in pool order. */
  get contexts(): PoolDevice[] {
    return [...this.pool];
  }

  /**
   * Splits the scan over `contexts` (in order: the reduction order) and sets every device up: an
   * in-process device gets a DmPartition, a worker-process device (src/gpu/pool.ts) the same
   * partition in its process (RemoteDmPartition), computing the same numbers.
   */
  static async create(contexts: PoolDevice[], dataset: PtychoDataset, options: DistributedDmOptions = {}): Promise<DistributedDm> {
    if (contexts.length < 1) throw new InputError('no GPU device given for the reconstruction');
    const summary = validateDataset(dataset);
    const modes = options.modes ?? 1;
    if (!Number.isInteger(modes) || modes < 1 || modes > 16) throw new InputError(`probe modes must be an integer in 1..16, got ${modes}`, '--probe-modes');
    const [n, h, w] = dataset.shape;
    const hw = h * w;
    const positions = new Float64Array(dataset.positions);
    if (options.subpixel === false) for (let i = 0; i < positions.length; i++) positions[i] = Math.round(positions[i]);
    const geometry = scanGeometry(positions, [h, w], options.margin ?? 2, dataset.source);
    const exact = options.exactOverlap ?? (options.subpixel !== false && hasFractions(dataset.positions));
    const [rows, cols] = geometry.objectShape;
    const probe = initialProbeModes(dataset, modes, options.scaleProbe ?? true, summary.meanFrameSum);
    let probePower = 0;
    for (let i = 0; i < probe.length; i++) probePower += probe[i] * probe[i];
    const inertia = {
      object: (options.objectInertia ?? 0.01) * (n * probePower) / (rows * cols),
      probe: (options.probeInertia ?? 0.01) * n,
    };
    let object: Float32Array;
    if (options.initialObject) {
      const s = options.initialObject.shape;
      if (s[0] !== rows || s[1] !== cols) throw new InputError(`the initial object is [${s.join(', ')}] but the scan needs [${rows}, ${cols}]`, dataset.source);
      object = options.initialObject.data;
    } else {
      object = new Float32Array(2 * rows * cols);
      for (let i = 0; i < object.length; i += 2) object[i] = 1;
    }
    const powerBound = resolvePowerBound(options.powerBound, summary);
    const windowMargin = options.windowMargin ?? geometry.margin;
    if (!Number.isInteger(windowMargin) || windowMargin < 0) throw new InputError(`the window margin must be a whole number ≥ 0, got ${windowMargin}`);
    const wanted = options.partitions ?? contexts.length;
    if (!Number.isInteger(wanted) || wanted < 1) throw new InputError(`the number of partitions must be a positive integer, got ${wanted}`, '--partitions');
    const layouts = scanPartitions(geometry, wanted, windowMargin);
    const deviceOf = (d: number) => deviceOfPartition(d, layouts.length, contexts.length);
    const overlaps = layouts.map((a, d) => layouts.map((b, e) => (d === e ? null : overlapOf(a, b))));
    const specs: DmPartitionSpec[] = layouts.map((L, d) => {
      const k = L.frames.length;
      const frames = new Float32Array(k * hw);
      const pos = new Float64Array(2 * k);
      L.frames.forEach((j, i) => {
        frames.set(dataset.frames.subarray(j * hw, (j + 1) * hw), i * hw);
        pos[2 * i] = geometry.positions[2 * j] - L.offset[0];
        pos[2 * i + 1] = geometry.positions[2 * j + 1] - L.offset[1];
      });
      const [wr, wc] = L.shape;
      const win = new Float32Array(2 * wr * wc);
      for (let y = 0; y < wr; y++) win.set(object.subarray(2 * ((L.offset[0] + y) * cols + L.offset[1]), 2 * ((L.offset[0] + y) * cols + L.offset[1] + wc)), 2 * y * wc);
      return {
        index: d,
        parts: layouts.length,
        frames,
        shape: [k, h, w],
        mask: dataset.mask,
        positions: pos,
        windowOffset: L.offset,
        windowShape: L.shape,
        margin: geometry.margin,
        object: win,
        probe,
        modes,
        variant: options.variant ?? 'dm',
        beta: options.beta,
        inertia,
        powerBound,
        exactOverlap: exact,
        objectAmplitudeMax: options.objectAmplitudeMax,
        probeSupport: options.probeSupport,
        maxBindingBytes: options.maxBindingBytes,
        overlaps: overlaps[d],
        source: dataset.source,
      };
    });
    const settled = await Promise.allSettled(specs.map((s, d): Promise<Partition> => {
      const dev = contexts[deviceOf(d)];
      return isWorkerDevice(dev) ? RemoteDmPartition.create(dev, s) : DmPartition.create(dev, s);
    }));
    const made = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = settled.findIndex((r) => r.status === 'rejected');
    if (failed >= 0) {
      for (const p of made) p.destroy();
      throw await annotate((settled[failed] as PromiseRejectedResult).reason, deviceOf(failed), contexts[deviceOf(failed)], 'setting up');
    }
    return new DistributedDm(made, [...contexts], {
      geometry, n, h, w, modes,
      coefficients: dmCoefficients(options.variant ?? 'dm', options.beta),
      inner: options.innerIterations ?? 1,
      exact, inertia, layouts, overlaps, object,
    });
  }

  /** Runs `f` on every partition at once; a failure names its device (the first by index). */
  private async all<T>(what: string, f: (p: Partition) => Promise<T>): Promise<T[]> {
    const settled = await Promise.allSettled(this.partitions.map(f));
    const failed = settled.findIndex((r) => r.status === 'rejected');
    if (failed >= 0) {
      const dev = deviceOfPartition(failed, this.partitions.length, this.pool.length);
      throw await annotate((settled[failed] as PromiseRejectedResult).reason, dev, this.pool[dev], `${what} of iteration ${this.iterationCount + 1}`);
    }
    return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
  }

  /** Device d's import: for each other device e (ascending), e's packed partials of their shared overlap. */
  private route(exports: Float32Array[], d: number): Float32Array {
    const own = this.overlaps[d];
    const total = overlapOffsets(own).total;
    const out = new Float32Array(3 * total);
    own.forEach((r, e) => {
      if (!r) return;
      const src = 3 * this.offsets[e][d];
      out.set(exports[e].subarray(src, src + 3 * r.h * r.w), 3 * this.offsets[d][e]);
    });
    return out;
  }

  /**
   * One iteration on every device: the exit waves, then `inner` overlap projections, each half
   * followed by the all-reduce. Returns the Fourier error of the model the iteration started
   * from and the per-frame errors (in global frame order), as DmEngine.iterate does.
   */
  async iterate(updateProbe: boolean): Promise<{ error: number; frameErrors: Float32Array }> {
    const exact = this.exactOverlap;
    const parts = this.partitions.length;
    const inner = updateProbe || exact ? this.innerIterations : 1;
    const frameErrors = new Float32Array(this.n);
    let moved = 0;
    for (let k = 0; k < inner; k++) {
      const more = k < inner - 1;
      const snapshot = exact && (updateProbe || more);
      let exports: Float32Array[];
      if (k === 0) {
        const begun = await this.all('the exit waves', (p) => p.beginIteration(snapshot));
        begun.forEach((b, d) => this.layouts[d].frames.forEach((j, i) => (frameErrors[j] = b.frameErrors[i])));
        exports = begun.map((b) => b.overlap);
      } else {
        exports = await this.all('the object update', (p) => p.objectPartials(snapshot));
      }
      const imports = exports.map((_, d) => this.route(exports, d));
      for (let d = 0; d < parts; d++) {
        this.bytes.objectRead += exports[d].byteLength;
        this.bytes.objectWritten += imports[d].byteLength;
        moved += exports[d].byteLength + imports[d].byteLength;
      }
      const fuse = exact && updateProbe && !more;
      const deltaObject = exact && (updateProbe || more) && !fuse;
      if (!updateProbe) {
        await this.all('the object update', (p) => p.applyObject(imports[p.index], { deltaObject }));
        continue;
      }
      const partials = (await this.all('the object update', (p) => p.applyObject(imports[p.index], { deltaObject, probe: { fused: fuse, snapshotProbe: exact && more } }))) as Float32Array[];
      const size = parts > 1 ? partials[0].length : 0;
      await this.all('the probe update', async (p) => {
        const mine = new Float32Array((parts - 1) * size);
        let s = 0;
        for (let e = 0; e < parts; e++) if (e !== p.index) mine.set(partials[e], size * s++);
        this.bytes.probeWritten += mine.byteLength;
        moved += mine.byteLength;
        return p.applyProbe(mine, exact && more);
      });
      for (const part of partials) {
        this.bytes.probeRead += part.byteLength;
        moved += part.byteLength;
      }
    }
    this.lastIterationBytes = moved;
    this.iterationCount++;
    let s = 0;
    for (const e of frameErrors) s += e;
    return { error: s / this.n, frameErrors };
  }

  /** The global object [rows, cols] (complex), assembled from the windows. */
  async readObject(): Promise<ComplexArray> {
    const [rows, cols] = this.geometry.objectShape;
    const out = new Float32Array(this.initialObject);
    const windows = await this.all('reading the object', (p) => p.readObject());
    windows.forEach((win, d) => {
      const L = this.layouts[d];
      const [wr, wc] = L.shape;
      for (let y = 0; y < wr; y++) out.set(win.subarray(2 * y * wc, 2 * (y + 1) * wc), 2 * ((L.offset[0] + y) * cols + L.offset[1]));
    });
    return { data: out, shape: [rows, cols], complex: true };
  }

  /** The probe (device 0's copy; every device holds the same). */
  async readProbe(): Promise<ComplexArray> {
    const [p] = await this.all('reading the probe', async (part) => (part.index === 0 ? part.readProbe() : new Float32Array(0)));
    return { data: p, shape: this.modes === 1 ? [this.h, this.w] : [this.modes, this.h, this.w], complex: true };
  }

  /** @internal Every device's own window of the object and its probe copy (tests of the all-reduce). */
  async readWindows(): Promise<{ objects: Float32Array[]; probes: Float32Array[] }> {
    const objects = await this.all('reading the object', (p) => p.readObject());
    const probes = await this.all('reading the probe', (p) => p.readProbe());
    return { objects, probes };
  }

  /** Releases every partition's GPU buffers (the contexts stay open). */
  destroy(): void {
    for (const p of this.partitions) p.destroy();
  }
}

/** A device failure as a GpuError naming the device, with `device` = its index in the pool. */
export class DeviceFailure extends GpuError {
  readonly device: number;
  constructor(device: number, message: string, cause: unknown) {
    super('device-lost', message, { cause });
    this.device = device;
  }
}

/**
 * Wraps a partition's error: a failure of the device itself (lost, out of memory, internal; or
 * its `lost` promise settling, which can come just after a rejected read-back) becomes a
 * DeviceFailure naming it; anything else (bad input, a validation error: a bug) passes through.
 */
async function annotate(err: unknown, index: number, ctx: PoolDevice, what: string): Promise<unknown> {
  if (err instanceof InputError) return err;
  const kind = err instanceof GpuError ? err.kind : undefined;
  // A worker process's failures already arrive as 'device-lost' (its process exited) or as the
  // GpuError its device raised; an in-process device may also show it through its `lost` promise.
  const failed = kind === 'device-lost' || kind === 'out-of-memory' || kind === 'internal' ||
    (!isWorkerDevice(ctx) && (await Promise.race([ctx.device.lost.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 250))])));
  if (!failed) return err;
  const info = deviceInfo(ctx);
  const name = info.description || info.device;
  return new DeviceFailure(index, `device ${index + 1} (${name}) failed during ${what}: ${(err as Error)?.message ?? String(err)}`, err);
}

/** What {@link runDistributedDm} returns. */
export interface DistributedRun {
  object: ComplexArray;
  probe: ComplexArray;
  geometry: ScanGeometry;
  errors: number[];
  iterationSeconds: number[];
  /** Devices the final result came from, and those dropped after failing. */
  devices: number;
  /** Partitions of the scan. */
  partitions: number;
  droppedDevices: string[];
  /** Bytes the reduction moved per iteration (the last one), and in total. */
  reductionBytesPerIteration: number;
  reductionBytes: ReductionBytes;
  /** The device descriptions in use. */
  deviceNames: string[];
}

/**
 * Runs DM/RAAR on several devices for `iterations` iterations (the probe updated from iteration
 * `probeStart`, 0-based). When a device fails mid-run (lost, out of memory), the whole
 * reconstruction restarts from its initial state on the remaining devices (progress events
 * start again from iteration 1 with `metrics.restart`); with none left, the device's error is
 * thrown. A result never mixes the states of failed and surviving devices.
 */
export async function runDistributedDm(contexts: PoolDevice[], dataset: PtychoDataset, options: DistributedDmOptions & { iterations: number; probeStart: number; onProgress?: ProgressCallback; stage?: string }): Promise<DistributedRun> {
  let pool = [...contexts];
  const dropped: string[] = [];
  for (;;) {
    let run: DistributedDm | undefined;
    try {
      run = await DistributedDm.create(pool, dataset, options);
      const errors: number[] = [];
      const iterationSeconds: number[] = [];
      const tIter = performance.now();
      for (let it = 0; it < options.iterations; it++) {
        const t = performance.now();
        const { error } = await run.iterate(it >= options.probeStart);
        errors.push(error);
        iterationSeconds.push(secondsSince(t));
        options.onProgress?.({
          stage: options.stage ?? options.variant ?? 'dm',
          iteration: it + 1,
          of: options.iterations,
          residual: error,
          seconds: secondsSince(tIter),
          metrics: { devices: run.devices, reductionBytes: run.lastIterationBytes, ...(dropped.length ? { restart: dropped.length } : {}) },
        });
      }
      const object = await run.readObject();
      const probe = await run.readProbe();
      return {
        object,
        probe,
        geometry: run.geometry,
        errors,
        iterationSeconds,
        devices: run.devices,
        partitions: run.partitionCount,
        droppedDevices: dropped,
        reductionBytesPerIteration: run.lastIterationBytes,
        reductionBytes: { ...run.bytes },
        deviceNames: run.contexts.map((c) => deviceInfo(c).description || deviceInfo(c).device),
      };
    } catch (err) {
      if (!(err instanceof DeviceFailure)) throw err;
      if (pool.length <= 1) {
        if (dropped.length === 0) throw err;
        throw new DeviceFailure(err.device, `every GPU device failed: ${err.message} (dropped before: ${dropped.join('; ')})`, err);
      }
      const bad = pool[err.device];
      dropped.push(`${deviceInfo(bad).description || deviceInfo(bad).device}: ${err.message}`);
      pool = pool.filter((_, i) => i !== err.device);
    } finally {
      run?.destroy();
    }
  }
}
