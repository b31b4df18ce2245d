import { describe, it, expect } from 'vitest';
import { writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fromFile, writeArrayBuffer } from 'geotiff';
import { open } from 'node:fs/promises';
import { readTiff, readTiffFiles, writeTiff, naturalCompare, listTiffFiles, tiffInfo, readPlainRows } from '../../src/io/tiff.js';
import { InputError } from '../../src/core/errors.js';
import { freshSeed, rng } from '../helpers/gpu.js';
import { tempDir, DATA } from './tmp.js';

const dir = tempDir();
const I13 = join(DATA, 'tomo/i13-24737');

/** Reads every page with geotiff directly (the second, independent reader). */
async function geotiffPages(path: string) {
  const t = await fromFile(path);
  try {
    const n = await t.getImageCount();
    const pages = [];
    for (let i = 0; i < n; i++) {
      const img = await t.getImage(i);
      const r = (await img.readRasters({ interleave: true })) as unknown as ArrayLike<number>;
      pages.push({
        width: img.getWidth(),
        height: img.getHeight(),
        bits: img.getBitsPerSample(0),
        format: img.getSampleFormat(0),
        data: Array.from(r),
        description: img.getFileDirectory().getValue('ImageDescription') as string | undefined,
      });
    }
    return { pages, bigTiff: t.bigTiff, littleEndian: t.littleEndian };
  } finally {
    await t.close();
  }
}

/** A single-page grayscale TIFF written by geotiff's own writer (independent of ours). */
function geotiffSingle(path: string, data: Uint8Array | Uint16Array, width: number, height: number): void {
  const bits = data instanceof Uint8Array ? 8 : 16;
  const ab = writeArrayBuffer(data, { width, height, BitsPerSample: [bits], SampleFormat: [1], PhotometricInterpretation: 1 });
  writeFileSync(path, new Uint8Array(ab));
}

