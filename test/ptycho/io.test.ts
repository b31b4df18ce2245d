/**
 * Ptychography input: the real Siemens-star npy folder, the real PETRA III P25 CXI file
 * (datasets, mask, metadata, translations), TIFF + CSV, crop, and every bad-input case as an
 * InputError naming the file.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { loadPtycho, loadCxi, cropDataset } from '../../src/ptycho/load.js';
import { validateDataset, type PtychoDataset } from '../../src/ptycho/dataset.js';
import { InputError } from '../../src/core/errors.js';
import { writeNpy } from '../../src/io/npy.js';
import { writeTiff } from '../../src/io/tiff.js';
import { withHdf5 } from '../../src/io/hdf5.js';

const DATA = new URL('../../../shared/data/ptycho/', import.meta.url).pathname;
const STAR = join(DATA, 'siemens-star-tike');
const CXI = join(DATA, 'petra-p25-nearfield/PETRAIII_P25_Near_Field_Ptycho.cxi');
const dir = mkdtempSync(join(tmpdir(), 'webrecon-ptycho-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Expects `p` to reject with an InputError whose message names `file` and matches `re`. */
async function expectInputError(p: Promise<unknown> | (() => unknown), file: string, re: RegExp): Promise<void> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InputError);
  expect((err as Error).message).toContain(file);
  expect((err as Error).message).toMatch(re);
}

async function npyFolder(name: string, frames: Float32Array, shape: [number, number, number], positions: Float32Array): Promise<string> {
  const d = join(dir, name);
  await writeNpy(join(d, 'data.npy'), { data: frames, shape });
  await writeNpy(join(d, 'scan.npy'), { data: positions, shape: [positions.length / 2, 2] });
  return d;
}

function goodFrames(n: number, h: number, w: number): Float32Array {
  return Float32Array.from({ length: n * h * w }, (_, i) => 1 + (i % 7));
}

describe('npy folder (real Siemens star, tike)', () => {
  it('reads frames, positions and the probe with their documented layout', async () => {
    const ds = await loadPtycho(STAR);
    expect(ds.shape).toEqual([516, 128, 128]);
    expect(ds.positions.length).toBe(2 * 516);
    expect(ds.positions[0]).toBeCloseTo(167.57964, 4);
    expect(ds.positions[1]).toBeCloseTo(-159.73396, 4);
    expect(ds.probe?.shape).toEqual([128, 128]);
    let max = 0;
    for (const v of ds.frames) max = Math.max(max, v);
    expect(max).toBe(963);
    // not fft-shifted: the brightest pixels sit at the corners (zero frequency at [0, 0])
    let corner = 0, centre = 0;
    for (let j = 0; j < 516; j++) {
      corner += ds.frames[j * 16384];
      centre += ds.frames[j * 16384 + 64 * 128 + 64];
    }
    expect(corner).toBeGreaterThan(10 * centre);
    expect(() => validateDataset(ds)).not.toThrow();
  });
});

