/**
 * One device's share of a multi-device difference-map run (src/ptycho/distributed.ts): its frames,
 * its window of the object (the region its frames touch plus a margin), a full probe copy and its
 * GPU buffers. Inputs and outputs of every method are plain typed arrays, so a partition could be
 * hosted in another process unchanged; each call submits this device's work on its own (the
 * coordinator runs all partitions with Promise.all, not in lock-step per kernel).
 *
 * Per iteration (residual or closed form, see engine.ts), with the all-reduce in between:
 *   beginIteration   exit waves (model, Fourier update, inverse FFT) and the object's PARTIAL sums
 *                    over this device's frames; returns the frame errors and the partial sums on
 *                    the overlaps with other windows (pack_overlap.wgsl), nothing else
 *   applyObject      the other devices' partials for those overlaps in; reduce_object.wgsl sums
 *                    all contributions in device-index order and finalises the window's object;
 *                    then (if the probe is updated) the probe's partial sums, returned whole
 *   applyProbe       the other devices' probe partials in; reduce_probe.wgsl finalises the probe
 *   objectPartials   further inner iterations: the object's partial sums again
 *
 * Every device computes bit-identical values for the pixels it shares with others and for the
 * probe: the same contributions are added in the same order (see reduce_object.wgsl).
 */
import type { GpuContext } from '../gpu/context.js';
import { grid1d, UniformWriter } from '../gpu/dispatch.js';
import { DmEngine, type DmVariant } from './engine.js';
import type { ScanGeometry } from './scan.js';

const WG = 64;
/** Bytes per packed overlap pixel (num.re, num.im, den). */
export const OVERLAP_PIXEL_BYTES = 12;

/** An axis-aligned rectangle of pixels (rows y0..y0+h−1, cols x0..x0+w−1). */
export interface PixelRect {
  y0: number;
  x0: number;
  h: number;
  w: number;
}

/** Everything a partition needs, as plain data (serialisable). */
export interface DmPartitionSpec {
  /** This device's index in the reduction order, and the number of devices. */
  index: number;
  parts: number;
  /** Intensities of this partition's frames [n, h, w] (ascending global frame index). */
  frames: Float32Array;
  shape: [number, number, number];
  mask?: Uint8Array;
  /** Positions of the frames relative to the window's top-left corner [n, 2]. */
  positions: Float64Array;
  /** The window: top-left corner in the global object and its shape. */
  windowOffset: [number, number];
  windowShape: [number, number];
  /** Margin of the global geometry (reported in the window's ScanGeometry). */
  margin: number;
  /** The window's initial object, interleaved complex [rows, cols]. */
  object: Float32Array;
  /** Initial probe modes, interleaved complex [modes, h, w]. */
  probe: Float32Array;
  modes: number;
  variant: DmVariant;
  beta?: number;
  inertia: { object: number; probe: number };
  /** Resolved over the whole scan (undefined: none). */
  powerBound: number | undefined;
  exactOverlap: boolean;
  objectAmplitudeMax?: number;
  probeSupport?: number;
  maxBindingBytes?: number;
  /** Per device index: the overlap of this window with that device's window, in WINDOW coordinates (null: none, or this device). */
  overlaps: Array<PixelRect | null>;
  /** Where the data came from (error messages). */
  source?: string;
}

/** Pixel offsets of each overlap in the packed export/import layout (ascending device index). */
export function overlapOffsets(overlaps: ReadonlyArray<PixelRect | null>): { offsets: number[]; total: number } {
  const offsets: number[] = [];
  let total = 0;
  for (const r of overlaps) {
    offsets.push(total);
    if (r) total += r.h * r.w;
  }
  return { offsets, total };
}

/** One device's part of a distributed DM/RAAR reconstruction. Create, drive, read, destroy. */
export class DmPartition {
  readonly index: number;
  readonly parts: number;
  /** Frames held here. */
  readonly n: number;
  /** Pixels packed for (and received from) the other devices per object reduction. */
  readonly overlapPixels: number;
  /** Floats of this device's probe partial sums (complex numerator then denominator). */
  readonly probeFloats: number;
  private readonly rectTable: GPUBuffer;
  private readonly packed: GPUBuffer;
  private readonly objImport: GPUBuffer;
  private readonly probeImport: GPUBuffer;
  private readonly staging: GPUBuffer;
  private readonly uniforms: GPUBuffer[] = [];
  private readonly pack: { pipe: GPUComputePipeline; group: GPUBindGroup; grid: [number, number] };
  private readonly reduceObj: { pipe: GPUComputePipeline; group: GPUBindGroup; grid: [number, number] };
  private readonly reducePr: { pipe: GPUComputePipeline; group: GPUBindGroup; grid: [number, number] };
  private destroyed = false;

