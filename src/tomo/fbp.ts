/**
 * Filtered back-projection on the GPU: rows filtered through an FFT (the Stockham stages of the
 * FFT library, shaders/tomo/fbp_filter_stockham.wgsl, for padded lengths 32..1024; a radix-2
 * kernel, fbp_filter_fft.wgsl, for other powers of two that fit workgroup memory; else a direct
 * convolution, fbp_filter.wgsl), then a voxel-driven back-projection that accumulates every angle
 * per voxel (shaders/tomo/fbp_backproject.wgsl, several slices per value on software adapters),
 * one dispatch per slab of slices.
 * Geometry and conventions: src/tomo/geometry.ts (TomoPy's centre and angle direction).
 *
 * Absolute scale: the filters are in cycles per pixel (src/tomo/filters.ts) and each angle is
 * weighted by its share Δθ of the half circle ({@link angleWeights}), so a uniform disc of
 * attenuation μ per voxel length reconstructs to μ.
 */
import type { GpuContext } from '../gpu/context.js';
import { grid1d, UniformWriter } from '../gpu/dispatch.js';
import { chooseFftPassShape, FFT_MAX_SIZE, FFT_MIN_SIZE } from '../fft/plan.js';
import { twiddleTable } from '../fft/twiddles.js';
import { KernelTimer, type KernelTimes } from '../gpu/timing.js';
import { GpuError, InputError } from '../core/errors.js';
import type { Volume } from '../core/array.js';
import type { ProgressCallback } from '../core/progress.js';
import { secondsSince } from '../core/progress.js';
import { angleTrig, checkProjectionShape, type TomoGeometry } from './geometry.js';
import { filterResponse, parseFilterName, paddedLength, unrolledKernel, type FilterName, type FilterPadding } from './filters.js';
import { defaultSlicesPerWorkgroup } from './iterative.js';
import { unpackSlices } from './slabs.js';

const FILTER_SHADER = 'tomo/fbp_filter.wgsl';
const FFT_FILTER_SHADER = 'tomo/fbp_filter_fft.wgsl';
const STOCKHAM_FILTER_SHADER = 'tomo/fbp_filter_stockham.wgsl';
/** The back-projection with `lanes` slices per value. */
const bpShader = (lanes: number) => `tomo/fbp_backproject${lanes}.wgsl`;
/** Workgroup size of the row filter (one workgroup per row, WG-wide tiles). */
export const FILTER_WG = 64;
/** Workgroup size of the back-projection (one invocation per voxel). */
export const BACKPROJECT_WG = 64;
/** Default cap on each GPU buffer of one slab (bytes), below the binding limit. */
const SLAB_BYTES = 512 * 2 ** 20;

/**
 * Quadrature weights Δθ (radians) for back-projecting the given angles (degrees), so that
 * Σ_a Δθ_a · q_a approximates ∫_0^π q_θ dθ for any angle set:
 * - angles are folded into [0°, 180°) (a projection at θ + 180° is the mirror of the one at θ,
 *   and the back-projection handles the mirroring), sorted, and each gets half the gap to each
 *   of its neighbours on the folded half circle (the last wraps to the first);
 * - a uniform set over 180° (or 360°) therefore gets π/A each, summing to π; duplicated
 *   directions share their gap;
 * - a gap wider than 4 × π/A is a missing wedge (limited-angle data): an angle next to it uses
 *   its gap on the other side for both halves, so the end projections are not stretched across
 *   the wedge; an angle with wedges on both sides gets π/A.
 */
