/**
 * Device scaling of the tomography reconstruction (`node dist/bench/scaling.js`, or
 * `npm run bench:scaling`): the seed's ART (and SIRT) workload on 1..N devices of the chosen
 * adapter, timed in one run, with the speed-up and efficiency against one device, the bytes each
 * run moves between host and devices, and a check that every run's volume is bit-identical to the
 * one-device volume. Tomography needs no reduction between devices (slices are independent), so
 * the bytes moved are the uploads and read-backs only. Prints a table and writes JSON atomically
 * under bench/results/.
 *
 * The ptychography table (`--suite ptycho`, or both by default): DM on a simulated scan
 * (default 1024 frames of 256², sub-pixel positions, probe refinement) on 1..N devices, with the
 * seconds per iteration, speed-up, efficiency, the bytes the overlap all-reduce moves per
 * iteration (src/ptycho/distributed.ts) and the relative difference of object and probe from the
 * one-device result (float32 rounding of the reduction order, amplified by the iterations).
 *
 * On the software adapter all devices share the machine's cores, so the figures measure the
 * overhead of splitting, not a speed-up; on a machine with several GPUs (`--adapters` by name or
 * `--devices all`) they measure the scaling.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { acquireDevices } from '../src/gpu/pool.js';
import type { GpuContext } from '../src/gpu/context.js';
import { PACKAGE_ROOT } from '../src/gpu/shaders.js';
import { linspaceAngles } from '../src/io/angles.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import { makeGeometry } from '../src/tomo/geometry.js';
import { defaultSlicesPerWorkgroup, reconstructIterative, type IterativeAlgorithm } from '../src/tomo/iterative.js';
import { simulateTiltSeries } from '../src/tomo/simulate.js';
import { relativeL2 } from '../src/tomo/metrics.js';
import { simulatePtycho } from '../src/ptycho/simulate.js';
import { reconstructPtycho } from '../src/ptycho/recon.js';
import { scanPartitions } from '../src/ptycho/distributed.js';

const USAGE = `usage: node dist/bench/scaling.js [options]
  --devices LIST        device counts to run, e.g. 1,2,3 (default 1,2,3)
  --adapters NAMES      comma-separated adapter names: runs 1..K of them instead of --devices
  --size N              n×n×74 tilt series → n³ (default 256)
  --algorithms LIST     art,sirt (default art)
  --iterations N        iterations per run (default 1 for art, 5 for sirt)
  --suite LIST          tomo,ptycho (default both)
  --ptycho-frames N     ptychography: frames (default 1024)
  --ptycho-size N       ptychography: frame side, a power of two (default 256)
  --ptycho-iterations N ptychography: timed DM iterations per run (default 3, after one warm-up)
  --out FILE            JSON path (default bench/results/<date>-scaling-n<size>.json)
  --markdown            print the table as Markdown`;

interface Row {
  algorithm: IterativeAlgorithm;
  devices: number;
  seconds: number;
  speedup: number;
  efficiency: number;
  bytesMoved: number;
  waves: number;
  identical: boolean;
}

function fmtBytes(b: number): string {
  return b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : `${(b / 2 ** 20).toFixed(1)} MiB`;
}

/** Runs the scaling benchmark and returns the rows. */
export async function runScaling(argv: string[], print: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      devices: { type: 'string' },
      adapters: { type: 'string' },
      size: { type: 'string' },
      algorithms: { type: 'string' },
      iterations: { type: 'string' },
      out: { type: 'string' },
      suite: { type: 'string' },
      'ptycho-frames': { type: 'string' },
      'ptycho-size': { type: 'string' },
      'ptycho-iterations': { type: 'string' },
      markdown: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    print(USAGE);
    return 0;
  }
  const size = Number(values.size ?? 256);
  if (!Number.isInteger(size) || size < 8) throw new Error(`--size must be an integer of at least 8, got '${values.size}'`);
  const adapters = values.adapters?.split(',').map((s) => s.trim()).filter(Boolean);
  const counts = adapters ? adapters.map((_, i) => i + 1) : (values.devices ?? '1,2,3').split(',').map(Number);
  if (counts.some((c) => !Number.isInteger(c) || c < 1)) throw new Error(`--devices must list positive integers, got '${values.devices}'`);
  if (!counts.includes(1)) counts.unshift(1);
  const suites = (values.suite ?? 'tomo,ptycho').split(',');
  const algorithms = suites.includes('tomo') ? ((values.algorithms ?? 'art').split(',') as IterativeAlgorithm[]) : [];
  const angles = linspaceAngles(-73, 73, 74);
  const sim = simulateTiltSeries({ size, rows: size, anglesDeg: angles });
  const geometry = makeGeometry(angles, size, size, {});
  const rows: Row[] = [];
  let description = '';
  for (const algorithm of algorithms) {
    const iterations = values.iterations ? Number(values.iterations) : algorithm === 'sirt' ? 5 : 1;
    let base: { seconds: number; volume: Float32Array } | undefined;
    for (const d of counts) {
      const pool: GpuContext[] = await acquireDevices(adapters ? { adapters: adapters.slice(0, d) } : { devices: d });
      try {
        description = pool[0].info.description;
        // Warm-up on a few slices compiles every pipeline on every device.
        const warmRows = Math.min(size, 8 * pool.length);
        const warm = makeGeometry(angles, warmRows, size, {});
        // The sweep is specialised on the slices per workgroup, which follows the full row count.
        const slicesPerWorkgroup = defaultSlicesPerWorkgroup(pool[0], size);
        await reconstructIterative(pool, { data: sim.projections.data.slice(0, 74 * warmRows * size), shape: [74, warmRows, size] }, warm, algorithm, { iterations: 1, slicesPerWorkgroup }).catch(() => undefined);
        const t = performance.now();
        const r = await reconstructIterative(pool, sim.projections, geometry, algorithm, { iterations });
        const seconds = (performance.now() - t) / 1000;
        base ??= { seconds, volume: r.volume.data };
        let identical = r.volume.data.length === base.volume.length;
        for (let i = 0; identical && i < base.volume.length; i++) if (r.volume.data[i] !== base.volume[i]) identical = false;
        // Host↔device traffic: projections up, volume up (zeros) and down; no inter-device reduction.
        const bytesMoved = sim.projections.data.byteLength + 2 * r.volume.data.byteLength;
        const speedup = base.seconds / seconds;
        rows.push({ algorithm, devices: pool.length, seconds, speedup, efficiency: speedup / pool.length, bytesMoved, waves: r.waves, identical });
        process.stderr.write(`${algorithm} on ${pool.length} device(s): ${seconds.toFixed(2)} s\n`);
      } finally {
        for (const c of pool) c.destroy();
      }
    }
  }
  const table = (header: string[], body: string[][]) => {
    if (values.markdown) {
      print(`| ${header.join(' | ')} |`);
      print(`| ${header.map(() => '--:').join(' | ')} |`);
      for (const b of body) print(`| ${b.join(' | ')} |`);
    } else {
      const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
      print(header.map((h, i) => h.padStart(widths[i])).join('  '));
      for (const b of body) print(b.map((c, i) => c.padStart(widths[i])).join('  '));
    }
  };
  if (rows.length > 0) {
    table(
      ['algorithm', 'devices', 'seconds', 'speed-up', 'efficiency', 'bytes moved', 'waves', 'same volume'],
      rows.map((r) => [r.algorithm, String(r.devices), r.seconds.toFixed(2), `${r.speedup.toFixed(2)}×`, `${(100 * r.efficiency).toFixed(0)} %`, fmtBytes(r.bytesMoved), String(r.waves), r.identical ? 'bit-identical' : 'DIFFERENT']),
    );
  }
  const ptycho = suites.includes('ptycho') ? await runPtychoScaling(values, counts, adapters) : undefined;
  if (ptycho) {
    if (rows.length > 0) print('');
    print(`DM, ${ptycho.frames} frames of ${ptycho.frameSize}² (object ${ptycho.objectShape.join('×')}), ${ptycho.iterations} iterations after one warm-up, probe refined:`);
    table(
      ['devices', 's/iteration', 'CPU s/iteration', 'speed-up', 'efficiency', 'reduction bytes/iteration', 'object windows', 'rel. diff vs 1 device (object / probe)'],
      ptycho.rows.map((r) => [String(r.devices), r.secondsPerIteration.toFixed(2), r.cpuSecondsPerIteration.toFixed(1), `${r.speedup.toFixed(2)}×`, `${(100 * r.efficiency).toFixed(0)} %`, fmtBytes(r.reductionBytesPerIteration), r.windowRows, r.devices === 1 ? '–' : `${r.objectDiff.toExponential(1)} / ${r.probeDiff.toExponential(1)}`]),
    );
  }
  const result = {
    date: new Date().toISOString(),
    adapter: description,
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryBytes: totalmem(), loadavg: loadavg() },
    size,
    rows,
    ptycho,
  };
  const out = values.out ?? join(PACKAGE_ROOT, 'bench', 'results', `${result.date.slice(0, 10)}-scaling-n${size}.json`);
  await writeFileAtomic(resolve(out), Buffer.from(`${JSON.stringify(result, null, 2)}\n`, 'utf8'));
  print(`wrote ${out}`);
  return rows.every((r) => r.identical) ? 0 : 1;
}

