/**
 * Batched 2-D complex FFT on the GPU (shaders/fft/rows.wgsl, cols.wgsl, stockham.wgsl): a row
 * pass then a column pass, each a Stockham autosort transform of whole lines in two or three
 * stages of radix-16/8/4 butterflies (built from radix-4 and radix-2 steps) held in registers,
 * with workgroup memory between stages.
 *
 * Conventions: complex images are vec2f interleaved, C order [batch, height, width].
 *   forward: X[k] = Σ x[n] e^{-2πi kn/N}, unscaled;
 *   inverse: x[n] = (1/N) Σ X[k] e^{+2πi kn/N}, scaled by 1/(H·W) in all, so inverse(forward(x)) = x.
 *   shift: forward writes fftshift(F x) (zero frequency at [H/2, W/2]); inverse reads its input
 *   through ifftshift, so the round trip with shift on both sides is the identity as well.
 *
 * The transform is in place and needs no global scratch: each workgroup reads exactly the
 * elements it writes. Batches larger than one storage binding (ctx.maxBinding) are bound in
 * chunks of whole images.
 */
import type { GpuContext } from '../gpu/context.js';
import { grid1d, UniformWriter } from '../gpu/dispatch.js';
import { InputError } from '../core/errors.js';
import { FFT_TABLE_SIZE, twiddleTable } from './twiddles.js';

/** Which way to transform. */
export type FftDirection = 'forward' | 'inverse';

/** Sizes of a batched 2-D transform: power-of-two height and width in 32..1024, batch ≥ 1. */
export interface Fft2dOptions {
  height: number;
  width: number;
  batch: number;
  /** Default for encode's `shift` argument (false). */
  shift?: boolean;
  /** Caps the bytes bound per dispatch (default and maximum: ctx.maxBinding); larger batches are bound in chunks of whole images. */
  maxBindingBytes?: number;
  /** Lines per workgroup of the row and column passes (powers of two; default: chooseFftPassShape's choice). For tuning. */
  lines?: { rows?: number; cols?: number };
  /** Skewed workgroup-memory layout (default: on GPUs, off on software adapters); for tests and tuning. */
  skew?: boolean;
  /**
   * Lane passes (fft/lane.wgsl: one whole line per invocation, in registers) for line lengths up
   * to {@link FFT_LANE_MAX}; default {@link fftLanesByDefault}.
   */
  lanes?: boolean;
}

/**
 * Whether FFT passes use lanes when not told: only on software adapters, and only when the
 * environment variable WEBRECON_FFT_LANES is 1. On lavapipe they are faster (a 128² pass over
 * 516 frames: 27–31 → about 20 ms; DM on the Siemens star 0.36 → 0.31 s per iteration), but LLVM
 * takes 5–7 s to compile each 128-point pass the first time (about 30 s for DM's four; Mesa keeps
 * them in its on-disk shader cache afterwards), against 0.3 s for the Stockham passes.
 */
export function fftLanesByDefault(ctx: GpuContext): boolean {
  return ctx.info.software && process.env.WEBRECON_FFT_LANES === '1';
}

/** Longest line the lane passes transform (fft/lane.wgsl is generated for 32, 64 and 128). */
export const FFT_LANE_MAX = 128;

/** Which line direction a pass transforms. */
export type FftAxis = 'rows' | 'cols';

/** The WGSL files of the row and column passes. */
export const FFT_SHADERS: Record<FftAxis, string> = { rows: 'fft/rows.wgsl', cols: 'fft/cols.wgsl' };

/** Stockham radices per line length (each stage is one radix-R butterfly in registers). */
export function fftRadices(n: number): [number, number, number] {
  switch (n) {
    case 32:
      return [8, 4, 1];
    case 64:
      return [8, 8, 1];
    case 128:
      return [16, 8, 1];
    case 256:
      return [16, 16, 1];
    case 512:
      return [8, 8, 8];
    case 1024:
      return [16, 8, 8];
    default:
      throw new InputError(`FFT line length must be a power of two in ${FFT_MIN_SIZE}..${FFT_MAX_SIZE}, got ${n}`);
  }
}

