/**
 * The difference-map family on the GPU: DM (Thibault et al. 2008/2009) and RAAR (Luke 2005)
 * share one kernel set (shaders/ptycho/*.wgsl), with mixed-state probes and sub-pixel positions.
 *
 * One iteration, all frames, one submit and one await (the per-frame Fourier errors):
 *   1–2. X_j = F(P_m · S_j O)                  (fft_rows_model.wgsl: the model computed in the
 *                                               loads of the FFT row pass, then the plan's
 *                                               column pass, src/fft/plan.ts)
 *   3. Ψ_j ← a·Ψ_j + b·X_j + c·Π_F((1+α)X_j − αΨ_j), x_j ← Ψ_j (or Ψ_j − X_j), Fourier error
 *      of X_j                                  (fourier_update.wgsl; exit waves are kept in
 *                                               Fourier space, which F's linearity allows)
 *   4. x_j ← F⁻¹ x_j: the exit waves ψ_j, or the overlap residual D_j = ψ_j − P·S_j O
 *   5. overlap projection, `inner` times: object from ψ (or D) and P (a gather over each object
 *      tile's frame list: race-free and deterministic), then the probe from ψ (or D) and O once
 *      probe updates have started (object_update.wgsl; probe_sums.wgsl over groups of frames, then
 *      probe_update.wgsl adds the groups; residual form:
 *      D kept current by probe_times_view.wgsl delta_object/delta_probe).
 *
 * Parametrisation ψ' = a·ψ + b·Π_O ψ + c·Π_F((1+α)Π_O ψ − αψ):
 *   DM:       a = 1, b = −1, c = 1, α = β (β = 1: the classic DM, ψ' = ψ + Π_F(2Π_Oψ − ψ) − Π_Oψ);
 *   RAAR(β):  a = β, b = 1 − 2β, c = β, α = 1.
 *
 * Scaling: the FFT is unscaled forward (Σ|Fψ|² = h·w·Σ|ψ|²), so intensities I = |F(P·O_j)|²;
 * the Fourier error is the mean over frames of Σ_k m_k(|F(P·O_j)|_k − √I_jk)² / Σ_k m_k.
 *
 * GPU resources are created once in the constructor and reused; nothing is allocated per
 * iteration. Frames are processed in chunks that fit one storage binding.
 */
import type { GpuContext } from '../gpu/context.js';
import { grid1d, UniformWriter } from '../gpu/dispatch.js';
import type { KernelTimer } from '../gpu/timing.js';
import { Fft2dPlan, fftPassSpec } from '../fft/plan.js';
import { InputError } from '../core/errors.js';
import type { ComplexArray } from '../core/array.js';
import { type DatasetSummary, type PtychoDataset, meanFrameSum, validateDataset } from './dataset.js';
import { type ScanGeometry, packPositions, scanGeometry, tileFrameLists, frameChunks } from './scan.js';
import { probeGuess } from './probe.js';

/** Which member of the difference-map family to run. */
export type DmVariant = 'dm' | 'raar';

/** Coefficients of ψ' = a·ψ + b·Π_O ψ + c·Π_F((1+α)Π_O ψ − αψ). */
export interface DmCoefficients {
  a: number;
  b: number;
  c: number;
  alpha: number;
}

/** The (a, b, c, α) of DM (β = α, default 1) or RAAR(β) (default 0.9; β = 1 is DM). */
export function dmCoefficients(variant: DmVariant, beta?: number): DmCoefficients {
  if (variant === 'raar') {
    const b = beta ?? 0.9;
    return { a: b, b: 1 - 2 * b, c: b, alpha: 1 };
  }
  return { a: 1, b: -1, c: 1, alpha: beta ?? 1 };
}

/** Options of the difference-map engine. */
export interface DmEngineOptions {
  /** 'dm' (default) or 'raar'. */
  variant?: DmVariant;
  /** DM: α of the reflection (default 1); RAAR: β (default 0.9). */
  beta?: number;
  /** Incoherent probe modes (default 1). */
  modes?: number;
  /** Object/probe alternations per overlap projection (default 1). */
  innerIterations?: number;
  /** Object inertia c_O as a fraction of the mean overlap denominator n·Σ|P|²/(object pixels) (default 0.01). */
  objectInertia?: number;
  /** Probe inertia c_P as a fraction of the frame count n (default 0.01). */
  probeInertia?: number;
  /** Keep sub-pixel positions (bilinear views, default true); false rounds them to whole pixels. */
  subpixel?: boolean;
  /**
   * Overlap projection in residual form (exact least squares for bilinear views): the Fourier
   * update hands over Ψ' − X, whose inverse FFT is the residual D = ψ' − P·S_j O, and D is kept
   * current after each half-step by one incremental pass (D −= P·S_jΔO, D −= ΔP·S_jO). Default:
   * on when some position has a fractional part, off for whole-pixel scans (where the closed form
   * is exact and needs no incremental pass).
   */
  exactOverlap?: boolean;
  /** Margin in pixels around the scanned field (default 2). */
  margin?: number;
  /**
   * Fourier power bound: a frame whose mean squared amplitude deviation per good pixel,
   * Σ m(|Φ| − √I)²/Σ m, is at most this is left alone; above it the modulus projection is relaxed
   * to meet the bound (as PtyPy's fourier_relax_factor). 0.25 is the Poisson floor of counting
   * data. Default 'auto': 0.25 when every intensity is a whole number (photon counts), none otherwise
   * (noise-free simulations).
   */
  powerBound?: number | 'auto' | 'none';
  /** Clip the object amplitude to at most this after each object update (e.g. 1 for a transmission object); default off. */
  objectAmplitudeMax?: number;
  /** Probe support: radius in pixels of a disc around the frame centre outside which the probe is set to zero at each probe update; default off. */
  probeSupport?: number;
  /** Caps the bytes of one storage binding (default: the device's limit); used to test chunking. */
  maxBindingBytes?: number;
  /** Initial object [rows, cols] (default ones); must match the scan geometry. */
  initialObject?: ComplexArray;
  /** Scale the initial probe so h·w·Σ|P|² equals the mean frame sum (default true). */
  scaleProbe?: boolean;
  /** @internal The FFT plan's skewed workgroup-memory layout (Fft2dOptions.skew; default: on GPUs); for tests. */
  fftSkew?: boolean;
  /** FFT lane passes (Fft2dOptions.lanes; default fftLanesByDefault: WEBRECON_FFT_LANES=1 on a software adapter). For tests and tuning. */
  fftLanes?: boolean;
  /** @internal The exit-wave model fused into the FFT row pass (default: on GPUs; never with lane passes); for tests. */
  fusedModel?: boolean;
}