describe('tiff', () => {
  it('orders names naturally', () => {
    const names = ['raw_10.tif', 'raw_2.tif', 'raw_1.tif', 'Raw_3.tif', 'raw_002b.tif', 'a.tif', 'raw_100.tif'];
    expect([...names].sort(naturalCompare)).toEqual(['a.tif', 'raw_1.tif', 'raw_2.tif', 'raw_002b.tif', 'Raw_3.tif', 'raw_10.tif', 'raw_100.tif']);
    expect(naturalCompare('x9', 'x10')).toBeLessThan(0);
    expect(naturalCompare('x010', 'x10')).toBeGreaterThan(0); // same value, longer spelling after
  });

  it('round-trips a 3-page float32 stack, read back by geotiff and by our reader', async () => {
    const seed = freshSeed();
    const r = rng(seed);
    const shape: [number, number, number] = [3, 37, 29]; // odd sizes; several strips per page
    const data = Float32Array.from({ length: 3 * 37 * 29 }, () => (r() - 0.5) * 1e3);
    data[5] = -0; data[6] = 1e-30; data[7] = 3.4e38;
    const p = join(dir, 'stack_f32.tif');
    await writeTiff(p, { data, shape }, { rowsPerStrip: 5 });
    const g = await geotiffPages(p);
    expect(g.bigTiff).toBe(false);
    expect(g.littleEndian).toBe(true);
    expect(g.pages.length).toBe(3);
    for (let i = 0; i < 3; i++) {
      expect(g.pages[i]!.width).toBe(29);
      expect(g.pages[i]!.height).toBe(37);
      expect(g.pages[i]!.bits).toBe(32);
      expect(g.pages[i]!.format).toBe(3);
      expect(g.pages[i]!.data, `page ${i} seed ${seed}`).toEqual(Array.from(data.subarray(i * 37 * 29, (i + 1) * 37 * 29)));
    }
    expect(g.pages[0]!.description).toMatch(/^ImageJ=1\.11a\nimages=3\nslices=3\n/);
    const back = await readTiff(p);
    expect(back.shape).toEqual(shape);
    expect(Array.from(back.data)).toEqual(Array.from(data));
    // ImageJ reads a described stack as contiguous data from the first strip: check that layout.
    const bytes = readFileSync(p);
    const f = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 8, bytes.byteOffset + 8 + data.byteLength));
    expect(Array.from(f)).toEqual(Array.from(data));
    const info = await tiffInfo(p);
    expect(info).toMatchObject({ pages: 3, width: 29, height: 37, bitsPerSample: 32, sampleFormat: 3, bigTiff: false });
  });

  it('round-trips uint16, uint8 (odd byte counts), int16 and a single 2-D page', async () => {
    const u16 = Uint16Array.from({ length: 3 * 4 * 5 }, (_, i) => (i * 2113) % 65536);
    const p16 = join(dir, 'u16.tif');
    await writeTiff(p16, { data: u16, shape: [3, 4, 5] });
    const g16 = await geotiffPages(p16);
    expect(g16.pages.map((x) => [x.bits, x.format])).toEqual([[16, 1], [16, 1], [16, 1]]);
    expect(g16.pages.flatMap((x) => x.data)).toEqual(Array.from(u16));
    expect(Array.from((await readTiff(p16)).data)).toEqual(Array.from(u16));

    const u8 = Uint8Array.from({ length: 3 * 3 * 3 }, (_, i) => i * 9);
    const p8 = join(dir, 'u8.tif');
    await writeTiff(p8, { data: u8, shape: [3, 3, 3] });
    expect((await geotiffPages(p8)).pages.flatMap((x) => x.data)).toEqual(Array.from(u8));

    const i16 = Int16Array.of(-32768, -1, 0, 1, 32767, 5);
    const pi = join(dir, 'i16.tif');
    await writeTiff(pi, { data: i16, shape: [2, 3] });
    const gi = await geotiffPages(pi);
    expect(gi.pages.length).toBe(1);
    expect(gi.pages[0]!.format).toBe(2);
    expect(gi.pages[0]!.data).toEqual(Array.from(i16));
    expect((await readTiff(pi)).shape).toEqual([1, 2, 3]);
  });

  it('reads plain strips straight from the file (2 rows per strip, row ranges across strips) exactly as geotiff decodes them', async () => {
    const [pages, rows, cols] = [3, 7, 5];
    const n = pages * rows * cols;
    const cases: Array<[string, Float32Array | Uint16Array | Uint8Array | Int16Array]> = [
      ['f32', Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 1e3)],
      ['u16', Uint16Array.from({ length: n }, (_, i) => (i * 2113) % 65536)],
      ['u8', Uint8Array.from({ length: n }, (_, i) => (i * 37) % 256)],
      ['i16', Int16Array.from({ length: n }, (_, i) => ((i * 2113) % 65536) - 32768)],
    ];
    for (const [name, data] of cases) {
      const p = join(dir, `plain-${name}.tif`);
      await writeTiff(p, { data, shape: [pages, rows, cols] }, { rowsPerStrip: 2 });
      const decoded = (await geotiffPages(p)).pages.flatMap((x) => x.data);
      expect(decoded, name).toEqual(Array.from(data));
      expect(Array.from((await readTiff(p)).data), name).toEqual(decoded);
      const sub = await readTiff(p, { rows: [1, 6] });
      const want: number[] = [];
      for (let k = 0; k < pages; k++) want.push(...decoded.slice((k * rows + 1) * cols, (k * rows + 6) * cols));
      expect(Array.from(sub.data), `${name} rows 1:6`).toEqual(want);
      // The fast path itself takes this layout (rather than falling back to the decoder).
      const t = await fromFile(p);
      const fh = await open(p, 'r');
      try {
        const img = await t.getImage(2);
        const out = new Float32Array(5 * cols).fill(Number.NaN);
        const info = { width: cols, height: rows, samplesPerPixel: 1, bitsPerSample: img.getBitsPerSample(0), sampleFormat: img.getSampleFormat(0) ?? 1 };
        expect(await readPlainRows(fh, img, info, out, 0, 1, 6), name).toBe(true);
        expect(Array.from(out), `${name} page 2 rows 1:6`).toEqual(decoded.slice((2 * rows + 1) * cols, (2 * rows + 6) * cols));
      } finally {
        await fh.close();
        await t.close();
      }
    }
  });

  it('leaves other layouts to the decoder: a page with an unknown compression gives an InputError naming the file, not raw bytes', async () => {
    const p = join(dir, 'compressed.tif');
    await writeTiff(p, { data: Float32Array.from({ length: 2 * 4 * 4 }, (_, i) => i), shape: [2, 4, 4] });
    const bytes = readFileSync(p);
    // Patch the Compression entry (tag 259) of the first IFD from 1 (none) to 60000 (no such method).
    const ifd = bytes.readUInt32LE(4);
    const entries = bytes.readUInt16LE(ifd);
    let patched = false;
    for (let e = 0; e < entries; e++) {
      const at = ifd + 2 + 12 * e;
      if (bytes.readUInt16LE(at) === 259) {
        bytes.writeUInt16LE(60000, at + 8);
        patched = true;
      }
    }
    expect(patched).toBe(true);
    writeFileSync(p, bytes);
    const err = await readTiff(p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).file).toBe(p);
    expect((err as Error).message).toMatch(/cannot decode TIFF page 0/);
  });

  it('writes BigTIFF on request, readable by geotiff and by our reader', async () => {
    const data = Float32Array.from({ length: 2 * 6 * 7 }, (_, i) => i / 7);
    const p = join(dir, 'big.tif');
    await writeTiff(p, { data, shape: [2, 6, 7] }, { bigTiff: true });
    const bytes = readFileSync(p);
    expect(bytes.readUInt16LE(2)).toBe(43);
    const g = await geotiffPages(p);
    expect(g.bigTiff).toBe(true);
    expect(g.pages.flatMap((x) => x.data)).toEqual(Array.from(data));
    expect(Array.from((await readTiff(p)).data)).toEqual(Array.from(data));
  });

  it('reads a folder of single-page TIFFs in natural order, and a list of files, and a row range', async () => {
    const d = join(dir, 'folder');
    mkdirSync(d);
    // written by geotiff's writer in a scrambled order; page value = its number
    for (const k of [10, 2, 1, 0]) geotiffSingle(join(d, `raw_${k}.tiff`), new Uint16Array(6).fill(k * 100 + 1), 3, 2);
    writeFileSync(join(d, 'notes.txt'), 'not an image');
    expect((await listTiffFiles(d)).map((f) => f.slice(d.length + 1))).toEqual(['raw_0.tiff', 'raw_1.tiff', 'raw_2.tiff', 'raw_10.tiff']);
    const v = await readTiff(d);
    expect(v.shape).toEqual([4, 2, 3]);
    expect([v.data[0], v.data[6], v.data[12], v.data[18]]).toEqual([1, 101, 201, 1001]);
    const l = await readTiffFiles([join(d, 'raw_10.tiff'), join(d, 'raw_1.tiff')]);
    expect([l.data[0], l.data[6]]).toEqual([1001, 101]);
    const rows = await readTiff(d, { rows: [1, 2] });
    expect(rows.shape).toEqual([4, 1, 3]);
  });

  it('reads the real I13 projections (91 × 135 × 160 uint16) and float32 dark/flat', async () => {
    const v = await readTiff(join(I13, 'projections'));
    expect(v.shape).toEqual([91, 135, 160]);
    const info = await tiffInfo(join(I13, 'projections/raw_00000.tiff'));
    expect(info).toMatchObject({ bitsPerSample: 16, sampleFormat: 1, pages: 1 });
    // values are integer counts
    let integral = true;
    for (let i = 0; i < v.data.length; i += 97) if (!Number.isInteger(v.data[i])) integral = false;
    expect(integral).toBe(true);
    // the first file in natural order is raw_00000
    const first = await readTiff(join(I13, 'projections/raw_00000.tiff'));
    expect(Array.from(first.data.subarray(0, 500))).toEqual(Array.from(v.data.subarray(0, 500)));
    const flat = await readTiff(join(I13, 'flat_00001.tiff'));
    const dark = await readTiff(join(I13, 'dark_00001.tiff'));
    expect(flat.shape).toEqual([1, 135, 160]);
    expect(dark.shape).toEqual([1, 135, 160]);
    expect((await tiffInfo(join(I13, 'flat_00001.tiff'))).sampleFormat).toBe(3);
    expect(flat.data[0]).toBe(0); // the documented zero pixel
    const mean = (a: Float32Array) => a.reduce((s, x) => s + x, 0) / a.length;
    expect(mean(flat.data)).toBeGreaterThan(mean(dark.data));
  });

  it('gives InputErrors naming the file: missing, not a TIFF, mixed shapes, unsupported format, colour, empty folder', async () => {
    const missing = join(dir, 'missing.tif');
    await expect(readTiff(missing)).rejects.toThrow(InputError);
    await expect(readTiff(missing)).rejects.toThrow(`${missing}: file not found`);
    await expect(readTiffFiles([missing])).rejects.toThrow(`${missing}: file not found`);

    const txt = join(dir, 'fake.tif');
    writeFileSync(txt, 'this is plain text pretending to be a TIFF');
    await expect(readTiff(txt)).rejects.toThrow(`${txt}: not a TIFF file`);

    const d = join(dir, 'mixed');
    mkdirSync(d);
    geotiffSingle(join(d, 'p_1.tif'), new Uint16Array(6), 3, 2);
    geotiffSingle(join(d, 'p_2.tif'), new Uint16Array(6), 3, 2);
    geotiffSingle(join(d, 'p_10.tif'), new Uint16Array(8), 4, 2);
    geotiffSingle(join(d, 'p_11.tif'), new Uint16Array(8), 2, 4);
    const err = await readTiff(d).catch((e: unknown) => e as InputError);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).file).toBe(join(d, 'p_10.tif'));
    expect((err as InputError).message).toContain('mixed shapes in the stack: this image is 2 × 4 (rows × cols)');
    expect((err as InputError).message).toContain(`${join(d, 'p_1.tif')} is 2 × 3`);

    // a float32 TIFF whose SampleFormat we patch to 6 (complex float)
    const cf = join(dir, 'complex.tif');
    await writeTiff(cf, { data: new Float32Array(4), shape: [2, 2] }, { imagej: false });
    const bytes = readFileSync(cf);
    const ifd = bytes.readUInt32LE(4);
    const n = bytes.readUInt16LE(ifd);
    for (let e = 0; e < n; e++) if (bytes.readUInt16LE(ifd + 2 + 12 * e) === 339) bytes.writeUInt16LE(6, ifd + 2 + 12 * e + 8);
    writeFileSync(cf, bytes);
    await expect(readTiff(cf)).rejects.toThrow(`${cf}: unsupported sample format: 32-bit complex float`);

    const rgb = join(dir, 'rgb.tif');
    writeFileSync(rgb, new Uint8Array(writeArrayBuffer(new Uint8Array(18), { width: 3, height: 2, SamplesPerPixel: 3, BitsPerSample: [8, 8, 8], PhotometricInterpretation: 2 })));
    await expect(readTiff(rgb)).rejects.toThrow(/rgb\.tif: has 3 samples per pixel/);

    const empty = join(dir, 'empty');
    mkdirSync(empty);
    await expect(readTiff(empty)).rejects.toThrow(`${empty}: no .tif/.tiff files in this folder`);
    await expect(writeTiff(join(dir, 'bad.tif'), { data: new Float32Array(3), shape: [2, 2] })).rejects.toThrow(/needs 4 values/);
  });
});
