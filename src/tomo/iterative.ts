/**
 * Iterative tomography on the GPU: ART, SART and SIRT as one block-iterative sweep (the band walk,
 * shaders/tomo/sweep_packed.wgsl, on CPU adapters; the voxel-driven sweep_voxels.wgsl on GPUs)
 * over the Joseph projector pair (projector.ts).
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
 * Slices are independent in parallel-beam geometry, and the whole volume is updated in one submit
 * per iteration (one `await` to read the residual). The voxel-driven sweep has one workgroup
 * sweep a few slices through every angle of an iteration in a single dispatch (barriers between
 * its phases); the band walk runs each stage of each block as a barrier-free dispatch over runs
 * of slice groups ({@link groupRuns}). Volumes beyond one storage binding are split into slabs of
 * rows, all resident on the device.
 */
import { GpuError, InputError } from '../core/errors.js';
import type { Volume } from '../core/array.js';
import { secondsSince, type ProgressCallback } from '../core/progress.js';
import { mulberry32 } from '../core/random.js';
import { availableParallelism } from 'node:os';
import type { GpuContext } from '../gpu/context.js';
import type { PoolDevice } from '../gpu/pool.js';
import { WorkerDevice } from '../gpu/worker/device.js';
import { RemoteSweep } from '../gpu/worker/tomo-client.js';
import { KernelTimer, type KernelTimes } from '../gpu/timing.js';
import { checkProjectionShape, type TomoGeometry } from './geometry.js';
import { angleOrder, projectorParams, PROJECTOR_PARAMS_BYTES, SlabProjector } from './projector.js';
import { packSlices, planSlabs, unpackSlices } from './slabs.js';

/** The iterative algorithms. */
export const ITERATIVE_ALGORITHMS = ['art', 'sart', 'sirt'] as const;
export type IterativeAlgorithm = (typeof ITERATIVE_ALGORITHMS)[number];

/** How the sweep visits the voxels (IterativeOptions.sweepTraversal). */
export type SweepTraversal = 'bands' | 'voxels';

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
  /**
   * How the sweep visits the voxels (the same matrix either way): 'bands' walks the bands between
   * neighbouring rays (shaders/tomo/sweep_packed.wgsl: half the data accesses, 1.6× faster on
   * lavapipe when it came in, before its stage dispatches), 'voxels' updates voxel by voxel with
   * coalesced accesses (sweep_voxels.wgsl).
   * Default: 'bands' when the first device is a CPU adapter, 'voxels' on GPUs. Chosen once per
   * reconstruction, so every device of a pool computes the same numbers.
   */
  sweepTraversal?: SweepTraversal;
  /** Slices per workgroup, interleaved in one f32/vec2f/vec4f/mat2x4f (1, 2, 4 or 8; shaders/tomo/lanes1/2/4/8.wgsl); default on software adapters 8 (fewer for few rows), on GPUs 1. */
  slicesPerWorkgroup?: number;
  /**
   * Device memory one wave of slabs may use (bytes; default 2 GiB). A volume whose data, volume
   * and scratch exceed it streams through the device in waves: each wave runs all iterations,
   * then the next is uploaded.
   */
  deviceMemoryBytes?: number;
  /**
   * Voxel-angle updates per sweep dispatch; default 2^28 on GPUs (so no dispatch trips a desktop
   * driver's watchdog), unlimited on CPU adapters. The voxel-driven sweep cuts an iteration into
   * runs of blocks; the band walk (a dispatch per stage and angle) into runs of slice groups.
   */
  maxDispatchVoxelAngles?: number;
}

/** Default device memory budget per wave of slabs. */
export const DEFAULT_DEVICE_MEMORY = 2 * 2 ** 30;

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
  /** GPU kernel time when the adapter has timestamp queries (summed over devices). */
  kernels: KernelTimes;
  /** Devices used. */
  devices: number;
  /** Waves of slabs run (more than the devices when the volume streams). */
  waves: number;
}

const SWEEP_WG = 256;
/**
 * Bands per invocation of the band-walk sweep (shaders/tomo/sweep_packed.wgsl): each invocation walks
 * the voxels between three neighbouring rays (1.4× fewer CPU seconds per 256³ ART iteration on
 * lavapipe than a voxel-driven update; one and four bands per invocation measured slower). The
 * shader is written for two: each of its three voxel slots per step then meets exactly two rays.
 */
const SWEEP_BANDS = 2;

/** Slots (values of one slice group) the sweep's band sums and corrections of one angle take (sweep_packed.wgsl `QS`). */
export function sweepBandSlots(cols: number): number {
  return Math.floor((cols + SWEEP_BANDS) / SWEEP_BANDS) * (SWEEP_BANDS + 1);
}


