import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fromFile } from 'geotiff';
import { writeVolume, readVolume } from '../../src/io/volume.js';
import { readMrc, mrcStatistics } from '../../src/io/mrc.js';
import { readVti } from '../../src/io/vti.js';
import { readNpy } from '../../src/io/npy.js';
import { InputError } from '../../src/core/errors.js';
import type { Volume } from '../../src/core/array.js';
import { freshSeed, rng } from '../helpers/gpu.js';
import { tempDir } from './tmp.js';

const dir = tempDir('webrecon-volume-');

function randomVolume(shape: [number, number, number], seed: number): Volume {
  const r = rng(seed);
  const data = new Float32Array(shape[0] * shape[1] * shape[2]);
  for (let i = 0; i < data.length; i++) data[i] = (r() - 0.3) * 100;
  return { data, shape };
}

describe('volume output and input', () => {
  const seed = freshSeed();
  const vol = randomVolume([5, 7, 9], seed); // all sizes different: catches axis swaps

  it(`round-trips TIFF, MRC, VTI and NPY exactly (seed ${seed})`, async () => {
    for (const ext of ['.tif', '.tiff', '.mrc', '.vti', '.npy']) {
      const p = join(dir, `rt${ext}`);
      await writeVolume(p, vol, { voxelSize: 2.5, description: 'round trip' });
      const back = await readVolume(p);
      expect(back.shape, ext).toEqual([5, 7, 9]);
      expect(back.data, ext).toEqual(vol.data);
    }
    // nothing but the outputs is left behind (no temporary files)
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('writes a TIFF that geotiff (a second reader) reads as 5 float32 pages of 7 × 9, with the ImageJ description', async () => {
    const p = join(dir, 'rt.tif');
    const t = await fromFile(p);
    try {
      expect(await t.getImageCount()).toBe(5);
      for (let z = 0; z < 5; z++) {
        const img = await t.getImage(z);
        expect([img.getHeight(), img.getWidth(), img.getBitsPerSample(0), img.getSampleFormat(0)]).toEqual([7, 9, 32, 3]);
        const r = (await img.readRasters({ interleave: true })) as unknown as Float32Array;
        expect(Array.from(r)).toEqual(Array.from(vol.data.subarray(z * 63, (z + 1) * 63)));
      }
      const desc = (await t.getImage(0)).getFileDirectory().getValue('ImageDescription') as string;
      expect(desc).toMatch(/^ImageJ=/);
      expect(desc).toMatch(/images=5\n/);
      expect(desc).toMatch(/slices=5\n/);
      expect(desc).toMatch(/spacing=2.5\n/);
    } finally {
      await t.close();
    }
  });

  it('writes MRC2014 header fields as the spec defines them', async () => {
    const p = join(dir, 'rt.mrc');
    const b = readFileSync(p);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const i32 = (w: number) => dv.getInt32(4 * (w - 1), true);
    const f32 = (w: number) => dv.getFloat32(4 * (w - 1), true);
    expect(b.length).toBe(1024 + 5 * 7 * 9 * 4);
    expect([i32(1), i32(2), i32(3)]).toEqual([9, 7, 5]); // NX NY NZ = cols rows slices
    expect(i32(4)).toBe(2); // MODE 2 float32
    expect([i32(5), i32(6), i32(7)]).toEqual([0, 0, 0]); // N*START
    expect([i32(8), i32(9), i32(10)]).toEqual([9, 7, 5]); // MX MY MZ
    expect([f32(11), f32(12), f32(13)]).toEqual([22.5, 17.5, 12.5]); // CELLA = voxel × dims (Å)
    expect([f32(14), f32(15), f32(16)]).toEqual([90, 90, 90]); // CELLB
    expect([i32(17), i32(18), i32(19)]).toEqual([1, 2, 3]); // MAPC MAPR MAPS
    const st = mrcStatistics(vol.data);
    expect(f32(20)).toBe(Math.fround(st.min));
    expect(f32(21)).toBe(Math.fround(st.max));
    expect(f32(22)).toBeCloseTo(st.mean, 4);
    expect(f32(55)).toBeCloseTo(st.rms, 4); // RMS
    expect(i32(23)).toBe(1); // ISPG 1: a volume
    expect(i32(24)).toBe(0); // NSYMBT: no extended header
    expect(dv.getInt32(108, true)).toBe(20140); // NVERSION
    expect(b.subarray(208, 212).toString('latin1')).toBe('MAP ');
    expect(Array.from(b.subarray(212, 216))).toEqual([0x44, 0x44, 0, 0]); // little-endian stamp
    expect(i32(56)).toBe(2); // NLABL
    expect(b.subarray(224, 232).toString('latin1')).toBe('webrecon');
    expect(b.subarray(304, 314).toString('latin1')).toBe('round trip');
    const m = await readMrc(p);
    expect(m.voxelSize).toEqual([2.5, 2.5, 2.5]);
    expect(m.mode).toBe(2);
    expect(m.labels[1]).toBe('round trip');
    // first data word is voxel (z 0, y 0, x 0), x fastest
    expect(dv.getFloat32(1024 + 4, true)).toBe(vol.data[1]);
  });

  it('reads a big-endian MRC and IMOD mode 0/1/6 files', async () => {
    const nx = 3, ny = 2, nz = 2;
    const make = (mode: number, le: boolean, bytes: number, put: (dv: DataView, i: number) => void) => {
      const b = new Uint8Array(1024 + nx * ny * nz * bytes);
      const dv = new DataView(b.buffer);
      [nx, ny, nz, mode].forEach((v, k) => dv.setInt32(4 * k, v, le));
      b.set(le ? [0x44, 0x44, 0, 0] : [0x11, 0x11, 0, 0], 212);
      for (let i = 0; i < nx * ny * nz; i++) put(dv, i);
      return b;
    };
    const p = join(dir, 'be.mrc');
    writeFileSync(p, make(2, false, 4, (dv, i) => dv.setFloat32(1024 + 4 * i, i * 1.5, false)));
    const m = await readMrc(p);
    expect(m.bigEndian).toBe(true);
    expect(m.volume.shape).toEqual([2, 2, 3]);
    expect(Array.from(m.volume.data)).toEqual(Array.from({ length: 12 }, (_, i) => i * 1.5));
    writeFileSync(p, make(1, true, 2, (dv, i) => dv.setInt16(1024 + 2 * i, -i, true)));
    expect((await readMrc(p)).volume.data[5]).toBe(-5);
    writeFileSync(p, make(6, true, 2, (dv, i) => dv.setUint16(1024 + 2 * i, 60000 + i, true)));
    expect((await readMrc(p)).volume.data[5]).toBe(60005);
    writeFileSync(p, make(4, true, 8, () => undefined));
    await expect(readMrc(p)).rejects.toThrow(/unsupported MRC mode 4 \(complex float32\)/);
  });

  it('writes VTI that VTK reads: ImageData extents, spacing, one raw appended Float32 array of the right length', async () => {
    const p = join(dir, 'rt.vti');
    const b = readFileSync(p);
    const at = b.indexOf('_', b.indexOf('<AppendedData')) + 1; // raw data start after the '_' marker
    const head = b.subarray(0, at).toString('latin1');
    expect(head).toMatch(/<VTKFile type="ImageData" version="1.0" byte_order="LittleEndian" header_type="UInt64">/);
    expect(head).toMatch(/WholeExtent="0 8 0 6 0 4"/); // x = cols, y = rows, z = slices
    expect(head).toMatch(/Spacing="2.5 2.5 2.5"/);
    expect(head).toMatch(/<DataArray type="Float32" Name="density" NumberOfComponents="1" format="appended"[^>]* offset="0"\/>/);
    expect(head).toMatch(/<AppendedData encoding="raw">/);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    expect(Number(dv.getBigUint64(at, true))).toBe(5 * 7 * 9 * 4);
    expect(dv.getFloat32(at + 8 + 4 * 10, true)).toBe(vol.data[10]);
    expect(b.subarray(at + 8 + 5 * 7 * 9 * 4).toString('latin1')).toBe('\n  </AppendedData>\n</VTKFile>\n');
    const v = await readVti(p);
    expect(v.spacing).toEqual([2.5, 2.5, 2.5]);
    expect(v.name).toBe('density');
  });

  it('writes .npy that numpy reads as float32 (slices, rows, cols)', async () => {
    const p = join(dir, 'rt.npy');
    const b = readFileSync(p);
    expect(b.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
    expect(b.subarray(10, 80).toString('latin1')).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(5, 7, 9\), \}/);
    const a = await readNpy(p);
    expect(a.dtype).toBe('<f4');
  });

  it('gives InputErrors: unknown extension (listing the supported ones), bad shape, missing input, complex npy', async () => {
    const bad = join(dir, 'out.raw');
    const e = await writeVolume(bad, vol).catch((x) => x);
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toBe(`${bad}: unknown output format '.raw'; supported: .tif/.tiff (float32 TIFF stack), .mrc (MRC2014 mode 2), .vti (VTK ImageData), .npy (NumPy)`);
    expect(existsSync(bad)).toBe(false);
    await expect(writeVolume(join(dir, 'noext'), vol)).rejects.toThrow(/unknown output format '\(no extension\)'/);
    await expect(writeVolume(join(dir, 'short.mrc'), { data: new Float32Array(5), shape: [1, 2, 3] })).rejects.toThrow(/needs 6 values but the data hold 5/);
    await expect(writeVolume(join(dir, 'v.mrc'), vol, { voxelSize: -1 })).rejects.toThrow(/voxel size must be a positive number/);
    await expect(readVolume(join(dir, 'absent.mrc'))).rejects.toThrow(/absent\.mrc: file not found/);
    await expect(readVolume(join(dir, 'absent.xyz'))).rejects.toThrow(/unknown volume format '\.xyz'/);
    const notTiff = join(dir, 'fake.tif');
    writeFileSync(notTiff, 'hello world, not a tiff');
    await expect(readVolume(notTiff)).rejects.toThrow(`${notTiff}: not a TIFF file`);
    const notVti = join(dir, 'fake.vti');
    writeFileSync(notVti, '<VTKFile type="PolyData"></VTKFile>');
    await expect(readVolume(notVti)).rejects.toThrow(/not a VTK XML ImageData/);
    const shortMrc = join(dir, 'fake.mrc');
    writeFileSync(shortMrc, new Uint8Array(100));
    await expect(readVolume(shortMrc)).rejects.toThrow(/not an MRC file \(only 100 bytes/);
  });

  it('replaces an existing output atomically and keeps the old file when writing fails', async () => {
    const p = join(dir, 'keep.mrc');
    await writeVolume(p, vol);
    const before = readFileSync(p);
    await expect(writeVolume(p, { data: new Float32Array(3), shape: [1, 1, 2] })).rejects.toThrow(InputError);
    expect(readFileSync(p).equals(before)).toBe(true);
    const small: Volume = { data: Float32Array.of(1, 2), shape: [1, 1, 2] };
    await writeVolume(p, small);
    expect(Array.from((await readVolume(p)).data)).toEqual([1, 2]);
    // parent folders are created
    await writeVolume(join(dir, 'a/b/c.npy'), small);
    expect((await readVolume(join(dir, 'a/b/c.npy'))).shape).toEqual([1, 1, 2]);
  });
});