export function angleWeights(anglesDeg: ArrayLike<number>): Float64Array {
  const A = anglesDeg.length;
  const w = new Float64Array(A);
  if (A === 0) return w;
  if (A === 1) {
    w[0] = Math.PI;
    return w;
  }
  const folded = Array.from(anglesDeg, (d, i) => ({ i, phi: ((((d % 180) + 180) % 180) * Math.PI) / 180 }));
  folded.sort((p, q) => p.phi - q.phi);
  const gaps = new Float64Array(A); // gap after sorted entry s
  for (let s = 0; s < A; s++) {
    gaps[s] = s + 1 < A ? folded[s + 1].phi - folded[s].phi : folded[0].phi + Math.PI - folded[s].phi;
  }
  const mean = Math.PI / A;
  const wedge = (g: number): boolean => g > 4 * mean;
  for (let s = 0; s < A; s++) {
    const before = gaps[(s + A - 1) % A];
    const after = gaps[s];
    let value: number;
    if (wedge(before) && wedge(after)) value = mean;
    else if (wedge(before)) value = after;
    else if (wedge(after)) value = before;
    else value = (before + after) / 2;
    w[folded[s].i] = value;
  }
  return w;
}

/**
 * The per-angle table the back-projection reads: vec4(cos θ, sin θ, weight, 0), float32.
 */
export function angleTable(geometry: TomoGeometry, weights: ArrayLike<number> = angleWeights(geometry.anglesDeg)): Float32Array {
  const { cos, sin } = angleTrig(geometry);
  const A = geometry.anglesDeg.length;
  const t = new Float32Array(4 * A);
  for (let a = 0; a < A; a++) {
    t[4 * a] = cos[a];
    t[4 * a + 1] = sin[a];
    t[4 * a + 2] = weights[a];
  }
  return t;
}

/** Options of {@link reconstructFbp}. */
export interface FbpOptions {
  /** Filter name (see src/tomo/filters.ts); default 'ramp'. Unknown names are an InputError. */
  filter?: FilterName | string;
  /** Zero padding of detector rows before filtering; default 'auto' (see {@link paddedLength}). */
  padding?: FilterPadding;
  /** Largest GPU buffer per slab in bytes (default 512 MiB, capped at the binding limit). */
  maxSlabBytes?: number;
  /** One event per slab, stage 'fbp'. */
  onProgress?: ProgressCallback;
  /**
   * Slices per back-projection value, interleaved in one f32/vec2f/vec4f/mat2x4f (1, 2, 4 or 8;
   * shaders/tomo/fbp_backproject1/2/4/8.wgsl); default as the iterative sweep's: 8 on software
   * adapters (fewer for few rows), 1 on GPUs. The volume is the same either way.
   */
  slicesPerValue?: number;
}

/** Result of {@link reconstructFbp}. */
export interface FbpResult {
  /** The reconstruction, [rows, n, n], attenuation per voxel length. */
  volume: Volume;
  /** Wall-clock seconds, uploads and read-backs included. */
  seconds: number;
  /** GPU time per kernel ('fbp filter', 'fbp backproject') when timestamps are available. */
  kernels: KernelTimes;
}

/** The back-projection pipeline with `lanes` slices per value, compiled (checked) once. */
export async function backprojectPipeline(ctx: GpuContext, lanes = 1): Promise<GPUComputePipeline> {
  return ctx.pipelines.getChecked({ shader: bpShader(lanes), entry: 'backproject', constants: { WG: BACKPROJECT_WG } });
}

/** Uniform block of fbp_backproject.wgsl (`groups`: slice groups, slices / lanes rounded up). */
export function backprojectParams(ctx: GpuContext, n: number, groups: number, angles: number, cols: number, candidates: number): GPUBuffer {
  return ctx.uniform(new UniformWriter(8).u32(n).u32(groups).u32(angles).u32(cols).u32(candidates).u32(0).u32(0).u32(0).buffer, 'fbp backproject params');
}

/** Workgroup size of the FFT row filter. */
export const FFT_FILTER_WG = 256;

/**
 * The row filter for one (filter, columns, padding) choice, by padded length P:
 * - 32 ≤ P ≤ 1024, a power of two: the Stockham FFT of fft/stockham.wgsl in two passes
 *   (shaders/tomo/fbp_filter_stockham.wgsl: radix 4/8/16 stages, two rows per complex line,
 *   the spectra in a buffer between the passes);
 * - another power of two whose two complex rows fit workgroup memory: the radix-2 FFT kernel
 *   (fbp_filter_fft.wgsl, one workgroup per row pair);
 * - otherwise the direct convolution (fbp_filter.wgsl, O(cols²) per row).
 * All write the layout of tomo/fbp_layout.wgsl with the `lanes` they were built for.
 */