/** Smallest and largest supported line length. */
export const FFT_MIN_SIZE = 32;
export const FFT_MAX_SIZE = FFT_TABLE_SIZE;

const ALIGN = 256; // minStorageBufferOffsetAlignment upper bound (spec maximum)

/** Workgroup shape of one pass: lines per workgroup and invocations. */
export interface FftPassShape {
  /** Points per line. */
  n: number;
  /** Radix of each Stockham stage (1 = no third stage). */
  radices: [number, number, number];
  /** Lines per workgroup (rows: consecutive rows; cols: adjacent columns). */
  lines: number;
  /** Invocations per workgroup. */
  workgroupSize: number;
  /** Skewed workgroup-memory layout (one padding slot per 16 points against bank conflicts); off when it does not fit. */
  skew: boolean;
  /** Lane pass: one line per invocation (lines = workgroupSize), no workgroup memory, no twiddle table. */
  lanes: boolean;
}

function isPow2(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function checkSizes(height: number, width: number): void {
  for (const [name, v] of [['height', height], ['width', width]] as const) {
    if (!isPow2(v) || v < FFT_MIN_SIZE || v > FFT_MAX_SIZE) {
      throw new InputError(`FFT ${name} must be a power of two in ${FFT_MIN_SIZE}..${FFT_MAX_SIZE}, got ${v}`);
    }
  }
}

/** Chooses lines per workgroup and the workgroup size for a pass on this device. */
export function chooseFftPassShape(ctx: GpuContext, axis: FftAxis, n: number, other: number, wantedLines?: number, wantedSkew?: boolean, wantedLanes?: boolean): FftPassShape {
  const limits = ctx.device.limits;
  const maxInv = Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX, 256);
  // A whole line per invocation in registers: no workgroup memory, barriers or twiddle table (see
  // fftLanesByDefault); it needs registers for every point, so only up to FFT_LANE_MAX.
  if ((wantedLanes ?? fftLanesByDefault(ctx)) && n <= FFT_LANE_MAX) {
    let lines = Math.min(wantedLines ?? 64, other, maxInv);
    lines = 2 ** Math.floor(Math.log2(lines));
    return { n, radices: fftRadices(n), lines, workgroupSize: lines, skew: false, lanes: true };
  }
  // Two halves of lines × (n + n/16) vec2f (8 bytes; one padding slot per 16 points) in workgroup memory.
  // Software adapters have no memory banks, and the skew's index arithmetic costs them (1024²: 4.9 → 3.8 GFLOP/s on lavapipe).
  const skew = (wantedSkew ?? !ctx.info.software) && 16 * (n + n / 16) <= limits.maxComputeWorkgroupStorageSize;
  const maxLinesByMemory = Math.max(1, Math.floor(limits.maxComputeWorkgroupStorageSize / (16 * (skew ? n + n / 16 : n))));
  const wanted = wantedLines ?? (axis === 'rows' ? Math.max(1, 1024 / n) : 16);
  let lines = Math.min(wanted, maxLinesByMemory, other);
  lines = 2 ** Math.floor(Math.log2(lines));
  const radices = fftRadices(n);
  // One invocation per butterfly of the widest-radix stage.
  const workgroupSize = Math.min(maxInv, (lines * n) / Math.max(...radices));
  return { n, radices, lines, workgroupSize, skew, lanes: false };
}

interface ChunkBinding {
  /** Images in this chunk. */
  images: number;
  rowsGroup: GPUBindGroup;
  colsGroup: GPUBindGroup;
  rowsDispatch: [number, number];
  colsDispatch: [number, number];
}

