/**
 * The benchmark runner (`npm run bench`, i.e. `node dist/bench/run.js`): the seed's workload — a
 * 256×256×74 TEM-like tilt series of the 3-D Shepp-Logan phantom (−73°..+73°) reconstructed into
 * a 256³ volume — with ART (1 and 5 iterations, and 5 iterations including TIFF I/O), SIRT (20
 * iterations) and FBP (ramp). Each workload is timed on the GPU (WebGPU: lavapipe here) and
 * against a plain single-threaded CPU TypeScript baseline of the same algorithm
 * (bench/cpu-baselines.ts), in the same run. Prints a table and writes JSON atomically under
 * bench/results/. See bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, platform, arch, totalmem, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GpuContext } from '../src/gpu/context.js';
import { PACKAGE_ROOT } from '../src/gpu/shaders.js';
import type { KernelTimes } from '../src/gpu/timing.js';
import type { Volume } from '../src/core/array.js';
import { linspaceAngles } from '../src/io/angles.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import { writeVolume } from '../src/io/volume.js';
import { loadProjections } from '../src/tomo/input.js';
import { makeGeometry, type TomoGeometry } from '../src/tomo/geometry.js';
import { defaultSlicesPerWorkgroup, reconstructIterative, type SweepTraversal } from '../src/tomo/iterative.js';
import { reconstructFbp } from '../src/tomo/fbp.js';
import { simulateTiltSeries } from '../src/tomo/simulate.js';
import { relativeError, relativeL2 } from '../src/tomo/metrics.js';
import { cpuArt, cpuFbp, cpuSirt, type CpuResult } from './cpu-baselines.js';
import { markdownTable, textTable } from './table.js';
import type { BenchResult, CpuFigures, GpuFigures, IoFigures, WorkloadResult } from './types.js';

/**
 * The workloads, by name: algorithm, iterations at scale 1, and whether the run goes through TIFF
 * files (read → reconstruct → write, each timed; the reconstruct figures are the same as without).
 */
export const WORKLOADS = {
  art1: { algorithm: 'art', iterations: 1, io: false },
  art5: { algorithm: 'art', iterations: 5, io: true },
  sirt20: { algorithm: 'sirt', iterations: 20, io: false },
  fbp: { algorithm: 'fbp', iterations: 1, io: false },
} as const;
export type WorkloadName = keyof typeof WORKLOADS;
export const WORKLOAD_NAMES = Object.keys(WORKLOADS) as WorkloadName[];

/** TomoPy's C ART on the seed workload, as stated in issue 2 (not measured here). */
export const TOMOPY_ART_SECONDS_PER_ITERATION = 2.8;
/** Issue 2's target: our ART at least this many times faster per iteration than TomoPy's. */
export const TOMOPY_TARGET_RATIO = 2;

const ANGLE_RANGE: [number, number] = [-73, 73];
const ANGLE_COUNT = 74;
const SEED_SIZE = 256;

/** Parsed command line. */
export interface BenchOptions {
  size: number;
  angles: number;
  only: WorkloadName[];
  iterationsScale: number;
  quick: boolean;
  /** Output JSON path; default bench/results/<date>-<adapter>-n<size>.json. */
  out?: string;
  markdown: boolean;
  /** Slices the CPU baseline computes (scaled to the whole volume); 0 = no CPU baseline. */
  cpuSlices: number;
  /** Print a saved result instead of running. */
  from?: string;
  /** No progress lines on stderr. */
  quiet: boolean;
  /** Do not write JSON. */
  noJson: boolean;
  /** The sweep traversal of ART/SART/SIRT (default: the library's choice for the adapter). */
  traversal?: SweepTraversal;
}

