/**
 * `webrecon ptycho simulate` and `webrecon ptycho recon` as a user runs them (the built CLI):
 * files written (a folder, or one CXI file), --json lines, progress with the Fourier error, the
 * errors against a truth, exit code 2 on bad input.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonLines, runCli, show, tempDir } from '../cli/cli.js';
import { openHdf5 } from '../../src/io/hdf5.js';

const dir = tempDir('webrecon-ptycho-cli-');

describe('webrecon ptycho', () => {
  it('simulate → recon (dm, --json) writes the dataset, the truth and every output', async () => {
    const data = join(dir, 'sim'), truth = join(dir, 'truth'), out = join(dir, 'out');
    const s = await runCli(['ptycho', 'simulate', '--frame', '32', '--positions', '30', '--photons', '1e6', '-o', data, '--truth', truth]);
    expect(s.code, show(s)).toBe(0);
    for (const f of ['data.npy', 'scan.npy', 'probe.npy', 'mask.npy']) expect(existsSync(join(data, f)), f).toBe(true);
    for (const f of ['object.npy', 'probe.npy', 'truth.json']) expect(existsSync(join(truth, f)), f).toBe(true);
    const r = await runCli(['--json', 'ptycho', 'recon', data, '--algorithm', 'dm', '--iterations', '6', '--probe-update-start', '2', '-o', out]);
    expect(r.code, show(r)).toBe(0);
    const lines = jsonLines(r.stdout);
    const progress = lines.filter((l) => l.type === 'progress');
    expect(progress).toHaveLength(6);
    expect(progress.every((p) => typeof p.residual === 'number' && Number.isFinite(p.residual))).toBe(true);
    const summary = lines.find((l) => l.type === 'summary')!;
    expect(summary.algorithm).toBe('dm');
    for (const f of ['object.npy', 'probe.npy', 'object_phase.tif', 'object_amplitude.tif', 'object_phase.png', 'errors.png', 'metrics.json']) expect(existsSync(join(out, f)), f).toBe(true);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.fourierError).toHaveLength(6);
  }, 240_000);

  it('recon prints one progress line per iteration with the Fourier error (epie)', async () => {
    const data = join(dir, 'sim2');
    expect((await runCli(['ptycho', 'simulate', '--frame', '32', '--positions', '20', '-o', data])).code).toBe(0);
    const r = await runCli(['ptycho', 'recon', data, '-a', 'epie', '-n', '3', '-o', join(dir, 'out2')]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stderr.match(/Fourier error \d/g)).toHaveLength(3);
  }, 240_000);

  it('bad input: exit code 2 and a message naming the file', async () => {
    const missing = join(dir, 'nothing-here');
    const r = await runCli(['ptycho', 'recon', missing, '-o', join(dir, 'x')]);
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toContain(missing);
    const a = await runCli(['ptycho', 'recon', join(dir, 'sim2'), '--algorithm', 'nope', '-o', join(dir, 'x')]);
    expect(a.code, show(a)).toBe(2);
    expect(a.stderr).toContain('--algorithm');
    const t = await runCli(['ptycho', 'recon', join(dir, 'sim2'), '--truth', join(dir, 'no-truth-here'), '-o', join(dir, 'x')]);
    expect(t.code, show(t)).toBe(2);
    expect(t.stderr).toContain('no-truth-here');
  }, 240_000);

  it('recon -o FILE.cxi --truth: one CXI file (object, probe, errors per iteration) with the object error against the truth', async () => {
    const data = join(dir, 'sim3'), truth = join(dir, 'truth3'), cxi = join(dir, 'res', 'result.cxi');
    expect((await runCli(['ptycho', 'simulate', '--frame', '32', '--positions', '25', '--photons', '0', '-o', data, '--truth', truth])).code).toBe(0);
    const r = await runCli(['--json', 'ptycho', 'recon', data, '-a', 'epie', '-n', '5', '--probe-update-start', '2', '--truth', truth, '-o', cxi]);
    expect(r.code, show(r)).toBe(0);
    const summary = jsonLines(r.stdout).find((l) => l.type === 'summary')!;
    expect(summary.files).toEqual([cxi]);
    const truthErr = summary.truth as { objectError: number; objectShift: number[] };
    expect(truthErr.objectError).toBeGreaterThan(0);
    expect(truthErr.objectError).toBeLessThan(1);
    const f = await openHdf5(cxi);
    try {
      const obj = f.read('entry_1/image_1/data');
      expect(obj.dtype).toBe('<c8');
      expect(obj.shape).toEqual(summary.objectShape);
      expect(f.read('entry_1/image_2/data').shape).toEqual([32, 32]);
      expect(f.readString('entry_1/image_1/process_1/algorithm')).toBe('epie');
      expect(f.read('entry_1/image_1/process_1/fourier_error').shape).toEqual([5]);
      expect(Array.from(f.read('entry_1/image_1/first_view_offset').data)).toEqual(summary.firstViewOffset);
      const m = JSON.parse(f.readString('entry_1/image_1/process_1/metrics_json'));
      expect(m.truth.objectError).toBe(truthErr.objectError);
    } finally {
      f.close();
    }
    // folder output with a truth: metrics.json carries the same measures
    const out = join(dir, 'out3');
    const d = await runCli(['ptycho', 'recon', data, '-a', 'epie', '-n', '5', '--probe-update-start', '2', '--truth', truth, '-o', out]);
    expect(d.code, show(d)).toBe(0);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.truth.objectError).toBe(truthErr.objectError);
    expect(typeof metrics.truth.probeError).toBe('number');
  }, 240_000);
});
