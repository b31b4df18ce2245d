/**
 * A volume larger than the device (`node dist/bench/large.js`, or `npm run bench:large`): by
 * default a 1024×1024×64 parallel-beam series of the 3-D Shepp-Logan phantom (exact line
 * integrals) reconstructed into a 1024³ float32 volume (4 GiB) with SIRT and FBP, on one device
 * that may bind only 128 MiB at once and may hold 1 GiB of slabs at a time, so the volume streams
 * through the device in waves of slabs (issue 4: "a 1024 × 1024 × 1024 float32 volume must
 * reconstruct on a device that can bind only 128 MiB at once, given enough host memory").
 *
 * Reports seconds, waves, the host's peak resident memory and the error against the voxelised
 * truth on the central slices (voxelising all 10⁹ voxels would take longer than the
 * reconstruction), prints a table and writes JSON atomically under bench/results/. With `--write
 * FILE` the SIRT volume is also written (TIFF becomes BigTIFF above 4 GiB; .mrc/.npy/.vti too).
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GpuContext } from '../src/gpu/context.js';
import { PACKAGE_ROOT } from '../src/gpu/shaders.js';
import { linspaceAngles } from '../src/io/angles.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import { writeVolume } from '../src/io/volume.js';
import { reconstructFbp } from '../src/tomo/fbp.js';
import { makeGeometry } from '../src/tomo/geometry.js';
import { reconstructIterative } from '../src/tomo/iterative.js';
import { relativeL2 } from '../src/tomo/metrics.js';
import { phantomEllipsoids, voxelizePhantom } from '../src/tomo/phantom.js';
import { ellipsoidProjectionsRef } from '../src/tomo/reference.js';
import type { Volume } from '../src/core/array.js';

const USAGE = `usage: node dist/bench/large.js [options]
  --size N          detector columns = rows = n: an n×n×A series → n³ (default 1024)
  --angles A        angles evenly over [0°, 180°) (default 64)
  --iterations K    SIRT iterations (default 1)
  --binding MiB     largest storage binding the device may use (default 128)
  --memory MiB      device memory one wave of slabs may use (default 1024)
  --skip-fbp        SIRT only
  --write FILE      also write the SIRT volume (.tif/.mrc/.npy/.vti)
  --out FILE        JSON path (default bench/results/<date>-large-n<size>.json)`;

interface Row {
  algorithm: string;
  seconds: number;
  waves: number | null;
  /** Relative L2 error against the truth on the central slices. */
  errorCentral: number;
  /** Host peak resident set after the run (bytes). */
  peakRssBytes: number;
  voxelUpdatesPerSecond: number;
}

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const peakRss = () => process.resourceUsage().maxRSS * 1024;

