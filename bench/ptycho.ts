/**
 * Ptychography benchmark (`node dist/bench/ptycho.js [--iterations N] [--large] [--target-frames N] [--skip-cpu] [--out FILE]`):
 * - DM seconds per iteration on the real Siemens star (516 × 128², sub-pixel, probe refinement)
 *   and, with --large, on a simulated 1024 × 256² scan; frames per second;
 * - with --target-frames N, DM on N frames of 128² (issue 3's real-GPU target: 40,000 frames in
 *   under 50 ms per iteration): a simulated 400-frame raster scan repeated on a grid of
 *   disjoint object tiles (see {@link tiledScan});
 * - one DM iteration of the float64 CPU TypeScript reference (fft.js) on the Siemens star, in the
 *   same run, for the ratio;
 * - FFT throughput (GFLOP/s, effective GB/s) per size, GPU vs fft.js.
 * Prints a table and writes bench/results/ptycho-<date>.json atomically.
 */
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { GpuContext } from '../src/gpu/context.js';
import { PACKAGE_ROOT } from '../src/gpu/shaders.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import { loadPtycho } from '../src/ptycho/load.js';
import { reconstructPtycho } from '../src/ptycho/recon.js';
import { simulatePtycho } from '../src/ptycho/simulate.js';
import { DmEngine, dmCoefficients, initialProbeModes } from '../src/ptycho/engine.js';
import { KernelTimer } from '../src/gpu/timing.js';
import { scanGeometry } from '../src/ptycho/scan.js';
import { refExitModel, refFourierUpdate, refObjectUpdate, refProbeUpdate } from '../src/ptycho/reference.js';
import { referenceFft2d } from '../src/fft/reference.js';
import { benchmarkFft2d } from '../src/fft/bench.js';
import { Fft2dPlan } from '../src/fft/plan.js';
import type { PtychoDataset } from '../src/ptycho/dataset.js';

const STAR = join(PACKAGE_ROOT, '..', 'shared', 'data', 'ptycho', 'siemens-star-tike');

/** One DM iteration (closed-form overlap, whole-pixel positions) with the float64 CPU references. */
function cpuDmIteration(ds: PtychoDataset): number {
  const [n, h, w] = ds.shape;
  const pos = Float64Array.from(ds.positions, Math.round);
  const geom = scanGeometry(pos, [h, w], 2);
  const [rows, cols] = geom.objectShape;
  const obj = new Float64Array(2 * rows * cols);
  for (let i = 0; i < obj.length; i += 2) obj[i] = 1;
  const probe = initialProbeModes(ds, 1, true);
  const mag = Float64Array.from(ds.frames, Math.sqrt);
  const t = performance.now();
  const X = referenceFft2d(refExitModel(obj, cols, probe, 1, h, w, geom.positions), [n, h, w], 'forward');
  const f = refFourierUpdate(X, X, mag, ds.mask, 1, h * w, dmCoefficients('dm'));
  const psi = referenceFft2d(f.psi, [n, h, w], 'inverse');
  const o = refObjectUpdate(obj, rows, cols, probe, 1, h, w, psi, geom.positions, 1e-3);
  refProbeUpdate(probe, 1, h, w, o, cols, psi, geom.positions, 1e-3 * n);
  return (performance.now() - t) / 1000;
}

/**
 * A scan of `count` frames made of copies of one simulated unit scan, each copy shifted onto its
 * own object tile (tiles on a square grid, spaced by the unit's object size, so views of different
 * copies never overlap). Every frame is a physically consistent far-field pattern of its tile; the
 * per-frame work of a DM iteration is that of one long scan, and the object is about twice the area a
 * single contiguous scan of `count` frames at the same step would need (the tiles' margins).
 * Simulating 40,000 frames directly would take minutes of host float64 FFTs.
 */
function tiledScan(unit: PtychoDataset, unitObjectShape: [number, number], count: number): PtychoDataset {
  const [m, h, w] = unit.shape;
  const copies = Math.ceil(count / m);
  const side = Math.ceil(Math.sqrt(copies));
  const hw = h * w;
  const frames = new Float32Array(count * hw);
  const positions = new Float64Array(2 * count);
  for (let j = 0; j < count; j++) {
    const copy = Math.floor(j / m), k = j % m;
    positions[2 * j] = unit.positions[2 * k] + Math.floor(copy / side) * unitObjectShape[0];
    positions[2 * j + 1] = unit.positions[2 * k + 1] + (copy % side) * unitObjectShape[1];
  }
  for (let off = 0; off < count * hw; off += m * hw) frames.set(unit.frames.subarray(0, Math.min(m * hw, count * hw - off)), off);
  return { frames, shape: [count, h, w], positions, mask: unit.mask, probe: unit.probe, source: `tiled simulation (${count} frames)` };
}

