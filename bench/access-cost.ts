/**
 * What a data-dependent storage-buffer access costs on the chosen adapter
 * (`node dist/bench/access-cost.js`): nanoseconds per complex (vec2f) load and store, from the
 * kernels of shaders/bench/access_cost.wgsl, with neighbouring invocations on neighbouring values
 * (the most cache-friendly pattern), so the figures bound real kernels from below:
 * - streaming: every point of a 64 MiB array once, as DM's passes over the exit waves do (68 MB
 *   per pass on the Siemens star);
 * - cached: a 2 MiB array read 32 times over, as DM's probe (128 KiB) and object (1.7 MB) are.
 * From them it derives lower bounds for one DM iteration on the Siemens star (516 frames of 128²)
 * from the global accesses per frame pixel of two data flows (below), with no arithmetic at all.
 * Both kernels' results are checked. Prints the figures and writes JSON under bench/results/.
 */
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GpuContext } from '../src/gpu/context.js';
import { PACKAGE_ROOT } from '../src/gpu/shaders.js';
import { writeFileAtomic } from '../src/io/atomic.js';

/** One kernel shape: K accesses per invocation over a POINTS-long array (powers of two). */
export interface Shape {
  K: number;
  INVOCATIONS: number;
  POINTS: number;
}

/** Every point once (K · INVOCATIONS = POINTS), 64 MiB. */
export const STREAMING: Shape = { K: 4, INVOCATIONS: 2 ** 21, POINTS: 2 ** 23 };
/** 2 MiB read 32 times over (K · INVOCATIONS = 32 · POINTS). */
export const CACHED: Shape = { K: 64, INVOCATIONS: 2 ** 17, POINTS: 2 ** 18 };

/**
 * Global-memory accesses (complex values) per frame pixel of one DM iteration, one probe mode,
 * whole-pixel positions; workgroup-memory traffic and the object and probe writes not counted.
 * `stages` is webrecon's data flow, each stage fused as far as it goes: the model reads the probe
 * and the object view (cached) and writes the exit wave; the 2-D FFT and its inverse are two
 * passes each (a 128² frame does not fit a workgroup's memory), each reading and writing every
 * point; the Fourier update reads the model, the previous exit wave and the measured amplitude
 * with its mask, and writes the new exit wave; the object and probe updates each read the
 * exit-wave residual and the other factor (cached). `fused` also folds the model into the
 * forward row pass and the Fourier update into the column passes (forward FFT, update, inverse
 * FFT of each column in one kernel; slower on lavapipe when it was tried, see the README).
 */
export const DM_FLOWS = {
  stages: { streamingLoads: 4 + 3 + 2, cachedLoads: 2 + 2, stores: 1 + 4 + 1 },
  fused: { streamingLoads: 3 + 1 + 2, cachedLoads: 2 + 2, stores: 1 + 2 + 1 },
};
const STAR_FRAME_PIXELS = 516 * 128 * 128;

function pointIndex(s: Shape, g: number, k: number): number {
  return (k * s.INVOCATIONS + g) & (s.POINTS - 1);
}

/** Best seconds per access of `entry` over a few runs after the first (which may pay first-use costs). */
async function timeEntry(ctx: GpuContext, entry: 'loads' | 'stores', s: Shape, points: GPUBuffer, sums: GPUBuffer): Promise<number> {
  const pipeline = await ctx.pipelines.getChecked({ shader: 'bench/access_cost.wgsl', entry, constants: { K: s.K, INVOCATIONS: s.INVOCATIONS, POINTS: s.POINTS } });
  const bind = ctx.bind(pipeline, entry === 'loads' ? [points, sums] : [points]);
  const times: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    await ctx.runPass(`access cost ${entry}`, (pass) => {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(s.INVOCATIONS / 64);
    }, entry);
    times.push(performance.now() - t);
  }
  return (Math.min(...times.slice(1)) * 1e6) / (s.INVOCATIONS * s.K);
}

/** Loads: the sums of a sample of invocations against float64 sums of the same points. */
async function checkLoads(ctx: GpuContext, s: Shape, input: Float32Array, sums: GPUBuffer): Promise<void> {
  const got = await ctx.readF32(sums, s.INVOCATIONS * 2);
  for (let g = 0; g < s.INVOCATIONS; g += 97) {
    let re = 0;
    let im = 0;
    for (let k = 0; k < s.K; k++) {
      const i = pointIndex(s, g, k);
      re += input[2 * i];
      im += input[2 * i + 1];
    }
    if (!(Math.abs(got[2 * g] - re) <= 1e-4 * (Math.abs(re) + 1)) || !(Math.abs(got[2 * g + 1] - im) <= 1e-4 * (Math.abs(im) + 1))) {
      throw new Error(`access-cost: the loads kernel summed invocation ${g} to (${got[2 * g]}, ${got[2 * g + 1]}), expected (${re}, ${im})`);
    }
  }
}