/** Deterministic permutation of 0..n−1 (Fisher–Yates with a mulberry32 stream). */
export function seededOrder(n: number, seed: number): Uint32Array {
  const next = mulberry32(seed);
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
 * The sweep table of one iteration (shaders/tomo/sweep_packed.wgsl): `size` angle slots per block
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
  /**
   * Voxel-driven traversal: one uniform and bind group per dispatch (block positions
   * [t0, t0 + count) of the sweep). Band walk: one uniform holding a 256-byte slot per run of
   * slice groups, block position and angle of the block, and a bind group per slot (index
   * (run·blocks + position)·block + angle).
   */
  params: GPUBuffer[];
  binds: GPUBindGroup[];
  groups: number;
  /** Where the residual partials go in the residual buffer: [offset, count] in words. */
  residRanges: Array<[number, number]>;
  /** Band walk: the runs [first, count) of slice groups that sweep a whole iteration in turn. */
  runs: Array<[number, number]>;
}

/**
 * The runs of slice groups that sweep a whole iteration in turn on the band walk: each run's volume
 * stays in the CPU's caches from one stage dispatch to the next, where sweeping the whole slab at
 * every stage streams it through memory (256³ ART on lavapipe: 1.15–1.2 s per iteration with one
 * run of 32 groups of 2 MiB, 0.96–0.98 s with runs of 4). A run holds about
 * {@link BAND_RUN_BYTES_PER_CORE} per CPU core and at least one group per core (lavapipe runs a
 * dispatch's workgroups on one thread per core), and never more than `maxGroups`. `groupBytes` 0
 * (a GPU) puts every group in one run, up to `maxGroups`.
 */
export function groupRuns(groups: number, groupBytes: number, maxGroups = Infinity, cores = availableParallelism()): Array<[number, number]> {
  const per = Math.max(1, Math.min(groups, maxGroups, Math.max(cores, Math.floor((BAND_RUN_BYTES_PER_CORE * cores) / groupBytes))));
  const out: Array<[number, number]> = [];
  for (let g = 0; g < groups; g += per) out.push([g, Math.min(per, groups - g)]);
  return out;
}

/** Volume bytes per CPU core one run of the band walk covers. */
const BAND_RUN_BYTES_PER_CORE = 4 * 2 ** 20;

/** Bytes between the band-walk sweep's per-dispatch parameter slots (minUniformBufferOffsetAlignment ≤ 256). */
const PARAM_SLOT = 256;

/** The band-walk sweep's stages (entry points of shaders/tomo/sweep_packed.wgsl), sharing one bind group layout. */
interface BandStages {
  layout: GPUBindGroupLayout;
  sums: GPUComputePipeline;
  corrections: GPUComputePipeline;
  update: GPUComputePipeline;
  clamp: GPUComputePipeline;
}

/**
 * Voxel-angle updates one sweep dispatch may do on a GPU (the sweep of an iteration is cut into
 * several dispatches so none runs long enough to trip a desktop driver's watchdog). A CPU
 * adapter has no watchdog: there the voxel-driven sweep runs an iteration as one dispatch, and
 * the band walk's stage dispatches follow only the cache-sized runs of {@link groupRuns}.
 */
const GPU_DISPATCH_VOXEL_ANGLES = 2 ** 28;

/** Block-position ranges [t0, t0 + count) cutting a sweep of `nblocks` blocks into dispatches. */
export function sweepChunks(nblocks: number, voxelAnglesPerBlock: number, limit: number): Array<[number, number]> {
  const per = Math.max(1, Math.floor(limit / Math.max(1, voxelAnglesPerBlock)));
  const out: Array<[number, number]> = [];
  for (let t0 = 0; t0 < nblocks; t0 += per) out.push([t0, Math.min(per, nblocks - t0)]);
  return out;
}

/**
 * What one reconstruction needs, whatever device runs it (plain data: it travels to worker
 * processes as it is). The projections and starting volume come with each wave ({@link WaveBlock}).
 */
export interface SweepPlan {
  algorithm: IterativeAlgorithm;
  geometry: TomoGeometry;
  iterations: number;
  relax: number;
  lo: number;
  block: number;
  blocks: number[][];
  order: 'sequential' | 'random';
  seed: number;
  normalise: 0 | 1;
  /** The sweep's traversal (the same on every device of the pool). */
  traversal: SweepTraversal;
}

/**
 * Rows `[r0, r0 + rows)` of the problem as a device sees them: the projections
 * `[angles, rows, cols]` and starting volume `[rows, n, n]` of those rows, and the volume
 * `[rows, n, n]` their slices are written into. In-process devices get the whole problem
 * (`r0` = 0); a worker process gets the rows of its wave only.
 */