/**
 * A batched 2-D FFT plan: pipelines (cached by the context), the twiddle table, and cached bind
 * groups per (buffer, offset, direction, shift). Create once, encode many times, destroy at the end.
 */
export class Fft2dPlan {
  readonly height: number;
  readonly width: number;
  readonly batch: number;
  /** Images bound per chunk (the whole batch when it fits in one storage binding). */
  readonly imagesPerBinding: number;
  readonly rowShape: FftPassShape;
  readonly colShape: FftPassShape;
  private readonly defaultShift: boolean;
  private readonly twiddles: GPUBuffer;
  private readonly uniforms = new Map<string, GPUBuffer>();
  private readonly twiddleGroups = new Map<GPUComputePipeline, GPUBindGroup>();
  private bindings = new WeakMap<GPUBuffer, Map<string, ChunkBinding[]>>();
  private destroyed = false;

  constructor(private readonly ctx: GpuContext, options: Fft2dOptions) {
    const { height, width, batch } = options;
    checkSizes(height, width);
    if (!Number.isInteger(batch) || batch < 1) throw new InputError(`FFT batch must be a positive integer, got ${batch}`);
    this.height = height;
    this.width = width;
    this.batch = batch;
    this.defaultShift = options.shift ?? false;
    const imageBytes = height * width * 8;
    const maxBinding = Math.min(ctx.maxBinding, options.maxBindingBytes ?? Infinity);
    this.imagesPerBinding = Math.min(batch, Math.floor((maxBinding - ALIGN) / imageBytes));
    if (this.imagesPerBinding < 1) throw new InputError(`one ${height}×${width} complex image exceeds this device's storage binding limit`);
    this.rowShape = chooseFftPassShape(ctx, 'rows', width, height, options.lines?.rows, options.skew, options.lanes);
    this.colShape = chooseFftPassShape(ctx, 'cols', height, width, options.lines?.cols, options.skew, options.lanes);
    this.twiddles = ctx.upload(twiddleTable(), 'fft twiddles');
    for (const direction of ['forward', 'inverse'] as const) {
      const inverse = direction === 'inverse';
      for (const axis of ['rows', 'cols'] as const) this.pipeline(axis, direction, this.defaultShift && inverse, this.defaultShift && !inverse);
    }
  }

  /** Like the constructor, but compiles the pipelines inside error scopes and reports WGSL errors. */
  static async create(ctx: GpuContext, options: Fft2dOptions): Promise<Fft2dPlan> {
    checkSizes(options.height, options.width);
    const rows = chooseFftPassShape(ctx, 'rows', options.width, options.height, options.lines?.rows, options.skew, options.lanes);
    const cols = chooseFftPassShape(ctx, 'cols', options.height, options.width, options.lines?.cols, options.skew, options.lanes);
    const shift = options.shift ?? false;
    for (const inverse of [false, true]) {
      await ctx.pipelines.getChecked(fftPassSpec('rows', rows, options.width, inverse, shift && inverse, shift && !inverse));
      await ctx.pipelines.getChecked(fftPassSpec('cols', cols, options.width, inverse, shift && inverse, shift && !inverse));
    }
    return ctx.checked('creating the FFT plan', () => new Fft2dPlan(ctx, options));
  }

  /** The compute pipeline of one pass (cached by the context). */
  pipeline(axis: FftAxis, direction: FftDirection, shiftLoad: boolean, shiftStore: boolean): GPUComputePipeline {
    const shape = axis === 'rows' ? this.rowShape : this.colShape;
    return this.ctx.pipelines.get(fftPassSpec(axis, shape, this.width, direction === 'inverse', shiftLoad, shiftStore));
  }

  /** Bind group 1 (the twiddle table) for a pipeline that includes fft/stockham.wgsl. */
  twiddleBindGroup(pipeline: GPUComputePipeline): GPUBindGroup {
    let g = this.twiddleGroups.get(pipeline);
    if (!g) {
      g = this.ctx.bind(pipeline, [this.twiddles], 'fft twiddles', 1);
      this.twiddleGroups.set(pipeline, g);
    }
    return g;
  }

