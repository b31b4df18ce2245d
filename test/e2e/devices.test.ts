/**
 * `tomo recon --devices N` through the built CLI: the rows are split across N devices (here N
 * devices on the software adapter, which is how CI exercises the multi-device code) and the
 * volume written is byte-identical to the one-device volume; the same with devices in worker
 * processes (`--process-per-device`, `--device-env`).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, jsonLines, runCli, show, tempDir } from '../cli/cli.js';

const dir = tempDir('webrecon-devices-');
const tilt = join(dir, 'tilt.tif');

describe('tomo recon --devices', () => {
  beforeAll(async () => {
    ensureBuilt();
    const r = await runCli(['tomo', 'simulate', '--size', '40', '--rows', '9', '--angles', '-60:60:25', '-o', tilt]);
    expect(r.code, show(r)).toBe(0);
  });

  for (const alg of ['art', 'sirt', 'fbp']) {
    it(`${alg}: 1 and 3 devices write the same bytes`, async () => {
      const outs: Buffer[] = [];
      for (const d of ['1', '3']) {
        const file = join(dir, `${alg}-${d}.npy`);
        const r = await runCli(['--json', 'tomo', 'recon', tilt, '--angles', '-60:60:25', '--algorithm', alg, '--iterations', '3', '--devices', d, '-o', file]);
        expect(r.code, show(r)).toBe(0);
        const summary = jsonLines(r.stdout).find((l) => l.type === 'summary')!;
        expect(summary.devices).toBe(Number(d));
        outs.push(readFileSync(file));
      }
      expect(outs[1].equals(outs[0])).toBe(true);
    });
  }

  for (const alg of ['art', 'fbp']) {
    it(`${alg}: worker processes (--process-per-device, --device-env, mixed with an in-process device) write the 1-device bytes`, async () => {
      const run = async (name: string, flags: string[]) => {
        const file = join(dir, `${alg}-${name}.npy`);
        const r = await runCli(['--json', 'tomo', 'recon', tilt, '--angles', '-60:60:25', '--algorithm', alg, '--iterations', '3', ...flags, '-o', file]);
        expect(r.code, show(r)).toBe(0);
        expect(r.stdout, 'worker output stays off stdout').not.toMatch(/Warning:/);
        return { summary: jsonLines(r.stdout).find((l) => l.type === 'summary')!, bytes: readFileSync(file) };
      };
      const one = await run('one', ['--devices', '1']);
      const perDevice = await run('ppd', ['--devices', '2', '--process-per-device']);
      const mixed = await run('mixed', ['--devices', '1', '--device-env', 'WEBRECON_TEST_GPU=a']);
      const envOnly = await run('env', ['--device-env', 'WEBRECON_TEST_GPU=a', '--device-env', 'WEBRECON_TEST_GPU=b']);
      expect([perDevice, mixed, envOnly].map((r) => [r.summary.devices, r.summary.workerProcesses])).toEqual([[2, 2], [2, 1], [2, 2]]);
      expect(one.summary.workerProcesses).toBe(0);
      for (const r of [perDevice, mixed, envOnly]) expect(r.bytes.equals(one.bytes)).toBe(true);
    });
  }

  it('a bad --device-env is exit 2 naming the flag; a worker that cannot open its adapter is exit 3 naming the worker', async () => {
    const bad = await runCli(['tomo', 'recon', tilt, '--angles', '-60:60:25', '--device-env', 'no-equals-sign', '-o', join(dir, 'x.npy')]);
    expect(bad.code, show(bad)).toBe(2);
    expect(bad.stderr).toMatch(/--device-env/);
    const none = await runCli(['tomo', 'recon', tilt, '--angles', '-60:60:25', '--process-per-device', '--adapters', 'no-such-adapter-xyz', '-o', join(dir, 'y.npy')]);
    expect(none.code, show(none)).toBe(3);
    expect(none.stderr).toMatch(/GPU worker 1 could not open a GPU device: .*no-such-adapter-xyz/);
  });

  it('rejects a bad device count with exit 2 and names the flag', async () => {
    const r = await runCli(['tomo', 'recon', tilt, '--angles', '-60:60:25', '--devices', 'two', '-o', join(dir, 'x.npy')]);
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toMatch(/--devices/);
  });
});