export interface WaveBlock {
  r0: number;
  rows: number;
  projections: Float32Array;
  initial?: Float32Array;
  out: Float32Array;
}

/** Per-iteration callback of a wave: Σ r² over the wave's rays in iteration `it` (0-based). */
export type IterationSums = (it: number, rss: number) => void;

/**
 * One device as the wave scheduler sees it: the in-process {@link SweepDevice}, or a sweep in a
 * worker process (src/gpu/worker/tomo-client.ts).
 */
export interface WaveRunner {
  /** Compiles and computes the per-reconstruction tables. */
  init(): Promise<void>;
  /** Largest slab (rows) this device can bind. */
  maxSlabRows(): number;
  /** Runs every iteration on the slabs `ranges` (absolute rows within `block`) and writes their slices into `block.out`. */
  run(ranges: Array<[number, number]>, block: WaveBlock, onIteration: IterationSums): Promise<void>;
  /** Kernel times so far. */
  kernelTimes(): KernelTimes;
  /** True when `err` (from init or run) means the device itself failed, so its wave may move to another. */
  failed(err: unknown): Promise<boolean>;
  destroy(): void;
}

/**
 * Slices per workgroup the sweep picks for `rows` rows when not told (see SweepDevice): 8 on a CPU
 * adapter, halved while that would leave CPU cores without a workgroup; 1 on a GPU. A warm-up that
 * should compile the pipeline a full run will use passes this as `slicesPerWorkgroup`.
 */
export function defaultSlicesPerWorkgroup(ctx: GpuContext, rows: number): number {
  let spw = ctx.info.software ? 8 : 1;
  while (spw > 1 && Math.ceil(rows / spw) < availableParallelism()) spw /= 2;
  return spw;
}

/** Bytes one slice (row) of a slab occupies on a device: data, volume and corrections. */
function bytesPerSlice(plan: SweepPlan): number {
  const { cols, n } = plan.geometry;
  return (plan.geometry.anglesDeg.length * cols + n * n + plan.block * sweepBandSlots(cols)) * 4;
}

/**
 * The sweep on one device: its pipelines and per-reconstruction tables (row scales, block column
 * scales, the sweep table), reused by every slab it runs.
 */
export class SweepDevice implements WaveRunner {
  readonly timer: KernelTimer;
  /** Voxel-driven traversal: one dispatch per iteration (or per watchdog-safe chunk). */
  private pipeline?: GPUComputePipeline;
  /** Band walk: a dispatch per stage, block and angle. */
  private bands?: BandStages;
  private orderBuf!: GPUBuffer;
  private rowscale!: GPUBuffer;
  private colscale!: GPUBuffer;
  readonly spw: number;
  /** Voxel-driven traversal only: corrections in workgroup memory. */
  readonly qInWorkgroup: boolean;

  /** Largest number of rows one binding can hold. */
  private readonly bindRows: number;

  constructor(readonly ctx: GpuContext, readonly plan: SweepPlan, slicesPerWorkgroup?: number, maxBindingBytes?: number, readonly maxDispatch?: number) {
    const { geometry, block } = plan;
    const perRow = Math.max(geometry.n * geometry.n, geometry.anglesDeg.length * geometry.cols, block * sweepBandSlots(geometry.cols)) * 4;
    this.bindRows = Math.floor(Math.min(maxBindingBytes ?? ctx.maxBinding, ctx.maxBinding) / perRow);
    // On a CPU adapter, eight slices per workgroup interleaved in a mat2x4f (every access and every
    // index computation serves eight slices: 2.6 s per 256^3 ART iteration on lavapipe against
    // 2.9 s with four and 4.7 s with two), fewer when that would leave CPU cores without a
    // workgroup; on a GPU, one slice per workgroup for parallelism. Never more than a binding holds.
    let spw = slicesPerWorkgroup ?? defaultSlicesPerWorkgroup(ctx, geometry.rows);
    spw = Math.max(1, Math.min(8, spw, this.bindRows));
    spw = 2 ** Math.floor(Math.log2(spw));
    this.spw = spw;
    // Voxel-driven traversal: one-angle blocks keep their corrections (cols values of LANES slices)
    // in workgroup memory when they fit.
    this.qInWorkgroup = plan.traversal === 'voxels' && block === 1 && geometry.cols * 4 * this.spw <= ctx.device.limits.maxComputeWorkgroupStorageSize - 4 * SWEEP_WG;
    this.timer = new KernelTimer(ctx, 4);
  }

