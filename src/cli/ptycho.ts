/**
 * `webrecon ptycho recon|simulate`: commander wiring over the ptychography API (src/ptycho).
 */
import type { Command } from 'commander';
import { InputError } from '../core/errors.js';
import type { GpuContext } from '../gpu/context.js';
import { acquireDevices, closeDevices, deviceInfo, isWorkerDevice, parseDeviceEnv, parseDevices } from '../gpu/pool.js';
import { loadPtycho, type LoadOptions } from '../ptycho/load.js';
import { reconstructPtycho, type PtychoAlgorithm } from '../ptycho/recon.js';
import { writePtychoResult, writePtychoCxi } from '../ptycho/output.js';
import { loadTruth, checkTruthShape, truthMetrics, type PtychoTruth, type TruthMetrics } from '../ptycho/metrics.js';
import { scanGeometry } from '../ptycho/scan.js';
import { simulatePtycho, writeSimulation } from '../ptycho/simulate.js';
import { probeGuess, type ProbeGuessKind } from '../ptycho/probe.js';
import { finiteNumber, gpuOptionsFrom, positiveInt, type GlobalOptions } from './common.js';
import { Reporter } from './output.js';

interface ReconFlags {
  positions?: string;
  probe?: string;
  algorithm: string;
  iterations: string;
  probeUpdateStart: string;
  probeModes: string;
  beta?: string;
  inner?: string;
  powerBound?: string;
  objectAmplitudeMax?: string;
  probeGuess?: string;
  probeDiameter?: string;
  probeSupport?: string;
  rpie?: string;
  subpixel: boolean;
  shifted?: boolean;
  crop?: string;
  transpose?: boolean;
  flipRows?: boolean;
  flipCols?: boolean;
  objectPixelSize?: string;
  seed?: string;
  truth?: string;
  devices?: string;
  adapters?: string;
  processPerDevice?: boolean;
  deviceEnv?: string[];
  partitions?: string;
  output: string;
}

interface SimFlags {
  frame: string;
  positions: string;
  scan: string;
  overlap: string;
  photons: string;
  deadPixels: string;
  phase: string;
  seed: string;
  output: string;
  truth?: string;
}