export interface RowFilter {
  /** Which kernel. */
  kind: 'stockham' | 'fft' | 'direct';
  /** Padded length. */
  P: number;
  /**
   * Binds the filter of `rows × angles` detector rows from `proj` ([angles, rows, cols]) into `out`;
   * the buffers it makes for that (parameters, spectra) are freed with the filter.
   */
  bind(proj: GPUBuffer, out: GPUBuffer, rows: number, angles: number): FilterBinding;
  destroy(): void;
}

/** A {@link RowFilter} bound to its buffers: pipelines, bind groups and dispatch sizes in order. */
export interface FilterBinding {
  steps: Array<{ pipeline: GPUComputePipeline; groups: GPUBindGroup[]; dispatch: [number, number] }>;
}

/** Records every step of a bound filter ({@link RowFilter.bind}). */
export function encodeFilter(pass: GPUComputePassEncoder, binding: FilterBinding): void {
  for (const step of binding.steps) {
    pass.setPipeline(step.pipeline);
    step.groups.forEach((g, i) => pass.setBindGroup(i, g));
    pass.dispatchWorkgroups(...step.dispatch);
  }
}

/** Whether a padded row length P is filtered by the Stockham kernel ({@link RowFilter}). */
function stockhamLength(P: number): boolean {
  return (P & (P - 1)) === 0 && P >= FFT_MIN_SIZE && P <= FFT_MAX_SIZE;
}

/** Bytes of the row filter's scratch (the Stockham kernel's spectra) per detector row. */
export function filterScratchPerRow(P: number, angles: number): number {
  return stockhamLength(P) ? Math.ceil(angles / 2) * P * 8 : 0;
}

/** The FFT filter's table: e^{−2πi k/P} for k < P/2, then (H[k], 0) for k < P (float64 → float32). */
export function fftFilterTable(name: FilterName, P: number): Float32Array {
  const H = filterResponse(name, P);
  const t = new Float32Array(2 * (P / 2 + P));
  for (let k = 0; k < P / 2; k++) {
    t[2 * k] = Math.cos((2 * Math.PI * k) / P);
    t[2 * k + 1] = -Math.sin((2 * Math.PI * k) / P);
  }
  for (let k = 0; k < P; k++) t[2 * (P / 2 + k)] = H[k];
  return t;
}

/**
 * Builds the row filter for `cols` detector columns, writing rows interleaved by `lanes` (see
 * {@link RowFilter}). `maxRows` × `angles`: the most it will be bound for at once; the Stockham
 * kernel is chosen only when its spectra for that many rows fit one storage binding.
 */