  /** Largest slab (rows) this device can bind: a multiple of the slices per workgroup. */
  maxSlabRows(): number {
    return Math.floor(this.bindRows / this.spw) * this.spw;
  }

  /** Compiles the pipeline and computes the row and column scales. */
  async init(): Promise<void> {
    const { ctx, plan } = this;
    const { geometry, block, blocks, normalise } = plan;
    const { cols, n } = geometry;
    const na = geometry.anglesDeg.length;
    const nblocks = blocks.length;
    if (plan.traversal === 'bands') this.bands = await this.bandStages();
    else this.pipeline = await ctx.pipelines.getChecked({ shader: `tomo/sweep${this.spw}_voxels.wgsl`, entry: 'sweep', constants: { WG: SWEEP_WG, NORMALISE: normalise, QWG: this.qInWorkgroup ? cols : 0 } });
    this.orderBuf = ctx.createStorage((nblocks * block + nblocks) * 4, 'tomo sweep table');
    this.rowscale = ctx.createStorage(na * cols * 4, 'tomo row scale');
    const needColscale = normalise === 1 && block > 1;
    this.colscale = ctx.createStorage(needColscale ? nblocks * n * n * 4 : 16, 'tomo column scale');
    // Row scales 1/‖row‖² (ART) or 1/row sum (SART, SIRT), and the blocks' inverse column sums, once.
    const proj = new SlabProjector(ctx, geometry, 1);
    const params = proj.params(0, nblocks, { block });
    const rowParams = proj.params(0, na);
    const all = ctx.upload(angleOrder(geometry), 'tomo order');
    const members = ctx.upload(sweepTable(blocks, block, Uint32Array.from({ length: nblocks }, (_, i) => i)), 'tomo block members');
    try {
      const mode = plan.algorithm === 'art' ? 3 : 2; // 1/‖row‖² or 1/row sum
      const enc = ctx.device.createCommandEncoder({ label: 'tomo row and column scales' });
      const pass = enc.beginComputePass();
      proj.encodeRowWeights(pass, mode, proj.bindRowWeights(mode, rowParams, all, this.rowscale), na);
      if (needColscale) proj.encodeColumnScale(pass, proj.bindColumnScale(params, members, this.colscale), nblocks);
      pass.end();
      await ctx.submitAndWait([enc.finish()], 'row and column scales');
    } finally {
      for (const b of [params, rowParams, all, members]) b.destroy();
      proj.destroy();
    }
  }