  private constructor(
    readonly ctx: GpuContext,
    private readonly engine: DmEngine,
    spec: DmPartitionSpec,
    pipes: { pack: GPUComputePipeline; reduceObject: GPUComputePipeline; reduceProbe: GPUComputePipeline },
  ) {
    this.index = spec.index;
    this.parts = spec.parts;
    this.n = spec.shape[0];
    const [rows, cols] = spec.windowShape;
    const hw = spec.shape[1] * spec.shape[2];
    const { offsets, total } = overlapOffsets(spec.overlaps);
    this.overlapPixels = total;
    this.probeFloats = 3 * spec.modes * hw;
    const table = new Uint32Array(8 * spec.parts);
    spec.overlaps.forEach((r, e) => {
      if (!r) return;
      table.set([r.y0, r.x0, r.h, r.w, offsets[e]], 8 * e);
    });
    const maxPerDim = ctx.device.limits.maxComputeWorkgroupsPerDimension;
    this.rectTable = ctx.upload(table, 'overlap rectangles');
    this.packed = ctx.createStorage(total * OVERLAP_PIXEL_BYTES, 'overlap export');
    this.objImport = ctx.createStorage(total * OVERLAP_PIXEL_BYTES, 'overlap import');
    this.probeImport = ctx.createStorage((spec.parts - 1) * this.probeFloats * 4, 'probe partials import');
    this.staging = ctx.device.createBuffer({
      size: Math.max(16, this.n * 4 + total * OVERLAP_PIXEL_BYTES, this.probeFloats * 4),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      label: 'partition staging',
    });
    const b = engine.gpuBuffers;
    const packU = ctx.uniform(new UniformWriter(4).u32(cols).u32(spec.parts).u32(total).u32(0).buffer, 'pack params');
    const objU = ctx.uniform(new UniformWriter(8).u32(rows).u32(cols).u32(spec.parts).u32(spec.index).f32(spec.inertia.object).f32(spec.objectAmplitudeMax ?? 0).u32(0).u32(0).buffer, 'reduce object params');
    const prU = ctx.uniform(new UniformWriter(8).u32(spec.shape[1]).u32(spec.shape[2]).u32(spec.modes).u32(spec.parts).u32(spec.index).f32(spec.inertia.probe).f32(spec.probeSupport ?? 0).u32(0).buffer, 'reduce probe params');
    this.uniforms.push(packU, objU, prU);
    this.pack = { pipe: pipes.pack, group: ctx.bind(pipes.pack, [packU, b.objNum, b.objDen, this.rectTable, this.packed], 'pack overlap'), grid: grid1d(total, WG, maxPerDim) };
    this.reduceObj = { pipe: pipes.reduceObject, group: ctx.bind(pipes.reduceObject, [objU, b.obj, b.objNum, b.objDen, this.rectTable, this.objImport], 'reduce object'), grid: grid1d(rows * cols, WG, maxPerDim) };
    this.reducePr = { pipe: pipes.reduceProbe, group: ctx.bind(pipes.reduceProbe, [prU, b.probe, b.prNum, b.prDen, this.probeImport], 'reduce probe'), grid: grid1d(spec.modes * hw, WG, maxPerDim) };
  }

