/**
 * What a data-dependent storage-buffer access costs on the chosen adapter
 * (`node dist/bench/access-cost.js`): nanoseconds per complex (vec2f) load and store from
 * shaders/bench/access_cost.wgsl, in the most cache-friendly pattern (neighbouring invocations,
 * neighbouring values), so the figures bound real kernels from below. From them it derives a
 * lower bound for one DM iteration on the Siemens star (516 frames of 128²): whatever the kernels,
 * one iteration loads every frame pixel at least DM_LOADS times and stores it DM_STORES times in
 * global memory (see below), each at least the measured cost. Prints the figures and writes JSON
 * under bench/results/.
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { GpuContext } from '../src/gpu/context.js';
import { PACKAGE_ROOT } from '../src/gpu/shaders.js';
import { writeFileAtomic } from '../src/io/atomic.js';

const K = 64;
const INVOCATIONS = 2 ** 18;
const POINTS = 2 ** 20;

/**
 * Global-memory accesses (complex values) per frame pixel that one DM iteration cannot avoid, with
 * one probe mode and whole-pixel positions, and every stage ideally fused: the model reads the
 * probe and the object view and writes the exit wave (2 loads, 1 store); the 2-D FFT and its
 * inverse are at least two passes each (a 128² frame does not fit a workgroup's memory), each
 * reading and writing every point (4, 4); the Fourier update reads the model, the previous exit
 * wave and the measured amplitude with its mask, and writes the new exit wave (3, 1); the object
 * and probe updates each read the exit-wave residual and the other factor (4, 0).
 * Workgroup-memory traffic and the object and probe writes are not counted.
 */
const DM_LOADS = 2 + 4 + 3 + 4;
const DM_STORES = 1 + 4 + 1;
const STAR_FRAME_PIXELS = 516 * 128 * 128;

async function timeEntry(ctx: GpuContext, entry: 'loads' | 'stores', points: GPUBuffer, sums: GPUBuffer): Promise<number> {
  const pipeline = await ctx.pipelines.getChecked({ shader: 'bench/access_cost.wgsl', entry, constants: { K, INVOCATIONS, POINTS } });
  const bind = ctx.bind(pipeline, entry === 'loads' ? [points, sums] : [points]);
  const times: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    await ctx.runPass(`access cost ${entry}`, (pass) => {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(INVOCATIONS / 64);
    }, entry);
    times.push(performance.now() - t);
  }
  // The best of the runs after the first (which may include first-use costs), per access.
  return (Math.min(...times.slice(1)) * 1e6) / (INVOCATIONS * K);
}

async function main(): Promise<void> {
  const ctx = await GpuContext.acquire();
  try {
    const points = ctx.createStorage(POINTS * 8, 'access cost points');
    const sums = ctx.createStorage(INVOCATIONS * 8, 'access cost sums');
    try {
      const loadNs = await timeEntry(ctx, 'loads', points, sums);
      const storeNs = await timeEntry(ctx, 'stores', points, sums);
      const dmBound = ((DM_LOADS * loadNs + DM_STORES * storeNs) * STAR_FRAME_PIXELS) / 1e9;
      const device = ctx.info.description;
      console.log(`adapter: ${device}`);
      console.log(`complex load:  ${loadNs.toFixed(3)} ns per access (all cores together)`);
      console.log(`complex store: ${storeNs.toFixed(3)} ns per access`);
      console.log(`lower bound for one Siemens-star DM iteration (${DM_LOADS} loads and ${DM_STORES} stores × ${STAR_FRAME_PIXELS} frame pixels): ${dmBound.toFixed(3)} s`);
      const out = join(PACKAGE_ROOT, 'bench', 'results', `access-cost-${new Date().toISOString().slice(0, 10)}-${ctx.info.software ? 'software' : 'gpu'}.json`);
      const record = { date: new Date().toISOString(), device, software: ctx.info.software, cpus: cpus().length, loadavg: loadavg(), loadNsPerComplex: loadNs, storeNsPerComplex: storeNs, dmLoadsPerFramePixel: DM_LOADS, dmStoresPerFramePixel: DM_STORES, starFramePixels: STAR_FRAME_PIXELS, dmLowerBoundSeconds: dmBound };
      await writeFileAtomic(out, new TextEncoder().encode(`${JSON.stringify(record, null, 2)}\n`));
      console.log(`wrote ${out}`);
    } finally {
      points.destroy();
      sums.destroy();
    }
  } finally {
    ctx.destroy();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
