/**
 * `webrecon ptycho simulate` and `webrecon ptycho recon` as a user runs them (the built CLI):
 * files written, --json lines, progress with the Fourier error, exit code 2 on bad input.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonLines, runCli, show, tempDir } from '../cli/cli.js';

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
    const c = await runCli(['ptycho', 'recon', join(dir, 'sim2'), '-o', join(dir, 'result.cxi')]);
    expect(c.code, show(c)).toBe(2);
    expect(c.stderr).toContain('result.cxi');
    expect(existsSync(join(dir, 'result.cxi'))).toBe(false);
  }, 240_000);
});
