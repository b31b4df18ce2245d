/**
 * `tomo recon --devices N` through the built CLI: the rows are split across N devices (here N
 * devices on the software adapter, which is how CI exercises the multi-device code) and the
 * volume written is byte-identical to the one-device volume.
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

  it('rejects a bad device count with exit 2 and names the flag', async () => {
    const r = await runCli(['tomo', 'recon', tilt, '--angles', '-60:60:25', '--devices', 'two', '-o', join(dir, 'x.npy')]);
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toMatch(/--devices/);
  });
});
