/**
 * `webrecon tomo recon` and `webrecon tomo simulate`: flag parsing and printing only; the work
 * is done by the API (src/tomo/, src/io/).
 */
import { constants } from 'node:buffer';
import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../core/errors.js';
import { acquireDevices, isWorkerDevice, parseDeviceEnv, parseDevices, type PoolDevice } from '../gpu/pool.js';
import { readAngles } from '../io/angles.js';
import { canWriteVolume, readVolume, writeVolume, VOLUME_WRITE_EXTENSIONS } from '../io/volume.js';
import { assertFitsInMemory } from '../io/validate.js';
import { writeOrthoPreview } from '../io/preview.js';
import { loadProjections } from '../tomo/input.js';
import { findCenterOn, preprocessOn, primaryDevice, reconstructTomo, TOMO_ALGORITHMS, type TomoAlgorithm } from '../tomo/recon.js';
import { parseFilterName } from '../tomo/filters.js';
import type { Volume } from '../core/array.js';
import { simulateTiltSeries } from '../tomo/simulate.js';
import { relativeError } from '../tomo/metrics.js';
import { checkOutputPath, finiteNumber, gpuOptionsFrom, positiveInt, type GlobalOptions } from './common.js';
import { Reporter } from './output.js';

/** The most elements one typed array may hold (Node's limit). */
const MAX_ARRAY_LENGTH = constants.MAX_LENGTH;

/** Parses `a:b` (half-open detector rows) for --rows. */
export function parseRowRange(spec: string): [number, number] {
  const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(spec);
  if (!m) throw new InputError(`expected start:stop (detector rows, stop exclusive), got '${spec}'`, '--rows');
  const a = Number(m[1]);
  const b = Number(m[2]);
  if (b <= a) throw new InputError(`the row range ${a}:${b} is empty`, '--rows');
  return [a, b];
}

interface ReconFlags {
  devices?: string;
  adapters?: string;
  processPerDevice?: boolean;
  deviceEnv?: string[];
  angles?: string;
  dark?: string;
  flat?: string;
  log?: boolean;
  center?: string;
  algorithm: string;
  iterations?: string;
  relaxation?: string;
  order?: string;
  seed?: string;
  blockSize?: string;
  filter?: string;
  nonneg?: boolean;
  size?: string;
  rows?: string;
  initial?: string;
  output: string;
  preview?: string;
  truth?: string;
}

interface SimulateFlags {
  phantom: string;
  size: string;
  rows?: string;
  angles: string;
  scale?: string;
  noise?: string;
  seed?: string;
  output: string;
  truth?: string;
}

