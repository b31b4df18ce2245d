/**
 * Projection preprocessing on the GPU (shaders/tomo/preprocess.wgsl): averaging dark and flat
 * frames, dark/flat normalisation and `-log`, over a whole [angles, rows, cols] stack in
 * batched dispatches (chunks of whole projections, each chunk one dispatch).
 *
 * Guard rules (so no NaN or Inf ever comes out):
 * - transmission t = (p − dark) / (flat − dark) where flat − dark > 0;
 * - where flat − dark ≤ 0 (a dead flat pixel, e.g. the zero at [0, 0] of the Diamond I13 flat)
 *   or the quotient is not finite (non-finite input), t = 1: the pixel carries no information
 *   and is taken as not attenuating (−log gives 0 there);
 * - `-log` is taken as −log(max(t, logFloor)), logFloor = 1e-6 by default, so t ≤ 0 (noise
 *   below the dark level) gives at most −log(1e-6) ≈ 13.8 instead of Inf or NaN.
 */
import type { GpuContext } from '../gpu/context.js';
import { grid1d, UniformWriter } from '../gpu/dispatch.js';
import { GpuError, InputError } from '../core/errors.js';
import type { RealArray, Volume } from '../core/array.js';
import { sizeOf } from '../core/array.js';
import type { ProgressCallback } from '../core/progress.js';
import { secondsSince } from '../core/progress.js';

const SHADER = 'tomo/preprocess.wgsl';
const WG = 256;
/** Largest chunk of projections processed per dispatch (bytes), below the binding limit. */
const CHUNK_BYTES = 64 * 2 ** 20;

/** Default floor on the transmission before `-log`. */
export const DEFAULT_LOG_FLOOR = 1e-6;

/** Options of {@link preprocessProjections}. */
export interface PreprocessOptions {
  /** Dark field: one frame [rows, cols] or a stack [n, rows, cols] (averaged on the GPU). */
  dark?: RealArray;
  /** Flat (white) field: one frame [rows, cols] or a stack [n, rows, cols] (averaged on the GPU). */
  flat?: RealArray;
  /** Take −log of the (normalised) transmission; default true. */
  log?: boolean;
  /** Floor on the transmission before −log; default {@link DEFAULT_LOG_FLOOR}. */
  logFloor?: number;
  /** Write the result into `projections.data` instead of a new array (saves host memory). */
  inPlace?: boolean;
  /** Largest chunk of projections per dispatch in bytes (default 64 MiB, capped at the binding limit). */
  maxChunkBytes?: number;
  /** File or argument name used in error messages. */
  source?: string;
  /** Called once per processed chunk with stage 'preprocess'. */
  onProgress?: ProgressCallback;
}

/** Result of {@link preprocessProjections}. */
export interface PreprocessResult {
  /** The preprocessed stack, [angles, rows, cols]. */
  volume: Volume;
  /** Wall-clock seconds, uploads and read-backs included. */
  seconds: number;
}

/** Frame shape [rows, cols] of a single frame or a frame stack, checked against the projections. */
function frameCount(frames: RealArray, rows: number, cols: number, what: string, source?: string): number {
  const s = frames.shape;
  const ok = (s.length === 2 && s[0] === rows && s[1] === cols) || (s.length === 3 && s[1] === rows && s[2] === cols && s[0] >= 1);
  if (!ok || frames.data.length !== sizeOf(s)) {
    throw new InputError(`${what} field has shape [${s.join(', ')}], but the projections are ${rows} x ${cols} (expected [${rows}, ${cols}] or [n, ${rows}, ${cols}])`, source);
  }
  return s.length === 3 ? s[0] : 1;
}

/**
 * Averages a stack of frames [n, rows, cols] (or passes one frame [rows, cols] through) on the
 * GPU and returns a storage buffer holding the mean frame. The caller destroys the buffer.
 */
export async function averageFramesToBuffer(ctx: GpuContext, frames: RealArray, label = 'frames'): Promise<GPUBuffer> {
  const n = frames.shape.length === 3 ? frames.shape[0] : 1;
  const frameSize = frames.shape.length === 3 ? frames.shape[1] * frames.shape[2] : sizeOf(frames.shape);
  if (frames.data.byteLength > ctx.maxBinding) {
    throw new GpuError('limits', `${label}: ${n} frames (${(frames.data.byteLength / 2 ** 20).toFixed(0)} MiB) exceed one storage binding (${(ctx.maxBinding / 2 ** 20).toFixed(0)} MiB); average fewer frames`);
  }
  const pipeline = await ctx.pipelines.getChecked({ shader: SHADER, entry: 'average_frames', constants: { WG } });
  const input = ctx.upload(frames.data, `${label} stack`);
  const mean = ctx.createStorage(frameSize * 4, `${label} mean`);
  ctx.fill(mean);
  const params = ctx.uniform(new UniformWriter(4).u32(n).u32(frameSize).u32(0).u32(0).buffer, `${label} average params`);
  try {
    await ctx.runPass(`average ${label}`, (pass) => {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, ctx.bind(pipeline, [params, input, mean]));
      const [gx, gy] = grid1d(frameSize, WG, ctx.device.limits.maxComputeWorkgroupsPerDimension);
      pass.dispatchWorkgroups(gx, gy);
    }, `averaging ${label} frames`);
  } finally {
    input.destroy();
    params.destroy();
  }
  return mean;
}

