/**
 * Iterative tomography on the GPU: ART, SART and SIRT as one block-iterative sweep kernel
 * (shaders/tomo/sweep.wgsl) over the Joseph projector pair (projector.ts).
 *
 * With `b` the projections, `A` the projector, `A_B` its rows for a block `B` of angles:
 *
 * - **ART** (Kaczmarz row action, as TomViz runs it): blocks of one angle, in sequential or
 *   seeded random order; `x ← x + β · A_Bᵀ((b_B − A_B x) / ‖row‖²)`. All rays of one angle update
 *   together (their rows barely overlap), which is what makes a whole angle one GPU step.
 * - **SART** (Andersen & Kak): blocks of `blockSize` angles (default 1; larger blocks are
 *   ordered-subset SART); `x ← x + λ · (A_Bᵀ((b_B − A_B x) / rowsum)) / colsum_B`.
 * - **SIRT**: one block of all angles, with the same row- and column-sum normalisation.
 *
 * Non-negativity clamps `x ≥ 0` after every block update. The residual reported per iteration is
 * `‖b − A x‖ / ‖b‖` with each ray evaluated just before its block's update (the sweep residual;
 * for SIRT that is the residual of the iterate entering the iteration).
 *
 * Slices are independent in parallel-beam geometry: one workgroup sweeps a few slices through
 * every angle of an iteration in a single dispatch, so the whole volume is updated in one
 * submit per iteration (one `await` to read the residual). Volumes beyond one storage binding
 * are split into slabs of rows, all resident on the device.
 */
import { InputError } from '../core/errors.js';
import type { Volume } from '../core/array.js';
import { secondsSince, type ProgressCallback } from '../core/progress.js';
import type { GpuContext } from '../gpu/context.js';
import { KernelTimer, type KernelTimes } from '../gpu/timing.js';
import { checkProjectionShape, type TomoGeometry } from './geometry.js';
import { SlabProjector } from './projector.js';
import { copyRowsOut, planSlabs } from './slabs.js';

/** The iterative algorithms. */
export const ITERATIVE_ALGORITHMS = ['art', 'sart', 'sirt'] as const;
export type IterativeAlgorithm = (typeof ITERATIVE_ALGORITHMS)[number];

/** Options of {@link reconstructIterative}. */
export interface IterativeOptions {
  /** Full sweeps over all angles; default 1 for ART and SART, 20 for SIRT. */
  iterations?: number;
  /** Relaxation β (ART) or λ (SART, SIRT); default 1. Must be in (0, 2). */
  relaxation?: number;
  /** Angle order of ART/SART sweeps: 'sequential' (as given) or 'random' (seeded, new each iteration). Default 'sequential'. */
  order?: 'sequential' | 'random';
  /** Seed of the random order; default 1. */
  seed?: number;
  /** SART angles per block (ordered subsets); default 1. Ignored by ART (1) and SIRT (all). */
  blockSize?: number;
  /** Clamp the volume at zero after every update. */
  nonNegative?: boolean;
  /** Starting volume `[rows, n, n]`; default zeros. */
  initial?: Volume;
  /** Called after every iteration with stage = algorithm name and the residual. */
  onProgress?: ProgressCallback;
  /** Largest storage binding to use per slab (bytes); default the device's. Smaller forces slabs. */
  maxBindingBytes?: number;
  /** Slices per workgroup (1..4); default 4 on software adapters (cache reuse), 1 on GPUs (parallelism). */
  slicesPerWorkgroup?: number;
}

/** Result of {@link reconstructIterative}. */
export interface IterativeResult {
  /** The reconstruction `[rows, n, n]`. */
  volume: Volume;
  /** Sweep residual ‖b − Ax‖/‖b‖ per iteration. */
  residuals: number[];
  /** Wall-clock seconds for the whole call (uploads and read-back included). */
  seconds: number;
  /** Wall-clock seconds per iteration. */
  iterationSeconds: number[];
  /** GPU kernel time when the adapter has timestamp queries. */
  kernels: KernelTimes;
}

const SWEEP_WG = 256;

/** Deterministic permutation of 0..n−1 (Fisher–Yates with a mulberry32 stream). */
export function seededOrder(n: number, seed: number): Uint32Array {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}