export async function createRowFilter(ctx: GpuContext, name: FilterName, cols: number, padding: FilterPadding = 'auto', lanes = 1, maxRows = 1, angles = 1): Promise<RowFilter> {
  const P = paddedLength(cols, padding);
  const pow2 = P >= 2 && (P & (P - 1)) === 0;
  const maxGroups = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  const owned: GPUBuffer[] = [];
  const destroy = () => owned.forEach((b) => b.destroy());
  const params = (rows: number, angles: number, extra = 0) => {
    const b = ctx.uniform(new UniformWriter(4).u32(cols).u32(rows).u32(angles).u32(extra).buffer, 'fbp filter params');
    owned.push(b);
    return b;
  };
  if (stockhamLength(P) && maxRows * filterScratchPerRow(P, angles) <= ctx.maxBinding) {
    // Always the workgroup-memory passes (fft_run), never the lane passes.
    const shape = chooseFftPassShape(ctx, 'rows', P, Number.MAX_SAFE_INTEGER, undefined, undefined, false);
    const spec = (inverse: boolean) => ({
      shader: STOCKHAM_FILTER_SHADER,
      entry: 'filter_pass',
      constants: { FFT_N: P, FFT_R0: shape.radices[0], FFT_R1: shape.radices[1], FFT_R2: shape.radices[2], FFT_LINES: shape.lines, FFT_WG: shape.workgroupSize, FFT_INVERSE: inverse ? 1 : 0, FFT_SKEW: shape.skew ? 1 : 0, OUT_LANES: lanes },
    });
    const forward = await ctx.pipelines.getChecked(spec(false));
    const inverse = await ctx.pipelines.getChecked(spec(true));
    const response = ctx.upload(Float32Array.from(filterResponse(name, P)), 'fbp filter response');
    const twiddles = ctx.upload(twiddleTable(), 'fbp filter twiddles');
    owned.push(response, twiddles);
    // The spectra: one buffer, made for the first (largest) binding and reused by smaller ones.
    let scratch: GPUBuffer | undefined;
    return {
      kind: 'stockham',
      P,
      bind(proj, out, rows, angles) {
        const pairs = rows * Math.ceil(angles / 2);
        if (!scratch || scratch.size < pairs * P * 8) {
          scratch = ctx.createStorage(pairs * P * 8, 'fbp filter spectra');
          owned.push(scratch);
        }
        const spectra = scratch;
        const u = params(rows, angles, pairs);
        const dispatch = grid1d(Math.ceil(pairs / shape.lines), 1, maxGroups) as [number, number];
        const step = (pipeline: GPUComputePipeline) => ({
          pipeline,
          groups: [ctx.bind(pipeline, [u, proj, response, spectra, out]), ctx.bind(pipeline, [twiddles], 'fbp filter twiddles', 1)],
          dispatch,
        });
        return { steps: [step(forward), step(inverse)] };
      },
      destroy,
    };
  }
  if (pow2 && 16 * P <= ctx.device.limits.maxComputeWorkgroupStorageSize) {
    const pipeline = await ctx.pipelines.getChecked({ shader: FFT_FILTER_SHADER, entry: 'filter_rows_fft', constants: { WG: FFT_FILTER_WG, P, LOGP: Math.log2(P), OUT_LANES: lanes } });
    const table = ctx.upload(fftFilterTable(name, P), 'fbp fft filter table');
    owned.push(table);
    return {
      kind: 'fft',
      P,
      bind: (proj, out, rows, angles) => ({
        steps: [{ pipeline, groups: [ctx.bind(pipeline, [params(rows, angles), proj, table, out])], dispatch: grid1d(rows * Math.ceil(angles / 2), 1, maxGroups) as [number, number] }],
      }),
      destroy,
    };
  }
  const pipeline = await ctx.pipelines.getChecked({ shader: FILTER_SHADER, entry: 'filter_rows', constants: { WG: FILTER_WG, OUT_LANES: lanes } });
  const table = ctx.upload(unrolledKernel(name, cols, P), 'fbp filter kernel');
  owned.push(table);
  return {
    kind: 'direct',
    P,
    bind: (proj, out, rows, angles) => ({
      steps: [{ pipeline, groups: [ctx.bind(pipeline, [params(rows, angles), proj, table, out])], dispatch: grid1d(rows * angles, 1, maxGroups) as [number, number] }],
    }),
    destroy,
  };
}

/** Records the back-projection of `candidates × slices × n × n` voxels. */
export function encodeBackproject(ctx: GpuContext, pass: GPUComputePassEncoder, pipeline: GPUComputePipeline, bindGroup: GPUBindGroup, voxels: number): void {
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  const [gx, gy] = grid1d(voxels, BACKPROJECT_WG, ctx.device.limits.maxComputeWorkgroupsPerDimension);
  pass.dispatchWorkgroups(gx, gy);
}

/**
 * Filtered back-projection of a projection stack [angles, rows, cols] (already normalised and
 * −log'ed) into a volume [rows, n, n]. Slices are processed in slabs whose buffers fit one
 * storage binding; each slab is one submit (filter + back-projection) and is read back into its
 * place in the result.
 */