/**
 * Object tile side of the gather (one workgroup per TILE×TILE block): small tiles waste fewer
 * frame visits (4×4 measured 1.6× faster than 16×16 on lavapipe); hardware GPUs want ≥ 256
 * invocations per workgroup.
 */
export function objectTile(ctx: GpuContext): number {
  return ctx.info.software ? 4 : 16;
}

/** Invocations per frame in the Fourier update (64 measured a little faster than 256 on lavapipe). */
function fourierWorkgroup(ctx: GpuContext): number {
  return ctx.info.software ? 64 : 256;
}
const WG_VIEW = 64;
const WG_PROBE = 64;
const WG_PREP = 256;

/** Most partial sums the probe step keeps per chunk (groups × modes·h·w; 2^22 × 16 bytes = 64 MiB). */
const PROBE_PARTIALS = 2 ** 22;
/** Fewest frames one probe-sum invocation adds. */
const MIN_FRAMES_PER_GROUP = 32;

/**
 * @internal How the probe step splits a chunk of `frames` frames for `elements` = modes·h·w
 * probe elements: `groups` groups of `perGroup` consecutive frames (the last may hold fewer),
 * each summed by its own invocations (probe_sums.wgsl), then added in group order
 * (probe_update.wgsl). Depends only on the sizes, so every device computes the same sums.
 */
export function probeFrameGroups(frames: number, elements: number): { groups: number; perGroup: number } {
  const maxGroups = Math.max(1, Math.floor(PROBE_PARTIALS / elements));
  const perGroup = Math.max(MIN_FRAMES_PER_GROUP, Math.ceil(frames / maxGroups));
  return { groups: Math.ceil(frames / perGroup), perGroup };
}

/**
 * @internal How a partition of a multi-device run (src/ptycho/partition.ts) sets up its engine:
 * its own window of the object (local positions and shape), the global initial probe and inertia,
 * and partial mode, in which the overlap-projection kernels only store their sums (num/den) for
 * the all-reduce instead of finalising the object and probe.
 */
export interface DmEngineLayout {
  /** The window's geometry: positions relative to the window, objectShape = the window's shape. */
  geometry: ScanGeometry;
  /** The initial probe modes (interleaved complex [modes, h, w]) of the whole scan. */
  probe: Float32Array;
  /** c_O and c_P of the whole scan. */
  inertia: { object: number; probe: number };
  /** Always true (the power bound, resolved over the whole scan, goes in options.powerBound). */
  partial: true;
}

interface Chunk {
  first: number;
  end: number;
  view: GPUBindGroup;
  /** Fused model + FFT row pass and its dispatch size (absent where the model runs on its own: software adapters, lane passes). */
  rowsModel?: { group: GPUBindGroup; dispatch: [number, number] };
  deltaObject?: GPUBindGroup;
  deltaProbe?: GPUBindGroup;
  fourier: GPUBindGroup;
  object: GPUBindGroup;
  /** Probe half-step: partial sums over groups of frames (probe_sums.wgsl), then their sum and the update. */
  probeSums: GPUBindGroup;
  /** Partial sums fused with the residual update of the object half-step (residual form). */
  probeSumsFused?: GPUBindGroup;
  probe: GPUBindGroup;
  /** Frame groups of the probe sums. */
  probeGroups: number;
  tilesX: number;
  tilesY: number;
  buffers: GPUBuffer[];
}

/**
 * A difference-map (DM/RAAR) reconstruction on the GPU. Create, call {@link iterate} as often
 * as wanted, read {@link readObject}/{@link readProbe}, then {@link destroy}.
 */
