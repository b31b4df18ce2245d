/**
 * Ptychography benchmark (`node dist/bench/ptycho.js [--iterations N] [--large] [--skip-cpu] [--out FILE]`):
 * - DM seconds per iteration on the real Siemens star (516 × 128², sub-pixel, probe refinement)
 *   and, with --large, on a simulated 1024 × 256² scan; frames per second;
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
import { dmCoefficients, initialProbeModes } from '../src/ptycho/engine.js';
import { scanGeometry } from '../src/ptycho/scan.js';
import { refExitModel, refFourierUpdate, refObjectUpdate, refProbeUpdate } from '../src/ptycho/reference.js';
import { referenceFft2d } from '../src/fft/reference.js';
import { benchmarkFft2d } from '../src/fft/bench.js';
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

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { iterations: { type: 'string', default: '20' }, large: { type: 'boolean', default: false }, 'skip-cpu': { type: 'boolean', default: false }, out: { type: 'string' } } });
  const iterations = Number(values.iterations);
  const ctx = await GpuContext.acquire();
  const rows: Array<Record<string, unknown>> = [];
  try {
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
    if (!values['skip-cpu']) {
      const s = cpuDmIteration(star);
      rows.push({ workload: 'siemens-star 516×128² DM, CPU float64 TypeScript reference (1 thread)', secondsPerIteration: s, framesPerSecond: 516 / s });
    }
    const ffts = [];
    for (const [size, batch] of [[64, 256], [128, 128], [256, 32], [512, 8], [1024, 2]]) {
      const f = await benchmarkFft2d(ctx, { height: size, width: size, batch, skipCpu: values['skip-cpu'] });
      ffts.push({ size, batch, gpuGflops: f.gpu.gflops, gpuGBs: f.gpu.gbytesPerSecond, cpuGflops: f.cpu?.gflops, speedup: f.speedup });
    }
    const result = { date: new Date().toISOString(), device: ctx.info.description || ctx.info.device, software: ctx.info.software, cpus: cpus().length, loadavg: loadavg(), iterations, dm: rows, fft: ffts };
    for (const r of rows) console.log(`${String(r.workload).padEnd(72)} ${(r.secondsPerIteration as number).toFixed(3)} s/it  ${(r.framesPerSecond as number).toFixed(0)} frames/s`);
    for (const f of ffts) console.log(`FFT ${f.size}² ×${f.batch}: GPU ${f.gpuGflops.toFixed(2)} GFLOP/s, ${f.gpuGBs.toFixed(2)} GB/s${f.cpuGflops !== undefined ? `; fft.js ${f.cpuGflops.toFixed(2)} GFLOP/s; ×${f.speedup?.toFixed(1)}` : ''}`);
    const out = values.out ?? join(PACKAGE_ROOT, 'bench', 'results', `ptycho-${result.date.replace(/[:.]/g, '-')}.json`);
    await writeFileAtomic(out, new TextEncoder().encode(`${JSON.stringify(result, null, 2)}\n`));
    console.log(`written ${out}`);
  } finally {
    ctx.destroy();
  }
}

await main();
