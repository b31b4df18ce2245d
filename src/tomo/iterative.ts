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
 *   ordered-subset SART); `x ← x + λ · (A_Bᵀ((b_B − A_B x) / rowsum)) / colsum_B`. The blocks
 *   are fixed runs of consecutive angle indices `[b·size, (b+1)·size)`; a random order shuffles
 *   the blocks (their angles are applied simultaneously anyway).
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
import { copyRowsOut, packSlices4, planSlabs, unpackSlices4 } from './slabs.js';

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
  /** Slices per workgroup (1..4; 4 uses the slice-interleaved vec4 kernel sweep4.wgsl); default 4 on software adapters, 1 on GPUs. */
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

/** The block order of iteration `it` (0-based): a permutation of `0..blocks−1`. */
export function sweepOrder(blocks: number, order: 'sequential' | 'random', seed: number, it: number): Uint32Array {
  return order === 'random' ? seededOrder(blocks, (seed * 1000003 + it) >>> 0) : Uint32Array.from({ length: blocks }, (_, i) => i);
}

/** The fixed blocks of `na` angles in runs of `size`: block b = [b·size, min((b+1)·size, na)). */
export function angleBlocks(na: number, size: number): number[][] {
  const out: number[][] = [];
  for (let a = 0; a < na; a += size) out.push(Array.from({ length: Math.min(size, na - a) }, (_, i) => a + i));
  return out;
}

/**
 * The sweep table of one iteration (shaders/tomo/sweep.wgsl): `size` angle slots per block
 * position (the block's angles ascending, unused slots 0xffffffff), then the block id of every
 * position, blocks taken in `blockOrder`.
 */
export function sweepTable(blocks: number[][], size: number, blockOrder: ArrayLike<number>): Uint32Array {
  const slots = blocks.length * size;
  const out = new Uint32Array(slots + blocks.length).fill(0xffffffff, 0, slots);
  for (let p = 0; p < blockOrder.length; p++) {
    const b = blockOrder[p];
    blocks[b].forEach((a, u) => (out[p * size + u] = a));
    out[slots + p] = b;
  }
  return out;
}

interface Slab {
  r0: number;
  r1: number;
  /** Slices on the device: r1 − r0 rounded up to a multiple of the slices per workgroup (zero padding). */
  padded: number;
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
  // On a CPU adapter, four slices per workgroup packed as vec4 (one access moves four slices:
  // about 2x fewer CPU cycles than two unpacked slices at 256^3 on lavapipe); on a GPU, one slice
  // per workgroup for parallelism.
  const spw = Math.max(1, Math.min(4, options.slicesPerWorkgroup ?? (ctx.info.software ? 4 : 1)));
  const normalise = algorithm === 'art' ? 0 : 1;

  const blocks = angleBlocks(na, block);
  const nblocks = blocks.length;
  // Four slices per workgroup use the slice-interleaved vec4 kernel (one access moves four slices).
  const packed = spw === 4;
  const pipeline = packed
    ? await ctx.pipelines.getChecked({ shader: 'tomo/sweep4.wgsl', entry: 'sweep', constants: { WG: SWEEP_WG, NORMALISE: normalise } })
    : await ctx.pipelines.getChecked({ shader: 'tomo/sweep.wgsl', entry: 'sweep', constants: { WG: SWEEP_WG, SPW: spw, NORMALISE: normalise } });
  const limit = options.maxBindingBytes ?? ctx.maxBinding;
  const bytesPerRow = Math.max(n * n, na * cols, block * cols) * 4;
  const plan = planSlabs(rows, bytesPerRow, Math.max(bytesPerRow, limit - spw * bytesPerRow));

  // ‖b‖² in float64 for the relative residual.
  let bss = 0;
  for (let i = 0; i < projections.data.length; i++) bss += projections.data[i] * projections.data[i];