export class DmEngine {
  readonly geometry: ScanGeometry;
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly modes: number;
  readonly coefficients: DmCoefficients;
  readonly innerIterations: number;
  /** The power bound in use (undefined: none). */
  readonly powerBound: number | undefined;
  /** True when the overlap projection runs in residual form (see DmEngineOptions.exactOverlap). */
  readonly exactOverlap: boolean;
  /** c_O and c_P as used. */
  readonly inertia: { object: number; probe: number };
  private readonly hw: number;
  private readonly plan: Fft2dPlan;
  private readonly chunks: Chunk[] = [];
  private readonly own: GPUBuffer[] = [];
  private readonly obj: GPUBuffer;
  private readonly probe: GPUBuffer;
  private readonly x: GPUBuffer;
  private readonly psi: GPUBuffer;
  /** Object and probe before the current half-step (residual form only). */
  private readonly objOld?: GPUBuffer;
  private readonly probeOld?: GPUBuffer;
  private readonly err: GPUBuffer;
  private readonly errStaging: GPUBuffer;
  /** Running sums of the overlap projection (object and probe numerators and denominators). */
  private readonly objNum: GPUBuffer;
  private readonly objDen: GPUBuffer;
  private readonly prNum: GPUBuffer;
  private readonly prDen: GPUBuffer;
  private readonly pipes: Record<'view' | 'deltaObject' | 'deltaProbe' | 'fourier' | 'object' | 'probeSums' | 'probeSumsFused' | 'probe' | 'prep', GPUComputePipeline> & { rowsModel?: GPUComputePipeline };
  private started = false;
  private destroyed = false;
  /** A partition's engine (DmEngineLayout): its kernels never finalise, so only DmPartition may drive it. */
  private readonly partial: boolean;