  /** The band walk's four pipelines over one explicit layout (bindings of shaders/tomo/sweep_bindings.wgsl). */
  private async bandStages(): Promise<BandStages> {
    const { ctx, plan } = this;
    const storage = (binding: number, type: GPUBufferBindingType): GPUBindGroupLayoutEntry => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type } });
    const layout = ctx.device.createBindGroupLayout({
      label: 'tomo sweep bands',
      entries: [storage(0, 'uniform'), ...[1, 2, 3, 4, 5].map((b) => storage(b, 'read-only-storage')), ...[6, 7, 8].map((b) => storage(b, 'storage'))],
    });
    const pipelineLayout = { key: 'tomo sweep bands', layout: ctx.device.createPipelineLayout({ label: 'tomo sweep bands', bindGroupLayouts: [layout] }) };
    const stage = (entry: string) =>
      ctx.pipelines.getChecked({ shader: `tomo/sweep${this.spw}.wgsl`, entry, constants: { WG: SWEEP_WG, NORMALISE: plan.normalise, QS: sweepBandSlots(plan.geometry.cols) }, layout: pipelineLayout });
    return { layout, sums: await stage('band_sums'), corrections: await stage('corrections'), update: await stage('update'), clamp: await stage('clamp_slices') };
  }

  /**
   * Encodes one iteration of the band walk on a slab: per block position, the band sums and the
   * corrections, an update per angle of the block, and the clamp pass where one is due.
   */
  private encodeBands(pass: GPUComputePassEncoder, slab: Slab, blockOrder: Uint32Array): void {
    const { plan } = this;
    const bands = this.bands!;
    const clamping = plan.lo > -Infinity;
    const nblocks = blockOrder.length;
    for (const [r, [, count]] of slab.runs.entries()) {
      for (let bp = 0; bp < nblocks; bp++) {
        const nb = plan.blocks[blockOrder[bp]].length;
        const slot = (r * nblocks + bp) * plan.block;
        pass.setBindGroup(0, slab.binds[slot]);
        pass.setPipeline(bands.sums);
        pass.dispatchWorkgroups(count);
        pass.setPipeline(bands.corrections);
        pass.dispatchWorkgroups(count);
        pass.setPipeline(bands.update);
        for (let u = 0; u < nb; u++) {
          pass.setBindGroup(0, slab.binds[slot + u]);
          pass.dispatchWorkgroups(count);
        }
        if (clamping && (nb > 1 || bp === 0)) {
          pass.setPipeline(bands.clamp);
          pass.dispatchWorkgroups(count);
        }
      }
    }
  }

  /**
   * Runs every iteration on the slabs `ranges` (all resident at once) and writes their slices
   * into `out`; `onIteration` receives each iteration's Σ r² over these slabs.
   */
  async run(ranges: Array<[number, number]>, wave: WaveBlock, onIteration: IterationSums): Promise<void> {
    const { ctx, plan, spw } = this;
    const { geometry, block, blocks } = plan;
    const { cols, n } = geometry;
    const na = geometry.anglesDeg.length;
    const nblocks = blocks.length;
    const slabs: Slab[] = [];
    let residWords = 0;
    let residBuf: GPUBuffer | undefined;
    try {
      for (const [r0, r1] of ranges) {
        const s = r1 - r0;
        const padded = Math.ceil(s / spw) * spw;
        const proj = new SlabProjector(ctx, geometry, padded);
        // Listed before its buffers exist, so `finally` frees whatever was made if one fails.
        const slab: Slab = { r0, r1, padded, proj, groups: padded / spw, residRanges: [] } as unknown as Slab;
        slabs.push(slab);
        slab.data = ctx.createStorage(na * padded * cols * 4, 'tomo data slab');
        slab.vol = ctx.createStorage(padded * n * n * 4, 'tomo volume slab');
        slab.q = ctx.createStorage(padded * block * sweepBandSlots(cols) * 4, 'tomo sweep band sums and corrections');
        slab.binds = [];
        const aligned = (words: number) => Math.ceil(words / 64) * 64; // 256-byte aligned bindings
        const limit = this.maxDispatch ?? (ctx.info.software ? Infinity : GPU_DISPATCH_VOXEL_ANGLES);
        if (this.bands) {
          // A parameter slot per block position and angle of the block; a residual partial per invocation.
          // Runs sized for CPU caches on a CPU adapter, the whole slab on a GPU; the dispatch limit
          // caps a stage dispatch's voxel-angle updates here too (groups × slices × n² × block).
          const groupBytes = ctx.info.software ? n * n * spw * 4 : 0;
          slab.runs = groupRuns(slab.groups, groupBytes, Math.floor(limit / (spw * n * n * block)));
          const slots = new Uint8Array(slab.runs.length * nblocks * block * PARAM_SLOT);
          for (const [r, [group0]] of slab.runs.entries()) {
            for (let bp = 0; bp < nblocks; bp++) {
              for (let u = 0; u < block; u++) {
                const params = projectorParams({ n, cols, slices: padded, count: 1, t0: bp, angles: na, relax: plan.relax, lo: plan.lo, block, sub: u, group0 });
                slots.set(new Uint8Array(params), ((r * nblocks + bp) * block + u) * PARAM_SLOT);
              }
            }
          }
          slab.params = [ctx.uniform(slots, 'tomo sweep stage params')];
          slab.residRanges.push([residWords, slab.groups * SWEEP_WG]);
          residWords += aligned(slab.groups * SWEEP_WG);
        } else {
          const voxelAnglesPerBlock = padded * n * n * block;
          const chunks = sweepChunks(nblocks, voxelAnglesPerBlock, limit);
          slab.params = chunks.map(([t0, count]) => proj.params(t0, count, { relax: plan.relax, lo: plan.lo, block }));
          for (let c = 0; c < chunks.length; c++) {
            slab.residRanges.push([residWords, slab.groups]);
            residWords += aligned(slab.groups);
          }
        }
        ctx.queue.writeBuffer(slab.data, 0, packSlices(wave.projections, na, wave.rows, cols, r0 - wave.r0, r1 - wave.r0, spw));
        // Without an initial volume the sweep starts from zero: WebGPU creates buffers zeroed.
        if (wave.initial) ctx.queue.writeBuffer(slab.vol, 0, packSlices(wave.initial, 1, wave.rows, n * n, r0 - wave.r0, r1 - wave.r0, spw));
      }
      residBuf = ctx.createStorage(residWords * 4, 'tomo sweep residuals');
      for (const slab of slabs) {
        const bind = (params: GPUBufferBinding, layout: GPUBindGroupLayout, [off, count]: [number, number]) =>
          ctx.device.createBindGroup({
            label: 'tomo sweep',
            layout,
            entries: [
              { binding: 0, resource: params },
              ...[slab.proj.geo, this.orderBuf, slab.data, this.rowscale, this.colscale, slab.vol, slab.q].map((buffer, i): GPUBindGroupEntry => ({ binding: i + 1, resource: { buffer } })),
              { binding: 8, resource: { buffer: residBuf!, offset: off * 4, size: count * 4 } },
            ],
          });
        if (this.bands) {
          for (let i = 0; i < slab.runs.length * nblocks * block; i++) slab.binds.push(bind({ buffer: slab.params[0], offset: i * PARAM_SLOT, size: PROJECTOR_PARAMS_BYTES }, this.bands.layout, slab.residRanges[0]));
        } else {
          for (const [c, params] of slab.params.entries()) slab.binds.push(bind({ buffer: params }, this.pipeline!.getBindGroupLayout(0), slab.residRanges[c]));
        }
      }
      for (let it = 0; it < plan.iterations; it++) {
        const blockOrder = sweepOrder(nblocks, plan.order, plan.seed, it);
        ctx.queue.writeBuffer(this.orderBuf, 0, sweepTable(blocks, block, blockOrder) as Uint32Array<ArrayBuffer>);
        // The voxel-driven sweep writes one partial per workgroup (poisoned first, so a missing one
        // shows); the band walk's invocations add theirs to a slot each.
        ctx.fill(residBuf, this.bands ? 0 : Number.NaN);
        const enc = ctx.device.createCommandEncoder({ label: `tomo ${plan.algorithm} iteration` });
        const pass = this.timer.beginPass(enc, plan.algorithm);
        for (const slab of slabs) {
          if (this.bands) {
            this.encodeBands(pass, slab, blockOrder);
            continue;
          }
          pass.setPipeline(this.pipeline!);
          for (const bind of slab.binds) {
            pass.setBindGroup(0, bind);
            pass.dispatchWorkgroups(slab.groups);
          }
        }
        pass.end();
        this.timer.resolve(enc);
        ctx.queue.submit([enc.finish()]);
        // The read-back waits without spinning the JS thread on a CPU adapter (GpuContext.settle).
        const partial = await ctx.readF32(residBuf!, residWords);
        await this.timer.collect();
        let rss = 0;
        for (const slab of slabs) for (const [off, count] of slab.residRanges) for (let g = 0; g < count; g++) rss += partial[off + g];
        onIteration(it, rss);
      }
      for (const slab of slabs) {
        // One slice per group (GPUs): the slab is already in the output's layout, read straight into it.
        if (spw === 1) await ctx.readF32Into(slab.vol, wave.out, (slab.r0 - wave.r0) * n * n, (slab.r1 - slab.r0) * n * n);
        else unpackSlices(await ctx.readF32(slab.vol, slab.padded * n * n), wave.out, n * n, slab.r0 - wave.r0, slab.r1 - wave.r0, spw);
      }
    } finally {
      for (const slab of slabs) {
        for (const b of [slab.data, slab.vol, slab.q, ...(slab.params ?? [])]) b?.destroy();
        slab.proj.destroy();
      }
      residBuf?.destroy();
    }
  }

  kernelTimes(): KernelTimes {
    return this.timer.totals;
  }

  failed(err: unknown): Promise<boolean> {
    return deviceFailed(this.ctx, err);
  }

  destroy(): void {
    for (const b of [this.orderBuf, this.rowscale, this.colscale]) b?.destroy();
    this.timer.destroy();
  }
}