  const orderBuf = ctx.createStorage((nblocks * block + nblocks) * 4, 'tomo sweep table');
  const rowscale = ctx.createStorage(na * cols * 4, 'tomo row scale');
  const needColscale = normalise === 1 && block > 1;
  const colscale = ctx.createStorage(needColscale ? nblocks * n * n * 4 : 16, 'tomo column scale');
  const slabs: Slab[] = [];
  let residWords = 0;
  const timer = new KernelTimer(ctx, 4);
  let residBuf: GPUBuffer | undefined;
  try {
    // Row scales 1/‖row‖² (ART) or 1/row sum (SART, SIRT), and the blocks' inverse column sums, once.
    {
      const proj = new SlabProjector(ctx, geometry, 1);
      const params = proj.params(0, nblocks, { block });
      const all = ctx.upload(Uint32Array.from({ length: na }, (_, i) => i), 'tomo order');
      const members = ctx.upload(sweepTable(blocks, block, Uint32Array.from({ length: nblocks }, (_, i) => i)), 'tomo block members');
      try {
        const mode = algorithm === 'art' ? 3 : 2;
        const rowPipe = await ctx.pipelines.getChecked({ shader: 'tomo/rows.wgsl', entry: 'row_weights', constants: { WG: 64, MODE: mode } });
        const enc = ctx.device.createCommandEncoder({ label: 'tomo row and column scales' });
        const pass = enc.beginComputePass();
        const rowParams = proj.params(0, na);
        pass.setPipeline(rowPipe);
        pass.setBindGroup(0, ctx.bind(rowPipe, [rowParams, proj.geo, all, rowscale]));
        pass.dispatchWorkgroups(Math.ceil(cols / 64), 1, na);
        if (needColscale) {
          const colPipe = await ctx.pipelines.getChecked({ shader: 'tomo/colsum.wgsl', entry: 'column_scale', constants: { WG: 64 } });
          pass.setPipeline(colPipe);
          pass.setBindGroup(0, ctx.bind(colPipe, [params, proj.geo, members, colscale]));
          pass.dispatchWorkgroups(Math.ceil(n / 64), n, nblocks);
        }
        pass.end();
        await ctx.submitAndWait([enc.finish()], 'row and column scales');
        rowParams.destroy();
      } finally {
        params.destroy();
        all.destroy();
        members.destroy();
        proj.destroy();
      }
    }
    for (const [r0, r1] of plan) {
      const s = r1 - r0;
      const padded = Math.ceil(s / spw) * spw;
      const proj = new SlabProjector(ctx, geometry, padded);
      const data = ctx.createStorage(na * padded * cols * 4, 'tomo data slab');
      const vol = ctx.createStorage(padded * n * n * 4, 'tomo volume slab');
      if (packed) {
        ctx.queue.writeBuffer(data, 0, packSlices4(projections.data, na, rows, cols, r0, r1));
        if (options.initial) ctx.queue.writeBuffer(vol, 0, packSlices4(options.initial.data, 1, rows, n * n, r0, r1));
        else ctx.fill(vol, 0);
      } else {
        const rowsData = copyRowsOut(projections.data, na, rows, cols, r0, r1);
        ctx.fill(data, 0);
        for (let a = 0; a < na; a++) ctx.queue.writeBuffer(data, a * padded * cols * 4, rowsData.buffer, rowsData.byteOffset + a * s * cols * 4, s * cols * 4);
        ctx.fill(vol, 0);
        if (options.initial) {
          const init = options.initial.data.subarray(r0 * n * n, r1 * n * n);
          ctx.queue.writeBuffer(vol, 0, init.buffer, init.byteOffset, init.byteLength);
        }
      }
      const q = ctx.createStorage(padded * block * cols * 4, 'tomo sweep corrections');
      const params = proj.params(0, nblocks, { relax, lo: options.nonNegative ? 0 : -Infinity, block });
      const groups = padded / spw;
      slabs.push({ r0, r1, padded, proj, data, vol, q, params, groups, residOffset: residWords });
      residWords += Math.ceil((groups * 4) / 256) * 64; // 256-byte aligned bindings
    }
    residBuf = ctx.createStorage(residWords * 4, 'tomo sweep residuals');
    for (const slab of slabs) {
      slab.bind = ctx.device.createBindGroup({
        label: 'tomo sweep',
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          ...[slab.params, slab.proj.geo, orderBuf, slab.data, rowscale, colscale, slab.vol, slab.q].map((buffer, i): GPUBindGroupEntry => ({ binding: i, resource: { buffer } })),
          { binding: 8, resource: { buffer: residBuf, offset: slab.residOffset * 4, size: slab.groups * 4 } },
        ],
      });
    }

    const residuals: number[] = [];
    const iterationSeconds: number[] = [];
    for (let it = 0; it < iterations; it++) {
      const t0 = performance.now();
      const table = sweepTable(blocks, block, sweepOrder(nblocks, order, seed, it));
      ctx.queue.writeBuffer(orderBuf, 0, table as Uint32Array<ArrayBuffer>);
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
    for (const slab of slabs) {
      if (packed) unpackSlices4(await ctx.readF32(slab.vol, slab.padded * n * n), out, n * n, slab.r0, slab.r1);
      else out.set(await ctx.readF32(slab.vol, (slab.r1 - slab.r0) * n * n), slab.r0 * n * n);
    }
    return { volume: { data: out, shape: [rows, n, n] }, residuals, seconds: secondsSince(start), iterationSeconds, kernels: timer.totals };
  } finally {
    for (const slab of slabs) {
      for (const b of [slab.data, slab.vol, slab.q, slab.params]) b.destroy();
      slab.proj.destroy();
    }
    orderBuf.destroy();
    rowscale.destroy();
    colscale.destroy();
    residBuf?.destroy();
    timer.destroy();
  }
}
