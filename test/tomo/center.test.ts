import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { loadProjections } from '../../src/tomo/input.js';
import { readAngles } from '../../src/io/angles.js';
import { preprocessProjections } from '../../src/tomo/preprocess.js';
import { findCenter, centerOfMassCenter, opposedCenter, rowProfiles, selectRows } from '../../src/tomo/center.js';
import { InputError } from '../../src/core/errors.js';
import type { Volume } from '../../src/core/array.js';
import { testContext, freshSeed, rng } from '../helpers/gpu.js';
import { analyticProjections, sheppLogan2d, uniformAngles, type Ellipse } from './analytic.js';
import { DATA } from '../io/tmp.js';

const I13 = join(DATA, 'tomo/i13-24737');
const TOOTH = join(DATA, 'tomo/tooth-dxchange/tooth.h5');

/** Shepp-Logan slices (different per row) off the detector middle, with a little noise. */
function synthetic(cols: number, rows: number, center: number, angles: Float64Array, seed: number): Volume {
  const perRow: Ellipse[][] = [];
  for (let r = 0; r < rows; r++) {
    // shift the phantom off the axis so the axis position matters everywhere
    perRow.push(sheppLogan2d(cols * 0.36, 0.02 * (1 + 0.2 * r)).map((e) => ({ ...e, x0: e.x0 + 6, y0: e.y0 - 4 })));
  }
  const data = analyticProjections(perRow, angles, cols, center, 2);
  const r = rng(seed);
  for (let i = 0; i < data.length; i++) data[i] += 0.01 * (r() - 0.5);
  return { data, shape: [angles.length, rows, cols] };
}

describe('rotation-centre finding', () => {
  it('finds a known off-middle centre in analytic sinograms (no 180° pairs: centre-of-mass start; and over 360°: opposed pairs)', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const cols = 128;
    const center = 69.3; // 5.3 px right of the middle
    const a180 = uniformAngles(0, 180, 120); // 1.5° steps, no pair 180° apart
    const p1 = synthetic(cols, 2, center, a180, seed);
    const r1 = await findCenter(ctx, p1, a180);
    expect(r1.method, `seed ${seed}`).toMatch(/^centre-of-mass fit \+ GPU FBP entropy/);
    expect(Math.abs(r1.coarse! - center), `coarse ${r1.coarse}`).toBeLessThan(0.5);
    expect(Math.abs(r1.center - center), `found ${r1.center}, seed ${seed}`).toBeLessThan(0.25);

    const a360 = uniformAngles(0, 360, 240);
    const p2 = synthetic(cols, 2, center, a360, seed + 1);
    const r2 = await findCenter(ctx, p2, a360);
    expect(r2.method).toMatch(/^opposed projections \(120 pairs\) \+ GPU FBP entropy/);
    expect(Math.abs(r2.coarse! - center), `coarse ${r2.coarse}`).toBeLessThan(0.3);
    expect(Math.abs(r2.center - center), `found ${r2.center}, seed ${seed}`).toBeLessThan(0.25);
    // the scores are a curve with its minimum at the centre found
    const best = r2.scores!.reduce((m, s) => (s.score < m.score ? s : m));
    expect(Math.abs(best.center - r2.center)).toBeLessThanOrEqual(0.1);

    // an explicit search range is kept (not extended): a range far off reports its best end
    const r3 = await findCenter(ctx, p1, a180, { searchRange: [50, 55] });
    expect(r3.center).toBeGreaterThan(54);
  });

  it('host-side estimates: centre of mass and opposed projections on exact data', () => {
    const cols = 96;
    const center = 45.7;
    const angles = uniformAngles(0, 360, 72);
    const p = synthetic(cols, 1, center, angles, 1);
    const prof = rowProfiles(p, [0]);
    expect(Math.abs(centerOfMassCenter(prof, angles, cols)!.center - center)).toBeLessThan(0.1);
    const opp = opposedCenter(prof, angles, cols, 0.1)!;
    expect(opp.pairs).toBe(36);
    expect(Math.abs(opp.center - center)).toBeLessThan(0.1);
    expect(opposedCenter(prof, uniformAngles(0, 180, 72), cols, 0.1)).toBeUndefined();
    expect(selectRows({ data: new Float32Array(2 * 2 * 4), shape: [2, 2, 4] })).toEqual([0, 1]);
  });

  it('finds the centre of the real Diamond I13 set near column 86 of 160', async () => {
    const ctx = await testContext();
    const inp = await loadProjections([join(I13, 'projections')], { dark: join(I13, 'dark_00001.tiff'), flat: join(I13, 'flat_00001.tiff') });
    const angles = await readAngles(join(I13, 'projection_angles_deg.txt'), inp.projections.shape[0]);
    const { volume } = await preprocessProjections(ctx, inp.projections, { flat: inp.flat, dark: inp.dark });
    const t0 = performance.now();
    const r = await findCenter(ctx, volume, angles);
    console.log(`I13: centre ${r.center} (${r.method}; coarse ${r.coarse?.toFixed(2)}; rows ${r.rows}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(Math.abs(r.center - 86)).toBeLessThanOrEqual(1);
    expect(r.method).toMatch(/^opposed projections \(1 pair\)/);

    // without the last projection no pair is 180° apart: the (truncation-biased) centre-of-mass
    // start is further off, and the FBP search must still land on the same centre
    const [A, R, C] = volume.shape;
    const fewer = { data: volume.data.subarray(0, (A - 1) * R * C), shape: [A - 1, R, C] as [number, number, number] };
    const r2 = await findCenter(ctx, fewer, angles.subarray(0, A - 1));
    console.log(`I13 without the last projection: centre ${r2.center} (${r2.method}; coarse ${r2.coarse?.toFixed(2)})`);
    expect(r2.method).toMatch(/^centre-of-mass fit/);
    expect(Math.abs(r2.center - r.center)).toBeLessThanOrEqual(0.3);
  });

  it('finds the centre of the real tooth DXchange set near column 295.6 of 640', async () => {
    const ctx = await testContext();
    const inp = await loadProjections([TOOTH]);
    const { volume } = await preprocessProjections(ctx, inp.projections, { flat: inp.flat, dark: inp.dark });
    const t0 = performance.now();
    const r = await findCenter(ctx, volume, inp.anglesDeg!);
    console.log(`tooth: centre ${r.center} (${r.method}; coarse ${r.coarse?.toFixed(2)}; rows ${r.rows}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(Math.abs(r.center - 295.6)).toBeLessThanOrEqual(1);
  });

  it('rejects bad input with InputErrors', async () => {
    const ctx = await testContext();
    const p: Volume = { data: new Float32Array(4 * 2 * 16), shape: [4, 2, 16] };
    await expect(findCenter(ctx, p, [0, 1, 2])).rejects.toThrow(/3 angles but 4 projections/);
    await expect(findCenter(ctx, p, [0, 1, 2, 3], { rows: [2] })).rejects.toThrow(/row 2 is outside the 2 detector rows/);
    await expect(findCenter(ctx, p, [0, 1, 2, 3], { searchRange: [9, 3] })).rejects.toThrow(InputError);
    p.data[20] = NaN;
    await expect(findCenter(ctx, p, [0, 1, 2, 3])).rejects.toThrow(/contain NaN at \[0, 1, 4\]/);
  });
});