/**
 * Averages frames [n, rows, cols] on the GPU; returns the mean frame [rows, cols].
 */
export async function averageFrames(ctx: GpuContext, frames: RealArray, label = 'frames'): Promise<RealArray> {
  const frameShape = frames.shape.length === 3 ? frames.shape.slice(1) : frames.shape.slice();
  const buf = await averageFramesToBuffer(ctx, frames, label);
  try {
    return { data: await ctx.readF32(buf, sizeOf(frameShape)), shape: frameShape };
  } finally {
    buf.destroy();
  }
}

/**
 * Normalises a projection stack by dark and flat fields and takes −log, on the GPU.
 * With neither dark nor flat, only −log is applied (for data already normalised); with
 * `log: false`, only the normalisation. A dark field without a flat field is an InputError.
 * See the module comment for the guard rules.
 */
export async function preprocessProjections(ctx: GpuContext, projections: Volume, options: PreprocessOptions = {}): Promise<PreprocessResult> {
  const t0 = performance.now();
  const [angles, rows, cols] = projections.shape;
  const source = options.source;
  if (projections.data.length !== angles * rows * cols) {
    throw new InputError(`projection data holds ${projections.data.length} values, not ${angles} x ${rows} x ${cols}`, source);
  }
  if (options.dark && !options.flat) throw new InputError('a dark field was given without a flat field; give both, or neither', source);
  const logFloor = options.logFloor ?? DEFAULT_LOG_FLOOR;
  if (!(logFloor > 0) || !Number.isFinite(logFloor)) throw new InputError(`logFloor must be a positive number, not ${logFloor}`, source);
  if (options.flat) frameCount(options.flat, rows, cols, 'flat', source);
  if (options.dark) frameCount(options.dark, rows, cols, 'dark', source);
  const normalise = options.flat !== undefined;
  const log = options.log ?? true;
  const flags = (normalise ? 1 : 0) | (log ? 2 : 0);

  const frameSize = rows * cols;
  const out = options.inPlace ? projections : { data: new Float32Array(projections.data.length), shape: [angles, rows, cols] as [number, number, number] };
  if (flags === 0) {
    if (!options.inPlace) out.data.set(projections.data);
    return { volume: out, seconds: secondsSince(t0) };
  }
  const frameBytes = frameSize * 4;
  if (frameBytes > ctx.maxBinding) {
    throw new GpuError('limits', `one projection (${rows} x ${cols}) exceeds the largest storage binding of this device`);
  }
  const perChunk = Math.max(1, Math.min(angles, Math.floor(Math.min(options.maxChunkBytes ?? CHUNK_BYTES, ctx.maxBinding) / frameBytes)));

  const pipeline = await ctx.pipelines.getChecked({ shader: SHADER, entry: 'normalize_projections', constants: { WG } });
  const owned: GPUBuffer[] = [];
  try {
    let dark: GPUBuffer;
    let flat: GPUBuffer;
    if (normalise) {
      flat = await averageFramesToBuffer(ctx, options.flat!, 'flat');
      owned.push(flat);
      if (options.dark) {
        dark = await averageFramesToBuffer(ctx, options.dark, 'dark');
      } else {
        dark = ctx.createStorage(frameBytes, 'zero dark');
        ctx.fill(dark, 0);
      }
      owned.push(dark);
    } else {
      dark = flat = ctx.createStorage(16, 'unused dark/flat');
      owned.push(dark);
    }
    const chunk = ctx.createStorage(perChunk * frameBytes, 'projection chunk');
    owned.push(chunk);
    // One uniform per distinct chunk length (the full length and the remainder), made once.
    const uniforms = new Map<number, GPUBindGroup>();
    const bindFor = (n: number): GPUBindGroup => {
      let bg = uniforms.get(n);
      if (!bg) {
        const params = ctx.uniform(new UniformWriter(4).u32(n).u32(frameSize).u32(flags).f32(logFloor).buffer, 'normalize params');
        owned.push(params);
        bg = ctx.bind(pipeline, [params, chunk, dark, flat]);
        uniforms.set(n, bg);
      }
      return bg;
    };
    const chunks = Math.ceil(angles / perChunk);
    for (let c = 0; c < chunks; c++) {
      const a0 = c * perChunk;
      const na = Math.min(perChunk, angles - a0);
      const n = na * frameSize;
      ctx.queue.writeBuffer(chunk, 0, projections.data.buffer, projections.data.byteOffset + a0 * frameBytes, n * 4);
      const enc = ctx.device.createCommandEncoder({ label: 'preprocess' });
      const pass = enc.beginComputePass({ label: 'preprocess' });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindFor(n));
      const [gx, gy] = grid1d(n, WG, ctx.device.limits.maxComputeWorkgroupsPerDimension);
      pass.dispatchWorkgroups(gx, gy);
      pass.end();
      ctx.queue.submit([enc.finish()]);
      out.data.set(await ctx.readF32(chunk, n), a0 * frameSize);
      options.onProgress?.({ stage: 'preprocess', iteration: c + 1, of: chunks, seconds: secondsSince(t0) });
    }
  } finally {
    for (const b of owned) b.destroy();
  }
  return { volume: out, seconds: secondsSince(t0) };
}