  private constructor(private readonly ctx: GpuContext, dataset: PtychoDataset, options: DmEngineOptions, pipes: DmEngine['pipes'], plan: Fft2dPlan, probe0: Float32Array, layout?: DmEngineLayout) {
    const [n, h, w] = dataset.shape;
    this.n = n;
    this.h = h;
    this.w = w;
    this.hw = h * w;
    this.modes = options.modes ?? (dataset.probe && dataset.probe.shape.length === 3 ? dataset.probe.shape[0] : 1);
    this.coefficients = dmCoefficients(options.variant ?? 'dm', options.beta);
    this.innerIterations = options.innerIterations ?? 1;
    this.pipes = pipes;
    this.plan = plan;
    this.partial = layout?.partial ?? false;
    const positions = new Float64Array(dataset.positions);
    if (options.subpixel === false) for (let i = 0; i < positions.length; i++) positions[i] = Math.round(positions[i]);
    this.geometry = layout?.geometry ?? scanGeometry(positions, [h, w], options.margin ?? 2, dataset.source);
    this.exactOverlap = options.exactOverlap ?? hasFractions(this.geometry.positions);
    const [rows, cols] = this.geometry.objectShape;
    const hw = this.hw;
    const M = this.modes;

    // --- data: amplitudes and mask
    const mag = this.keep(ctx.upload(dataset.frames, 'ptycho amplitudes'));
    const maskF = new Float32Array(hw).fill(1);
    if (dataset.mask) for (let i = 0; i < hw; i++) maskF[i] = dataset.mask[i] ? 1 : 0;
    let maskSum = 0;
    for (const v of maskF) maskSum += v;
    const mask = this.keep(ctx.upload(maskF, 'ptycho mask'));
    const pos = this.keep(ctx.upload(new Uint8Array(packPositions(this.geometry.positions)), 'ptycho positions'));

    // --- model: object, probe, exit waves
    this.probe = this.keep(ctx.upload(probe0, 'ptycho probe'));
    if (options.initialObject) {
      const s = options.initialObject.shape;
      if (s[0] !== rows || s[1] !== cols) throw new InputError(`the initial object is [${s.join(', ')}] but the scan needs [${rows}, ${cols}]`, dataset.source);
      this.obj = this.keep(ctx.upload(options.initialObject.data, 'ptycho object'));
    } else {
      const ones = new Float32Array(2 * rows * cols);
      for (let i = 0; i < ones.length; i += 2) ones[i] = 1;
      this.obj = this.keep(ctx.upload(ones, 'ptycho object'));
    }
    const waveBytes = n * M * hw * 8;
    this.x = this.keep(ctx.createStorage(waveBytes, 'ptycho x'));
    this.psi = this.keep(ctx.createStorage(waveBytes, 'ptycho psi'));
    if (this.exactOverlap) {
      this.objOld = this.keep(ctx.createStorage(rows * cols * 8, 'ptycho previous object'));
      this.probeOld = this.keep(ctx.createStorage(M * hw * 8, 'ptycho previous probe'));
    }
    this.err = this.keep(ctx.createStorage(n * 4, 'ptycho errors'));
    this.errStaging = this.keep(ctx.device.createBuffer({ size: Math.max(16, n * 4), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'ptycho errors staging' }));
    const objNum = (this.objNum = this.keep(ctx.createStorage(rows * cols * 8, 'ptycho object numerator')));
    const objDen = (this.objDen = this.keep(ctx.createStorage(rows * cols * 4, 'ptycho object denominator')));
    const prNum = (this.prNum = this.keep(ctx.createStorage(M * hw * 8, 'ptycho probe numerator')));
    const prDen = (this.prDen = this.keep(ctx.createStorage(M * hw * 4, 'ptycho probe denominator')));

    // --- constants
    let probePower = 0;
    for (let i = 0; i < probe0.length; i++) probePower += probe0[i] * probe0[i];
    this.inertia = layout?.inertia ?? {
      object: (options.objectInertia ?? 0.01) * (n * probePower) / (rows * cols),
      probe: (options.probeInertia ?? 0.01) * n,
    };
    const { a, b, c, alpha } = this.coefficients;
    // create() resolved and checked it: here it is a number or 'none'.
    const pbound = typeof options.powerBound === 'number' ? options.powerBound : undefined;
    this.powerBound = pbound;

    // --- chunks of frames that fit one binding
    const maxBinding = Math.min(ctx.maxBinding, options.maxBindingBytes ?? Infinity);
    const perChunk = Math.floor(maxBinding / (M * hw * 8));
    if (perChunk < 1) throw new InputError(`one frame of ${M} mode(s) × ${h}×${w} exceeds the device's storage binding limit`, dataset.source);
    const TILE = objectTile(ctx);
    const tilesX = Math.ceil(cols / TILE), tilesY = Math.ceil(rows / TILE);
    const ranges = frameChunks(n, perChunk);
    const maxGroups = Math.max(...ranges.map(([f, e]) => probeFrameGroups(e - f, M * hw).groups));
    const prPart = this.keep(ctx.createStorage(maxGroups * M * hw * 16, 'ptycho probe partial sums'));
    ranges.forEach(([first, end], ci) => {
      const count = end - first;
      const isFirst = ci === 0 ? 1 : 0;
      // Partial mode (a partition of a multi-device run): no chunk finalises; the sums stay in num/den.
      const isLast = ci === ranges.length - 1 && !layout ? 1 : 0;
      const bufs: GPUBuffer[] = [];
      const waves = (buf: GPUBuffer) => ({ buffer: buf, offset: first * M * hw * 8, size: count * M * hw * 8 });
      const viewU = ctx.uniform(new UniformWriter(4).u32(cols).u32(first).u32(count).u32(0).buffer, 'view params');
      const fourU = ctx.uniform(new UniformWriter(12).u32(hw).u32(first).u32(count).f32(alpha).f32(a).f32(b).f32(c).f32(pbound ?? 0).f32(1 / maskSum).u32(0).u32(0).u32(0).buffer, 'fourier params');
      const objU = ctx.uniform(new UniformWriter(12).u32(rows).u32(cols).u32(h).u32(w).u32(tilesX).u32(first).u32(isFirst).u32(isLast).f32(this.inertia.object).f32(options.objectAmplitudeMax ?? 0).u32(0).u32(0).buffer, 'object params');
      const groups = probeFrameGroups(count, M * hw);
      const sumsU = ctx.uniform(new UniformWriter(8).u32(cols).u32(first).u32(count).u32(groups.groups).u32(groups.perGroup).u32(0).u32(0).u32(0).buffer, 'probe sums params');
      const prU = ctx.uniform(new UniformWriter(8).u32(h).u32(w).u32(M).u32(groups.groups).u32(isFirst).u32(isLast).f32(this.inertia.probe).f32(options.probeSupport ?? 0).buffer, 'probe params');
      let rowsModel: Chunk['rowsModel'];
      if (pipes.rowsModel) {
        const rowGroups = (count * M * h) / plan.rowShape.lines;
        const fftU = ctx.uniform(new UniformWriter(4).u32(rowGroups).u32(0).u32(0).u32(0).buffer, 'fft rows params');
        const modelU = ctx.uniform(new UniformWriter(4).u32(cols).u32(first).u32(0).u32(0).buffer, 'model params');
        bufs.push(fftU, modelU);
        rowsModel = {
          group: ctx.bind(pipes.rowsModel, [fftU, waves(this.x), modelU, this.probe, this.obj, pos], 'model + fft rows'),
          dispatch: grid1d(rowGroups, 1, ctx.device.limits.maxComputeWorkgroupsPerDimension),
        };
      }
      const lists = tileFrameLists(this.geometry, TILE, first, end);
      const tStart = ctx.upload(lists.start, 'tile starts');
      const tFrames = ctx.upload(lists.frames, 'tile frames');
      bufs.push(viewU, fourU, objU, sumsU, prU, tStart, tFrames);
      const magRange = { buffer: mag, offset: first * hw * 4, size: count * hw * 4 };
      this.chunks.push({
        first,
        end,
        view: ctx.bind(pipes.view, [viewU, waves(this.x), this.probe, this.obj, pos], 'view'),
        rowsModel,
        fourier: ctx.bind(pipes.fourier, [fourU, waves(this.x), waves(this.psi), magRange, mask, this.err], 'fourier'),
        deltaObject: this.objOld ? ctx.bind(pipes.deltaObject, [viewU, waves(this.x), this.probe, this.obj, pos, this.objOld], 'delta object') : undefined,
        deltaProbe: this.probeOld ? ctx.bind(pipes.deltaProbe, [viewU, waves(this.x), this.probe, this.obj, pos, this.probeOld], 'delta probe') : undefined,
        object: ctx.bind(pipes.object, [objU, this.obj, this.probe, waves(this.x), pos, tStart, tFrames, objNum, objDen], 'object'),
        probeSums: ctx.bind(pipes.probeSums, [sumsU, this.obj, waves(this.x), pos, prPart], 'probe sums'),
        probeSumsFused: this.objOld ? ctx.bind(pipes.probeSumsFused, [sumsU, this.obj, waves(this.x), pos, prPart, this.probe, this.objOld], 'probe sums fused') : undefined,
        probe: ctx.bind(pipes.probe, [prU, this.probe, prPart, prNum, prDen], 'probe'),
        probeGroups: groups.groups,
        tilesX,
        tilesY,
        buffers: bufs,
      });
    });

    // --- amplitudes from intensities, in place, on the GPU
    const enc = ctx.device.createCommandEncoder({ label: 'ptycho prepare' });
    const pass = enc.beginComputePass({ label: 'ptycho prepare' });
    const maxPerDim = ctx.device.limits.maxComputeWorkgroupsPerDimension;
    for (let off = 0; off < n * hw; off += Math.floor(maxBinding / 4 / 256) * 256) {
      const len = Math.min(n * hw - off, Math.floor(maxBinding / 4 / 256) * 256);
      const u = this.keep(ctx.uniform(new UniformWriter(4).u32(len).buffer, 'prep params'));
      pass.setPipeline(pipes.prep);
      pass.setBindGroup(0, ctx.bind(pipes.prep, [u, { buffer: mag, offset: off * 4, size: len * 4 }]));
      const [gx, gy] = grid1d(len, WG_PREP, maxPerDim);
      pass.dispatchWorkgroups(gx, gy);
    }
    pass.end();
    ctx.queue.submit([enc.finish()]);
  }