/** A group of slabs run together (resident at once) on one device. */
interface Wave {
  ranges: Array<[number, number]>;
  rows: number;
}

/**
 * Splits rows into waves: consecutive slabs (each within `maxRows` rows, the binding limit)
 * grouped so a wave's buffers stay within `budgetBytes` of device memory. `parts` ≥ 1 waves are
 * made at least (one per device), balanced by rows.
 */
export function planWaves(rows: number, maxRows: number, bytesPerRow: number, budgetBytes: number, parts: number): Wave[] {
  const waveRows = Math.max(1, Math.min(rows, Math.floor(budgetBytes / bytesPerRow)));
  const count = Math.max(parts, Math.ceil(rows / waveRows));
  const waves: Wave[] = [];
  for (let w = 0; w < count; w++) {
    const a = Math.floor((w * rows) / count);
    const b = Math.floor(((w + 1) * rows) / count);
    if (b <= a) continue;
    waves.push({ ranges: planSlabs(b - a, 1, maxRows).map(([x, y]): [number, number] => [a + x, a + y]), rows: b - a });
  }
  return waves;
}

/**
 * Reconstructs `projections` `[angles, rows, cols]` (already normalised: line integrals) with
 * ART, SART or SIRT on one device or several. All arithmetic runs in the sweep kernel; the host
 * only orders angles, sums the per-workgroup residuals and places the slices. With several
 * devices, the rows are split into waves of slabs that the devices run independently (a device
 * that finishes takes the next wave); slices are independent, so the volume is bit-identical
 * whatever the number of devices. A device that fails has its wave retried on the others.
 */