/** Stores: every point holds (k, g) of the one access that wrote it. */
async function checkStores(ctx: GpuContext, s: Shape, points: GPUBuffer): Promise<void> {
  const stored = await ctx.readF32(points, s.POINTS * 2);
  for (let i = 0; i < s.POINTS; i++) {
    const k = Math.floor(i / s.INVOCATIONS);
    const g = i % s.INVOCATIONS;
    if (stored[2 * i] !== k || stored[2 * i + 1] !== g) throw new Error(`access-cost: point ${i} holds (${stored[2 * i]}, ${stored[2 * i + 1]}), expected (${k}, ${g})`);
  }
}

/** Nanoseconds per complex access (the whole adapter working). */
export interface AccessCosts {
  cachedLoad: number;
  streamingLoad: number;
  streamingStore: number;
}

/**
 * Times the three access kinds and checks the kernels' results (throws if one is wrong).
 * `streaming` must satisfy K · INVOCATIONS = POINTS (every point stored once) and hold at least
 * as many points as `cached`.
 */
export async function measureAccessCosts(ctx: GpuContext, streaming: Shape = STREAMING, cached: Shape = CACHED): Promise<AccessCosts> {
  if (streaming.K * streaming.INVOCATIONS !== streaming.POINTS || cached.POINTS > streaming.POINTS) throw new Error('access-cost: the streaming shape must cover its points once and be the larger');
  const owned: GPUBuffer[] = [];
  try {
    const input = Float32Array.from({ length: streaming.POINTS * 2 }, (_, i) => ((i * 7919) % 1000) / 1000);
    const points = ctx.upload(input, 'access cost points');
    const sums = ctx.createStorage(Math.max(streaming.INVOCATIONS, cached.INVOCATIONS) * 8, 'access cost sums');
    owned.push(points, sums);
    ctx.fill(sums); // poisoned: an unwritten sum fails the check
    const cachedLoad = await timeEntry(ctx, 'loads', cached, points, sums);
    await checkLoads(ctx, cached, input, sums);
    ctx.fill(sums);
    const streamingLoad = await timeEntry(ctx, 'loads', streaming, points, sums);
    await checkLoads(ctx, streaming, input, sums);
    const streamingStore = await timeEntry(ctx, 'stores', streaming, points, sums);
    await checkStores(ctx, streaming, points);
    return { cachedLoad, streamingLoad, streamingStore };
  } finally {
    for (const b of owned) b.destroy();
  }
}

/** Seconds one star DM iteration spends on the global accesses of `flow` at the measured costs. */
export function dmLowerBound(costs: AccessCosts, flow: { streamingLoads: number; cachedLoads: number; stores: number }): number {
  return ((flow.streamingLoads * costs.streamingLoad + flow.cachedLoads * costs.cachedLoad + flow.stores * costs.streamingStore) * STAR_FRAME_PIXELS) / 1e9;
}

async function main(): Promise<void> {
  const ctx = await GpuContext.acquire();
  try {
    const costs = await measureAccessCosts(ctx);
    const dmLowerBoundSeconds = { stages: dmLowerBound(costs, DM_FLOWS.stages), fused: dmLowerBound(costs, DM_FLOWS.fused) };
    const device = ctx.info.description;
    console.log(`adapter: ${device}`);
    console.log(`complex load, cached (2 MiB):     ${costs.cachedLoad.toFixed(3)} ns per access (the whole adapter)`);
    console.log(`complex load, streaming (64 MiB): ${costs.streamingLoad.toFixed(3)} ns`);
    console.log(`complex store, streaming:         ${costs.streamingStore.toFixed(3)} ns`);
    for (const [name, f] of Object.entries(DM_FLOWS)) {
      console.log(`DM iteration on the Siemens star, global accesses alone (${name}: ${f.streamingLoads} streaming and ${f.cachedLoads} cached loads, ${f.stores} stores per frame pixel): ≥ ${dmLowerBoundSeconds[name as keyof typeof DM_FLOWS].toFixed(3)} s`);
    }
    const out = join(PACKAGE_ROOT, 'bench', 'results', `access-cost-${new Date().toISOString().slice(0, 10)}-${ctx.info.software ? 'software' : 'gpu'}.json`);
    const record = { date: new Date().toISOString(), device, software: ctx.info.software, cpus: cpus().length, loadavg: loadavg(), nsPerComplex: costs, dmAccessesPerFramePixel: DM_FLOWS, starFramePixels: STAR_FRAME_PIXELS, dmLowerBoundSeconds };
    await writeFileAtomic(out, new TextEncoder().encode(`${JSON.stringify(record, null, 2)}\n`));
    console.log(`wrote ${out}`);
  } finally {
    ctx.destroy();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