  /** Validates the dataset, compiles the kernels and uploads everything. */
  static async create(ctx: GpuContext, dataset: PtychoDataset, options: DmEngineOptions = {}, layout?: DmEngineLayout): Promise<DmEngine> {
    const summary = validateDataset(dataset);
    const modes = options.modes ?? 1;
    if (!Number.isInteger(modes) || modes < 1 || modes > 16) throw new InputError(`probe modes must be an integer in 1..16, got ${modes}`, '--probe-modes');
    const [n, h, w] = dataset.shape;
    const exact = options.exactOverlap ?? (options.subpixel !== false && hasFractions(dataset.positions));
    const R = exact ? 1 : 0;
    const probe0 = layout?.probe ?? initialProbeModes(dataset, modes, options.scaleProbe ?? true, summary.meanFrameSum);
    const plan = await Fft2dPlan.create(ctx, { height: h, width: w, batch: n * modes, maxBindingBytes: options.maxBindingBytes, skew: options.fftSkew, lanes: options.fftLanes });
    // Resolved once here (validateDataset read whether every intensity is whole) and handed to the constructor as a number or 'none'.
    const bound = resolvePowerBound(options.powerBound, summary);
    const powerBound = bound !== undefined;
    const rowsSpec = fftPassSpec('rows', plan.rowShape, w, false, false, false);
    // The model fused into the row pass's loads saves a pass over the exit waves on GPUs. On a
    // software adapter the model on its own plus the plain row pass is faster (lavapipe, star DM:
    // 0.30 → 0.28 s), and lane passes never take it (see encodeExitModel).
    const fused = !plan.rowShape.lanes && (options.fusedModel ?? !ctx.info.software);
    const pipes = {
      view: await ctx.pipelines.getChecked({ shader: 'ptycho/probe_times_view.wgsl', entry: 'model', constants: { WG: WG_VIEW, MODES: modes, FRAME_H: h, FRAME_W: w } }),
      rowsModel: !fused ? undefined : await ctx.pipelines.getChecked({ ...rowsSpec, shader: 'ptycho/fft_rows_model.wgsl', entry: 'fft_rows_model', constants: { ...rowsSpec.constants, MODES: modes, FRAME_H: h } }),
      deltaObject: await ctx.pipelines.getChecked({ shader: 'ptycho/probe_times_view.wgsl', entry: 'delta_object', constants: { WG: WG_VIEW, MODES: modes, FRAME_H: h, FRAME_W: w } }),
      deltaProbe: await ctx.pipelines.getChecked({ shader: 'ptycho/probe_times_view.wgsl', entry: 'delta_probe', constants: { WG: WG_VIEW, MODES: modes, FRAME_H: h, FRAME_W: w } }),
      fourier: await ctx.pipelines.getChecked({ shader: 'ptycho/fourier_update.wgsl', entry: 'main', constants: { WG: fourierWorkgroup(ctx), POWER_BOUND: powerBound ? 1 : 0, X_OUT_DIFF: R, MODES: modes } }),
      object: await ctx.pipelines.getChecked({ shader: 'ptycho/object_update.wgsl', entry: 'main', constants: { TILE: objectTile(ctx), RESIDUAL: R, MODES: modes } }),
      probeSums: await ctx.pipelines.getChecked({ shader: 'ptycho/probe_sums.wgsl', entry: 'main', constants: { WG: WG_PROBE, MODES: modes, FRAME_H: h, FRAME_W: w } }),
      probeSumsFused: await ctx.pipelines.getChecked({ shader: 'ptycho/probe_sums.wgsl', entry: 'main_fused', constants: { WG: WG_PROBE, MODES: modes, FRAME_H: h, FRAME_W: w } }),
      probe: await ctx.pipelines.getChecked({ shader: 'ptycho/probe_update.wgsl', entry: 'main', constants: { WG: WG_PROBE, RESIDUAL: R } }),
      prep: await ctx.pipelines.getChecked({ shader: 'ptycho/prepare.wgsl', entry: 'sqrt_inplace', constants: { WG: WG_PREP } }),
    };
    return ctx.checked('setting up the difference map', () => new DmEngine(ctx, dataset, { ...options, modes, exactOverlap: exact, powerBound: bound ?? 'none' }, pipes, plan, probe0, layout));
  }