  /** Compiles the kernels and uploads this partition's data to `ctx`. */
  static async create(ctx: GpuContext, spec: DmPartitionSpec): Promise<DmPartition> {
    const [, h, w] = spec.shape;
    const geometry: ScanGeometry = {
      n: spec.shape[0],
      frame: [h, w],
      positions: spec.positions,
      objectShape: spec.windowShape,
      shift: [0, 0],
      offset: [spec.positions[0], spec.positions[1]],
      margin: spec.margin,
    };
    const source = `${spec.source ?? 'dataset'} (device ${spec.index + 1} of ${spec.parts})`;
    const engine = await DmEngine.create(
      ctx,
      { frames: spec.frames, shape: spec.shape, mask: spec.mask, positions: spec.positions, source },
      {
        variant: spec.variant,
        beta: spec.beta,
        modes: spec.modes,
        exactOverlap: spec.exactOverlap,
        powerBound: spec.powerBound ?? 'none',
        objectAmplitudeMax: spec.objectAmplitudeMax,
        probeSupport: spec.probeSupport,
        maxBindingBytes: spec.maxBindingBytes,
        initialObject: { data: spec.object, shape: spec.windowShape, complex: true },
      },
      { geometry, probe: spec.probe, inertia: spec.inertia, partial: true },
    );
    try {
      const R = spec.exactOverlap;
      const pipes = {
        pack: await ctx.pipelines.getChecked({ shader: 'ptycho/pack_overlap.wgsl', entry: 'main', constants: { WG } }),
        reduceObject: await ctx.pipelines.getChecked({ shader: 'ptycho/reduce_object.wgsl', entry: 'main', constants: { WG, RESIDUAL: R ? 1 : 0 } }),
        reduceProbe: await ctx.pipelines.getChecked({ shader: 'ptycho/reduce_probe.wgsl', entry: 'main', constants: { WG, RESIDUAL: R ? 1 : 0 } }),
      };
      return await ctx.checked('setting up a ptychography partition', () => new DmPartition(ctx, engine, spec, pipes));
    } catch (err) {
      engine.destroy();
      throw err;
    }
  }

  /** Records the object's partial sums and packs the overlaps (after an optional O → O_old snapshot). */
  private encodeObjectPartials(enc: GPUCommandEncoder, snapshotObject: boolean): void {
    const b = this.engine.gpuBuffers;
    if (snapshotObject) enc.copyBufferToBuffer(b.obj, 0, b.objOld!, 0, b.obj.size);
    const pass = enc.beginComputePass({ label: 'partition object partials' });
    this.engine.encodeObject(pass);
    if (this.overlapPixels > 0) {
      pass.setPipeline(this.pack.pipe);
      pass.setBindGroup(0, this.pack.group);
      pass.dispatchWorkgroups(this.pack.grid[0], this.pack.grid[1]);
    }
    pass.end();
  }

  /** Submits `enc` and reads `bytes` bytes of the staging buffer back. */
  private async submitAndRead(enc: GPUCommandEncoder, bytes: number, what: string): Promise<Float32Array> {
    this.ctx.queue.submit([enc.finish()]);
    try {
      const out = await this.ctx.settle(async () => {
        await this.staging.mapAsync(GPUMapMode.READ, 0, Math.max(4, bytes));
        const data = new Float32Array(this.staging.getMappedRange(0, Math.max(4, bytes)).slice(0, bytes));
        this.staging.unmap();
        return data;
      });
      this.ctx.throwIfFailed(what);
      return out;
    } catch (err) {
      this.ctx.throwIfFailed(what);
      throw err;
    }
  }

  private alive(): void {
    if (this.destroyed) throw new Error('DmPartition used after destroy()');
  }

  /**
   * Exit waves, Fourier update, inverse FFT, then the object's partial sums (with the O → O_old
   * snapshot first when `snapshotObject`). Returns this partition's frame errors and its packed
   * overlap partials (pixels × (num.re, num.im, den), overlaps in ascending device order).
   */
  async beginIteration(snapshotObject: boolean): Promise<{ frameErrors: Float32Array; overlap: Float32Array }> {
    this.alive();
    const enc = this.ctx.device.createCommandEncoder({ label: 'partition iteration' });
    this.engine.encodeExitWaves(enc);
    this.encodeObjectPartials(enc, snapshotObject);
    const errBytes = this.n * 4;
    const ovBytes = this.overlapPixels * OVERLAP_PIXEL_BYTES;
    enc.copyBufferToBuffer(this.engine.gpuBuffers.err, 0, this.staging, 0, errBytes);
    if (ovBytes > 0) enc.copyBufferToBuffer(this.packed, 0, this.staging, errBytes, ovBytes);
    const all = await this.submitAndRead(enc, errBytes + ovBytes, `difference-map iteration (device ${this.index + 1})`);
    return { frameErrors: all.slice(0, this.n), overlap: all.slice(this.n) };
  }

  /** Another inner iteration's object partial sums (the overlaps, as beginIteration returns them). */
  async objectPartials(snapshotObject: boolean): Promise<Float32Array> {
    this.alive();
    const enc = this.ctx.device.createCommandEncoder({ label: 'partition object partials' });
    this.encodeObjectPartials(enc, snapshotObject);
    const ovBytes = this.overlapPixels * OVERLAP_PIXEL_BYTES;
    if (ovBytes > 0) enc.copyBufferToBuffer(this.packed, 0, this.staging, 0, ovBytes);
    return this.submitAndRead(enc, ovBytes, `object update (device ${this.index + 1})`);
  }

