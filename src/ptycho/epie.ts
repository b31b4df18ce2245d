/**
 * ePIE and rPIE on the GPU (shaders/ptycho/epie.wgsl): SEQUENTIAL over the frames in a seeded
 * random order that changes every iteration, exactly as the published algorithms run, not a
 * batched approximation. One iteration is one submit of n chains of small dispatches (view,
 * FFT, modulus, inverse FFT, maxima, probe step, object step, step counter) and one await for
 * the errors.
 *
 * Sub-pixel positions: each view is the bilinear view S_j O of shaders/ptycho/sample.wgsl (the
 * operator DM/RAAR and the simulator use) and the object update applies its adjoint S_jᵀ, as a
 * race-free gather over the frame's (h+1)×(w+1) footprint. `subpixel: false` rounds positions to
 * whole pixels (then S_j is an exact sub-array).
 *
 * Restrictions (documented): one probe mode; all frames must fit one storage binding (DM/RAAR
 * chunk them).
 */
import type { GpuContext } from '../gpu/context.js';
import { Fft2dPlan } from '../fft/plan.js';
import { UniformWriter } from '../gpu/dispatch.js';
import { InputError } from '../core/errors.js';
import type { ComplexArray } from '../core/array.js';
import { type PtychoDataset, validateDataset } from './dataset.js';
import { type ScanGeometry, packPositions, scanGeometry, seededPermutation } from './scan.js';
import { hasFractions, initialProbeModes, readFrameErrors } from './engine.js';

/** Options of the ePIE engine. */
export interface EpieEngineOptions {
  /** Object step α (default 1). */
  alpha?: number;
  /** Probe step β (default 1). */
  probeStep?: number;
  /** rPIE mixing γ in (0, 1]: denominators (1 − γ)|P|² + γ max|P|²; 1 = ePIE (default). */
  rpie?: number;
  /** Seed of the random frame order (default 1); iteration k uses seed + k. */
  seed?: number;
  /** Keep sub-pixel positions (bilinear views, default true); false rounds them to whole pixels. */
  subpixel?: boolean;
  /** Margin in pixels around the scanned field (default 2). */
  margin?: number;
  /** Scale the initial probe to the measured power (default true). */
  scaleProbe?: boolean;
  /** Initial object (default ones). */
  initialObject?: ComplexArray;
}

const WG = 256;
type Entry = 'epie_view' | 'epie_modulus' | 'epie_max' | 'epie_step' | 'epie_object' | 'epie_advance';
const BINDINGS: Record<Entry, number[]> = {
  epie_view: [0, 1, 2, 3, 4, 5, 6, 7],
  epie_modulus: [0, 1, 2, 6, 8, 9, 10],
  epie_max: [0, 1, 5, 7],
  epie_step: [0, 1, 2, 3, 4, 5, 6, 7],
  epie_object: [0, 1, 2, 3, 4, 6],
  epie_advance: [1],
};

/** The scan geometry ePIE uses: the dataset's positions (rounded with `subpixel: false`) shifted into the object. */
function epieGeometry(dataset: PtychoDataset, options: EpieEngineOptions): ScanGeometry {
  const positions = options.subpixel === false ? Float64Array.from(dataset.positions, Math.round) : new Float64Array(dataset.positions);
  return scanGeometry(positions, [dataset.shape[1], dataset.shape[2]], options.margin ?? 2, dataset.source);
}

/** A sequential ePIE/rPIE reconstruction on the GPU (same life cycle as DmEngine). */
export class EpieEngine {
  readonly geometry: ScanGeometry;
  readonly n: number;
  /** True when some (shifted) position has a fractional part: bilinear views and the gathered adjoint; false: whole-pixel views. */
  readonly subpixel: boolean;
  private readonly hw: number;
  private readonly h: number;
  private readonly w: number;
  private readonly own: GPUBuffer[] = [];
  private readonly obj: GPUBuffer;
  private readonly probe: GPUBuffer;
  private readonly wave: GPUBuffer;
  private readonly view: GPUBuffer;
  private readonly state: GPUBuffer;
  private readonly order: GPUBuffer;
  private readonly err: GPUBuffer;
  private readonly errStaging: GPUBuffer;
  private readonly groups: Record<Entry, GPUBindGroup>;
  private readonly groupsNoProbe: GPUBindGroup;
  private iteration = 0;
  private readonly seed: number;
  private destroyed = false;