export function registerPtycho(program: Command): void {
  const ptycho = program.command('ptycho').description('ptychography: reconstruct (DM, RAAR, ePIE) or simulate scans');

  ptycho
    .command('recon <input>')
    .description('reconstruct object and probe from an npy folder, a CXI file or a TIFF stack (+ --positions)')
    .option('--positions <file>', 'positions file: CSV "row,col" in object pixels, or .npy [n, 2]')
    .option('--probe <file>', 'initial probe .npy (complex [h, w] or [modes, h, w])')
    .option('--probe-guess <kind>', 'initial probe instead of the file one: disc, gaussian or pinhole (default without a probe file: disc)')
    .option('--probe-diameter <px>', 'diameter (disc, pinhole) or FWHM (gaussian) of the probe guess in pixels (default: half the frame)')
    .option('-a, --algorithm <name>', 'dm, raar or epie', 'dm')
    .option('-n, --iterations <n>', 'iterations', '50')
    .option('--probe-update-start <k>', 'first iteration (0-based) that updates the probe', '1')
    .option('--probe-modes <m>', 'incoherent probe modes (DM/RAAR)', '1')
    .option('--beta <b>', 'DM: reflection α (1 = classic DM); RAAR: β (default 0.9); ePIE: object step α')
    .option('--inner <k>', 'object/probe alternations per overlap projection (DM/RAAR, default 1)')
    .option('--power-bound <e>', "DM/RAAR: leave frames whose mean squared amplitude deviation per pixel is below e; 'auto' (default): 0.25 (the Poisson floor) for photon counts, none for non-integer data; 'none'")
    .option('--object-amplitude-max <a>', 'DM/RAAR: clip the object amplitude to at most a (e.g. 1 for a transmission object)')
    .option('--probe-support <r>', 'DM/RAAR: zero the probe outside a disc of radius r pixels around the frame centre')
    .option('--rpie <g>', 'ePIE: rPIE mixing γ in (0, 1] (1 = plain ePIE)')
    .option('--no-subpixel', 'round positions to whole pixels')
    .option('--shifted', 'frames are stored with the zero frequency at the centre (default for CXI)')
    .option('--crop <size>', 'crop frames (around zero frequency) to size×size')
    .option('--transpose', 'swap position axes (row, col)')
    .option('--flip-rows', 'negate row positions')
    .option('--flip-cols', 'negate column positions')
    .option('--object-pixel-size <m>', 'CXI: object pixel size in metres (default λz/(N·dx))')
    .option('--seed <s>', 'ePIE: seed of the random frame order', '1')
    .option('--truth <path>', 'known truth (the folder of ptycho simulate --truth, or an object .npy): object error after global phase and sub-pixel shift removal, probe error, in metrics')
    .option('--devices <n>', "DM/RAAR: GPU devices to split the frames across, a count (on the chosen adapter) or 'all' adapters (default 1)")
    .option('--adapters <names>', 'DM/RAAR: comma-separated adapter names, one device each (see `webrecon info`)')
    .option('--partitions <n>', 'DM/RAAR: split the scan into n partitions whatever the number of devices; the result then depends only on n (bit-identical on 1..n devices)')
    .option('--process-per-device', 'DM/RAAR: open each device of --devices/--adapters in its own worker process')
    .option('--device-env <NAME=value,...>', 'DM/RAAR: add one device in its own worker process with these environment variables (repeat for more; see the README)', (v: string, prev: string[] = []) => [...prev, v])
    .requiredOption('-o, --output <path>', 'output folder (object.npy, probe.npy, TIFF, PNG, metrics.json), or FILE.cxi for one CXI (HDF5) file')
    .action(async (input: string, flags: ReconFlags, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOptions;
      const out = new Reporter(g);
      const algorithm = flags.algorithm as PtychoAlgorithm;
      if (!['dm', 'raar', 'epie'].includes(algorithm)) throw new InputError(`unknown algorithm '${flags.algorithm}' (dm, raar or epie)`, '--algorithm');
      const cxiOut = /\.(cxi|h5|hdf5)$/i.test(flags.output);
      const iterations = positiveInt(flags.iterations, '--iterations');
      const probeUpdateStart = Number(flags.probeUpdateStart);
      if (!Number.isInteger(probeUpdateStart) || probeUpdateStart < 0) throw new InputError(`expected a non-negative integer, got '${flags.probeUpdateStart}'`, '--probe-update-start');
      const modes = positiveInt(flags.probeModes, '--probe-modes');
      const beta = flags.beta !== undefined ? finiteNumber(flags.beta, '--beta') : undefined;
      const load: LoadOptions = {
        positions: flags.positions,
        probe: flags.probe,
        shifted: flags.shifted,
        crop: flags.crop ? positiveInt(flags.crop, '--crop') : undefined,
        transform: { transpose: flags.transpose, flipRows: flags.flipRows, flipCols: flags.flipCols },
        objectPixelSize: flags.objectPixelSize ? finiteNumber(flags.objectPixelSize, '--object-pixel-size') : undefined,
      };
      const dataset = await loadPtycho(input, load);
      const [n, h, w] = dataset.shape;
      if (flags.probeGuess || flags.probeDiameter) {
        dataset.probe = probeGuess((flags.probeGuess ?? 'disc') as ProbeGuessKind, h, w, flags.probeDiameter ? finiteNumber(flags.probeDiameter, '--probe-diameter') : undefined);
      }
      let truth: PtychoTruth | undefined;
      if (flags.truth) {
        truth = await loadTruth(flags.truth);
        // margin 2 is the engines' default; the object shape follows from the positions alone
        const pos = flags.subpixel ? dataset.positions : Float64Array.from(dataset.positions, Math.round);
        checkTruthShape(truth, scanGeometry(pos, [h, w], 2, dataset.source).objectShape);
      }
      out.info(`${input}: ${n} frames of ${h}×${w}${dataset.mask ? `, ${dataset.mask.length - dataset.mask.reduce((a, b) => a + b, 0)} masked pixels` : ''}${flags.probeGuess || flags.probeDiameter ? `, ${flags.probeGuess ?? 'disc'} probe guess` : dataset.probe ? ', probe from file' : ', disc probe guess'}`);
      const workers = (flags.deviceEnv ?? []).map((v) => ({ env: parseDeviceEnv(v) }));
      const devices = flags.devices !== undefined ? parseDevices(flags.devices) : workers.length > 0 ? undefined : 1;
      const adapters = flags.adapters ? flags.adapters.split(',').map((a) => a.trim()).filter(Boolean) : undefined;
      const pool = await acquireDevices({ ...gpuOptionsFrom(g), devices, adapters, processPerDevice: flags.processPerDevice, workers });
      const first = deviceInfo(pool[0]);
      const inProcess = pool.find((d): d is GpuContext => !isWorkerDevice(d));
      try {
        const workerCount = pool.filter(isWorkerDevice).length;
        out.info(`device: ${first.description || first.device}${first.software ? ' (software)' : ''}${pool.length > 1 ? ` x ${pool.length} devices` : ''}${workerCount ? ` (${workerCount} in worker processes)` : ''}`);
        const result = await reconstructPtycho(dataset, {
          context: inProcess,
          contexts: pool.length > 1 || workerCount > 0 ? pool : undefined,
          algorithm,
          iterations,
          probeUpdateStart,
          modes,
          beta: algorithm === 'epie' ? undefined : beta,
          alpha: algorithm === 'epie' ? beta : undefined,
          innerIterations: flags.inner ? positiveInt(flags.inner, '--inner') : undefined,
          partitions: flags.partitions !== undefined ? positiveInt(flags.partitions, '--partitions') : undefined,
          powerBound: flags.powerBound === undefined || flags.powerBound === 'auto' || flags.powerBound === 'none' ? (flags.powerBound as 'auto' | 'none' | undefined) : finiteNumber(flags.powerBound, '--power-bound'),
          rpie: flags.rpie !== undefined ? finiteNumber(flags.rpie, '--rpie') : undefined,
          objectAmplitudeMax: flags.objectAmplitudeMax !== undefined ? finiteNumber(flags.objectAmplitudeMax, '--object-amplitude-max') : undefined,
          probeSupport: flags.probeSupport !== undefined ? finiteNumber(flags.probeSupport, '--probe-support') : undefined,
          subpixel: flags.subpixel,
          seed: flags.seed ? Number(flags.seed) : undefined,
          onProgress: (ev) => {
            if (g.json || g.quiet) out.progress(ev);
            else process.stderr.write(`${ev.stage} ${String(ev.iteration).padStart(String(ev.of).length)}/${ev.of}  Fourier error ${ev.residual?.toExponential(4)}  ${ev.seconds.toFixed(1)} s\n`);
          },
        });
        if (result.note) out.info(result.note);
        let truthErr: TruthMetrics | undefined;
        const extra: Record<string, unknown> = { input };
        if (truth) {
          truthErr = truthMetrics(result, truth);
          extra.truth = { source: truth.source, ...truthErr };
          out.info(`against the truth: object error ${(100 * truthErr.objectError).toFixed(2)} % (shift ${truthErr.objectShift.map((v) => v.toFixed(2)).join(', ')} px)${truthErr.probeError !== undefined ? `, probe error ${(100 * truthErr.probeError).toFixed(2)} %` : ''}`);
        }
        let files: string[];
        if (cxiOut) {
          const lz = dataset.wavelength !== undefined && dataset.distance !== undefined ? dataset.wavelength * dataset.distance : undefined;
          const px = flags.objectPixelSize ? finiteNumber(flags.objectPixelSize, '--object-pixel-size') : undefined;
          const pixelSize: [number, number] | undefined = px !== undefined ? [px, px] : lz !== undefined && dataset.pixelSize ? [lz / (h * dataset.pixelSize), lz / (w * dataset.pixelSize)] : undefined;
          await writePtychoCxi(flags.output, result, { pixelSize, extra });
          files = [flags.output];
        } else {
          files = await writePtychoResult(flags.output, result, extra);
        }
        const med = [...result.iterationSeconds].sort((a, b) => a - b)[Math.floor(result.iterationSeconds.length / 2)];
        out.summary(
          { input, output: flags.output, files, algorithm, iterations, fourierError: { first: result.errors[0], last: result.errors[result.errors.length - 1] }, medianIterationSeconds: med, totalSeconds: result.totalSeconds, objectShape: result.geometry.objectShape, firstViewOffset: result.geometry.offset, device: result.device, devices: result.devices ?? 1, ...(result.partitions !== undefined ? { partitions: result.partitions } : {}), ...(result.reductionBytesPerIteration !== undefined ? { reductionBytesPerIteration: result.reductionBytesPerIteration } : {}), ...(result.droppedDevices?.length ? { droppedDevices: result.droppedDevices } : {}), ...(result.note ? { note: result.note } : {}), ...(truthErr ? { truth: truthErr } : {}) },
          `${algorithm}: Fourier error ${result.errors[0].toExponential(3)} → ${result.errors[result.errors.length - 1].toExponential(3)} (${(result.errors[0] / result.errors[result.errors.length - 1]).toFixed(1)}×) in ${iterations} iterations, ${med.toFixed(3)} s/iteration; object ${result.geometry.objectShape.join('×')} written to ${flags.output}${cxiOut ? '' : '/'}`,
        );
      } finally {
        await closeDevices(pool);
      }
    });

  ptycho
    .command('simulate')
    .description('simulate a scan (phantom object, defocused-pinhole probe, Fermat spiral, Poisson noise, dead pixels) as an npy folder')
    .option('--frame <n>', 'frame side (power of two)', '64')
    .option('--positions <n>', 'scan points', '100')
    .option('--scan <kind>', 'fermat or raster', 'fermat')
    .option('--overlap <f>', 'linear overlap of neighbouring views (0..1)', '0.7')
    .option('--photons <n>', 'mean photons per frame (0 = noise-free)', '1e6')
    .option('--dead-pixels <n>', 'dead detector pixels (masked)', '5')
    .option('--phase <rad>', 'maximum object phase', '1')
    .option('--seed <s>', 'random seed', '1')
    .requiredOption('-o, --output <dir>', 'dataset folder (data.npy, scan.npy, probe.npy, mask.npy)')
    .option('--truth <dir>', 'folder for the truth (object.npy, probe.npy, truth.json)')
    .action(async (flags: SimFlags, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOptions;
      const out = new Reporter(g);
      if (flags.scan !== 'fermat' && flags.scan !== 'raster') throw new InputError(`expected fermat or raster, got '${flags.scan}'`, '--scan');
      const deadPixels = Number(flags.deadPixels);
      if (!Number.isInteger(deadPixels) || deadPixels < 0) throw new InputError(`expected a non-negative integer, got '${flags.deadPixels}'`, '--dead-pixels');
      const sim = simulatePtycho({
        frame: positiveInt(flags.frame, '--frame'),
        positions: positiveInt(flags.positions, '--positions'),
        scan: flags.scan,
        overlap: finiteNumber(flags.overlap, '--overlap'),
        photons: finiteNumber(flags.photons, '--photons'),
        deadPixels,
        phase: finiteNumber(flags.phase, '--phase'),
        seed: finiteNumber(flags.seed, '--seed'),
      });
      await writeSimulation(flags.output, sim, flags.truth);
      const [n, h, w] = sim.dataset.shape;
      out.summary({ output: flags.output, truth: flags.truth ?? null, frames: n, frame: [h, w], objectShape: sim.geometry.objectShape }, `simulated ${n} frames of ${h}×${w} → ${flags.output}/${flags.truth ? ` (truth in ${flags.truth}/)` : ''}`);
    });
}