  private keep<T extends GPUBuffer>(b: T): T {
    this.own.push(b);
    return b;
  }

  /** Records X = F(P·S_j O): the fused model + row pass (GPUs; elsewhere the model, then the row pass), then the plan's column pass. */
  /** @internal */
  encodeExitModel(pass: GPUComputePassEncoder): void {
    const rowsModel = this.pipes.rowsModel;
    if (!rowsModel) {
      // Software adapters and lane passes: the model in its own pass, then the plain row pass.
      // (Fused into each of a lane line's 128 loads, LLVM took 97 s to compile the model.)
      this.encodeView(pass);
      this.plan.encodeAxis(pass, this.x, 'forward', 'rows');
    } else {
      const twiddles = this.plan.twiddleBindGroup(rowsModel);
      for (const c of this.chunks) {
        pass.setPipeline(rowsModel);
        pass.setBindGroup(0, c.rowsModel!.group);
        pass.setBindGroup(1, twiddles);
        pass.dispatchWorkgroups(c.rowsModel!.dispatch[0], c.rowsModel!.dispatch[1]);
      }
    }
    this.plan.encodeAxis(pass, this.x, 'forward', 'cols');
  }

  /** Records x = P·S_j O (the exit-wave model) into the exit-wave buffer. */
  private encodeView(pass: GPUComputePassEncoder): void {
    const maxPerDim = this.ctx.device.limits.maxComputeWorkgroupsPerDimension;
    for (const c of this.chunks) {
      pass.setPipeline(this.pipes.view);
      pass.setBindGroup(0, c.view);
      const [gx, gy] = grid1d((c.end - c.first) * this.hw, WG_VIEW, maxPerDim);
      pass.dispatchWorkgroups(gx, gy);
    }
  }

  /** Records the Fourier-space exit-wave update with the modulus projection and the errors. */
  /** @internal */
  encodeFourier(pass: GPUComputePassEncoder): void {
    for (const c of this.chunks) {
      pass.setPipeline(this.pipes.fourier);
      pass.setBindGroup(0, c.fourier);
      const [gx, gy] = grid1d(c.end - c.first, 1, this.ctx.device.limits.maxComputeWorkgroupsPerDimension);
      pass.dispatchWorkgroups(gx, gy);
    }
  }

  /** Records D −= P·S_j(O − O_old) ('object') or D −= (P − P_old)·S_j O ('probe'); residual form only. */
  /** @internal */
  encodeDelta(pass: GPUComputePassEncoder, which: 'object' | 'probe'): void {
    if (!this.exactOverlap) return;
    const maxPerDim = this.ctx.device.limits.maxComputeWorkgroupsPerDimension;
    for (const c of this.chunks) {
      pass.setPipeline(which === 'object' ? this.pipes.deltaObject : this.pipes.deltaProbe);
      pass.setBindGroup(0, which === 'object' ? c.deltaObject! : c.deltaProbe!);
      const [gx, gy] = grid1d((c.end - c.first) * this.hw, WG_VIEW, maxPerDim);
      pass.dispatchWorkgroups(gx, gy);
    }
  }

  /** Records the object half of the overlap projection. */
  /** @internal */
  encodeObject(pass: GPUComputePassEncoder): void {
    for (const c of this.chunks) {
      pass.setPipeline(this.pipes.object);
      pass.setBindGroup(0, c.object);
      pass.dispatchWorkgroups(c.tilesX, c.tilesY);
    }
  }

  /** Records the probe half of the overlap projection (`fused`: with the object step's residual update on the fly). */
  /** @internal */
  encodeProbe(pass: GPUComputePassEncoder, fused = false): void {
    const maxPerDim = this.ctx.device.limits.maxComputeWorkgroupsPerDimension;
    for (const c of this.chunks) {
      pass.setPipeline(fused ? this.pipes.probeSumsFused : this.pipes.probeSums);
      pass.setBindGroup(0, fused ? c.probeSumsFused! : c.probeSums);
      const [sx, sy] = grid1d(c.probeGroups * this.modes * this.hw, WG_PROBE, maxPerDim);
      pass.dispatchWorkgroups(sx, sy);
      pass.setPipeline(this.pipes.probe);
      pass.setBindGroup(0, c.probe);
      const [gx, gy] = grid1d(this.modes * this.hw, WG_PROBE, maxPerDim);
      pass.dispatchWorkgroups(gx, gy);
    }
  }

  /**
   * @internal Records the exit-wave half of an iteration in its own pass: Ψ = F(P·S_j O) first if
   * nothing ran yet, then X = F(P·S_j O), the Fourier update (and errors) and the inverse FFT, so
   * x holds ψ' (closed form) or D (residual form). The multi-device partitions use this.
   */
  encodeExitWaves(enc: GPUCommandEncoder): void {
    if (this.destroyed) throw new Error('DmEngine used after destroy()');
    this.encodeStart(enc);
    const pass = enc.beginComputePass({ label: 'dm exit waves' });
    this.encodeExitWaveStages(pass);
    pass.end();
  }