  private constructor(private readonly ctx: GpuContext, dataset: PtychoDataset, options: EpieEngineOptions, private readonly pipes: Record<Entry, GPUComputePipeline>, private readonly plan: Fft2dPlan) {
    const [n, h, w] = dataset.shape;
    this.n = n;
    this.h = h;
    this.w = w;
    this.hw = h * w;
    this.seed = options.seed ?? 1;
    this.geometry = epieGeometry(dataset, options);
    this.subpixel = hasFractions(this.geometry.positions);
    const [rows, cols] = this.geometry.objectShape;
    const keep = (b: GPUBuffer) => (this.own.push(b), b);
    const mag = keep(ctx.upload(dataset.frames, 'epie amplitudes')); // √I in place by prepareAmplitudes
    const maskF = new Float32Array(this.hw).fill(1);
    if (dataset.mask) for (let i = 0; i < this.hw; i++) maskF[i] = dataset.mask[i] ? 1 : 0;
    const maskSum = maskF.reduce((a, b) => a + b, 0);
    const mask = keep(ctx.upload(maskF, 'epie mask'));
    const pos = keep(ctx.upload(new Uint8Array(packPositions(this.geometry.positions)), 'epie positions'));
    if (options.initialObject) {
      const s = options.initialObject.shape;
      if (s[0] !== rows || s[1] !== cols) throw new InputError(`the initial object is [${s.join(', ')}] but the scan needs [${rows}, ${cols}]`, dataset.source);
      this.obj = keep(ctx.upload(options.initialObject.data, 'epie object'));
    } else {
      const ones = new Float32Array(2 * rows * cols);
      for (let i = 0; i < ones.length; i += 2) ones[i] = 1;
      this.obj = keep(ctx.upload(ones, 'epie object'));
    }
    this.probe = keep(ctx.upload(initialProbeModes(dataset, 1, options.scaleProbe ?? true), 'epie probe'));
    this.wave = keep(ctx.createStorage(this.hw * 8, 'epie wave'));
    const view = keep(ctx.createStorage(this.hw * 8, 'epie view'));
    this.view = view;
    this.state = keep(ctx.createStorage(16, 'epie state'));
    this.order = keep(ctx.createStorage(n * 4, 'epie order'));
    this.err = keep(ctx.createStorage(n * 4, 'epie errors'));
    this.errStaging = keep(ctx.device.createBuffer({ size: Math.max(16, n * 4), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'epie errors staging' }));
    const gamma = options.rpie ?? 1;
    if (!(gamma > 0 && gamma <= 1)) throw new InputError(`rPIE γ must be in (0, 1], got ${gamma}`, '--rpie');
    const params = (probeOn: number) => keep(ctx.uniform(new UniformWriter(12).u32(this.hw).u32(w).u32(cols).u32(probeOn).f32(options.alpha ?? 1).f32(options.probeStep ?? 1).f32(gamma).f32(1 / maskSum).u32(h).u32(0).u32(0).u32(0).buffer, 'epie params'));
    const pOn = params(1), pOff = params(0);
    const all = (u: GPUBuffer): GPUBuffer[] => [u, this.state, this.order, pos, this.obj, this.probe, this.wave, view, mag, mask, this.err];
    const bind = (entry: Entry, u: GPUBuffer) => ctx.device.createBindGroup({
      label: entry,
      layout: pipes[entry].getBindGroupLayout(0),
      entries: BINDINGS[entry].map((b) => ({ binding: b, resource: { buffer: all(u)[b] } })),
    });
    this.groups = { epie_view: bind('epie_view', pOn), epie_modulus: bind('epie_modulus', pOn), epie_max: bind('epie_max', pOn), epie_step: bind('epie_step', pOn), epie_object: bind('epie_object', pOn), epie_advance: bind('epie_advance', pOn) };
    this.groupsNoProbe = bind('epie_step', pOff);
  }

  /** Validates, compiles and uploads. */
  static async create(ctx: GpuContext, dataset: PtychoDataset, options: EpieEngineOptions & { modes?: number } = {}): Promise<EpieEngine> {
    validateDataset(dataset);
    if ((options.modes ?? 1) !== 1) throw new InputError('ePIE runs with one probe mode; use --algorithm dm for mixed states', '--probe-modes');
    const [n, h, w] = dataset.shape;
    if (n * h * w * 4 > ctx.maxBinding) {
      throw new InputError(`ePIE binds all ${n} frames at once (${((n * h * w * 4) / 2 ** 20).toFixed(0)} MiB), more than this device's storage binding limit (${(ctx.maxBinding / 2 ** 20).toFixed(0)} MiB): use --algorithm dm or raar, which process frames in chunks`, dataset.source);
    }
    const pipes = {} as Record<Entry, GPUComputePipeline>;
    const SUBPIXEL = hasFractions(epieGeometry(dataset, options).positions) ? 1 : 0;
    for (const e of Object.keys(BINDINGS) as Entry[]) pipes[e] = await ctx.pipelines.getChecked({ shader: 'ptycho/epie.wgsl', entry: e, constants: { WG, SUBPIXEL } });
    const prep = await ctx.pipelines.getChecked({ shader: 'ptycho/prepare.wgsl', entry: 'sqrt_inplace', constants: { WG } });
    const plan = await Fft2dPlan.create(ctx, { height: h, width: w, batch: 1 });
    const engine = await ctx.checked('setting up ePIE', () => new EpieEngine(ctx, dataset, options, pipes, plan));
    engine.prepareAmplitudes(prep);
    return engine;
  }