const USAGE = `usage: node dist/bench/run.js [options]   (npm run bench -- [options])
  --size N              volume n (n×n×n from an n×n×74 tilt series); default 256, --quick 128
  --quick               size 128 (unless --size) and 8 CPU-baseline slices
  --only a,b            workloads: ${WORKLOAD_NAMES.join(', ')} (default all)
  --iterations-scale X  multiply iteration counts by X (at least 1 each), e.g. 0.25 → SIRT 5
  --cpu-slices K        slices the CPU baseline computes, scaled per slice (default 16; 0 = none)
  --angles N            tilt angles between -73 and +73 degrees (default 74)
  --traversal T         sweep traversal of ART/SART/SIRT: bands or voxels (default: the library's
                        choice, bands on a software adapter and voxels on a GPU)
  --out FILE            JSON path (default bench/results/<date>-<adapter>-n<size>.json)
  --no-json             do not write JSON
  --markdown            print the table as Markdown (for the README)
  --from FILE           print the table of a saved JSON result and exit (no GPU)
  --quiet               no progress lines on stderr`;

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got '${v}'`);
  return n;
}

/** Parses the benchmark's flags. */
export function parseBenchArgs(argv: string[]): BenchOptions & { help: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      size: { type: 'string' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'iterations-scale': { type: 'string' },
      'cpu-slices': { type: 'string' },
      angles: { type: 'string' },
      traversal: { type: 'string' },
      out: { type: 'string' },
      'no-json': { type: 'boolean', default: false },
      markdown: { type: 'boolean', default: false },
      from: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const quick = values.quick === true;
  const size = values.size !== undefined ? positiveInt(values.size, '--size') : quick ? 128 : SEED_SIZE;
  if (size < 8) throw new Error(`--size must be at least 8, got ${size}`);
  const angles = values.angles !== undefined ? positiveInt(values.angles, '--angles') : ANGLE_COUNT;
  if (angles < 2) throw new Error('--angles must be at least 2');
  let only = WORKLOAD_NAMES;
  if (values.only !== undefined) {
    const names = values.only.split(',').map((s) => s.trim()).filter(Boolean);
    for (const n of names) if (!(n in WORKLOADS)) throw new Error(`unknown workload '${n}' (known: ${WORKLOAD_NAMES.join(', ')})`);
    if (names.length === 0) throw new Error('--only needs at least one workload');
    only = WORKLOAD_NAMES.filter((n) => names.includes(n));
  }
  const iterationsScale = values['iterations-scale'] !== undefined ? Number(values['iterations-scale']) : 1;
  if (!(iterationsScale > 0 && Number.isFinite(iterationsScale))) throw new Error(`--iterations-scale must be a positive number, got '${values['iterations-scale']}'`);
  let cpuSlices = quick ? 8 : 16;
  if (values['cpu-slices'] !== undefined) {
    cpuSlices = Number(values['cpu-slices']);
    if (!Number.isInteger(cpuSlices) || cpuSlices < 0) throw new Error(`--cpu-slices must be a non-negative integer, got '${values['cpu-slices']}'`);
  }
  const traversal = values.traversal;
  if (traversal !== undefined && traversal !== 'bands' && traversal !== 'voxels') throw new Error(`--traversal must be bands or voxels, got '${traversal}'`);
  return {
    size,
    angles,
    traversal,
    only,
    iterationsScale,
    quick,
    out: values.out,
    markdown: values.markdown === true,
    cpuSlices: Math.min(cpuSlices, size),
    from: values.from,
    quiet: values.quiet === true,
    noJson: values['no-json'] === true,
    help: values.help === true,
  };
}

function gitInfo(): { commit: string; dirty: boolean } | null {
  try {
    const root = PACKAGE_ROOT;
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src', 'shaders'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return null;
  }
}

function kernelTotal(k: KernelTimes, hasTimestamps: boolean): number | null {
  if (!hasTimestamps) return null;
  let s = 0;
  for (const v of Object.values(k)) s += v.seconds;
  return s > 0 ? s : null;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function subsetVolume(v: Volume, s0: number, s1: number): Volume {
  const [, n1, n2] = v.shape;
  return { data: v.data.subarray(s0 * n1 * n2, s1 * n1 * n2), shape: [s1 - s0, n1, n2] };
}

function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/\(.*?\)/g, '')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'adapter'
  );
}

/** Runs the selected workloads and returns the result (does not print the table or write JSON). */
export async function runBench(options: BenchOptions, log: (line: string) => void = () => {}): Promise<BenchResult> {
  const tStart = performance.now();
  const loadStart = loadavg();
  // the commit of the code being measured (dist/ was built from it before the run)
  const git = gitInfo();
  const size = options.size;
  const rows = size;
  const cols = size;
  const na = options.angles;
  const anglesDeg = linspaceAngles(ANGLE_RANGE[0], ANGLE_RANGE[1], na);
  const nonNegative = true;
  const relaxation = 1;

  log(`simulating a ${cols}x${rows}x${na} tilt series (3-D Shepp-Logan, -73..+73 degrees) ...`);
  const sim = simulateTiltSeries({ phantom: 'shepp3d', size, rows, anglesDeg });
  log(`  simulate ${sim.seconds.toFixed(2)} s`);
  const geometry = makeGeometry(anglesDeg, rows, cols, {});
  const projections = sim.projections;

  const ctx = await GpuContext.acquire({});
  const results: WorkloadResult[] = [];
  let warmupSeconds = 0;
  try {
    log(`adapter: ${ctx.info.description} (${ctx.info.backend}, ${ctx.info.featureLevel}); timestamps ${ctx.hasTimestamps ? 'yes' : 'no'}`);

    // Shader compilation on lavapipe takes seconds: compile every pipeline the workloads use on a
    // few slices of the same size n (the kernels are specialised on n, not on the slice count).
    {
      const t = performance.now();
      const wr = Math.min(rows, 8);
      const wg = makeGeometry(anglesDeg, wr, cols, {});
      const wp: Volume = { data: new Float32Array(na * wr * cols), shape: [na, wr, cols] };
      for (let a = 0; a < na; a++) wp.data.set(projections.data.subarray(a * rows * cols, a * rows * cols + wr * cols), a * wr * cols);
      const algorithms = new Set(options.only.map((w) => WORKLOADS[w].algorithm));
      // The sweep kernel is also specialised on the slices per workgroup, which follows the row count.
      const slicesPerWorkgroup = Math.min(defaultSlicesPerWorkgroup(ctx, rows), wr);
      for (const alg of algorithms) {
        if (alg === 'fbp') await reconstructFbp(ctx, wp, wg, {});
        else await reconstructIterative(ctx, wp, wg, alg, { iterations: 1, nonNegative, slicesPerWorkgroup, sweepTraversal: options.traversal });
      }
      warmupSeconds = (performance.now() - t) / 1000;
      log(`  shader warm-up ${warmupSeconds.toFixed(2)} s`);
    }

    const voxelUpdatesPerIteration = na * rows * size * size;
    const k = options.cpuSlices;
    const s0 = Math.floor((rows - k) / 2);
    const s1 = s0 + k;

    for (const name of options.only) {
      const spec = WORKLOADS[name];
      const iterations = spec.algorithm === 'fbp' ? 1 : Math.max(1, Math.round(spec.iterations * options.iterationsScale));
      log(`${name}: ${spec.algorithm.toUpperCase()}${spec.algorithm === 'fbp' ? ' (ramp)' : ` ${iterations} iteration${iterations > 1 ? 's' : ''}`}${spec.io ? ', read from and written to TIFF' : ''} ...`);

      let gpu: GpuFigures;
      let volume: Volume;
      let io: IoFigures | null = null;
      if (spec.algorithm === 'fbp') {
        const t0 = performance.now();
        const r = await reconstructFbp(ctx, projections, geometry, { filter: 'ramp' });
        const seconds = (performance.now() - t0) / 1000;
        volume = r.volume;
        gpu = {
          seconds,
          iterationSeconds: [seconds],
          secondsPerIteration: seconds,
          overheadSeconds: 0,
          kernelSeconds: kernelTotal(r.kernels, ctx.hasTimestamps),
          kernels: r.kernels,
          voxelUpdatesPerSecond: voxelUpdatesPerIteration / seconds,
          residuals: [],
        };
      } else {
        // With I/O: the tilt series is written to a TIFF first (not timed); then read, reconstruct
        // and write the volume are timed as a user's `webrecon tomo recon tilt.tif -o vol.tif` would run them.
        const dir = spec.io ? await mkdtemp(join(tmpdir(), 'webrecon-bench-')) : undefined;
        try {
          const tiltPath = dir ? join(dir, 'tilt.tif') : '';
          const outPath = dir ? join(dir, 'volume.tif') : '';
          if (dir) await writeVolume(tiltPath, projections);
          const tRead = performance.now();
          const input = dir ? (await loadProjections([tiltPath])).projections : projections;
          const t0 = performance.now();
          const r = await reconstructIterative(ctx, input, geometry, spec.algorithm, {
            iterations,
            nonNegative,
            relaxation,
            sweepTraversal: options.traversal,
            onProgress: (e) => log(`  iteration ${e.iteration}/${e.of}: residual ${e.residual?.toFixed(4)}, at ${e.seconds.toFixed(2)} s`),
          });
          const t1 = performance.now();
          if (dir) await writeVolume(outPath, r.volume);
          const tWrite = performance.now();
          const seconds = (t1 - t0) / 1000;
          volume = r.volume;
          const perIt = mean(r.iterationSeconds);
          gpu = {
            seconds,
            iterationSeconds: r.iterationSeconds,
            secondsPerIteration: perIt,
            overheadSeconds: seconds - r.iterationSeconds.reduce((a, b) => a + b, 0),
            kernelSeconds: kernelTotal(r.kernels, ctx.hasTimestamps),
            kernels: r.kernels,
            voxelUpdatesPerSecond: voxelUpdatesPerIteration / perIt,
            residuals: r.residuals,
          };
          if (dir) {
            io = {
              readSeconds: (t0 - tRead) / 1000,
              reconstructSeconds: seconds,
              writeSeconds: (tWrite - t1) / 1000,
              totalSeconds: (tWrite - tRead) / 1000,
              inputBytes: (await stat(tiltPath)).size,
              outputBytes: (await stat(outPath)).size,
            };
            log(`  including I/O: read ${io.readSeconds.toFixed(2)} s + reconstruct ${seconds.toFixed(2)} s + write ${io.writeSeconds.toFixed(2)} s = ${io.totalSeconds.toFixed(2)} s`);
          }
        } finally {
          if (dir) await rm(dir, { recursive: true, force: true });
        }
      }
      const errorVsTruth = relativeError(volume, sim.truth);
      log(`  GPU ${gpu.seconds.toFixed(2)} s (${gpu.secondsPerIteration.toFixed(3)} s per ${spec.algorithm === 'fbp' ? 'pass' : 'iteration'}), error vs truth ${errorVsTruth.toFixed(4)}`);

      let cpu: CpuFigures | null = null;
      if (k > 0) {
        let c: CpuResult;
        if (spec.algorithm === 'art') c = cpuArt(projections.data, geometry, { iterations, nonNegative, relaxation, s0, s1 });
        else if (spec.algorithm === 'sirt') c = cpuSirt(projections.data, geometry, { iterations, nonNegative, relaxation, s0, s1 });
        else c = cpuFbp(projections.data, geometry, { filter: 'ramp', s0, s1 });
        const total = c.seconds * (rows / k) + c.setupSeconds;
        const perIt = total / iterations;
        const truthSub = subsetVolume(sim.truth, s0, s1);
        const gpuSub = subsetVolume(volume, s0, s1);
        const cpuSub: Volume = { data: c.volume, shape: [k, size, size] };
        cpu = {
          sliceRange: [s0, s1],
          slices: k,
          scaled: k < rows,
          measuredSeconds: c.seconds,
          setupSeconds: c.setupSeconds,
          seconds: total,
          secondsPerIteration: perIt,
          voxelUpdatesPerSecond: voxelUpdatesPerIteration / perIt,
          errorVsTruthSubset: relativeError(cpuSub, truthSub),
          gpuErrorVsTruthSubset: relativeError(gpuSub, truthSub),
          relativeDifferenceVsGpu: relativeL2(c.volume, gpuSub.data),
        };
        log(
          `  CPU ${c.seconds.toFixed(2)} s on ${k} slices → ${total.toFixed(2)} s for ${rows} (${perIt.toFixed(3)} s per ${spec.algorithm === 'fbp' ? 'pass' : 'iteration'}); CPU vs GPU difference ${cpu.relativeDifferenceVsGpu.toExponential(2)}`,
        );
      }
      const speedup = cpu ? { perIteration: cpu.secondsPerIteration / gpu.secondsPerIteration, total: cpu.seconds / gpu.seconds } : null;
      const tomopy =
        spec.algorithm === 'art'
          ? {
              secondsPerIteration: TOMOPY_ART_SECONDS_PER_ITERATION,
              source: 'issue 2: TomoPy C ART on the 256³ seed workload, two cores; stated, not measured',
              ratio: TOMOPY_ART_SECONDS_PER_ITERATION / gpu.secondsPerIteration,
              targetRatio: TOMOPY_TARGET_RATIO,
              meetsTarget: TOMOPY_ART_SECONDS_PER_ITERATION / gpu.secondsPerIteration >= TOMOPY_TARGET_RATIO,
              comparable: size === SEED_SIZE && na === ANGLE_COUNT,
            }
          : null;
      results.push({ name, algorithm: spec.algorithm, iterations, voxelUpdatesPerIteration, gpu, errorVsTruth, cpu, speedup, io, tomopy });
    }
  } finally {
    ctx.destroy();
  }

  const c = cpus();
  return {
    schema: 'webrecon-bench/1',
    date: new Date().toISOString(),
    git,
    node: process.version,
    command: ['node', 'dist/bench/run.js', ...process.argv.slice(2)].join(' '),
    machine: {
      platform: platform(),
      arch: arch(),
      cpuModel: c[0]?.model?.trim() ?? 'unknown',
      cpuCount: c.length,
      memoryBytes: totalmem(),
      loadAverageStart: loadStart,
      loadAverageEnd: loadavg(),
    },
    adapter: { ...ctx.info, hasTimestamps: ctx.hasTimestamps },
    params: {
      size,
      rows,
      cols,
      angles: na,
      angleRange: ANGLE_RANGE,
      phantom: 'shepp3d',
      nonNegative,
      relaxation,
      iterationsScale: options.iterationsScale,
      cpuSlices: options.cpuSlices,
      quick: options.quick,
      workloads: options.only,
      traversal: options.traversal ?? (ctx.info.software ? 'bands' : 'voxels'),
    },
    simulateSeconds: sim.seconds,
    warmupSeconds,
    workloads: results,
    totalSeconds: (performance.now() - tStart) / 1000,
  };
}

/** The default JSON path of a result. */
export function defaultOutPath(r: BenchResult): string {
  const root = PACKAGE_ROOT;
  const day = r.date.slice(0, 10);
  return join(root, 'bench', 'results', `${day}-${slug((r.adapter.description || r.adapter.device).split(/[:(,]/)[0])}-${slug(r.adapter.backend)}-n${r.params.size}.json`);
}

/** Writes a result as JSON (atomically: temporary name, then rename). Returns the path. */
export async function writeResult(r: BenchResult, path = defaultOutPath(r)): Promise<string> {
  const target = resolve(path);
  await writeFileAtomic(target, Buffer.from(`${JSON.stringify(r, null, 2)}\n`, 'utf8'));
  return target;
}

/** The command-line entry: returns the exit code. */
export async function main(argv: string[], print: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Promise<number> {
  let opts: ReturnType<typeof parseBenchArgs>;
  try {
    opts = parseBenchArgs(argv);
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (opts.help) {
    print(USAGE);
    return 0;
  }
  if (opts.from) {
    const r = JSON.parse(await readFile(opts.from, 'utf8')) as BenchResult;
    print(opts.markdown ? markdownTable(r) : textTable(r));
    return 0;
  }
  const log = opts.quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
  const result = await runBench(opts, log);
  print(opts.markdown ? markdownTable(result) : textTable(result));
  if (!opts.noJson) {
    const path = await writeResult(result, opts.out);
    log(`wrote ${path} (total ${result.totalSeconds.toFixed(1)} s)`);
  }
  return 0;
}

const invoked = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invoked) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      const err = e as Error & { name?: string };
      process.stderr.write(`bench: ${err?.message ?? String(e)}\n`);
      if (process.env.WEBRECON_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
      process.exitCode = err?.name === 'GpuError' ? 3 : 1;
    },
  );
}