export async function reconstructFbp(ctx: GpuContext, projections: Volume, geometry: TomoGeometry, options: FbpOptions = {}): Promise<FbpResult> {
  const t0 = performance.now();
  checkProjectionShape(geometry, projections.shape, 'projections');
  const filter = parseFilterName(options.filter ?? 'ramp');
  const [A, rows, cols] = projections.shape;
  const n = geometry.n;
  const P = paddedLength(cols, options.padding ?? 'auto');
  if (projections.data.length !== A * rows * cols) throw new InputError(`projection data holds ${projections.data.length} values, not ${A} x ${rows} x ${cols}`, 'projections');

  const cap = Math.min(options.maxSlabBytes ?? SLAB_BYTES, ctx.maxBinding);
  // The largest buffer per slice: the projections, the filter's spectra or the volume slice.
  const perRow = Math.max(A * cols * 4, filterScratchPerRow(P, A), n * n * 4);
  if (perRow > ctx.maxBinding) {
    throw new GpuError('limits', `one slice (${A} projections of ${cols} columns and their spectra, or ${n} x ${n} voxels) exceeds this device's largest storage binding (${(ctx.maxBinding / 2 ** 20).toFixed(0)} MiB)`);
  }
  let lanes = options.slicesPerValue ?? defaultSlicesPerWorkgroup(ctx, rows);
  if (![1, 2, 4, 8].includes(lanes)) throw new InputError(`slicesPerValue must be 1, 2, 4 or 8, got ${lanes}`);
  // A slab holds whole groups of `lanes` slices (the last one padded).
  lanes = Math.max(1, Math.min(lanes, 2 ** Math.floor(Math.log2(Math.max(1, Math.floor(cap / perRow))))));
  const slabRows = Math.max(lanes, Math.min(Math.ceil(rows / lanes) * lanes, Math.floor(cap / perRow / lanes) * lanes));
  const slabs = Math.ceil(rows / slabRows);

  const bpPipe = await backprojectPipeline(ctx, lanes);
  const rowFilter = await createRowFilter(ctx, filter, cols, options.padding ?? 'auto', lanes, slabRows, A);
  const out: Volume = { data: new Float32Array(rows * n * n), shape: [rows, n, n] };
  const timer = new KernelTimer(ctx, 4 * slabs + 4);
  const owned: GPUBuffer[] = [];
  try {
    const projBuf = ctx.createStorage(A * slabRows * cols * 4, 'fbp projections');
    const sinoBuf = ctx.createStorage(slabRows * A * cols * 4, 'fbp filtered sinograms');
    const volBuf = ctx.createStorage(slabRows * n * n * 4, 'fbp volume slab');
    const tableBuf = ctx.upload(angleTable(geometry), 'fbp angle table');
    const centerBuf = ctx.upload(new Float32Array([geometry.center]), 'fbp centre');
    owned.push(projBuf, sinoBuf, volBuf, tableBuf, centerBuf);
    ctx.fill(volBuf);
    // Bindings per distinct slab height (the full one and the remainder), made once.
    const groups = new Map<number, [FilterBinding, GPUBindGroup]>();
    const groupsFor = (nr: number): [FilterBinding, GPUBindGroup] => {
      let g = groups.get(nr);
      if (!g) {
        const bp = backprojectParams(ctx, n, Math.ceil(nr / lanes), A, cols, 1);
        owned.push(bp);
        g = [rowFilter.bind(projBuf, sinoBuf, nr, A), ctx.bind(bpPipe, [bp, sinoBuf, tableBuf, centerBuf, volBuf])];
        groups.set(nr, g);
      }
      return g;
    };
    const staging = slabs > 1 ? new Float32Array(A * slabRows * cols) : undefined;
    for (let s = 0; s < slabs; s++) {
      const r0 = s * slabRows;
      const nr = Math.min(slabRows, rows - r0);
      if (staging) {
        // gather rows r0..r0+nr of every projection (a copy, no arithmetic)
        for (let a = 0; a < A; a++) {
          staging.set(projections.data.subarray((a * rows + r0) * cols, (a * rows + r0 + nr) * cols), a * nr * cols);
        }
        ctx.queue.writeBuffer(projBuf, 0, staging.buffer, 0, A * nr * cols * 4);
      } else {
        ctx.queue.writeBuffer(projBuf, 0, projections.data.buffer, projections.data.byteOffset, A * rows * cols * 4);
      }
      const [fg, bg] = groupsFor(nr);
      const enc = ctx.device.createCommandEncoder({ label: 'fbp slab' });
      let pass = timer.beginPass(enc, 'fbp filter');
      encodeFilter(pass, fg);
      pass.end();
      pass = timer.beginPass(enc, 'fbp backproject');
      encodeBackproject(ctx, pass, bpPipe, bg, Math.ceil(nr / lanes) * n * n);
      pass.end();
      timer.resolve(enc);
      ctx.queue.submit([enc.finish()]);
      if (lanes === 1) await ctx.readF32Into(volBuf, out.data, r0 * n * n, nr * n * n);
      else unpackSlices(await ctx.readF32(volBuf, Math.ceil(nr / lanes) * lanes * n * n), out.data, n * n, r0, r0 + nr, lanes);
      await timer.collect();
      options.onProgress?.({ stage: 'fbp', iteration: s + 1, of: slabs, seconds: secondsSince(t0) });
    }
  } finally {
    for (const b of owned) b.destroy();
    rowFilter.destroy();
    timer.destroy();
  }
  return { volume: out, seconds: secondsSince(t0), kernels: timer.totals };
}