  /** Ψ = F(P·S_j O) to start from, once, before the first iteration (its own pass and a copy). */
  private encodeStart(enc: GPUCommandEncoder): void {
    if (this.started) return;
    const p0 = enc.beginComputePass({ label: 'dm start' });
    this.encodeExitModel(p0);
    p0.end();
    enc.copyBufferToBuffer(this.x, 0, this.psi, 0, this.x.size);
    this.started = true;
  }

  /** X = F(P·S_j O), the Fourier update, then x ← F⁻¹x: ψ' (closed form) or D = ψ' − P·S_j O (residual form). */
  private encodeExitWaveStages(pass: GPUComputePassEncoder): void {
    this.encodeExitModel(pass);
    this.encodeFourier(pass);
    this.plan.encode(pass, this.x, 'inverse');
  }

  /**
   * One iteration (one submit, one await). Returns the Fourier error of the model the iteration
   * started from (mean over frames of Σ m(|F(P·O_j)| − √I)² / Σ m) and the per-frame errors.
   */
  async iterate(updateProbe: boolean): Promise<{ error: number; frameErrors: Float32Array }> {
    if (this.destroyed) throw new Error('DmEngine used after destroy()');
    if (this.partial) throw new Error('this DmEngine is one partition of a multi-device run: DmPartition drives it');
    const ctx = this.ctx;
    const enc = ctx.device.createCommandEncoder({ label: 'dm iteration' });
    this.encodeStart(enc);
    let pass = enc.beginComputePass({ label: 'dm iteration' });
    this.encodeExitWaveStages(pass);
    // x now holds ψ' (closed form) or D = ψ' − P·S_j O (residual form).
    const inner = updateProbe || this.exactOverlap ? this.innerIterations : 1;
    for (let k = 0; k < inner; k++) {
      const more = k < inner - 1;
      if (this.exactOverlap && (updateProbe || more)) {
        pass.end();
        enc.copyBufferToBuffer(this.obj, 0, this.objOld!, 0, this.obj.size);
        pass = enc.beginComputePass({ label: 'dm overlap' });
      }
      this.encodeObject(pass);
      // Last half-step pair: the probe kernel applies the object step to D on the fly.
      const fuse = this.exactOverlap && updateProbe && !more;
      if ((updateProbe || more) && !fuse) this.encodeDelta(pass, 'object');
      if (updateProbe) {
        if (this.exactOverlap && more) {
          pass.end();
          enc.copyBufferToBuffer(this.probe, 0, this.probeOld!, 0, this.probe.size);
          pass = enc.beginComputePass({ label: 'dm overlap' });
        }
        this.encodeProbe(pass, fuse);
        if (more) this.encodeDelta(pass, 'probe');
      }
    }
    pass.end();
    enc.copyBufferToBuffer(this.err, 0, this.errStaging, 0, this.n * 4);
    ctx.queue.submit([enc.finish()]);
    return readFrameErrors(ctx, this.errStaging, this.n, 'difference-map iteration');
  }

  /** Stages of one iteration, for tests of single kernels. */
  static readonly STAGES = ['view', 'fft', 'model+fft', 'fourier', 'ifft', 'exit', 'object', 'probe', 'deltaObject', 'deltaProbe', 'probeFused'] as const;

  /**
   * @internal Runs the named stages once, in order, in one submit (tests of single kernels).
   * 'view': x = P·S_j O; 'fft'/'ifft': x ← F x / F⁻¹ x; 'model+fft': x = F(P·S_j O) (fused); 'fourier': the Fourier-space update of
   * psi (and x ← Ψ', or Ψ' − X in residual form); 'object'/'probe': one half of the overlap
   * projection from x (ψ in closed form, D in residual form); 'deltaObject'/'deltaProbe': the
   * incremental residual updates against the buffers `objOld`/`probeOld`.
   */
  async runStages(stages: ReadonlyArray<(typeof DmEngine.STAGES)[number]>, timer?: KernelTimer): Promise<void> {
    const enc = this.ctx.device.createCommandEncoder({ label: 'dm stages' });
    let pass = timer ? undefined as unknown as GPUComputePassEncoder : enc.beginComputePass({ label: 'dm stages' });
    for (const s of stages) {
      if (timer) pass = timer.beginPass(enc, s);
      if (s === 'view') this.encodeView(pass);
      else if (s === 'fft' || s === 'ifft') this.plan.encode(pass, this.x, s === 'fft' ? 'forward' : 'inverse');
      else if (s === 'model+fft') this.encodeExitModel(pass);
      else if (s === 'exit') this.encodeExitWaveStages(pass);
      else if (s === 'fourier') this.encodeFourier(pass);
      else if (s === 'deltaObject') this.encodeDelta(pass, 'object');
      else if (s === 'deltaProbe') this.encodeDelta(pass, 'probe');
      else if (s === 'probeFused') this.encodeProbe(pass, true);
      else if (s === 'object') this.encodeObject(pass);
      else this.encodeProbe(pass);
      if (timer) pass.end();
    }
    if (!timer) pass.end();
    else timer.resolve(enc);
    this.ctx.queue.submit([enc.finish()]);
    await this.ctx.finish('dm stages');
    if (timer) await timer.collect();
    this.started = true;
  }