/** GPU time of each DM stage on `ds` (timestamp queries; median of 5 runs of each stage alone; 'exit' = the whole exit-wave half). */
async function profileStages(ctx: GpuContext, ds: PtychoDataset): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const engine = await DmEngine.create(ctx, ds);
  try {
    for (const stage of ['view', 'fft', 'model+fft', 'fourier', 'ifft', 'exit', 'object', 'probe', 'probeFused', 'deltaObject', 'deltaProbe'] as const) {
      const times: number[] = [];
      for (let k = 0; k < 5; k++) {
        const timer = new KernelTimer(ctx, 4);
        await engine.runStages([stage], timer);
        times.push(timer.totals[stage]?.seconds ?? NaN);
        timer.destroy();
      }
      out[stage] = times.sort((a, b) => a - b)[2];
      console.log(`  stage ${stage.padEnd(12)} ${(out[stage] * 1e3).toFixed(2)} ms`);
    }
  } finally {
    engine.destroy();
  }
  return out;
}

/** GPU time of each FFT pass (rows/cols, forward/inverse) on `batch` h×w images, data kept bounded (forward then inverse). */
async function profileFftPasses(ctx: GpuContext, batch: number, h: number, w: number, lines?: { rows?: number; cols?: number }): Promise<Record<string, number>> {
  const plan = await Fft2dPlan.create(ctx, { height: h, width: w, batch, lines });
  const tag = `rows ${plan.rowShape.lines}×${plan.rowShape.workgroupSize}, cols ${plan.colShape.lines}×${plan.colShape.workgroupSize}${plan.rowShape.skew ? ", skewed" : ""}`;
  const buf = ctx.createStorage(batch * h * w * 8, 'fft pass profile');
  const image = new Float32Array(2 * h * w);
  for (let i = 0; i < image.length; i++) image[i] = Math.sin(0.37 * i);
  const many = new Float32Array(image.length * 256);
  for (let k = 0; k < 256; k++) many.set(image, k * image.length);
  for (let b = 0; b < batch; b += 256) ctx.queue.writeBuffer(buf, b * image.byteLength, many, 0, Math.min(256, batch - b) * image.length);
  const timer = new KernelTimer(ctx, 64);
  try {
    for (let rep = 0; rep < 4; rep++) {
      const enc = ctx.device.createCommandEncoder();
      for (const axis of ['rows', 'cols'] as const) {
        for (const dir of ['forward', 'inverse'] as const) {
          const pass = rep === 0 ? enc.beginComputePass() : timer.beginPass(enc, `${axis} ${dir}`);
          plan.encodeAxis(pass, buf, dir, axis);
          pass.end();
        }
      }
      if (rep > 0) timer.resolve(enc);
      await ctx.submitAndWait([enc.finish()], 'fft pass profile');
      if (rep > 0) await timer.collect();
    }
  } finally {
    buf.destroy();
    plan.destroy();
  }
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(timer.totals)) {
    out[k] = v.seconds / v.count;
    console.log(`  fft pass ${k.padEnd(14)} ${(out[k] * 1e3).toFixed(2)} ms (${batch}×${h}×${w}, lines×invocations ${tag}: ${((batch * h * w * 16) / out[k] / 1e9).toFixed(0)} GB/s read+write)`);
  }
  timer.destroy();
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { iterations: { type: 'string', default: '20' }, large: { type: 'boolean', default: false }, 'target-frames': { type: 'string' }, 'fft-passes': { type: 'string' }, profile: { type: 'boolean', default: false }, 'skip-cpu': { type: 'boolean', default: false }, out: { type: 'string' } } });
  const iterations = Number(values.iterations);
  const targetFrames = values['target-frames'] !== undefined ? Number(values['target-frames']) : 0;
  if (!Number.isInteger(targetFrames) || targetFrames < 0) throw new Error(`--target-frames must be a non-negative integer, got '${values['target-frames']}'`);
  const ctx = await GpuContext.acquire();
  const rows: Array<Record<string, unknown>> = [];
  try {
    if (values['fft-passes']) {
      // Tuning: --fft-passes BATCH times the FFT passes of BATCH 128² images for several workgroup shapes, then exits.
      const batch = Number(values['fft-passes']);
      if (!Number.isInteger(batch) || batch < 1) throw new Error(`--fft-passes must be a positive integer, got '${values['fft-passes']}'`);
      for (const [r, c] of [[4, 4], [8, 8], [16, 16], [8, 16]]) await profileFftPasses(ctx, batch, 128, 128, { rows: r, cols: c });
      return;
    }
    const star = await loadPtycho(STAR);
    for (const subpixel of [true, false]) {
      const r = await reconstructPtycho(star, { context: ctx, iterations, probeUpdateStart: 1, subpixel });
      console.log(`siemens star (${subpixel ? 'sub-pixel' : 'whole-pixel'}): ${r.iterationSeconds.map((t) => t.toFixed(2)).join(' ')} s`);
      const med = [...r.iterationSeconds].sort((a, b) => a - b)[Math.floor(iterations / 2)];
      rows.push({ workload: `siemens-star 516×128² DM (${subpixel ? 'sub-pixel, residual-form overlap' : 'whole-pixel'})`, secondsPerIteration: med, framesPerSecond: 516 / med, errorReduction: r.errors[0] / r.errors[iterations - 1] });
    }
    if (values.large) {
      const sim = simulatePtycho({ frame: 256, positions: 1024, photons: 1e8, seed: 1 });
      const r = await reconstructPtycho(sim.dataset, { context: ctx, iterations: Math.min(iterations, 3), probeUpdateStart: 1 });
      const med = [...r.iterationSeconds].sort((a, b) => a - b)[Math.floor(r.iterationSeconds.length / 2)];
      rows.push({ workload: `simulated ${sim.dataset.shape[0]}×256² DM (sub-pixel)`, secondsPerIteration: med, framesPerSecond: sim.dataset.shape[0] / med });
    }
    if (targetFrames > 0) {
      const unit = simulatePtycho({ frame: 128, positions: 400, scan: 'raster', photons: 1e6, seed: 1 });
      const ds = tiledScan(unit.dataset, unit.geometry.objectShape, targetFrames);
      const its = Math.min(iterations, 10);
      const t = performance.now();
      const r = await reconstructPtycho(ds, { context: ctx, iterations: its, probeUpdateStart: 1 });
      const total = (performance.now() - t) / 1000;
      console.log(`tiled ${targetFrames}×128²: ${r.iterationSeconds.map((x) => x.toFixed(3)).join(' ')} s (whole call ${total.toFixed(2)} s)`);
      const med = [...r.iterationSeconds].sort((a, b) => a - b)[Math.floor(its / 2)];
      rows.push({ workload: `simulated ${targetFrames}×128² DM (tiled 400-frame raster, sub-pixel)`, secondsPerIteration: med, framesPerSecond: targetFrames / med, errorReduction: r.errors[0] / r.errors[its - 1], wholeCallSeconds: total });
      if (values.profile) rows.push({ workload: 'profile', stages: { ...(await profileStages(ctx, ds)), ...(await profileFftPasses(ctx, targetFrames, 128, 128)) } });
    }
    if (!values['skip-cpu']) {
      const s = cpuDmIteration(star);
      rows.push({ workload: 'siemens-star 516×128² DM, CPU float64 TypeScript reference (1 thread)', secondsPerIteration: s, framesPerSecond: 516 / s });
    }
    const ffts = [];
    const fftCases = [[64, 256], [128, 128], [256, 32], [512, 8], [1024, 2]];
    // On a real GPU the small batches measure launch latency; --profile adds batches of about 1 GiB.
    if (values.profile) fftCases.push([128, 8192], [256, 2048]);
    for (const [size, batch] of fftCases) {
      const f = await benchmarkFft2d(ctx, { height: size, width: size, batch, skipCpu: values['skip-cpu'] });
      ffts.push({ size, batch, gpuGflops: f.gpu.gflops, gpuGBs: f.gpu.gbytesPerSecond, cpuGflops: f.cpu?.gflops, speedup: f.speedup });
    }
    const result = { date: new Date().toISOString(), device: ctx.info.description || ctx.info.device, software: ctx.info.software, cpus: cpus().length, loadavg: loadavg(), iterations, dm: rows, fft: ffts };
    for (const r of rows) if (r.secondsPerIteration !== undefined) console.log(`${String(r.workload).padEnd(72)} ${(r.secondsPerIteration as number).toFixed(3)} s/it  ${(r.framesPerSecond as number).toFixed(0)} frames/s`);
    for (const f of ffts) console.log(`FFT ${f.size}² ×${f.batch}: GPU ${f.gpuGflops.toFixed(2)} GFLOP/s, ${f.gpuGBs.toFixed(2)} GB/s${f.cpuGflops !== undefined ? `; fft.js ${f.cpuGflops.toFixed(2)} GFLOP/s; ×${f.speedup?.toFixed(1)}` : ''}`);
    const out = values.out ?? join(PACKAGE_ROOT, 'bench', 'results', `ptycho-${result.date.replace(/[:.]/g, '-')}.json`);
    await writeFileAtomic(out, new TextEncoder().encode(`${JSON.stringify(result, null, 2)}\n`));
    console.log(`written ${out}`);
  } finally {
    ctx.destroy();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.message}\n`);
  process.exit(2);
});