  private prepareAmplitudes(prep: GPUComputePipeline): void {
    // The magnitude buffer is the first one created (own[0]).
    const mag = this.own[0];
    const total = this.n * this.hw;
    const chunk = Math.floor(this.ctx.maxBinding / 4 / 65536) * 65536;
    const enc = this.ctx.device.createCommandEncoder({ label: 'epie prepare' });
    const pass = enc.beginComputePass();
    for (let off = 0; off < total; off += chunk) {
      const len = Math.min(chunk, total - off);
      const u = this.ctx.uniform(new UniformWriter(4).u32(len).buffer, 'prep params');
      this.own.push(u);
      pass.setPipeline(prep);
      pass.setBindGroup(0, this.ctx.bind(prep, [u, { buffer: mag, offset: off * 4, size: len * 4 }]));
      const groups = Math.ceil(len / WG);
      const gy = Math.ceil(groups / 65535);
      pass.dispatchWorkgroups(Math.ceil(groups / gy), gy);
    }
    pass.end();
    this.ctx.queue.submit([enc.finish()]);
  }

  /** One pass over all frames in a fresh seeded random order. Returns the mean Fourier error (of each frame before its update). */
  async iterate(updateProbe: boolean): Promise<{ error: number; frameErrors: Float32Array }> {
    if (this.destroyed) throw new Error('EpieEngine used after destroy()');
    const ctx = this.ctx;
    ctx.queue.writeBuffer(this.order, 0, seededPermutation(this.n, this.seed + this.iteration) as Uint32Array<ArrayBuffer>);
    ctx.queue.writeBuffer(this.state, 0, new Uint32Array(4));
    this.iteration++;
    const enc = ctx.device.createCommandEncoder({ label: 'epie iteration' });
    const pass = enc.beginComputePass({ label: 'epie iteration' });
    const g = this.groups;
    const px = Math.ceil(this.hw / WG);
    const footprint = Math.ceil(((this.h + 1) * (this.w + 1)) / WG);
    for (let k = 0; k < this.n; k++) {
      pass.setPipeline(this.pipes.epie_view);
      pass.setBindGroup(0, g.epie_view);
      pass.dispatchWorkgroups(px);
      this.plan.encode(pass, this.wave, 'forward');
      pass.setPipeline(this.pipes.epie_modulus);
      pass.setBindGroup(0, g.epie_modulus);
      pass.dispatchWorkgroups(1);
      this.plan.encode(pass, this.wave, 'inverse');
      pass.setPipeline(this.pipes.epie_max);
      pass.setBindGroup(0, g.epie_max);
      pass.dispatchWorkgroups(1);
      pass.setPipeline(this.pipes.epie_step);
      pass.setBindGroup(0, updateProbe ? g.epie_step : this.groupsNoProbe);
      pass.dispatchWorkgroups(px);
      if (this.subpixel) {
        pass.setPipeline(this.pipes.epie_object);
        pass.setBindGroup(0, g.epie_object);
        pass.dispatchWorkgroups(footprint);
      }
      pass.setPipeline(this.pipes.epie_advance);
      pass.setBindGroup(0, g.epie_advance);
      pass.dispatchWorkgroups(1);
    }
    pass.end();
    enc.copyBufferToBuffer(this.err, 0, this.errStaging, 0, this.n * 4);
    ctx.queue.submit([enc.finish()]);
    return readFrameErrors(ctx, this.errStaging, this.n, 'ePIE iteration');
  }

  /** @internal The engine's GPU buffers (tests poison scratch and output buffers through them). */
  get gpuBuffers(): { obj: GPUBuffer; probe: GPUBuffer; wave: GPUBuffer; view: GPUBuffer; err: GPUBuffer } {
    return { obj: this.obj, probe: this.probe, wave: this.wave, view: this.view, err: this.err };
  }

  /** The object [rows, cols] (complex). */
  async readObject(): Promise<ComplexArray> {
    const [rows, cols] = this.geometry.objectShape;
    return { data: await this.ctx.readF32(this.obj, 2 * rows * cols), shape: [rows, cols], complex: true };
  }

  /** The probe [h, w] (complex). */
  async readProbe(): Promise<ComplexArray> {
    return { data: await this.ctx.readF32(this.probe, 2 * this.hw), shape: [this.h, this.w], complex: true };
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of this.own) b.destroy();
    this.plan.destroy();
  }
}