describe('CXI (real near-field PETRA III P25 file)', () => {
  it('reads frames, mask (CXI nonzero = bad → 0), distance, pixel size, wavelength and translations', async () => {
    const ds = await loadCxi(CXI);
    expect(ds.shape).toEqual([200, 100, 100]);
    expect(ds.distance).toBeCloseTo(1.12, 6);
    expect(ds.pixelSize).toBeCloseTo(55e-6, 12);
    expect(ds.wavelength! / 9.7949e-11).toBeCloseTo(1, 4);
    expect(ds.mask!.length).toBe(10000);
    expect(ds.mask!.reduce((a, b) => a + (b === 0 ? 1 : 0), 0)).toBe(5);
    // The same bad pixels as the file marks, after the quadrant swap (shifted = true default).
    const raw = await withHdf5(CXI, (f) => ({ mask: f.read('entry_1/instrument_1/detector_1/mask'), tr: f.read('entry_1/sample_1/geometry_1/translation'), first: f.readSlice('entry_1/instrument_1/detector_1/data', [[0, 1], [], []]) }));
    for (let i = 0; i < 10000; i++) {
      if (Number(raw.mask.data[i]) !== 0) {
        const y = Math.floor(i / 100), x = i % 100;
        expect(ds.mask![((y + 50) % 100) * 100 + ((x + 50) % 100)]).toBe(0);
      }
    }
    expect(ds.frames[((0 + 50) % 100) * 100 + 50]).toBe(Number(raw.first.data[0]));
    // positions: row = -y / (λz/(N·dy)), col = -x / (λz/(N·dx))
    const pix = (ds.wavelength! * ds.distance!) / (100 * ds.pixelSize!);
    expect(ds.positions[0]).toBeCloseTo(-Number(raw.tr.data[1]) / pix, 6);
    expect(ds.positions[1]).toBeCloseTo(-Number(raw.tr.data[0]) / pix, 6);
    // near-field: an explicit object pixel size (the detector pixel) overrides λz/(N·dx)
    const near = await loadCxi(CXI, { objectPixelSize: 55e-6, transform: { transpose: true } });
    expect(near.positions[0] / (-Number(raw.tr.data[0]) / 55e-6)).toBeCloseTo(1, 6);
    // steps of about 1.3 µm
    const step = Math.hypot(near.positions[2] - near.positions[0], near.positions[3] - near.positions[1]) * 55e-6;
    expect(step).toBeGreaterThan(0.2e-6);
    expect(step).toBeLessThan(3e-6);
    // 100×100 is not a power of two: a clear error, and --crop fixes it
    await expectInputError(() => validateDataset(ds), CXI, /power-of-two/);
    expect(() => validateDataset(cropDataset(ds, 64))).not.toThrow();
  });

  it('a CXI file without the frames, distance, wavelength or translations is an InputError naming the file and dataset', async () => {
    const h5 = await import('h5wasm/node');
    await h5.ready;
    const full = ['data', 'distance', 'wavelength', 'translation'];
    for (const missing of full) {
      const path = join(dir, `missing-${missing}.cxi`);
      const f = new h5.File(path, 'w');
      const det = f.create_group('entry_1').create_group('instrument_1').create_group('detector_1');
      if (missing !== 'data') det.create_dataset({ name: 'data', data: new Int32Array(2 * 32 * 32).fill(1), shape: [2, 32, 32] });
      if (missing !== 'distance') det.create_dataset({ name: 'distance', data: 1.5 });
      det.create_dataset({ name: 'x_pixel_size', data: 75e-6 });
      const src = f.get('entry_1/instrument_1')!;
      if (missing !== 'wavelength') (src as import('h5wasm/node').Group).create_group('source_1').create_dataset({ name: 'wavelength', data: 1e-10 });
      if (missing !== 'translation') (f.get('entry_1') as import('h5wasm/node').Group).create_group('sample_1').create_group('geometry_1').create_dataset({ name: 'translation', data: new Float64Array(6), shape: [2, 3] });
      f.close();
      await expectInputError(loadPtycho(path), path, new RegExp(missing === 'data' ? 'frames' : missing === 'translation' ? 'translations' : missing));
    }
  });
});

describe('TIFF stack + positions CSV', () => {
  it('reads frames and a CSV with a header line; needs --positions', async () => {
    const tif = join(dir, 'frames.tif');
    const frames = goodFrames(3, 32, 32);
    await writeTiff(tif, { data: frames, shape: [3, 32, 32] });
    const csv = join(dir, 'pos.csv');
    writeFileSync(csv, 'row,col\n0,0\n1.5,2\n3,4.25\n');
    const ds = await loadPtycho(tif, { positions: csv });
    expect(ds.shape).toEqual([3, 32, 32]);
    expect(Array.from(ds.positions)).toEqual([0, 0, 1.5, 2, 3, 4.25]);
    expect(Array.from(ds.frames.subarray(0, 10))).toEqual(Array.from(frames.subarray(0, 10)));
    await expectInputError(loadPtycho(tif), tif, /--positions/);
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, '0,0\n1,x\n');
    await expectInputError(loadPtycho(tif, { positions: bad }), bad, /line 2/);
  });
});