  /** @internal The engine's GPU buffers (tests write inputs and poison outputs through them). */
  get gpuBuffers(): { x: GPUBuffer; psi: GPUBuffer; obj: GPUBuffer; probe: GPUBuffer; err: GPUBuffer; objOld?: GPUBuffer; probeOld?: GPUBuffer; objNum: GPUBuffer; objDen: GPUBuffer; prNum: GPUBuffer; prDen: GPUBuffer } {
    return { x: this.x, psi: this.psi, obj: this.obj, probe: this.probe, err: this.err, objOld: this.objOld, probeOld: this.probeOld, objNum: this.objNum, objDen: this.objDen, prNum: this.prNum, prDen: this.prDen };
  }

  /** The object [rows, cols] (complex). */
  async readObject(): Promise<ComplexArray> {
    const [rows, cols] = this.geometry.objectShape;
    return { data: await this.ctx.readF32(this.obj, 2 * rows * cols), shape: [rows, cols], complex: true };
  }

  /** The probe [h, w] for one mode, [modes, h, w] for several (complex). */
  async readProbe(): Promise<ComplexArray> {
    const data = await this.ctx.readF32(this.probe, 2 * this.modes * this.hw);
    return { data, shape: this.modes === 1 ? [this.h, this.w] : [this.modes, this.h, this.w], complex: true };
  }

  /** Releases every GPU buffer this engine made (pipelines stay cached in the context). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const c of this.chunks) for (const b of c.buffers) b.destroy();
    for (const b of this.own) b.destroy();
    this.plan.destroy();
  }
}

/** The power bound for `option` (see DmEngineOptions.powerBound): a number, or undefined for none. */
export function resolvePowerBound(option: number | 'auto' | 'none' | undefined, summary: Pick<DatasetSummary, 'integerIntensities'>): number | undefined {
  if (option === 'none') return undefined;
  if (typeof option === 'number') {
    if (!(option >= 0 && Number.isFinite(option))) throw new InputError(`the power bound must be a number ≥ 0, got ${option}`, '--power-bound');
    return option;
  }
  return summary.integerIntensities ? 0.25 : undefined;
}

/**
 * Reads the per-frame Fourier errors an iteration just submitted has copied into `staging`
 * (mappable, `n` floats), waiting without spinning on a software adapter (GpuContext.settle);
 * returns them with their mean. `what` names the step in GPU errors.
 */
export async function readFrameErrors(ctx: GpuContext, staging: GPUBuffer, n: number, what: string): Promise<{ error: number; frameErrors: Float32Array }> {
  await ctx.settle(() => staging.mapAsync(GPUMapMode.READ, 0, n * 4));
  const frameErrors = new Float32Array(staging.getMappedRange(0, n * 4).slice(0));
  staging.unmap();
  ctx.throwIfFailed(what);
  let s = 0;
  for (const e of frameErrors) s += e;
  return { error: s / n, frameErrors };
}

/** True when some position has a fractional part (as float32, the precision kernels see). */
export function hasFractions(positions: ArrayLike<number>): boolean {
  for (let i = 0; i < positions.length; i++) if (Math.fround(positions[i] - Math.floor(positions[i])) !== 0) return true;
  return false;
}

/**
 * The initial probe modes, interleaved complex [modes, h, w]: mode 0 is the dataset's probe (or a
 * disc if it has none); further modes (when the dataset does not give them) are mode 0 times a
 * first-order Hermite-like ramp along rows/cols, each with 10 % of mode 0's power. With `scale`,
 * the total power is set so h·w·Σ|P|² equals the mean frame sum `meanSum` (unscaled forward FFT,
 * |O| ≈ 1; pass validateDataset's summary.meanFrameSum to spare a pass over the frames).
 */
export function initialProbeModes(dataset: PtychoDataset, modes: number, scale: boolean, meanSum = scale ? meanFrameSum(dataset) : 0): Float32Array {
  const [, h, w] = dataset.shape;
  const hw = h * w;
  const out = new Float32Array(2 * modes * hw);
  const given = dataset.probe;
  const givenModes = given ? (given.shape.length === 3 ? given.shape[0] : 1) : 0;
  out.set((given ?? probeGuess('disc', h, w)).data.subarray(0, 2 * Math.min(modes, Math.max(1, givenModes)) * hw));
  const power = (m: number) => {
    let s = 0;
    for (let i = 2 * m * hw; i < 2 * (m + 1) * hw; i++) s += out[i] * out[i];
    return s;
  };
  const p0 = power(0);
  for (let m = Math.max(1, givenModes); m < modes; m++) {
    const axisRows = m % 2 === 1;
    const order = Math.ceil(m / 2);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const t = axisRows ? (y - h / 2) / (h / 4) : (x - w / 2) / (w / 4);
      const f = order === 1 ? t : t * t - 1;
      const i = y * w + x;
      out[2 * (m * hw + i)] = out[2 * i] * f;
      out[2 * (m * hw + i) + 1] = out[2 * i + 1] * f;
    }
    const pm = power(m);
    const g = pm > 0 ? Math.sqrt((0.1 * p0) / pm) : 0;
    for (let i = 2 * m * hw; i < 2 * (m + 1) * hw; i++) out[i] *= g;
  }
  if (scale) {
    let total = 0;
    for (let m = 0; m < modes; m++) total += power(m);
    const target = meanSum / hw;
    const g = total > 0 ? Math.sqrt(target / total) : 1;
    for (let i = 0; i < out.length; i++) out[i] *= g;
  }
  return out;
}
