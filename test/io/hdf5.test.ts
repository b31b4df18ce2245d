import { describe, it, expect, beforeAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openHdf5, readDxchange, anglesLookLikeRadians, withHdf5, isHdf5File } from '../../src/io/hdf5.js';
import { InputError } from '../../src/core/errors.js';
import { tempDir, DATA } from './tmp.js';

const dir = tempDir();
const TOOTH = join(DATA, 'tomo/tooth-dxchange/tooth.h5');
const CXI = join(DATA, 'ptycho/petra-p25-nearfield/PETRAIII_P25_Near_Field_Ptycho.cxi');
const DET = 'entry_1/instrument_1/detector_1';

/** Writes a small HDF5 fixture with h5wasm's writer (a different code path from our reader). */
async function writeFixture(path: string, build: (f: import('h5wasm/node').File) => void): Promise<void> {
  const h5 = await import('h5wasm/node');
  await h5.ready;
  const f = new h5.File(path, 'w');
  try {
    build(f);
  } finally {
    f.close();
  }
}

describe('hdf5 (h5wasm)', () => {
  const fixture = join(dir, 'fixture.h5');
  beforeAll(async () => {
    await writeFixture(fixture, (f) => {
      const g = f.create_group('g');
      g.create_dataset({ name: 'f32', data: Float32Array.from({ length: 24 }, (_, i) => i * 0.5), shape: [2, 3, 4] });
      g.create_dataset({ name: 'u16', data: Uint16Array.of(1, 2, 65535), shape: [3] });
      g.create_dataset({ name: 'i64', data: BigInt64Array.of(5n, -3n, 2n ** 40n) });
      g.create_dataset({ name: 'scalar', data: 2.5 });
      g.create_dataset({ name: 'text', data: 'hello' });
      g.create_dataset({
        name: 'cplx',
        data: new Map([
          ['r', Float32Array.of(1, 2, 3)],
          ['i', Float32Array.of(-1, -2, -3)],
        ]),
      });
      g.create_attribute('units', 'deg');
      g.create_attribute('vals', Float64Array.of(1, 2));
    });
  });

  it('lists, inspects and reads datasets of several types', async () => {
    await withHdf5(fixture, (f) => {
      expect(f.list('/')).toEqual(['g']);
      expect(f.list('g').sort()).toEqual(['cplx', 'f32', 'i64', 'scalar', 'text', 'u16']);
      expect(f.has('/g/f32')).toBe(true);
      expect(f.has('g/nope')).toBe(false);
      expect(f.has('g/f32/deeper')).toBe(false);
      expect(f.isGroup('g')).toBe(true);
      expect(f.isDataset('g')).toBe(false);
      expect(f.shape('g/f32')).toEqual([2, 3, 4]);
      expect(f.dtype('g/f32')).toBe('<f4');
      expect(f.dtype('g/u16')).toBe('<u2');
      expect(f.dtype('g/cplx')).toBe('<c8');
      expect(f.dtype('g/text')).toBe('string');
      const a = f.read('g/f32');
      expect(a.data).toBeInstanceOf(Float32Array);
      expect(a.data[23]).toBe(11.5);
      const s = f.readSlice('g/f32', [[], [1, 3], [2, 4]]);
      expect(s.shape).toEqual([2, 2, 2]);
      // element [i, j, k] = 0.5 (12 i + 4 j + k)
      expect(Array.from(s.data)).toEqual([3, 3.5, 5, 5.5, 9, 9.5, 11, 11.5]);
      const u = f.read('g/u16');
      expect(u.data).toBeInstanceOf(Uint16Array);
      expect(Array.from(u.data)).toEqual([1, 2, 65535]);
      expect(Array.from(f.read('g/i64').data)).toEqual([5, -3, 2 ** 40]);
      expect(f.readNumber('g/scalar')).toBe(2.5);
      expect(f.read('g/scalar').shape).toEqual([]);
      expect(f.readString('g/text')).toBe('hello');
      const c = f.read('g/cplx');
      expect(c.complex).toBe(true);
      expect(Array.from(c.data)).toEqual([1, -1, 2, -2, 3, -3]);
      expect(f.attrs('g')).toEqual({ units: 'deg', vals: [1, 2] });
      const all = f.walk();
      expect(all.find((e) => e.path === 'g/f32')).toEqual({ path: 'g/f32', kind: 'dataset', shape: [2, 3, 4], dtype: '<f4' });
    });
  });

  it('gives InputErrors naming the file and dataset path', async () => {
    const f = await openHdf5(fixture);
    try {
      expect(() => f.read('g/missing')).toThrow(InputError);
      expect(() => f.read('g/missing')).toThrow(`${fixture}: dataset '/g/missing' not found`);
      expect(() => f.read('g')).toThrow(/is a group, not a dataset/);
      expect(() => f.read('g/text')).toThrow(/not numeric/);
      expect(() => f.readNumber('g/u16')).toThrow(/should hold one number/);
      expect(() => f.readSlice('g/f32', [[0, 5]])).toThrow(/outside axis 0/);
      expect(() => f.list('g/f32')).toThrow(/is a dataset, not a group/);
    } finally {
      f.close();
    }
    const txt = join(dir, 'not.h5');
    writeFileSync(txt, 'plain text, certainly not HDF5');
    expect(await isHdf5File(txt)).toBe(false);
    await expect(openHdf5(txt)).rejects.toThrow(`${txt}: not an HDF5 file`);
    await expect(openHdf5(join(dir, 'absent.h5'))).rejects.toThrow(/absent\.h5: file not found/);
    await expect(readDxchange(fixture)).rejects.toThrow(/not a DXchange file: dataset '\/exchange\/data' not found/);
  });

  it('reads the real tooth.h5 (DXchange shapes and theta in degrees)', async () => {
    const t = await readDxchange(TOOTH);
    expect(t.data.shape).toEqual([181, 2, 640]);
    expect(t.flats!.shape).toEqual([10, 2, 640]);
    expect(t.darks!.shape).toEqual([10, 2, 640]);
    expect(t.data.data).toBeInstanceOf(Float32Array);
    expect(t.thetaDeg!.length).toBe(181);
    expect(t.thetaDeg![0]).toBeCloseTo(0, 6);
    expect(t.thetaDeg![180]).toBeCloseTo(179.0055, 3);
    expect(t.thetaWasRadians).toBeUndefined();
    // flats are brighter than darks on average
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(t.flats!.data)).toBeGreaterThan(mean(t.darks!.data));
    const one = await readDxchange(TOOTH, { rows: [1, 2] });
    expect(one.data.shape).toEqual([181, 1, 640]);
    expect(Array.from(one.data.data.subarray(0, 640))).toEqual(Array.from(t.data.data.subarray(640, 1280)));
    await expect(readDxchange(TOOTH, { rows: [1, 3] })).rejects.toThrow(/rows 1:3 are outside the 2 detector rows/);
  });

  it('converts theta given in radians, and rejects a theta count that does not match', async () => {
    const p = join(dir, 'dx_rad.h5');
    const n = 12;
    await writeFixture(p, (f) => {
      const g = f.create_group('exchange');
      g.create_dataset({ name: 'data', data: new Uint16Array(n * 2 * 3).fill(7), shape: [n, 2, 3] });
      g.create_dataset({ name: 'theta', data: Float64Array.from({ length: n }, (_, i) => (i * Math.PI) / (n - 1)) });
    });
    const d = await readDxchange(p);
    expect(d.thetaWasRadians).toBe(true);
    expect(d.thetaDeg![n - 1]).toBeCloseTo(180, 10);
    expect(d.data.data[5]).toBe(7);
    expect(d.flats).toBeUndefined();

    const q = join(dir, 'dx_bad.h5');
    await writeFixture(q, (f) => {
      const g = f.create_group('exchange');
      g.create_dataset({ name: 'data', data: new Float32Array(4 * 2 * 3), shape: [4, 2, 3] });
      g.create_dataset({ name: 'theta', data: Float64Array.of(0, 1, 2) });
    });
    await expect(readDxchange(q)).rejects.toThrow(`${q}: /exchange/theta holds 3 angles but /exchange/data has 4 projections`);

    expect(anglesLookLikeRadians(Float64Array.from({ length: 181 }, (_, i) => i))).toBe(false);
    expect(anglesLookLikeRadians(Float64Array.from({ length: 181 }, (_, i) => (i * Math.PI) / 180))).toBe(true);
    expect(anglesLookLikeRadians([0, 1, 2])).toBe(false); // too few to judge: degrees
  });

  it('reads the real PETRA III CXI file (datasets, mask, metadata)', async () => {
    await withHdf5(CXI, (f) => {
      const datasets = f.walk().filter((e) => e.kind === 'dataset').map((e) => e.path);
      expect(datasets).toContain(`${DET}/data`);
      expect(datasets).toContain('entry_1/sample_1/geometry_1/translation');
      const data = f.read(`${DET}/data`);
      expect(data.shape).toEqual([200, 100, 100]);
      expect(data.data).toBeInstanceOf(Int32Array);
      expect(f.dtype(`${DET}/data`)).toBe('<i4');
      const mask = f.read(`${DET}/mask`);
      expect(mask.shape).toEqual([100, 100]);
      expect(mask.data.reduce((s, v) => s + (v !== 0 ? 1 : 0), 0)).toBe(5);
      expect(f.readNumber(`${DET}/distance`)).toBeCloseTo(1.12, 6);
      expect(f.readNumber(`${DET}/x_pixel_size`)).toBeCloseTo(55e-6, 12);
      expect(f.readNumber('entry_1/instrument_1/source_1/wavelength') / 9.7949e-11).toBeCloseTo(1, 4);
      const tr = f.read('entry_1/sample_1/geometry_1/translation');
      expect(tr.shape).toEqual([200, 3]);
      // steps of about 1.3 µm between neighbouring positions somewhere in the scan
      let minStep = Infinity;
      for (let i = 1; i < 200; i++) {
        const dx = tr.data[3 * i]! - tr.data[3 * i - 3]!;
        const dy = tr.data[3 * i + 1]! - tr.data[3 * i - 2]!;
        const s = Math.hypot(dx, dy);
        if (s > 0) minStep = Math.min(minStep, s);
      }
      expect(minStep).toBeGreaterThan(1e-7);
      expect(minStep).toBeLessThan(5e-6);
    });
  });
});