  /** The twiddle table buffer (bind it at @group(1) @binding(0) of kernels including fft/stockham.wgsl). */
  get twiddleBuffer(): GPUBuffer {
    return this.twiddles;
  }

  private uniform(groups: number, offset: number): GPUBuffer {
    const key = `${groups}:${offset}`;
    let u = this.uniforms.get(key);
    if (!u) {
      u = this.ctx.uniform(new UniformWriter(4).u32(groups).u32(offset).u32(0).u32(0).buffer, 'fft params');
      this.uniforms.set(key, u);
    }
    return u;
  }

  private chunkBindings(buffer: GPUBuffer, offsetElements: number, direction: FftDirection, shift: boolean): ChunkBinding[] {
    let perBuffer = this.bindings.get(buffer);
    if (!perBuffer) {
      perBuffer = new Map();
      this.bindings.set(buffer, perBuffer);
    }
    const key = `${offsetElements}:${direction}:${shift}`;
    const hit = perBuffer.get(key);
    if (hit) return hit;
    const imageElems = this.height * this.width;
    const needBytes = (offsetElements + this.batch * imageElems) * 8;
    if (!Number.isInteger(offsetElements) || offsetElements < 0 || needBytes > buffer.size) {
      throw new InputError(`FFT buffer '${buffer.label}' holds ${buffer.size} bytes; ${this.batch} images of ${this.height}×${this.width} at element offset ${offsetElements} need ${needBytes}`);
    }
    const inverse = direction === 'inverse';
    const rowsPipe = this.pipeline('rows', direction, shift && inverse, shift && !inverse);
    const colsPipe = this.pipeline('cols', direction, shift && inverse, shift && !inverse);
    const maxPerDim = this.ctx.device.limits.maxComputeWorkgroupsPerDimension;
    const chunks: ChunkBinding[] = [];
    for (let first = 0; first < this.batch; first += this.imagesPerBinding) {
      const images = Math.min(this.imagesPerBinding, this.batch - first);
      const startByte = (offsetElements + first * imageElems) * 8;
      const bindStart = Math.floor(startByte / ALIGN) * ALIGN;
      const residual = (startByte - bindStart) / 8;
      const resource = { buffer, offset: bindStart, size: residual * 8 + images * imageElems * 8 };
      const rowGroups = (images * this.height) / this.rowShape.lines;
      const colGroups = (images * this.width) / this.colShape.lines;
      chunks.push({
        images,
        rowsGroup: this.ctx.bind(rowsPipe, [this.uniform(rowGroups, residual), resource], 'fft rows'),
        colsGroup: this.ctx.bind(colsPipe, [this.uniform(colGroups, residual), resource], 'fft cols'),
        rowsDispatch: grid1d(rowGroups, 1, maxPerDim),
        colsDispatch: grid1d(colGroups, 1, maxPerDim),
      });
    }
    perBuffer.set(key, chunks);
    return chunks;
  }

  /**
   * Records the transform of `batch` complex images (vec2f interleaved, C order [batch, height,
   * width]) starting at element (vec2f) `bufferOffsetElements` of `buffer` into `pass`, in place.
   * forward: unscaled e^{-2πi kn/N}; inverse: e^{+2πi kn/N} scaled by 1/(H·W).
   * `shift` (default: the plan's option): forward stores fftshift(F x); inverse loads through ifftshift.
   * Bind groups are created on first use per (buffer, offset, direction, shift) and reused.
   */
  encode(pass: GPUComputePassEncoder, buffer: GPUBuffer, direction: FftDirection, bufferOffsetElements = 0, shift = this.defaultShift): void {
    this.encodeAxis(pass, buffer, direction, 'rows', bufferOffsetElements, shift);
    this.encodeAxis(pass, buffer, direction, 'cols', bufferOffsetElements, shift);
  }

