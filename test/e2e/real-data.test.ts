/**
 * Real measured data through the built CLI with `--center auto` (../shared/data, see its
 * README): the Diamond I13 TIFF folder with separate dark/flat files and an angle file, and the
 * APS tooth DXchange HDF5 (angles, flats and darks from the file). Checks the centre found, a
 * finite volume, and — on the real image — that the reconstruction at the found centre is
 * sharper than at a centre 6 px off.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readVolume } from '../../src/io/volume.js';
import { DATA, allFinite, ensureBuilt, imageFigures, jsonLines, runCli, show, tempDir } from '../cli/cli.js';

const dir = tempDir('webrecon-real-');
const I13 = join(DATA, 'tomo', 'i13-24737');
const TOOTH = join(DATA, 'tomo', 'tooth-dxchange', 'tooth.h5');
const haveData = existsSync(join(I13, 'projections')) && existsSync(TOOTH);

const i13Args = ['tomo', 'recon', join(I13, 'projections'), '--dark', join(I13, 'dark_00001.tiff'), '--flat', join(I13, 'flat_00001.tiff'), '--angles', join(I13, 'projection_angles_deg.txt'), '--rows', '60:64'];

async function summaryOf(args: string[]): Promise<Record<string, unknown>> {
  const r = await runCli(['--json', ...args]);
  expect(r.code, show(r)).toBe(0);
  expect(r.stderr, show(r)).toBe('');
  const lines = jsonLines(r.stdout);
  const s = lines[lines.length - 1]!;
  expect(s.type).toBe('summary');
  return s;
}

/** The found centre must give a sharper image than a centre `off` px away (both sides). */
async function expectSharperAtFoundCenter(found: Float32Array, shape: number[], offVolumes: Array<{ data: Float32Array; shape: number[] }>, label: string): Promise<void> {
  const good = imageFigures(found, shape);
  for (const off of offVolumes) {
    const bad = imageFigures(off.data, off.shape);
    console.log(`${label}: contrast ${good.contrast.toFixed(3)} vs ${bad.contrast.toFixed(3)} off-centre; negativity ${good.negativity.toFixed(4)} vs ${bad.negativity.toFixed(4)}`);
    expect(good.contrast, `${label}: contrast at the found centre vs 6 px off`).toBeGreaterThan(bad.contrast * 1.03);
    expect(good.negativity, `${label}: negative share at the found centre vs 6 px off`).toBeLessThan(bad.negativity);
  }
}

describe.skipIf(!haveData)('real data through the CLI with --center auto', () => {
  beforeAll(() => ensureBuilt());

  it('Diamond I13 (TIFF folder, dark/flat files, angle file, rows 60:64): FBP finds the centre near 86 and is sharper there', async () => {
    const out = join(dir, 'i13-fbp.tif');
    const s = await summaryOf([...i13Args, '--center', 'auto', '--algorithm', 'fbp', '-o', out]);
    const center = s.center as number;
    console.log(`I13 via the CLI: centre ${center} (${s.centerMethod})`);
    expect(Math.abs(center - 86), `centre ${center}`).toBeLessThanOrEqual(1);
    expect(s.shape).toEqual([4, 160, 160]);
    expect((s.timings as Record<string, number>).center).toBeGreaterThan(0);
    const vol = await readVolume(out);
    expect(vol.shape).toEqual([4, 160, 160]);
    expect(allFinite(vol.data)).toBe(true);
    // 6 px off on either side, same rows
    const offs = [];
    for (const c of [center + 6, center - 6]) {
      const o = join(dir, `i13-fbp-${c}.npy`);
      await summaryOf([...i13Args, '--center', String(c), '--algorithm', 'fbp', '-o', o]);
      offs.push(await readVolume(o));
    }
    await expectSharperAtFoundCenter(vol.data, vol.shape, offs, 'I13 FBP');
  });

  it('Diamond I13: SIRT (5 iterations) with the auto centre gives a finite volume and a falling residual', async () => {
    const out = join(dir, 'i13-sirt.vti');
    const s = await summaryOf([...i13Args, '--center', 'auto', '--algorithm', 'sirt', '--iterations', '5', '-o', out]);
    expect(Math.abs((s.center as number) - 86)).toBeLessThanOrEqual(1);
    const res = s.residuals as number[];
    expect(res.length).toBe(5);
    expect(res[4]!).toBeLessThan(res[0]!);
    const vol = await readVolume(out);
    expect(vol.shape).toEqual([4, 160, 160]);
    expect(allFinite(vol.data)).toBe(true);
    expect(Math.max(...vol.data)).toBeGreaterThan(0);
  });

  it('tooth DXchange HDF5 (angles from the file): FBP finds the centre in 295.6..296.5 and is sharper there', async () => {
    const out = join(dir, 'tooth.npy');
    const s = await summaryOf(['tomo', 'recon', TOOTH, '--center', 'auto', '--algorithm', 'fbp', '-o', out]);
    const center = s.center as number;
    console.log(`tooth via the CLI: centre ${center} (${s.centerMethod})`);
    expect(center).toBeGreaterThanOrEqual(295.6);
    expect(center).toBeLessThanOrEqual(296.5);
    const vol = await readVolume(out);
    expect(vol.shape).toEqual([2, 640, 640]);
    expect(allFinite(vol.data)).toBe(true);
    const o = join(dir, 'tooth-off.npy');
    await summaryOf(['tomo', 'recon', TOOTH, '--center', String(center + 6), '--algorithm', 'fbp', '-o', o]);
    await expectSharperAtFoundCenter(vol.data, vol.shape, [await readVolume(o)], 'tooth FBP');
  });
});
