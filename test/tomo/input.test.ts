import { describe, it, expect } from 'vitest';
import { mkdirSync, writeFileSync, copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadProjections, planTiffFolder } from '../../src/tomo/input.js';
import { writeTiff } from '../../src/io/tiff.js';
import { writeNpy } from '../../src/io/npy.js';
import { InputError } from '../../src/core/errors.js';
import { tempDir, DATA } from '../io/tmp.js';

const dir = tempDir('webrecon-input-');
const I13 = join(DATA, 'tomo/i13-24737');
const TOOTH = join(DATA, 'tomo/tooth-dxchange/tooth.h5');

async function inputError(p: Promise<unknown>): Promise<InputError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

/** A [n, h, w] stack with value 1000·a + 10·r + c. */
function ramp(n: number, h: number, w: number): Float32Array {
  const d = new Float32Array(n * h * w);
  for (let a = 0; a < n; a++) for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) d[(a * h + r) * w + c] = 1000 * a + 10 * r + c;
  return d;
}

describe('loadProjections', () => {
  it('loads the real I13 folder with dark/flat files (91 × 135 × 160), and a row subset', async () => {
    const p = await loadProjections([join(I13, 'projections')], { dark: join(I13, 'dark_00001.tiff'), flat: join(I13, 'flat_00001.tiff') });
    expect(p.projections.shape).toEqual([91, 135, 160]);
    expect(p.flat!.shape).toEqual([1, 135, 160]);
    expect(p.dark!.shape).toEqual([1, 135, 160]);
    expect(p.flat!.data[0]).toBe(0); // the dead flat pixel the README mentions
    expect(p.anglesDeg).toBeUndefined();
    expect(p.source).toMatch(/91 files raw_00000\.tiff \.\. raw_00090\.tiff/);
    const sub = await loadProjections([join(I13, 'projections')], { dark: join(I13, 'dark_00001.tiff'), flat: join(I13, 'flat_00001.tiff'), rows: [60, 64] });
    expect(sub.projections.shape).toEqual([91, 4, 160]);
    expect(sub.flat!.shape).toEqual([1, 4, 160]);
    expect(Array.from(sub.projections.data.subarray(160, 320))).toEqual(Array.from(p.projections.data.subarray(61 * 160, 62 * 160)));
    expect(Array.from(sub.dark!.data.subarray(0, 160))).toEqual(Array.from(p.dark!.data.subarray(60 * 160, 61 * 160)));
  });

  it('loads the real tooth DXchange file: data, flats, darks and theta in degrees', async () => {
    const t = await loadProjections([TOOTH]);
    expect(t.projections.shape).toEqual([181, 2, 640]);
    expect(t.flat!.shape).toEqual([10, 2, 640]);
    expect(t.dark!.shape).toEqual([10, 2, 640]);
    expect(t.anglesDeg!.length).toBe(181);
    expect(t.anglesDeg![180]).toBeCloseTo(179.0055, 3);
    const one = await loadProjections([TOOTH], { rows: [1, 2] });
    expect(one.projections.shape).toEqual([181, 1, 640]);
    expect(one.flat!.shape).toEqual([10, 1, 640]);
  });

  it('reads a multi-page TIFF, a list of files in natural order, a .npy (3-D and 2-D), and npy/multi-page fields', async () => {
    const data = ramp(4, 3, 5);
    const multi = join(dir, 'stack.tif');
    await writeTiff(multi, { data, shape: [4, 3, 5] });
    const a = await loadProjections([multi], { rows: [1, 3] });
    expect(a.projections.shape).toEqual([4, 2, 5]);
    expect(a.projections.data[0]).toBe(10);

    const list = join(dir, 'list');
    mkdirSync(list);
    const names = [0, 1, 2, 3].map((i) => join(list, `p_${[0, 2, 10, 11][i]}.tif`));
    for (let i = 0; i < 4; i++) await writeTiff(names[i]!, { data: data.subarray(i * 15, (i + 1) * 15), shape: [3, 5] });
    const b = await loadProjections([names[3]!, names[0]!, names[2]!, names[1]!]); // shuffled: natural order restores p_0, p_2, p_10, p_11
    expect(Array.from(b.projections.data)).toEqual(Array.from(data));

    // a folder with flat and dark files beside the projections picks them up
    await writeTiff(join(list, 'flat_0.tif'), { data: new Float32Array(15).fill(2), shape: [3, 5] });
    await writeTiff(join(list, 'dark_0.tif'), { data: new Float32Array(15).fill(1), shape: [3, 5] });
    writeFileSync(join(list, 'notes.txt'), 'x');
    const plan = await planTiffFolder(list);
    expect(plan.projections.map((p) => p.slice(list.length + 1))).toEqual(['p_0.tif', 'p_2.tif', 'p_10.tif', 'p_11.tif']);
    const c = await loadProjections([list]);
    expect(Array.from(c.projections.data)).toEqual(Array.from(data));
    expect(c.flat!.data[0]).toBe(2);
    expect(c.dark!.data[0]).toBe(1);

    const npy = join(dir, 'p.npy');
    await writeNpy(npy, { data: Uint16Array.from(data), shape: [4, 3, 5] });
    const d = await loadProjections([npy], { rows: [2, 3] });
    expect(d.projections.shape).toEqual([4, 1, 5]);
    expect(d.projections.data[5]).toBe(1020);
    const npy2 = join(dir, 'one.npy');
    await writeNpy(npy2, { data: data.subarray(0, 15), shape: [3, 5] });
    expect((await loadProjections([npy2])).projections.shape).toEqual([1, 3, 5]);

    const flats = join(dir, 'flats.tif');
    await writeTiff(flats, { data: new Float32Array(30).fill(3), shape: [2, 3, 5] });
    const darkNpy = join(dir, 'dark.npy');
    await writeNpy(darkNpy, { data: new Float32Array(15).fill(0.5), shape: [3, 5] });
    const e = await loadProjections([npy], { flat: flats, dark: darkNpy, rows: [0, 2] });
    expect(e.flat!.shape).toEqual([2, 2, 5]);
    expect(e.dark!.shape).toEqual([1, 2, 5]);
    expect(e.dark!.data[0]).toBe(0.5);
  });

  it('gives InputErrors naming the file for every bad input', async () => {
    const missing = join(dir, 'absent.tif');
    let e = await inputError(loadProjections([missing]));
    expect(e.file).toBe(missing);
    expect(e.message).toMatch(/file not found/);

    const txt = join(dir, 'notes.tif');
    writeFileSync(txt, 'these are not pixels');
    e = await inputError(loadProjections([txt]));
    expect(e.file).toBe(txt);
    expect(e.message).toMatch(/not a TIFF file/);
    const other = join(dir, 'notes.dat');
    writeFileSync(other, 'these are not pixels');
    expect((await inputError(loadProjections([other]))).message).toMatch(/not a TIFF, HDF5 or \.npy file/);

    // mixed shapes: the offending file is named
    const mixed = join(dir, 'mixed');
    mkdirSync(mixed);
    await writeTiff(join(mixed, 'r_1.tif'), { data: new Float32Array(15), shape: [3, 5] });
    await writeTiff(join(mixed, 'r_2.tif'), { data: new Float32Array(15), shape: [3, 5] });
    await writeTiff(join(mixed, 'r_3.tif'), { data: new Float32Array(12), shape: [3, 4] });
    e = await inputError(loadProjections([mixed]));
    expect(e.file).toBe(join(mixed, 'r_3.tif'));
    expect(e.message).toMatch(/mixed shapes in the stack: this image is 3 × 4 .* but .*r_1\.tif is 3 × 5/);

    // NaN / Inf: file and index
    const nanDir = join(dir, 'nan');
    mkdirSync(nanDir);
    const bad = new Float32Array(15);
    bad[7] = NaN;
    await writeTiff(join(nanDir, 'r_1.tif'), { data: new Float32Array(15), shape: [3, 5] });
    await writeTiff(join(nanDir, 'r_2.tif'), { data: bad, shape: [3, 5] });
    e = await inputError(loadProjections([nanDir]));
    expect(e.file).toBe(join(nanDir, 'r_2.tif'));
    expect(e.message).toMatch(/contain NaN at \[row 1, col 2\]/);
    const infNpy = join(dir, 'inf.npy');
    const inf = new Float32Array(30);
    inf[17] = -Infinity;
    await writeNpy(infNpy, { data: inf, shape: [2, 3, 5] });
    e = await inputError(loadProjections([infNpy]));
    expect(e.file).toBe(infNpy);
    expect(e.message).toMatch(/contain -Inf at \[1, 0, 2\]/);

    // unsupported sample format (complex npy; 64-bit integer-free TIFF formats are covered in tiff.test)
    const cplx = join(dir, 'c.npy');
    await writeNpy(cplx, { data: new Float32Array(30), shape: [3, 5], complex: true });
    e = await inputError(loadProjections([cplx]));
    expect(e.file).toBe(cplx);
    expect(e.message).toMatch(/complex/);
    const twoD = join(dir, 'vec.npy');
    await writeNpy(twoD, { data: new Float32Array(5), shape: [5] });
    expect((await inputError(loadProjections([twoD]))).message).toMatch(/must be a 3-D array/);

    // unsupported sample format: a float32 TIFF whose SampleFormat is patched to 6 (complex float),
    // as projections and as a flat field
    const cf = join(dir, 'complex.tif');
    await writeTiff(cf, { data: new Float32Array(15), shape: [3, 5] }, { imagej: false });
    const bytes = readFileSync(cf);
    const ifd = bytes.readUInt32LE(4);
    for (let k = 0; k < bytes.readUInt16LE(ifd); k++) if (bytes.readUInt16LE(ifd + 2 + 12 * k) === 339) bytes.writeUInt16LE(6, ifd + 2 + 12 * k + 8);
    writeFileSync(cf, bytes);
    e = await inputError(loadProjections([cf]));
    expect(e.file).toBe(cf);
    expect(e.message).toMatch(/unsupported sample format: 32-bit complex float/);
    e = await inputError(loadProjections([join(dir, 'stack.tif')], { flat: cf }));
    expect(e.file).toBe(cf);

    // mixed shapes in a list of files
    e = await inputError(loadProjections([join(mixed, 'r_1.tif'), join(mixed, 'r_3.tif')]));
    expect(e.file).toBe(join(mixed, 'r_3.tif'));

    // flat/dark shape mismatch
    const stack = join(dir, 'stack.tif');
    const wrong = join(dir, 'wrongflat.tif');
    await writeTiff(wrong, { data: new Float32Array(12), shape: [3, 4] });
    e = await inputError(loadProjections([stack], { flat: wrong }));
    expect(e.file).toBe(wrong);
    expect(e.message).toMatch(/flat field frames are 3 × 4 .* but the projections are 3 × 5/);
    e = await inputError(loadProjections([stack], { dark: join(dir, 'nodark.tif') }));
    expect(e.file).toBe(join(dir, 'nodark.tif'));
    e = await inputError(loadProjections([stack], { flat: other }));
    expect(e.message).toMatch(/must be a TIFF .* or a \.npy file/);

    // rows outside the detector, lists mixing folders, empty input
    expect((await inputError(loadProjections([stack], { rows: [2, 9] }))).message).toMatch(/rows 2:9 are outside the 3 rows/);
    expect((await inputError(loadProjections([stack, mixed]))).message).toMatch(/is a folder/);
    expect((await inputError(loadProjections([]))).message).toMatch(/no input given/);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    copyFileSync(wrong, join(empty, 'flat.tif'));
    expect((await inputError(loadProjections([empty]))).message).toMatch(/no projection images in this folder/);
  });

  it('rejects a stack too big for memory with an InputError naming the size', async () => {
    // a real TIFF whose header claims 2^20 × 2^20 pixels (4 TiB of float32): refused before any pixel is read
    const p = join(dir, 'huge.tif');
    await writeTiff(p, { data: new Float32Array(15), shape: [3, 5] });
    const b = readFileSync(p);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const ifd = dv.getUint32(4, true);
    const n = dv.getUint16(ifd, true);
    for (let k = 0; k < n; k++) {
      const at = ifd + 2 + 12 * k;
      const tag = dv.getUint16(at, true);
      if (tag === 256 || tag === 257) dv.setUint32(at + 8, 2 ** 20, true);
    }
    writeFileSync(p, b);
    const e = await inputError(loadProjections([p]));
    expect(e.file).toBe(p);
    expect(e.message).toMatch(/a stack of 1 images of 1048576 × 1048576 float32 values of 4096\.0 GiB cannot fit in .* memory.*--rows/);
  });
});