  /**
   * Records one pass only (rows: along width; cols: along height), so callers can put their own
   * kernels between or around the two passes. The two passes commute; the inverse pass of each
   * axis scales by 1/N of that axis. `shift` folds fftshift along that axis as in {@link encode}.
   */
  encodeAxis(pass: GPUComputePassEncoder, buffer: GPUBuffer, direction: FftDirection, axis: FftAxis, bufferOffsetElements = 0, shift = this.defaultShift): void {
    if (this.destroyed) throw new Error('Fft2dPlan used after destroy()');
    const inverse = direction === 'inverse';
    const pipeline = this.pipeline(axis, direction, shift && inverse, shift && !inverse);
    pass.setPipeline(pipeline);
    // Lane passes use constant twiddles: their pipelines have no group 1.
    if (!(axis === 'rows' ? this.rowShape : this.colShape).lanes) pass.setBindGroup(1, this.twiddleBindGroup(pipeline));
    for (const chunk of this.chunkBindings(buffer, bufferOffsetElements, direction, shift)) {
      const [x, y] = axis === 'rows' ? chunk.rowsDispatch : chunk.colsDispatch;
      pass.setBindGroup(0, axis === 'rows' ? chunk.rowsGroup : chunk.colsGroup);
      pass.dispatchWorkgroups(x, y);
    }
  }

  /** Forgets cached bind groups for a buffer (call before destroying a buffer the plan has seen). */
  forget(buffer: GPUBuffer): void {
    this.bindings.delete(buffer);
  }

  /** Releases the twiddle table and uniform buffers (pipelines stay in the context's cache). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.twiddles.destroy();
    for (const u of this.uniforms.values()) u.destroy();
    this.uniforms.clear();
    this.twiddleGroups.clear();
    this.bindings = new WeakMap();
  }
}

/** The pipeline spec of one FFT pass (shader fft/fft2d.wgsl). */
export function fftPassSpec(axis: FftAxis, shape: FftPassShape, width: number, inverse: boolean, shiftLoad: boolean, shiftStore: boolean) {
  return {
    shader: FFT_SHADERS[axis],
    entry: (axis === 'rows' ? 'fft_rows' : 'fft_cols') + (shape.lanes ? '_lanes' : ''),
    constants: {
      FFT_N: shape.n,
      FFT_R0: shape.radices[0],
      FFT_R1: shape.radices[1],
      FFT_R2: shape.radices[2],
      FFT_LINES: shape.lines,
      FFT_WG: shape.workgroupSize,
      FFT_INVERSE: inverse ? 1 : 0,
      FFT_SKEW: shape.skew ? 1 : 0,
      FFT_INTERLEAVED: axis === 'cols' ? 1 : 0,
      ROW_LEN: width,
      SHIFT_LOAD: shiftLoad ? 1 : 0,
      SHIFT_STORE: shiftStore ? 1 : 0,
    },
  };
}

/**
 * Convenience: transforms a batch of complex images held on the host (interleaved, C order
 * [batch, h, w]) and returns the result. Creates and destroys a plan and buffer each call.
 */
export async function fft2d(ctx: GpuContext, data: Float32Array, shape: [number, number, number], direction: FftDirection, shift = false): Promise<Float32Array> {
  const [batch, h, w] = shape;
  if (data.length !== 2 * batch * h * w) {
    throw new InputError(`fft2d: data holds ${data.length} floats, shape [${shape.join(', ')}] needs ${2 * batch * h * w}`);
  }
  const plan = await Fft2dPlan.create(ctx, { height: h, width: w, batch });
  const buffer = ctx.upload(data, 'fft2d data');
  try {
    await ctx.runPass('fft2d', (pass) => plan.encode(pass, buffer, direction, 0, shift));
    return await ctx.readF32(buffer, data.length);
  } finally {
    buffer.destroy();
    plan.destroy();
  }
}