export async function reconstructIterative(ctx: PoolDevice | readonly PoolDevice[], projections: Volume, geometry: TomoGeometry, algorithm: IterativeAlgorithm, options: IterativeOptions = {}): Promise<IterativeResult> {
  const start = performance.now();
  const devices = Array.isArray(ctx) ? [...(ctx as readonly PoolDevice[])] : [ctx as PoolDevice];
  if (devices.length === 0) throw new InputError('no GPU device given');
  if (!ITERATIVE_ALGORITHMS.includes(algorithm)) throw new InputError(`unknown algorithm '${algorithm}' (known: ${ITERATIVE_ALGORITHMS.join(', ')}, fbp)`, '--algorithm');
  checkProjectionShape(geometry, projections.shape);
  const { rows, n } = geometry;
  const na = geometry.anglesDeg.length;
  const iterations = options.iterations ?? (algorithm === 'sirt' ? 20 : 1);
  if (!Number.isInteger(iterations) || iterations < 1) throw new InputError(`iterations must be a positive integer, got ${iterations}`, '--iterations');
  const relax = options.relaxation ?? 1;
  if (!(relax > 0 && relax < 2)) throw new InputError(`relaxation must be in (0, 2), got ${relax}`, '--relaxation');
  const maxDispatch = options.maxDispatchVoxelAngles;
  if (maxDispatch !== undefined && !(Number.isInteger(maxDispatch) && maxDispatch >= 1)) throw new InputError(`maxDispatchVoxelAngles must be a positive integer, got ${maxDispatch}`);
  const block = algorithm === 'art' ? 1 : algorithm === 'sirt' ? na : Math.min(na, options.blockSize ?? 1);
  if (!Number.isInteger(block) || block < 1) throw new InputError(`block size must be a positive integer, got ${options.blockSize}`, '--block-size');
  if (options.initial) {
    const s = options.initial.shape;
    if (s[0] !== rows || s[1] !== n || s[2] !== n) throw new InputError(`initial volume has shape [${s.join(', ')}], expected [${rows}, ${n}, ${n}]`, '--initial');
  }
  const plan: SweepPlan = {
    algorithm,
    geometry,
    iterations,
    relax,
    lo: options.nonNegative ? 0 : -Infinity,
    block,
    blocks: angleBlocks(na, block),
    order: options.order ?? 'sequential',
    seed: options.seed ?? 1,
    normalise: algorithm === 'art' ? 0 : 1,
    traversal: options.sweepTraversal ?? (devices[0].info.software ? 'bands' : 'voxels'),
  };
  if (plan.traversal !== 'bands' && plan.traversal !== 'voxels') throw new InputError(`unknown sweep traversal '${plan.traversal}' (bands or voxels)`);

  // ‖b‖² in float64 for the relative residual.
  let bss = 0;
  for (let i = 0; i < projections.data.length; i++) bss += projections.data[i] * projections.data[i];

  const workers: WaveRunner[] = devices.map((d) =>
    d instanceof WorkerDevice
      ? new RemoteSweep(d, plan, options.slicesPerWorkgroup, options.maxBindingBytes, options.maxDispatchVoxelAngles)
      : new SweepDevice(d, plan, options.slicesPerWorkgroup, options.maxBindingBytes, options.maxDispatchVoxelAngles),
  );
  const out = new Float32Array(rows * n * n);
  const whole: WaveBlock = { r0: 0, rows, projections: projections.data, initial: options.initial?.data, out };
  const rss = new Float64Array(iterations);
  const reported = new Int32Array(iterations);
  const iterationSeconds: number[] = [];
  let emitted = 0;
  try {
    // A device that fails to set up is dropped (when others remain).
    const ready = await Promise.all(workers.map((w) => w.init().then(() => true, async (err) => {
      if (workers.length > 1 && (await w.failed(err))) return false;
      throw err;
    })));
    const started = workers.filter((_, i) => ready[i]);
    if (started.length === 0) throw new GpuError('device-lost', 'no GPU device could be set up for the reconstruction');
    const maxRows = Math.min(...started.map((w) => w.maxSlabRows()));
    if (maxRows < 1) {
      throw new GpuError('limits', `one slice (${na} projections of ${geometry.cols} columns, or ${n} x ${n} voxels) exceeds this device's largest storage binding; reduce --size or the number of angles`);
    }
    const budget = options.deviceMemoryBytes ?? DEFAULT_DEVICE_MEMORY;
    const waves = planWaves(rows, maxRows, bytesPerSlice(plan), budget, started.length);
    // More waves than devices: the rows stream through in rounds.
    const streaming = waves.length > started.length;
    const queue = [...waves];
    const done = new Set<Wave>();
    const alive = new Set(started);
    let lastFailure: unknown;
    let tIter = performance.now();
    // An iteration's event with its residual fires once every wave has reported the iteration
    // (in order; waves report bit-identical sums wherever they run, so the events do not depend on
    // which device finishes first, in this process or a worker). When the rows stream through in
    // rounds, each wave also reports its progress without a residual. A wave that fails has its
    // sums withdrawn and reports them again from the device that redoes it.
    const report = (it: number, value: number, wave: Wave) => {
      rss[it] += value;
      reported[it]++;
      if (streaming) {
        options.onProgress?.({ stage: algorithm, iteration: it + 1, of: iterations, seconds: secondsSince(start), metrics: { wave: waves.indexOf(wave) + 1, waves: waves.length } });
      }
      while (emitted < iterations && reported[emitted] === waves.length) {
        const residual = Math.sqrt(rss[emitted] / (bss || 1));
        if (!Number.isFinite(residual)) throw new InputError(`the ${algorithm.toUpperCase()} residual became ${residual} in iteration ${emitted + 1}: the projections contain non-finite values or the relaxation is unstable`);
        iterationSeconds.push(secondsSince(tIter));
        tIter = performance.now();
        options.onProgress?.({ stage: algorithm, iteration: emitted + 1, of: iterations, residual, seconds: secondsSince(start) });
        emitted++;
      }
    };
    const runWorker = async (w: WaveRunner): Promise<void> => {
      while (queue.length > 0 && alive.has(w)) {
        const wave = queue.shift()!;
        const local = new Float64Array(iterations);
        const localReported = new Uint8Array(iterations);
        try {
          await w.run(wave.ranges, whole, (it, value) => {
            local[it] = value;
            localReported[it] = 1;
            report(it, value, wave);
          });
          done.add(wave);
        } catch (err) {
          if (alive.size <= 1 || !(await w.failed(err))) throw err;
          // Take the wave's partial sums back and give it to the remaining devices.
          for (let it = 0; it < iterations; it++) {
            if (localReported[it]) {
              rss[it] -= local[it];
              reported[it]--;
            }
          }
          alive.delete(w);
          lastFailure = err;
          queue.unshift(wave);
        }
      }
    };
    await Promise.all(started.map(runWorker));
    // A device that failed after the others had run out of waves left its wave queued: the
    // remaining devices take it now.
    while (queue.length > 0 && alive.size > 0) await Promise.all([...alive].map(runWorker));
    if (done.size !== waves.length) {
      throw new GpuError('device-lost', `every GPU device failed before the reconstruction finished (last error: ${(lastFailure as Error)?.message ?? 'unknown'})`, { cause: lastFailure });
    }
    // Every iteration has been reported by every wave by now; this emits none in practice.
    const residuals = Array.from(rss, (v) => Math.sqrt(v / (bss || 1)));
    for (let it = emitted; it < iterations; it++) {
      if (!Number.isFinite(residuals[it])) throw new InputError(`the ${algorithm.toUpperCase()} residual became ${residuals[it]} in iteration ${it + 1}: the projections contain non-finite values or the relaxation is unstable`);
      iterationSeconds.push(secondsSince(tIter));
      options.onProgress?.({ stage: algorithm, iteration: it + 1, of: iterations, residual: residuals[it], seconds: secondsSince(start) });
    }
    const kernels: KernelTimes = {};
    for (const w of workers) {
      for (const [k, v] of Object.entries(w.kernelTimes())) {
        const t = (kernels[k] ??= { count: 0, seconds: 0 });
        t.count += v.count;
        t.seconds += v.seconds;
      }
    }
    return { volume: { data: out, shape: [rows, n, n] }, residuals, seconds: secondsSince(start), iterationSeconds, kernels, devices: workers.length, waves: waves.length };
  } finally {
    for (const w of workers) w.destroy();
  }
}

/** True when `err` means the device itself failed (lost, out of memory), so its work may move to another. */
async function deviceFailed(ctx: GpuContext, err: unknown): Promise<boolean> {
  if (err instanceof GpuError && (err.kind === 'device-lost' || err.kind === 'out-of-memory' || err.kind === 'internal')) return true;
  if (err instanceof InputError) return false;
  // A rejected mapAsync can arrive before the device's `lost` promise settles.
  return Promise.race([ctx.device.lost.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 250))]);
}