interface PtychoRow {
  devices: number;
  secondsPerIteration: number;
  cpuSecondsPerIteration: number;
  iterationSeconds: number[];
  speedup: number;
  efficiency: number;
  reductionBytesPerIteration: number;
  /** The devices' object windows (rows × cols each, as text). */
  windowRows: string;
  objectDiff: number;
  probeDiff: number;
}

/** DM on 1..N devices of a simulated scan; every run starts from the same state. */
async function runPtychoScaling(values: Record<string, string | boolean | undefined>, counts: number[], adapters: string[] | undefined) {
  const frames = Number(values['ptycho-frames'] ?? 1024);
  const frameSize = Number(values['ptycho-size'] ?? 256);
  const iterations = Number(values['ptycho-iterations'] ?? 3);
  if (!Number.isInteger(frames) || frames < 2) throw new Error(`--ptycho-frames must be an integer ≥ 2, got '${values['ptycho-frames']}'`);
  if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`--ptycho-iterations must be a positive integer, got '${values['ptycho-iterations']}'`);
  process.stderr.write(`simulating ${frames} frames of ${frameSize}²…\n`);
  const sim = simulatePtycho({ frame: frameSize, positions: frames, photons: 1e8, seed: 1 });
  const out: PtychoRow[] = [];
  let base: { seconds: number; object: Float32Array; probe: Float32Array } | undefined;
  for (const d of counts) {
    const pool: GpuContext[] = await acquireDevices(adapters ? { adapters: adapters.slice(0, d) } : { devices: d });
    try {
      // One warm-up iteration (compiles every pipeline on every device, fills the idle estimators),
      // not timed; then the timed iterations, the probe refined from the second.
      // CPU seconds of this process (lavapipe's threads included) over the timed iterations: on a
      // software adapter the work done, whatever else runs on the machine.
      const cpu: number[] = [];
      const r = await reconstructPtycho(sim.dataset, {
        contexts: pool,
        algorithm: 'dm',
        iterations: iterations + 1,
        probeUpdateStart: 1,
        onProgress: () => {
          const u = process.cpuUsage();
          cpu.push((u.user + u.system) / 1e6);
        },
      });
      const cpuSecondsPerIteration = (cpu[cpu.length - 1] - cpu[0]) / iterations;
      const timed = r.iterationSeconds.slice(1);
      const seconds = timed.reduce((a, b) => a + b, 0) / timed.length;
      base ??= { seconds, object: r.object.data, probe: r.probe.data };
      const speedup = base.seconds / seconds;
      const windows = scanPartitions(r.geometry, pool.length).map((l) => `${l.shape[0]}×${l.shape[1]}`).join(', ');
      out.push({
        devices: r.devices ?? pool.length,
        secondsPerIteration: seconds,
        cpuSecondsPerIteration,
        iterationSeconds: r.iterationSeconds,
        speedup,
        efficiency: speedup / pool.length,
        reductionBytesPerIteration: r.reductionBytesPerIteration ?? 0,
        windowRows: windows,
        objectDiff: relativeL2(r.object.data, base.object),
        probeDiff: relativeL2(r.probe.data, base.probe),
      });
      process.stderr.write(`ptycho DM on ${pool.length} device(s): ${seconds.toFixed(2)} s/iteration (${cpuSecondsPerIteration.toFixed(1)} CPU s), ${fmtBytes(r.reductionBytesPerIteration ?? 0)} reduced per iteration\n`);
    } finally {
      for (const c of pool) c.destroy();
    }
  }
  return { frames, frameSize, iterations, objectShape: sim.geometry.objectShape, rows: out };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runScaling(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`bench/scaling: ${(err as Error).message}\n`);
      process.exit(2);
    },
  );
}
