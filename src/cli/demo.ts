/**
 * `webrecon demo` (what `npm run demo` runs): the seed's workload on an embedded default. It
 * simulates a 256×256×74 TEM-like tilt series of the 3-D Shepp-Logan phantom (−73°..+73°),
 * reconstructs it with ART into a 256³ volume, writes the volume and a PNG preview, and prints
 * where they are and the error against the truth.
 */
import { constants } from 'node:buffer';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { GpuContext } from '../gpu/context.js';
import { linspaceAngles } from '../io/angles.js';
import { writeVolume } from '../io/volume.js';
import { assertFitsInMemory } from '../io/validate.js';
import { writeOrthoPreview } from '../io/preview.js';
import { simulateTiltSeries } from '../tomo/simulate.js';
import { reconstructTomo, TOMO_ALGORITHMS, type TomoAlgorithm } from '../tomo/recon.js';
import { relativeError } from '../tomo/metrics.js';
import { InputError } from '../core/errors.js';
import { checkOutputPath, gpuOptionsFrom, positiveInt, type GlobalOptions } from './common.js';
import { Reporter } from './output.js';

interface DemoFlags {
  output: string;
  size: string;
  angles: string;
  algorithm: string;
  iterations: string;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('simulate a 256x256x74 tilt series (3-D Shepp-Logan, -73..+73 degrees), reconstruct it with ART, write the volume and a preview')
    .option('-o, --output <dir>', 'folder for the results', 'out/demo')
    .option('--size <n>', 'volume size n (n x n x n; the tilt series is n x n x angles)', '256')
    .option('--angles <count>', 'number of tilt angles between -73 and +73 degrees', '74')
    .option('--algorithm <name>', `one of ${TOMO_ALGORITHMS.join(', ')}`, 'art')
    .option('--iterations <n>', 'iterations', '2')
    .action(async (flags: DemoFlags, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOptions;
      const out = new Reporter(g);
      const size = positiveInt(flags.size, '--size');
      const count = positiveInt(flags.angles, '--angles');
      if (count < 2) throw new InputError('at least 2 angles are needed', '--angles');
      const algorithm = flags.algorithm as TomoAlgorithm;
      if (!(TOMO_ALGORITHMS as readonly string[]).includes(algorithm)) throw new InputError(`unknown algorithm '${flags.algorithm}' (known: ${TOMO_ALGORITHMS.join(', ')})`, '--algorithm');
      const iterations = positiveInt(flags.iterations, '--iterations');
      const dir = resolve(flags.output);
      checkOutputPath(join(dir, 'volume.tif'));
      // the truth and the reconstruction (n³ each) and the tilt series must fit
      if (size ** 3 > constants.MAX_LENGTH) throw new InputError(`a ${size}³ volume has more voxels than one array can hold (${constants.MAX_LENGTH})`, '--size');
      assertFitsInMemory((2 * size ** 3 + count * size * size) * 4, `the ${size}³ demo (truth, volume and tilt series, float32)`, 'reduce --size');
      const gpuOptions = gpuOptionsFrom(g);
      const t0 = performance.now();
      const anglesDeg = linspaceAngles(-73, 73, count);
      out.info(`simulating a ${size}x${size}x${count} tilt series of the 3-D Shepp-Logan phantom (-73..+73 degrees) ...`);
      const sim = simulateTiltSeries({ phantom: 'shepp3d', size, rows: size, anglesDeg });
      const ctx = await GpuContext.acquire(gpuOptions);
      try {
        out.info(`reconstructing ${size}^3 with ${algorithm.toUpperCase()} on ${ctx.info.description} (${ctx.info.backend}, ${ctx.info.featureLevel}) ...`);
        const result = await reconstructTomo(ctx, sim.projections, {
          algorithm,
          anglesDeg,
          iterations: algorithm === 'fbp' ? undefined : iterations,
          nonNegative: algorithm !== 'fbp',
          onProgress: out.progress,
        });
        const tWrite = performance.now();
        const files = {
          volume: join(dir, 'volume.tif'),
          preview: join(dir, 'preview.png'),
          truth: join(dir, 'truth.tif'),
          tilt: join(dir, 'tilt.tif'),
        };
        await writeVolume(files.volume, result.volume, { description: `webrecon demo ${algorithm}` });
        await writeOrthoPreview(files.preview, result.volume, { title: `webrecon demo: ${algorithm}` });
        await writeVolume(files.truth, sim.truth);
        await writeVolume(files.tilt, sim.projections);
        const error = relativeError(result.volume, sim.truth);
        const timings = { simulate: sim.seconds, ...result.timings, write: (performance.now() - tWrite) / 1000, total: (performance.now() - t0) / 1000 };
        out.summary(
          { files, algorithm, iterations, shape: result.volume.shape, residuals: result.residuals, errorVsTruth: error, timings, device: ctx.info.description, backend: `${ctx.info.backend}/${ctx.info.featureLevel}` },
          [
            `volume   ${files.volume}  (${result.volume.shape.join(' x ')} float32; also readable by Fiji/ImageJ and tifffile)`,
            `preview  ${files.preview}  (three orthogonal central slices)`,
            `truth    ${files.truth}, tilt series ${files.tilt}`,
            `relative L2 error against the truth: ${error.toFixed(4)}${result.residuals.length ? `; residual per iteration ${result.residuals.map((r) => r.toFixed(4)).join(' → ')}` : ''}`,
            `seconds: ${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`,
          ].join('\n'),
        );
      } finally {
        ctx.destroy();
      }
    });
}
