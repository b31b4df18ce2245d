/**
 * End to end through the built CLI: `tomo simulate` writes a small Shepp-Logan tilt series and
 * its truth, `tomo recon` reconstructs it with every algorithm into every output format, and
 * the files read back (with the library's readers) with the right shape and an error against
 * the truth that a working reconstruction reaches (a zero volume scores 1.0).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readVolume } from '../../src/io/volume.js';
import { relativeError } from '../../src/tomo/metrics.js';
import { allFinite, ensureBuilt, jsonLines, runCli, show, tempDir } from '../cli/cli.js';

const dir = tempDir('webrecon-e2e-');
const SIZE = 48;
const ROWS = 12;
const ANGLES = '0:174:30'; // 30 angles, 6 degrees apart
const tilt = join(dir, 'tilt.tif');
const truthFile = join(dir, 'truth.tif');

// [algorithm, output extension, extra flags, bound on the relative L2 error against the truth]
// (measured on lavapipe: art 0.55, sart 0.72, sirt 0.48, fbp 0.52; a zero volume scores 1.0)
const CASES: Array<[string, string, string[], number]> = [
  ['art', '.tif', ['--iterations', '2', '--relaxation', '0.5', '--nonneg'], 0.7],
  ['sart', '.mrc', ['--iterations', '2'], 0.8],
  ['sirt', '.vti', ['--iterations', '20'], 0.6],
  ['fbp', '.npy', ['--filter', 'hann'], 0.65],
];

describe('tomo simulate + tomo recon round trip (CLI)', () => {
  beforeAll(async () => {
    ensureBuilt();
    const r = await runCli(['tomo', 'simulate', '--size', String(SIZE), '--rows', String(ROWS), '--angles', ANGLES, '-o', tilt, '--truth', truthFile]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/wrote .*tilt\.tif \(30 x 12 x 48 line integrals\) and .*truth\.tif \(12 x 48 x 48\)/);
  });

  it('simulate writes the tilt series [angles, rows, size] and the truth [rows, size, size]', async () => {
    const t = await readVolume(tilt);
    expect(t.shape).toEqual([30, ROWS, SIZE]);
    expect(allFinite(t.data)).toBe(true);
    const truth = await readVolume(truthFile);
    expect(truth.shape).toEqual([ROWS, SIZE, SIZE]);
    expect(Math.max(...truth.data)).toBeGreaterThan(0);
  });

  for (const [algorithm, ext, extra, bound] of CASES) {
    it(`${algorithm} → ${ext}: exit 0, JSON lines, the file reads back, error vs truth < ${bound}`, async () => {
      const out = join(dir, `vol-${algorithm}${ext}`);
      const r = await runCli(['--json', 'tomo', 'recon', tilt, '--angles', ANGLES, '--algorithm', algorithm, ...extra, '-o', out, '--truth', truthFile]);
      expect(r.code, show(r)).toBe(0);
      // --json: stdout is nothing but JSON objects, one per line; stderr carries nothing of ours
      expect(r.stderr, show(r)).toBe('');
      const lines = jsonLines(r.stdout);
      const progress = lines.slice(0, -1);
      const summary = lines[lines.length - 1]!;
      expect(progress.length).toBeGreaterThan(0);
      for (const p of progress) {
        expect(p.type).toBe('progress');
        expect(typeof p.stage).toBe('string');
        expect(typeof p.seconds).toBe('number');
      }
      expect(progress.map((p) => p.stage)).toContain('read');
      expect(progress.map((p) => p.stage)).toContain(algorithm);
      expect(summary.type).toBe('summary');
      expect(summary.output).toBe(out);
      expect(summary.algorithm).toBe(algorithm);
      expect(summary.shape).toEqual([ROWS, SIZE, SIZE]);
      expect(summary.center).toBe(SIZE / 2);
      expect(summary.centerMethod).toBe('default');
      const timings = summary.timings as Record<string, number>;
      for (const stage of ['read', 'reconstruct', 'write', 'total']) {
        expect(timings[stage], `timings.${stage}`).toBeGreaterThanOrEqual(0);
      }
      expect(timings.total).toBeGreaterThanOrEqual(timings.reconstruct!);
      expect(typeof summary.device).toBe('string');
      expect((summary.device as string).length).toBeGreaterThan(0);
      expect(summary.backend).toMatch(/^\w+\/(core|compatibility)$/);
      const residuals = summary.residuals as number[];
      if (algorithm === 'fbp') expect(residuals).toEqual([]);
      else {
        const iters = Number(extra[extra.indexOf('--iterations') + 1]);
        expect(residuals.length).toBe(iters);
        expect(residuals[residuals.length - 1]!).toBeLessThan(residuals[0]!);
        // one progress line per iteration, the last one 'iterations/iterations'
        const its = progress.filter((p) => p.stage === algorithm);
        expect(its.length).toBe(iters);
        expect(its[its.length - 1]).toMatchObject({ iteration: iters, of: iters });
      }

      const vol = await readVolume(out);
      expect(vol.shape).toEqual([ROWS, SIZE, SIZE]);
      expect(allFinite(vol.data)).toBe(true);
      const truth = await readVolume(truthFile);
      const err = relativeError(vol, truth);
      expect(summary.errorVsTruth as number).toBeCloseTo(err, 4);
      expect(err, `${algorithm} error vs truth`).toBeLessThan(bound);
      // the writer renamed its temporary file: nothing hidden is left in the folder
      expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
    });
  }

  it('without --json: progress lines on stderr, the summary (with the error figure) on stdout', async () => {
    const out = join(dir, 'human.tif');
    const preview = join(dir, 'human.png');
    const r = await runCli(['tomo', 'recon', tilt, '--angles', ANGLES, '--algorithm', 'sirt', '--iterations', '10', '-o', out, '--preview', preview, '--truth', truthFile]);
    expect(r.code, show(r)).toBe(0);
    // stderr (not a TTY here): plain progress lines, no carriage returns, no JSON
    expect(r.stderr).not.toContain('\r');
    expect(r.stderr).toMatch(/^read\s+\d+\.\d s$/m);
    expect(r.stderr).toMatch(/^sirt\s+\[#{30}\] 10\/10 residual \d\.\d{3}e[+-]\d+ \d+\.\d s$/m);
    const bars = r.stderr.split('\n').filter((l) => l.startsWith('sirt'));
    expect(bars.length).toBeGreaterThanOrEqual(2); // not only the last one
    expect(bars.length).toBeLessThanOrEqual(11); // thinned: about every 10th, not every event
    expect(r.stderr.trim().startsWith('{')).toBe(false);
    // stdout: the summary only
    expect(r.stdout).not.toMatch(/\[#/);
    expect(r.stdout).toMatch(/^wrote .*human\.tif \(12 x 48 x 48 float32\) and .*human\.png$/m);
    expect(r.stdout).toMatch(/SIRT of .*tilt\.tif: 30 angles, centre 24\.00 \(default\)/);
    const m = /relative L2 error against .*truth\.tif: (\d+\.\d{4})$/m.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(0.7);
    expect(r.stdout).toMatch(/^ {2}seconds: read \d+\.\d\d, reconstruct \d+\.\d\d, write \d+\.\d\d, total \d+\.\d\d$/m);
    expect(r.stdout).toMatch(/^ {2}device: .+ \((vulkan|opengles|metal|d3d12|d3d11|opengl), (core|compatibility)\)$/m);
    expect(existsSync(preview)).toBe(true);
  });

  it('--quiet: no progress at all, the summary still on stdout', async () => {
    const out = join(dir, 'quiet.npy');
    const r = await runCli(['--quiet', 'tomo', 'recon', tilt, '--angles', ANGLES, '--algorithm', 'fbp', '-o', out]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^wrote .*quiet\.npy/);
  });
});