  /**
   * Takes the other devices' overlap partials (this device's import layout: its overlaps in
   * ascending device order, each as the other device packed it), finalises the window's object,
   * optionally brings the residual up to date (`deltaObject`), and, with `probe`, computes and
   * returns this device's probe partial sums ([modes·h·w complex numerator, then denominator]).
   */
  async applyObject(imports: Float32Array, next: { deltaObject: boolean; probe?: { fused: boolean; snapshotProbe: boolean } }): Promise<Float32Array | undefined> {
    this.alive();
    if (imports.length !== 3 * this.overlapPixels) throw new Error(`partition ${this.index}: expected ${3 * this.overlapPixels} overlap floats, got ${imports.length}`);
    if (imports.length > 0) this.ctx.queue.writeBuffer(this.objImport, 0, imports.buffer, imports.byteOffset, imports.byteLength);
    const b = this.engine.gpuBuffers;
    const enc = this.ctx.device.createCommandEncoder({ label: 'partition object reduce' });
    let pass = enc.beginComputePass({ label: 'partition object reduce' });
    pass.setPipeline(this.reduceObj.pipe);
    pass.setBindGroup(0, this.reduceObj.group);
    pass.dispatchWorkgroups(this.reduceObj.grid[0], this.reduceObj.grid[1]);
    if (next.deltaObject) this.engine.encodeDelta(pass, 'object');
    if (!next.probe) {
      pass.end();
      this.ctx.queue.submit([enc.finish()]);
      return undefined;
    }
    if (next.probe.snapshotProbe) {
      pass.end();
      enc.copyBufferToBuffer(b.probe, 0, b.probeOld!, 0, b.probe.size);
      pass = enc.beginComputePass({ label: 'partition probe partials' });
    }
    this.engine.encodeProbe(pass, next.probe.fused);
    pass.end();
    if (this.parts === 1) {
      // Nothing to exchange: the probe partials stay on the device for applyProbe.
      this.ctx.queue.submit([enc.finish()]);
      return new Float32Array(0);
    }
    const numBytes = (this.probeFloats / 3) * 8;
    enc.copyBufferToBuffer(b.prNum, 0, this.staging, 0, numBytes);
    enc.copyBufferToBuffer(b.prDen, 0, this.staging, numBytes, numBytes / 2);
    return this.submitAndRead(enc, this.probeFloats * 4, `probe update (device ${this.index + 1})`);
  }

  /**
   * Takes the other devices' probe partials ((parts − 1) blocks as applyObject returns them, in
   * ascending device order without this one), finalises the probe and optionally brings the
   * residual up to date (`deltaProbe`). Submits without waiting.
   */
  async applyProbe(imports: Float32Array, deltaProbe: boolean): Promise<void> {
    this.alive();
    if (imports.length !== (this.parts - 1) * this.probeFloats) throw new Error(`partition ${this.index}: expected ${(this.parts - 1) * this.probeFloats} probe floats, got ${imports.length}`);
    if (imports.length > 0) this.ctx.queue.writeBuffer(this.probeImport, 0, imports.buffer, imports.byteOffset, imports.byteLength);
    const enc = this.ctx.device.createCommandEncoder({ label: 'partition probe reduce' });
    const pass = enc.beginComputePass({ label: 'partition probe reduce' });
    pass.setPipeline(this.reducePr.pipe);
    pass.setBindGroup(0, this.reducePr.group);
    pass.dispatchWorkgroups(this.reducePr.grid[0], this.reducePr.grid[1]);
    if (deltaProbe) this.engine.encodeDelta(pass, 'probe');
    pass.end();
    this.ctx.queue.submit([enc.finish()]);
  }

  /** The window's object, interleaved complex [rows, cols]. */
  async readObject(): Promise<Float32Array> {
    this.alive();
    return (await this.engine.readObject()).data;
  }

  /** The probe, interleaved complex [modes, h, w]. */
  async readProbe(): Promise<Float32Array> {
    this.alive();
    return (await this.engine.readProbe()).data;
  }

  /** Releases this partition's GPU buffers (the context stays open). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.engine.destroy();
    for (const buf of [this.rectTable, this.packed, this.objImport, this.probeImport, this.staging, ...this.uniforms]) buf.destroy();
  }
}