/** Registers the `tomo` command group. */
export function registerTomo(program: Command): void {
  const tomo = program.command('tomo').description('parallel-beam tomography: reconstruct and simulate tilt series / projection stacks');

  tomo
    .command('recon')
    .description('reconstruct a projection stack (TIFF file/folder/list, DXchange .h5, .npy) into a volume')
    .argument('<inputs...>', 'a multi-page TIFF, a folder of TIFFs, several TIFF files, a DXchange HDF5 or a .npy')
    .option('--angles <spec>', 'angles in degrees: a text file (one per line; IMOD .tlt/.rawtlt) or start:stop:count (stop inclusive); DXchange files carry their own')
    .option('--dark <file>', 'dark field(s): TIFF or .npy')
    .option('--flat <file>', 'flat (white) field(s): TIFF or .npy')
    .option('--log', 'take -log of the (normalised) data (default when a flat field is present)')
    .option('--no-log', 'the data are already line integrals: no -log')
    .option('--center <c>', "rotation-axis column (TomoPy's centre) or 'auto' (with --rows, searched on rows across the whole detector for inputs up to 1 GiB)", undefined)
    .option('--algorithm <name>', `one of ${TOMO_ALGORITHMS.join(', ')}`, 'art')
    .option('--iterations <n>', 'iterations (default: 1 for art/sart, 20 for sirt)')
    .option('--relaxation <r>', 'relaxation factor in (0, 2) (default 1)')
    .option('--order <o>', 'art/sart angle order: sequential or random', 'sequential')
    .option('--seed <n>', 'seed of the random order', '1')
    .option('--block-size <n>', 'sart: angles per block (ordered subsets)')
    .option('--filter <name>', 'fbp filter: ramp, shepp-logan, cosine, hamming, hann', 'ramp')
    .option('--nonneg', 'clamp the volume at zero after every update')
    .option('--size <n>', 'slice size n of the [rows, n, n] volume (default: detector columns)')
    .option('--rows <a:b>', 'reconstruct detector rows a..b-1 only')
    .option('--initial <file>', 'starting volume for art/sart/sirt (.tif, .mrc, .vti, .npy)')
    .requiredOption('-o, --output <file>', 'output volume: .tif, .mrc, .vti or .npy')
    .option('--preview <png>', 'also write a PNG of three orthogonal central slices')
    .option('--truth <file>', 'a known volume to report the error against (simulations)')
    .option('--devices <n>', "GPU devices to split the rows across: a count (on the chosen adapter) or 'all' adapters (default 1; 0 extra with --device-env)")
    .option('--adapters <names>', 'comma-separated adapter names, one device each (see `webrecon info`)')
    .option('--process-per-device', 'open each device of --devices/--adapters in its own worker process')
    .option('--device-env <NAME=value,...>', 'add one device in its own worker process with these environment variables (repeat for more; e.g. MESA_VK_DEVICE_SELECT=10de:2330; see the README)', (v: string, prev: string[] = []) => [...prev, v])
    .action(async (inputs: string[], flags: ReconFlags, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOptions;
      const out = new Reporter(g);
      const t0 = performance.now();
      const algorithm = flags.algorithm as TomoAlgorithm;
      if (!(TOMO_ALGORITHMS as readonly string[]).includes(algorithm)) throw new InputError(`unknown algorithm '${flags.algorithm}' (known: ${TOMO_ALGORITHMS.join(', ')})`, '--algorithm');
      if (flags.order !== 'sequential' && flags.order !== 'random') throw new InputError(`expected sequential or random, got '${flags.order}'`, '--order');
      const center = flags.center === undefined ? undefined : flags.center === 'auto' ? 'auto' : finiteNumber(flags.center, '--center');
      const rows = flags.rows ? parseRowRange(flags.rows) : undefined;
      // Every flag is checked before the long work (reading, GPU) starts.
      const gpuOptions = gpuOptionsFrom(g);
      const workers = (flags.deviceEnv ?? []).map((v) => ({ env: parseDeviceEnv(v) }));
      const devices = flags.devices !== undefined ? parseDevices(flags.devices) : workers.length > 0 ? undefined : 1;
      const adapters = flags.adapters ? flags.adapters.split(',').map((a) => a.trim()).filter(Boolean) : undefined;
      const size = flags.size ? positiveInt(flags.size, '--size') : undefined;
      const iterations = flags.iterations ? positiveInt(flags.iterations, '--iterations') : undefined;
      const relaxation = flags.relaxation ? finiteNumber(flags.relaxation, '--relaxation') : undefined;
      if (relaxation !== undefined && !(relaxation > 0 && relaxation < 2)) throw new InputError(`relaxation must be in (0, 2), got ${relaxation}`, '--relaxation');
      const seed = flags.seed ? positiveInt(flags.seed, '--seed') : undefined;
      const blockSize = flags.blockSize ? positiveInt(flags.blockSize, '--block-size') : undefined;
      const filter = algorithm === 'fbp' && flags.filter ? parseFilterName(flags.filter) : flags.filter;
      if (flags.initial && algorithm === 'fbp') throw new InputError('fbp does not take a starting volume (use art, sart or sirt)', '--initial');
      writeVolumeCheck(flags.output);
      if (flags.preview) {
        if (!/\.png$/i.test(flags.preview)) throw new InputError('the preview must be a .png file', flags.preview);
        checkOutputPath(flags.preview);
      }

      const tRead = performance.now();
      const input = await loadProjections(inputs, { flat: flags.flat, dark: flags.dark, rows });
      const [na, nRows, nCols] = input.projections.shape;
      let anglesDeg: Float64Array;
      if (flags.angles) anglesDeg = await readAngles(flags.angles, na);
      else if (input.anglesDeg) anglesDeg = input.anglesDeg;
      else throw new InputError(`no angles: give --angles (a file or start:stop:count); ${input.source} does not carry them`, input.source);
      if (anglesDeg.length !== na) throw new InputError(`${anglesDeg.length} angles but ${na} projections`, input.source);
      // --initial and --truth must have the volume's shape: checked now, not after the work
      // (a late failure would come after the output was written)
      const volumeShape = [nRows, size ?? nCols, size ?? nCols];
      const voxels = volumeShape[0]! * volumeShape[1]! * volumeShape[2]!;
      const what = `the volume [${volumeShape.join(', ')}] ([rows, n, n], float32)`;
      if (voxels > MAX_ARRAY_LENGTH) throw new InputError(`${what} has ${voxels} voxels, more than one array can hold (${MAX_ARRAY_LENGTH}); reduce --size or --rows`, flags.size ? '--size' : input.source);
      assertFitsInMemory(voxels * 4, what, 'reduce --size or --rows');
      const readShaped = async (path: string, what: string): Promise<Volume> => {
        const v = await readVolume(path);
        if (v.shape.some((d, i) => d !== volumeShape[i])) {
          throw new InputError(`${what} has shape [${v.shape.join(', ')}] but this reconstruction is [${volumeShape.join(', ')}] ([rows, n, n])`, path);
        }
        return v;
      };
      const initial = flags.initial ? await readShaped(flags.initial, 'the starting volume') : undefined;
      const truth = flags.truth ? await readShaped(flags.truth, 'the truth volume') : undefined;
      const readSeconds = (performance.now() - tRead) / 1000;
      out.progress({ stage: 'read', seconds: readSeconds });

      const pool = await acquireDevices({ ...gpuOptions, devices, adapters, processPerDevice: flags.processPerDevice, workers });
      const ctx = primaryDevice(pool);
      try {
        // With --rows the rows to reconstruct may hold too little structure to score centres
        // on (I13 rows 60:64 put the entropy minimum 6 px off): the rotation axis is one for
        // the whole detector, so 'auto' searches it on rows chosen from the whole detector.
        let centerArg: number | 'auto' | undefined = center;
        let centerFound: { method: string; seconds: number } | undefined;
        if (center === 'auto' && rows) {
          const t = performance.now();
          const found = await centerOnFullDetector(ctx, inputs, flags, anglesDeg, input.source);
          if (found) {
            centerArg = found.center;
            centerFound = { method: `${found.method} on detector rows ${found.rows.join(', ')}`, seconds: (performance.now() - t) / 1000 };
            out.progress({ stage: 'center', seconds: centerFound.seconds, metrics: { center: found.center } });
          }
        }
        const result = await reconstructTomo(pool, input.projections, {
          algorithm,
          anglesDeg,
          center: centerArg,
          size,
          flat: input.flat,
          dark: input.dark,
          log: flags.log,
          iterations,
          relaxation,
          order: flags.order as 'sequential' | 'random',
          seed,
          blockSize,
          nonNegative: flags.nonneg,
          initial,
          filter,
          onProgress: out.progress,
          source: input.source,
        });
        if (centerFound) {
          result.centerMethod = centerFound.method;
          result.timings = { center: centerFound.seconds, ...result.timings };
        }
        const error = truth ? relativeError(result.volume, truth, flags.truth!) : undefined;
        const tWrite = performance.now();
        await writeVolume(flags.output, result.volume, { description: `webrecon tomo recon --algorithm ${algorithm}` });
        if (flags.preview) await writeOrthoPreview(flags.preview, result.volume, { title: `${algorithm} ${input.source}` });
        const writeSeconds = (performance.now() - tWrite) / 1000;
        const timings = { read: readSeconds, ...result.timings, write: writeSeconds, total: (performance.now() - t0) / 1000 };
        const g0 = result.geometry;
        out.summary(
          {
            output: flags.output,
            preview: flags.preview,
            shape: result.volume.shape,
            algorithm,
            center: g0.center,
            centerMethod: result.centerMethod,
            residuals: result.residuals,
            errorVsTruth: error,
            timings,
            kernels: result.kernels,
            device: ctx.info.description,
            devices: pool.length,
            workerProcesses: pool.filter(isWorkerDevice).length,
            backend: `${ctx.info.backend}/${ctx.info.featureLevel}`,
          },
          [
            `wrote ${flags.output} (${result.volume.shape.join(' x ')} float32)${flags.preview ? ` and ${flags.preview}` : ''}`,
            `  ${algorithm.toUpperCase()} of ${input.source}: ${na} angles, centre ${g0.center.toFixed(2)} (${result.centerMethod})`,
            result.residuals.length ? `  residual ${shortList(result.residuals.map((r) => r.toExponential(3)))}` : '',
            error !== undefined ? `  relative L2 error against ${flags.truth}: ${error.toFixed(4)}` : '',
            `  seconds: ${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`,
            `  device: ${ctx.info.description} (${ctx.info.backend}, ${ctx.info.featureLevel})${pool.length > 1 ? ` x ${pool.length} devices` : ''}${pool.some(isWorkerDevice) ? ` (${pool.filter(isWorkerDevice).length} in worker processes)` : ''}`,
          ].filter(Boolean).join('\n'),
        );
      } finally {
        for (const c of pool) c.destroy();
      }
    });

  tomo
    .command('simulate')
    .description('simulate a parallel-beam tilt series of a phantom (exact line integrals) and write it with its truth')
    .option('--phantom <name>', 'phantom: shepp3d (3-D Shepp-Logan)', 'shepp3d')
    .option('--size <n>', 'volume slice size n (detector columns)', '256')
    .option('--rows <n>', 'slices = detector rows (default: size)')
    .requiredOption('--angles <spec>', 'start:stop:count in degrees, or an angle file')
    .option('--scale <s>', 'attenuation scale of the phantom per voxel', '1')
    .option('--noise <photons>', 'Poisson noise at this many incident photons per pixel (the data stay line integrals)')
    .option('--seed <n>', 'noise seed', '1')
    .requiredOption('-o, --output <file>', 'the tilt series [angles, rows, size]: .tif, .mrc, .vti or .npy')
    .option('--truth <file>', 'also write the voxelised phantom [rows, size, size]')
    .action(async (flags: SimulateFlags, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOptions;
      const out = new Reporter(g);
      const size = positiveInt(flags.size, '--size');
      const rows = flags.rows ? positiveInt(flags.rows, '--rows') : size;
      const anglesDeg = await readAngles(flags.angles);
      writeVolumeCheck(flags.output);
      if (flags.truth) {
        writeVolumeCheck(flags.truth);
        if (resolve(flags.truth) === resolve(flags.output)) throw new InputError('the truth and the tilt series would be the same file', flags.truth);
      }
      const scale = finiteNumber(flags.scale ?? '1', '--scale');
      const photons = flags.noise ? finiteNumber(flags.noise, '--noise') : undefined;
      if (photons !== undefined && !(photons > 0)) throw new InputError(`the photon count must be a positive number, got ${photons}`, '--noise');
      const sim = simulateTiltSeries({
        phantom: flags.phantom,
        size,
        rows,
        anglesDeg,
        scale,
        photons,
        seed: positiveInt(flags.seed ?? '1', '--seed'),
        onProgress: out.progress,
      });
      await writeVolume(flags.output, sim.projections, { description: `webrecon tomo simulate --phantom ${flags.phantom}` });
      if (flags.truth) await writeVolume(flags.truth, sim.truth);
      out.summary(
        { output: flags.output, truth: flags.truth, shape: sim.projections.shape, anglesDeg: Array.from(anglesDeg), seconds: sim.seconds },
        `wrote ${flags.output} (${sim.projections.shape.join(' x ')} line integrals)${flags.truth ? ` and ${flags.truth} (${sim.truth.shape.join(' x ')})` : ''} in ${sim.seconds.toFixed(1)} s`,
      );
    });
}

