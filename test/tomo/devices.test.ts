/**
 * Tomography on several devices: the same volume on 1, 2 and 3 devices (bit-identical: slices are
 * independent and each slice's arithmetic does not depend on where it runs), streaming in waves
 * when the volume exceeds the device memory budget, and a device lost mid-run.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { freshSeed, randomArray } from '../helpers/gpu.js';
import { acquireDevices } from '../../src/gpu/pool.js';
import type { GpuContext } from '../../src/gpu/context.js';
import { makeGeometry } from '../../src/tomo/geometry.js';
import { reconstructIterative } from '../../src/tomo/iterative.js';
import { reconstructTomo } from '../../src/tomo/recon.js';

const opened: GpuContext[] = [];
afterAll(() => {
  for (const c of opened) c.destroy();
});

async function pool(n: number): Promise<GpuContext[]> {
  const p = await acquireDevices({ devices: n });
  opened.push(...p);
  return p;
}

describe('tomography across devices', () => {
  const rows = 11;
  const cols = 24;
  const angles = Array.from({ length: 15 }, (_, i) => -70 + 10 * i);
  const g = makeGeometry(angles, rows, cols, { center: 12.3 });
  const shape: [number, number, number] = [angles.length, rows, cols];

  it('ART, SART and SIRT give the same volume on 1, 2 and 3 devices', async () => {
    const seed = freshSeed();
    const b = randomArray(angles.length * rows * cols, seed, 0, 1);
    const [one, two, three] = [await pool(1), await pool(2), await pool(3)];
    for (const alg of ['art', 'sart', 'sirt'] as const) {
      const r1 = await reconstructIterative(one, { data: b, shape }, g, alg, { iterations: 3, nonNegative: true });
      const r2 = await reconstructIterative(two, { data: b, shape }, g, alg, { iterations: 3, nonNegative: true });
      const r3 = await reconstructIterative(three, { data: b, shape }, g, alg, { iterations: 3, nonNegative: true });
      expect(r2.devices).toBe(2);
      expect(r3.devices).toBe(3);
      expect(Array.from(r2.volume.data), `${alg}, seed ${seed}`).toEqual(Array.from(r1.volume.data));
      expect(Array.from(r3.volume.data), `${alg}, seed ${seed}`).toEqual(Array.from(r1.volume.data));
      r3.residuals.forEach((r, i) => expect(Math.abs(r - r1.residuals[i]) / r1.residuals[i]).toBeLessThan(1e-5));
    }
  });

  it('FBP gives the same volume on 1 and 3 devices', async () => {
    const seed = freshSeed();
    const b = randomArray(angles.length * rows * cols, seed, 0, 1);
    const r1 = await reconstructTomo(await pool(1), { data: b, shape }, { algorithm: 'fbp', anglesDeg: angles, center: 12.3 });
    const r3 = await reconstructTomo(await pool(3), { data: b, shape }, { algorithm: 'fbp', anglesDeg: angles, center: 12.3 });
    expect(Array.from(r3.volume.data)).toEqual(Array.from(r1.volume.data));
  });

  it('a volume beyond the device memory budget streams through in waves with the same result', async () => {
    const seed = freshSeed();
    const b = randomArray(angles.length * rows * cols, seed, 0, 1);
    const one = await pool(1);
    const resident = await reconstructIterative(one, { data: b, shape }, g, 'sirt', { iterations: 4 });
    const perSlice = (angles.length * cols + cols * cols + angles.length * cols) * 4;
    const events: Array<{ iteration?: number; residual?: number; wave?: number }> = [];
    const streamed = await reconstructIterative(one, { data: b, shape }, g, 'sirt', {
      iterations: 4,
      deviceMemoryBytes: 3 * perSlice,
      onProgress: (e) => events.push({ iteration: e.iteration, residual: e.residual, wave: e.metrics?.wave }),
    });
    // every wave reports its iterations (without a residual), then the complete residuals follow
    expect(events.filter((e) => e.wave !== undefined).length).toBe(4 * streamed.waves);
    const final = events.filter((e) => e.residual !== undefined);
    expect(final.map((e) => e.iteration)).toEqual([1, 2, 3, 4]);
    final.forEach((e, i) => expect(e.residual).toBeCloseTo(streamed.residuals[i], 12));
    expect(resident.waves).toBe(1);
    expect(streamed.waves).toBeGreaterThanOrEqual(4);
    expect(Array.from(streamed.volume.data)).toEqual(Array.from(resident.volume.data));
    streamed.residuals.forEach((r, i) => expect(Math.abs(r - resident.residuals[i]) / resident.residuals[i]).toBeLessThan(1e-5));
  });

  it('a device lost mid-run has its slices redone on the remaining device: same volume', async () => {
    const seed = freshSeed();
    const b = randomArray(angles.length * rows * cols, seed, 0, 1);
    const reference = await reconstructIterative(await pool(1), { data: b, shape }, g, 'art', { iterations: 4 });
    const two = await pool(2);
    let killed = false;
    const r = await reconstructIterative(two, { data: b, shape }, g, 'art', {
      iterations: 4,
      onProgress: (e) => {
        if (e.iteration === 1 && !killed) {
          killed = true;
          two[1].device.destroy();
        }
      },
    });
    expect(killed).toBe(true);
    expect(Array.from(r.volume.data)).toEqual(Array.from(reference.volume.data));
  });

  it('with every device lost, a clear GPU error (not a silently wrong volume)', async () => {
    const b = randomArray(angles.length * rows * cols, 7, 0, 1);
    const one = await pool(1);
    await expect(
      reconstructIterative(one, { data: b, shape }, g, 'art', {
        iterations: 3,
        onProgress: () => one[0].device.destroy(),
      }),
    ).rejects.toThrow(/device|lost|destroyed/i);
  });
});