/** The angle order of iteration `it` (0-based). */
export function sweepOrder(na: number, order: 'sequential' | 'random', seed: number, it: number): Uint32Array {
  return order === 'random' ? seededOrder(na, (seed * 1000003 + it) >>> 0) : Uint32Array.from({ length: na }, (_, i) => i);
}

interface Slab {
  r0: number;
  r1: number;
  proj: SlabProjector;
  data: GPUBuffer;
  vol: GPUBuffer;
  q: GPUBuffer;
  params: GPUBuffer;
  groups: number;
  residOffset: number;
  bind?: GPUBindGroup;
}

/**
 * Reconstructs `projections` `[angles, rows, cols]` (already normalised: line integrals) with
 * ART, SART or SIRT. All arithmetic runs in the sweep kernel; the host only orders angles and
 * sums the per-workgroup residuals.
 */
export async function reconstructIterative(ctx: GpuContext, projections: Volume, geometry: TomoGeometry, algorithm: IterativeAlgorithm, options: IterativeOptions = {}): Promise<IterativeResult> {
  const start = performance.now();
  if (!ITERATIVE_ALGORITHMS.includes(algorithm)) throw new InputError(`unknown algorithm '${algorithm}' (known: ${ITERATIVE_ALGORITHMS.join(', ')}, fbp)`, '--algorithm');
  checkProjectionShape(geometry, projections.shape);
  const { rows, cols, n } = geometry;
  const na = geometry.anglesDeg.length;
  const iterations = options.iterations ?? (algorithm === 'sirt' ? 20 : 1);
  if (!Number.isInteger(iterations) || iterations < 1) throw new InputError(`iterations must be a positive integer, got ${iterations}`, '--iterations');
  const relax = options.relaxation ?? 1;
  if (!(relax > 0 && relax < 2)) throw new InputError(`relaxation must be in (0, 2), got ${relax}`, '--relaxation');
  const block = algorithm === 'art' ? 1 : algorithm === 'sirt' ? na : Math.min(na, options.blockSize ?? 1);
  if (!Number.isInteger(block) || block < 1) throw new InputError(`block size must be a positive integer, got ${options.blockSize}`, '--block-size');
  if (options.initial) {
    const s = options.initial.shape;
    if (s[0] !== rows || s[1] !== n || s[2] !== n) throw new InputError(`initial volume has shape [${s.join(', ')}], expected [${rows}, ${n}, ${n}]`, '--initial');
  }
  const order = options.order ?? 'sequential';
  const seed = options.seed ?? 1;
  const spw = Math.max(1, Math.min(4, options.slicesPerWorkgroup ?? (ctx.info.software ? 4 : 1)));
  const normalise = algorithm === 'art' ? 0 : 1;

  const pipeline = await ctx.pipelines.getChecked({ shader: 'tomo/sweep.wgsl', entry: 'sweep', constants: { WG: SWEEP_WG, SPW: spw, NORMALISE: normalise } });
  const limit = options.maxBindingBytes ?? ctx.maxBinding;
  const bytesPerRow = Math.max(n * n, na * cols, block * cols) * 4;
  const plan = planSlabs(rows, bytesPerRow, limit);

  // ‖b‖² in float64 for the relative residual.
  let bss = 0;
  for (let i = 0; i < projections.data.length; i++) bss += projections.data[i] * projections.data[i];

  const orderBuf = ctx.createStorage(na * 4, 'tomo sweep order');
  const rowscale = ctx.createStorage(na * cols * 4, 'tomo row scale');
  const slabs: Slab[] = [];
  let residWords = 0;
  const timer = new KernelTimer(ctx, 4);
  let residBuf: GPUBuffer | undefined;
  try {
    // Row scales 1/‖row‖² (ART) or 1/row sum (SART, SIRT), once for all slabs.
    {
      const proj = new SlabProjector(ctx, geometry, 1);
      const params = proj.params(0, na);
      const all = ctx.upload(Uint32Array.from({ length: na }, (_, i) => i), 'tomo order');
      try {
        const mode = algorithm === 'art' ? 3 : 2;
        await ctx.pipelines.getChecked({ shader: 'tomo/rows.wgsl', entry: 'row_weights', constants: { WG: 64, MODE: mode } });
        const bg = proj.bindRowWeights(mode, params, all, rowscale);
        const enc = ctx.device.createCommandEncoder({ label: 'tomo row scale' });
        const pass = enc.beginComputePass();
        proj.encodeRowWeights(pass, mode, bg, na);
        pass.end();
        await ctx.submitAndWait([enc.finish()], 'row weights');
      } finally {
        params.destroy();
        all.destroy();
        proj.destroy();
      }
    }
    for (const [r0, r1] of plan) {
      const s = r1 - r0;
      const proj = new SlabProjector(ctx, geometry, s);
      const data = ctx.upload(copyRowsOut(projections.data, na, rows, cols, r0, r1), 'tomo data slab');
      const vol = options.initial
        ? ctx.upload(options.initial.data.subarray(r0 * n * n, r1 * n * n), 'tomo volume slab')
        : ctx.createStorage(s * n * n * 4, 'tomo volume slab');
      if (!options.initial) ctx.fill(vol, 0);
      const q = ctx.createStorage(s * block * cols * 4, 'tomo sweep corrections');
      const params = proj.params(0, na, { relax, lo: options.nonNegative ? 0 : -Infinity, block });
      const groups = Math.ceil(s / spw);
      slabs.push({ r0, r1, proj, data, vol, q, params, groups, residOffset: residWords });
      residWords += Math.ceil((groups * 4) / 256) * 64; // 256-byte aligned bindings
    }
    residBuf = ctx.createStorage(residWords * 4, 'tomo sweep residuals');
    for (const slab of slabs) {
      slab.bind = ctx.device.createBindGroup({
        label: 'tomo sweep',
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          ...[slab.params, slab.proj.geo, orderBuf, slab.data, rowscale, slab.vol, slab.q].map((buffer, i): GPUBindGroupEntry => ({ binding: i, resource: { buffer } })),
          { binding: 7, resource: { buffer: residBuf, offset: slab.residOffset * 4, size: slab.groups * 4 } },
        ],
      });
    }

    const residuals: number[] = [];
    const iterationSeconds: number[] = [];
    for (let it = 0; it < iterations; it++) {
      const t0 = performance.now();
      const ord = sweepOrder(na, order, seed, it);
      ctx.queue.writeBuffer(orderBuf, 0, ord as Uint32Array<ArrayBuffer>);
      ctx.fill(residBuf, Number.NaN);
      const enc = ctx.device.createCommandEncoder({ label: `tomo ${algorithm} iteration` });
      const pass = timer.beginPass(enc, algorithm);
      pass.setPipeline(pipeline);
      for (const slab of slabs) {
        pass.setBindGroup(0, slab.bind!);
        pass.dispatchWorkgroups(slab.groups);
      }
      pass.end();
      timer.resolve(enc);
      ctx.queue.submit([enc.finish()]);
      const partial = await ctx.readF32(residBuf, residWords);
      await timer.collect();
      let rss = 0;
      for (const slab of slabs) for (let g = 0; g < slab.groups; g++) rss += partial[slab.residOffset + g];
      if (!Number.isFinite(rss)) throw new InputError(`the ${algorithm.toUpperCase()} residual became ${rss} in iteration ${it + 1}: the projections contain non-finite values or the relaxation is unstable`);
      const residual = Math.sqrt(rss / (bss || 1));
      residuals.push(residual);
      iterationSeconds.push(secondsSince(t0));
      options.onProgress?.({ stage: algorithm, iteration: it + 1, of: iterations, residual, seconds: secondsSince(start) });
    }

    const out = new Float32Array(rows * n * n);
    for (const slab of slabs) out.set(await ctx.readF32(slab.vol, (slab.r1 - slab.r0) * n * n), slab.r0 * n * n);
    return { volume: { data: out, shape: [rows, n, n] }, residuals, seconds: secondsSince(start), iterationSeconds, kernels: timer.totals };
  } finally {
    for (const slab of slabs) {
      for (const b of [slab.data, slab.vol, slab.q, slab.params]) b.destroy();
      slab.proj.destroy();
    }
    orderBuf.destroy();
    rowscale.destroy();
    residBuf?.destroy();
    timer.destroy();
  }
}