/** Inputs larger than this on disk are not read whole just to search the centre. */
const FULL_CENTER_SEARCH_MAX_BYTES = 1 << 30;

/** Bytes of the input files on disk (a folder: the files directly in it). */
async function inputBytes(inputs: string[]): Promise<number> {
  let total = 0;
  for (const p of inputs) {
    const s = await stat(p);
    if (!s.isDirectory()) {
      total += s.size;
      continue;
    }
    for (const e of await readdir(p, { withFileTypes: true })) if (e.isFile()) total += (await stat(join(p, e.name))).size;
  }
  return total;
}

/**
 * Finds the rotation centre on the whole detector height (for `--center auto --rows a:b`):
 * loads every row, normalises as the reconstruction will, and runs the centre search on rows
 * it picks across the detector. Returns undefined — the search then runs on the selected rows
 * only — when the input is over 1 GiB on disk or does not fit in memory (--rows is how a
 * large scan is previewed; reading all of it for the centre would defeat that).
 */
async function centerOnFullDetector(
  ctx: PoolDevice,
  inputs: string[],
  flags: ReconFlags,
  anglesDeg: Float64Array,
  source: string,
): Promise<{ center: number; method: string; rows: number[] } | undefined> {
  if ((await inputBytes(inputs)) > FULL_CENTER_SEARCH_MAX_BYTES) return undefined;
  let full;
  try {
    full = await loadProjections(inputs, { flat: flags.flat, dark: flags.dark });
  } catch (e) {
    if (e instanceof InputError && /memory/.test(e.message)) return undefined;
    throw e;
  }
  let data: Volume = full.projections;
  const log = flags.log ?? full.flat !== undefined;
  if (full.flat || full.dark || log) {
    data = await preprocessOn(ctx, full.projections, { flat: full.flat, dark: full.dark, log, source });
  }
  const r = await findCenterOn(ctx, data, anglesDeg);
  return { center: r.center, method: r.method, rows: r.rows ?? [] };
}

/** 'a → b → c', or for long lists the first three and the last three around '…'. */
function shortList(items: string[]): string {
  return (items.length > 8 ? [...items.slice(0, 3), `… (${items.length} iterations) …`, ...items.slice(-3)] : items).join(' → ');
}

/** Fails early (before any long work) when an output path has an extension we cannot write. */
function writeVolumeCheck(path: string): void {
  if (!canWriteVolume(path)) {
    throw new InputError(`cannot write a volume with extension '${extname(path).toLowerCase() || '(none)'}': use ${VOLUME_WRITE_EXTENSIONS.join(', ')}`, path);
  }
  checkOutputPath(path);
}
