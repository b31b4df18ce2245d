/**
 * `webrecon demo` (what `npm run demo` runs) at a small size: it simulates, reconstructs with
 * ART, writes volume.tif, preview.png, truth.tif and tilt.tif, and prints the error against the
 * truth.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readVolume } from '../../src/io/volume.js';
import { relativeError } from '../../src/tomo/metrics.js';
import { allFinite, ensureBuilt, jsonLines, runCli, show, tempDir } from '../cli/cli.js';

const dir = tempDir('webrecon-demo-');

describe('webrecon demo', () => {
  beforeAll(() => ensureBuilt());

  it('--size 48 --angles 20 writes the volume, a PNG preview, the truth and the tilt series, and prints the error (< 0.8)', async () => {
    const out = join(dir, 'demo');
    const r = await runCli(['demo', '--size', '48', '--angles', '20', '-o', out]);
    expect(r.code, show(r)).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['preview.png', 'tilt.tif', 'truth.tif', 'volume.tif']);
    expect(r.stdout).toContain(join(out, 'volume.tif'));
    expect(r.stdout).toContain(join(out, 'preview.png'));
    const m = /relative L2 error against the truth: (\d+\.\d+)/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const printed = Number(m![1]);
    expect(printed).toBeLessThan(0.8);
    // progress on stderr, not stdout
    expect(r.stderr).toMatch(/^art\s+\[#{30}\] 2\/2 residual/m);
    expect(r.stdout).not.toMatch(/\[#/);

    const vol = await readVolume(join(out, 'volume.tif'));
    const truth = await readVolume(join(out, 'truth.tif'));
    const tilt = await readVolume(join(out, 'tilt.tif'));
    expect(vol.shape).toEqual([48, 48, 48]);
    expect(truth.shape).toEqual([48, 48, 48]);
    expect(tilt.shape).toEqual([20, 48, 48]);
    expect(allFinite(vol.data)).toBe(true);
    // the printed figure is the error of the files written
    expect(relativeError(vol, truth)).toBeCloseTo(printed, 3);
    const png = readFileSync(join(out, 'preview.png'));
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBeGreaterThanOrEqual(48 * 2); // width: the slices side by side
  });

  it('--json: one summary line with the files, the error and timings', async () => {
    const out = join(dir, 'demo-json');
    const r = await runCli(['--json', 'demo', '--size', '32', '--angles', '16', '--algorithm', 'sirt', '--iterations', '10', '-o', out]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stderr).toBe('');
    const lines = jsonLines(r.stdout);
    const s = lines[lines.length - 1]!;
    expect(s.type).toBe('summary');
    expect(s.algorithm).toBe('sirt');
    expect(s.shape).toEqual([32, 32, 32]);
    expect(s.errorVsTruth as number).toBeLessThan(0.8);
    expect(Object.keys(s.files as object).sort()).toEqual(['preview', 'tilt', 'truth', 'volume']);
    expect(Object.keys(s.timings as object)).toEqual(expect.arrayContaining(['simulate', 'reconstruct', 'write', 'total']));
    expect(lines.slice(0, -1).every((l) => l.type === 'progress')).toBe(true);
  });
});