/** Runs the large-volume benchmark; returns the process exit code. */
export async function runLarge(argv: string[], print: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      size: { type: 'string' },
      angles: { type: 'string' },
      iterations: { type: 'string' },
      binding: { type: 'string' },
      memory: { type: 'string' },
      'skip-fbp': { type: 'boolean' },
      write: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    print(USAGE);
    return 0;
  }
  const int = (v: string | undefined, d: number, name: string, min: number) => {
    const x = v === undefined ? d : Number(v);
    if (!Number.isInteger(x) || x < min) throw new Error(`--${name} must be an integer ≥ ${min}, got '${v}'`);
    return x;
  };
  const n = int(values.size, 1024, 'size', 16);
  const na = int(values.angles, 64, 'angles', 2);
  const iterations = int(values.iterations, 1, 'iterations', 1);
  const binding = int(values.binding, 128, 'binding', 1) * MiB;
  const memory = int(values.memory, 1024, 'memory', 1) * MiB;
  const anglesDeg = Array.from(linspaceAngles(0, 180, na + 1)).slice(0, na);
  const geometry = makeGeometry(anglesDeg, n, n, {});
  const ellipsoids = phantomEllipsoids('shepp3d');
  const log = (s: string) => process.stderr.write(`${s}\n`);

  let t = performance.now();
  log(`simulating ${n}×${n}×${na} exact line integrals…`);
  const exact = ellipsoidProjectionsRef(ellipsoids, geometry);
  const projections: Volume = { data: Float32Array.from(exact), shape: [na, n, n] };
  const simulateSeconds = (performance.now() - t) / 1000;
  // The truth of the central slices only.
  const half = Math.min(8, n / 4);
  const central: [number, number] = [n / 2 - half, n / 2 + half];
  const truth = voxelizePhantom(ellipsoids, n, n, 1, central);
  const centralError = (v: Volume) => relativeL2(v.data.subarray(central[0] * n * n, central[1] * n * n), truth.data);
  log(`simulated in ${simulateSeconds.toFixed(1)} s; volume ${(n ** 3 * 4 / GiB).toFixed(2)} GiB, binding ≤ ${binding / MiB} MiB, slabs ≤ ${memory / MiB} MiB per wave`);

  const ctx = await GpuContext.acquire({});
  const rows: Row[] = [];
  try {
    t = performance.now();
    const sirt = await reconstructIterative(ctx, projections, geometry, 'sirt', {
      iterations,
      maxBindingBytes: binding,
      deviceMemoryBytes: memory,
      onProgress: (e) => log(`  sirt iteration ${e.iteration}/${e.of} ${e.metrics ? `wave ${e.metrics.wave}/${e.metrics.waves}` : ''} ${(e.seconds ?? 0).toFixed(1)} s`),
    });
    const sirtSeconds = (performance.now() - t) / 1000;
    rows.push({ algorithm: `sirt ×${iterations}`, seconds: sirtSeconds, waves: sirt.waves, errorCentral: centralError(sirt.volume), peakRssBytes: peakRss(), voxelUpdatesPerSecond: (iterations * na * n ** 3) / sirtSeconds });
    log(`sirt: ${sirtSeconds.toFixed(1)} s in ${sirt.waves} waves`);
    if (values.write) {
      t = performance.now();
      await writeVolume(resolve(values.write), sirt.volume);
      log(`wrote ${values.write} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }
    if (!values['skip-fbp']) {
      sirt.volume.data = new Float32Array(0); // let the SIRT volume go before FBP allocates its own
      t = performance.now();
      const fbp = await reconstructFbp(ctx, projections, geometry, { maxSlabBytes: binding });
      const fbpSeconds = (performance.now() - t) / 1000;
      rows.push({ algorithm: 'fbp (ramp)', seconds: fbpSeconds, waves: null, errorCentral: centralError(fbp.volume), peakRssBytes: peakRss(), voxelUpdatesPerSecond: (na * n ** 3) / fbpSeconds });
      log(`fbp: ${fbpSeconds.toFixed(1)} s`);
    }
  } finally {
    ctx.destroy();
  }
  const header = ['algorithm', 'seconds', 'waves', 'voxel upd/s', 'error (central slices)', 'host peak RSS'];
  const body = rows.map((r) => [r.algorithm, r.seconds.toFixed(1), r.waves === null ? '–' : String(r.waves), `${(r.voxelUpdatesPerSecond / 1e9).toFixed(2)} G`, r.errorCentral.toFixed(4), `${(r.peakRssBytes / GiB).toFixed(1)} GiB`]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  print(`${n}×${n}×${na} → ${n}³ (${(n ** 3 * 4 / GiB).toFixed(2)} GiB) on ${ctx.info.description}; binding ≤ ${binding / MiB} MiB, ≤ ${memory / MiB} MiB of slabs per wave`);
  print(header.map((h, i) => h.padStart(widths[i])).join('  '));
  for (const b of body) print(b.map((c, i) => c.padStart(widths[i])).join('  '));
  const result = {
    date: new Date().toISOString(),
    adapter: ctx.info.description,
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryBytes: totalmem(), loadavg: loadavg() },
    size: n,
    angles: na,
    iterations,
    maxBindingBytes: binding,
    deviceMemoryBytes: memory,
    simulateSeconds,
    centralSlices: central,
    rows,
  };
  const out = values.out ?? join(PACKAGE_ROOT, 'bench', 'results', `${result.date.slice(0, 10)}-large-n${n}.json`);
  await writeFileAtomic(resolve(out), Buffer.from(`${JSON.stringify(result, null, 2)}\n`, 'utf8'));
  print(`wrote ${out}`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runLarge(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`bench/large: ${(err as Error).message}\n`);
      process.exit(2);
    },
  );
}