describe('bad input: each an InputError naming the file', () => {
  it('frame and position counts differ', async () => {
    const d = await npyFolder('mismatch', goodFrames(4, 32, 32), [4, 32, 32], new Float32Array(6));
    const ds = await loadPtycho(d);
    await expectInputError(() => validateDataset(ds), join(d, 'data.npy'), /4 frames but 3 scan positions/);
  });
  it('frames that are not power-of-two sized (with the crop hint)', async () => {
    const d = await npyFolder('npot', goodFrames(2, 48, 48), [2, 48, 48], new Float32Array(4));
    const ds = await loadPtycho(d);
    await expectInputError(() => validateDataset(ds), join(d, 'data.npy'), /48×48.*power-of-two.*crop/);
  });
  it('NaN in a frame', async () => {
    const f = goodFrames(2, 32, 32);
    f[1500] = NaN;
    const d = await npyFolder('nan', f, [2, 32, 32], new Float32Array(4));
    await expectInputError(async () => validateDataset(await loadPtycho(d)), join(d, 'data.npy'), /frame 1 .*non-finite/);
  });
  it('infinity in a frame, after frames of fractional values (the pixel is named)', async () => {
    const f = goodFrames(3, 32, 32);
    f[3] = 0.5;
    f[2 * 1024 + 77] = Infinity;
    const d = await npyFolder('inf', f, [3, 32, 32], new Float32Array(6));
    await expectInputError(async () => validateDataset(await loadPtycho(d)), join(d, 'data.npy'), /frame 2 .*non-finite.*pixel 77/);
  });
  it('the summary read in the same pass: mean frame sum and whether every intensity is whole', () => {
    const f = new Float32Array(3 * 16);
    for (let i = 0; i < f.length; i++) f[i] = (i * 7) % 11;
    const ds: PtychoDataset = { frames: f, shape: [3, 4, 4], positions: new Float64Array(6) };
    let total = 0;
    for (const v of f) total += v;
    expect(validateDataset(ds)).toEqual({ meanFrameSum: total / 3, integerIntensities: true });
    f[40] = 2.25; // one fractional value in the last frame
    const s = validateDataset(ds);
    expect(s.integerIntensities).toBe(false);
    expect(s.meanFrameSum).toBeCloseTo((total - ((40 * 7) % 11) + 2.25) / 3, 12);
  });
  it('an all-zero frame', async () => {
    const f = goodFrames(3, 32, 32);
    f.fill(0, 1024, 2048);
    const d = await npyFolder('zero', f, [3, 32, 32], new Float32Array(6));
    await expectInputError(async () => validateDataset(await loadPtycho(d)), join(d, 'data.npy'), /frame 1 is all zero/);
  });
  it('negative intensities', async () => {
    const f = goodFrames(2, 32, 32);
    f[5] = -3;
    const d = await npyFolder('neg', f, [2, 32, 32], new Float32Array(4));
    await expectInputError(async () => validateDataset(await loadPtycho(d)), join(d, 'data.npy'), /negative/);
  });
  it('NaN or absurd positions (metres given as pixels the other way round)', async () => {
    const p = new Float32Array([0, 0, NaN, 1]);
    const d = await npyFolder('nanpos', goodFrames(2, 32, 32), [2, 32, 32], p);
    await expectInputError(async () => validateDataset(await loadPtycho(d)), join(d, 'data.npy'), /position 1 is not finite/);
    const d2 = await npyFolder('hugepos', goodFrames(2, 32, 32), [2, 32, 32], new Float32Array([0, 0, 1e6, 0]));
    await expectInputError(async () => validateDataset(await loadPtycho(d2)), join(d2, 'data.npy'), /sane/);
  });
  it('a missing folder, a folder without data.npy, a probe of the wrong size, a mask of the wrong size', async () => {
    await expectInputError(loadPtycho(join(dir, 'nope')), join(dir, 'nope'), /not found/);
    const empty = join(dir, 'empty');
    await writeNpy(join(empty, 'scan.npy'), { data: new Float32Array(4), shape: [2, 2] });
    await expectInputError(loadPtycho(empty), empty, /data\.npy/);
    const d = await npyFolder('probe', goodFrames(2, 32, 32), [2, 32, 32], new Float32Array(4));
    await writeNpy(join(d, 'probe.npy'), { data: new Float32Array(2 * 64 * 64), shape: [64, 64], complex: true });
    await expectInputError(async () => validateDataset(await loadPtycho(d)), join(d, 'data.npy'), /probe/);
    const m = await npyFolder('mask', goodFrames(2, 32, 32), [2, 32, 32], new Float32Array(4));
    await writeNpy(join(m, 'mask.npy'), { data: new Uint8Array(16 * 16), shape: [16, 16] });
    await expectInputError(loadPtycho(m), join(m, 'mask.npy'), /mask/);
  });
  it('a valid small dataset passes', () => {
    const ds: PtychoDataset = { frames: goodFrames(2, 32, 32), shape: [2, 32, 32], positions: new Float64Array([0, 0, 3, 4]), source: 'ok' };
    expect(() => validateDataset(ds)).not.toThrow();
  });
});

describe('probe guesses', () => {
  it('disc (diameter), gaussian (FWHM) and pinhole (ring structure), centred; bad kinds are InputErrors', async () => {
    const { probeGuess } = await import('../../src/ptycho/probe.js');
    const disc = probeGuess('disc', 64, 64, 20);
    expect(disc.shape).toEqual([64, 64]);
    expect(disc.data[2 * (32 * 64 + 32)]).toBe(1);
    expect(disc.data[2 * (32 * 64 + 32 + 10)]).toBe(1);
    expect(disc.data[2 * (32 * 64 + 32 + 11)]).toBe(0);
    const g = probeGuess('gaussian', 64, 64, 20);
    expect(g.data[2 * (32 * 64 + 32 + 10)]).toBeCloseTo(0.5, 6); // half maximum at FWHM/2
    const p = probeGuess('pinhole', 64, 64, 20);
    let power = 0;
    for (const v of p.data) power += v * v;
    expect(power).toBeGreaterThan(0);
    expect(Math.hypot(p.data[2 * (32 * 64 + 32)], p.data[2 * (32 * 64 + 32) + 1])).toBeGreaterThan(Math.hypot(p.data[0], p.data[1]));
    await expectInputError(() => probeGuess('square' as 'disc', 64, 64), '--probe-guess', /unknown probe guess/);
    await expectInputError(() => probeGuess('disc', 64, 64, -1), '--probe-diameter', /diameter/);
  });
});
