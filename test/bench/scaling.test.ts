/**
 * The device-scaling benchmark runs end to end at a tiny size: every tomography volume identical,
 * every ptychography run within rounding of one device, with bytes moved by the reduction.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runScaling } from '../../bench/scaling.js';

describe('bench/scaling', () => {
  it('times 1, 2 and 3 devices, writes JSON, and the volumes are bit-identical', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'webrecon-scaling-')), 'scaling.json');
    const lines: string[] = [];
    const code = await runScaling(
      ['--size', '16', '--devices', '1,2,3', '--algorithms', 'art,sirt', '--iterations', '2', '--ptycho-frames', '48', '--ptycho-size', '32', '--ptycho-iterations', '1', '--out', out],
      (s) => lines.push(s),
    );
    expect(code).toBe(0);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.rows).toHaveLength(6);
    for (const r of json.rows) {
      expect(r.identical).toBe(true);
      expect(Number.isFinite(r.seconds) && r.seconds > 0).toBe(true);
      expect(r.bytesMoved).toBeGreaterThan(0);
    }
    expect(lines.join('\n')).toMatch(/bit-identical/);
    expect(json.ptycho.rows.map((r: { devices: number }) => r.devices)).toEqual([1, 2, 3]);
    for (const r of json.ptycho.rows) {
      expect(Number.isFinite(r.secondsPerIteration) && r.secondsPerIteration > 0).toBe(true);
      expect(r.objectDiff).toBeLessThan(1e-5);
      if (r.devices > 1) expect(r.reductionBytesPerIteration).toBeGreaterThan(0);
    }
  });
});