/**
 * Runs only the row filter on the GPU: projections [angles, rows, cols] → filtered sinograms
 * [rows, angles, cols]. For tests and diagnostics; {@link reconstructFbp} fuses it with the
 * back-projection.
 */
export async function filterProjections(ctx: GpuContext, projections: Volume, filter: FilterName | string = 'ramp', padding: FilterPadding = 'auto'): Promise<Float32Array> {
  const name = parseFilterName(filter);
  const [A, rows, cols] = projections.shape;
  const rowFilter = await createRowFilter(ctx, name, cols, padding, 1, rows, A);
  const projBuf = ctx.upload(projections.data, 'filter input');
  const outBuf = ctx.createStorage(A * rows * cols * 4, 'filter output');
  ctx.fill(outBuf);
  try {
    const binding = rowFilter.bind(projBuf, outBuf, rows, A);
    const enc = ctx.device.createCommandEncoder({ label: 'fbp filter' });
    const pass = enc.beginComputePass({ label: 'fbp filter' });
    encodeFilter(pass, binding);
    pass.end();
    ctx.queue.submit([enc.finish()]);
    return await ctx.readF32(outBuf, A * rows * cols);
  } finally {
    for (const b of [projBuf, outBuf]) b.destroy();
    rowFilter.destroy();
  }
}

/**
 * Runs only the back-projection on the GPU: sinograms [slices, angles, cols] → volumes
 * [candidates, slices, n, n], one per rotation centre in `centers` (TomoPy convention), with
 * the given per-angle table from {@link angleTable}. For tests and centre finding.
 */
export async function backprojectSinograms(
  ctx: GpuContext,
  sinograms: Float32Array,
  shape: { slices: number; angles: number; cols: number; n: number },
  table: Float32Array,
  centers: ArrayLike<number>,
): Promise<Float32Array> {
  const { slices, angles, cols, n } = shape;
  const J = centers.length;
  const pipe = await backprojectPipeline(ctx);
  const sinoBuf = ctx.upload(sinograms, 'bp sinograms');
  const tableBuf = ctx.upload(table, 'bp angle table');
  const centerBuf = ctx.upload(Float32Array.from(centers), 'bp centres');
  const outBuf = ctx.createStorage(J * slices * n * n * 4, 'bp output');
  const params = backprojectParams(ctx, n, slices, angles, cols, J);
  ctx.fill(outBuf);
  try {
    const enc = ctx.device.createCommandEncoder({ label: 'fbp backproject' });
    const pass = enc.beginComputePass({ label: 'fbp backproject' });
    encodeBackproject(ctx, pass, pipe, ctx.bind(pipe, [params, sinoBuf, tableBuf, centerBuf, outBuf]), J * slices * n * n);
    pass.end();
    ctx.queue.submit([enc.finish()]);
    return await ctx.readF32(outBuf, J * slices * n * n);
  } finally {
    for (const b of [sinoBuf, tableBuf, centerBuf, outBuf, params]) b.destroy();
  }
}
