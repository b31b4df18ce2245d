import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { writeOrthoPreview, writeImagePng, percentileWindow, toGrey8, ORTHO_GAP } from '../../src/io/preview.js';
import { InputError } from '../../src/core/errors.js';
import type { Volume } from '../../src/core/array.js';
import { tempDir } from './tmp.js';

const dir = tempDir('webrecon-preview-');

/** Decodes a PNG (second implementation: pngjs's reader) to its grey channel. */
function readGrey(path: string): { width: number; height: number; grey: Uint8Array; text: string } {
  const bytes = readFileSync(path);
  const png = PNG.sync.read(bytes);
  const grey = new Uint8Array(png.width * png.height);
  for (let i = 0; i < grey.length; i++) grey[i] = png.data[4 * i]!;
  return { width: png.width, height: png.height, grey, text: bytes.toString('latin1') };
}

describe('PNG previews', () => {
  it('windows robustly: percentiles ignore a few outliers and NaN', () => {
    const v = Float32Array.from({ length: 1000 }, (_, i) => i / 999);
    v[3] = 1e9;
    v[4] = -1e9;
    v[5] = NaN;
    const [lo, hi] = percentileWindow(v, 0.5, 99.5);
    expect(lo).toBeGreaterThan(-0.01);
    expect(hi).toBeLessThan(1.01);
    expect(Array.from(toGrey8(Float32Array.of(0, 0.5, 1, 2, -1, NaN), [0, 1]))).toEqual([0, 128, 255, 255, 0, 0]);
    expect(Array.from(toGrey8(Float32Array.of(3, 3), [3, 3]))).toEqual([128, 128]);
  });

  it('writes an image as 8-bit grey with the window given, and a Title text chunk', async () => {
    const p = join(dir, 'img.png');
    const data = Float32Array.from({ length: 6 * 10 }, (_, i) => (i % 10) / 9);
    await writeImagePng(p, { data, shape: [6, 10] }, { window: [0, 1], title: 'ramp' });
    const r = readGrey(p);
    expect([r.width, r.height]).toEqual([10, 6]);
    expect(Array.from(r.grey.subarray(10, 20))).toEqual(Array.from({ length: 10 }, (_, i) => Math.round((i / 9) * 255)));
    expect(r.text).toContain('tEXtTitle\0ramp');
    expect(readFileSync(p)[25]).toBe(0); // IHDR colour type 0: greyscale
  });

  it('puts the three central slices of a [z, y, x] volume side by side', async () => {
    const [nz, ny, nx] = [6, 10, 14];
    const data = new Float32Array(nz * ny * nx);
    // value encodes which axis position: bright plane z = 3, y = 5, x = 7 (the central ones)
    for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) data[(z * ny + y) * nx + x] = (y === 2 ? 1 : 0) + (x === 1 ? 2 : 0) + (z === 4 ? 4 : 0);
    const vol: Volume = { data, shape: [nz, ny, nx] };
    const p = join(dir, 'ortho.png');
    await writeOrthoPreview(p, vol, { title: 'test volume' });
    const r = readGrey(p);
    expect(r.width).toBe(nx + ORTHO_GAP + nx + ORTHO_GAP + ny);
    expect(r.height).toBe(Math.max(ny, nz));
    expect(r.text).toContain('test volume (axial z=3, coronal y=5, sagittal x=7 of 6x10x14');
    const px = (row: number, col: number) => r.grey[row * r.width + col]!;
    // axial z=3: row y=2 brighter than y=3; column x=1 bright
    expect(px(2, 5)).toBeGreaterThan(px(3, 5));
    expect(px(3, 1)).toBeGreaterThan(px(3, 5));
    // coronal y=5 (rows z): row z=4 bright, column x=1 bright
    const c0 = nx + ORTHO_GAP;
    expect(px(4, c0 + 5)).toBeGreaterThan(px(3, c0 + 5));
    expect(px(3, c0 + 1)).toBeGreaterThan(px(3, c0 + 5));
    // sagittal x=7 (rows z, columns y): row z=4 bright, column y=2 bright
    const s0 = 2 * (nx + ORTHO_GAP);
    expect(px(4, s0 + 6)).toBeGreaterThan(px(3, s0 + 6));
    expect(px(3, s0 + 2)).toBeGreaterThan(px(3, s0 + 6));
    // the gap and the area below the shorter panels are black
    expect(px(0, nx + 1)).toBe(0);
    expect(px(ny - 1, c0 + 3)).toBe(0);
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('gives InputErrors for a wrong extension and a bad shape', async () => {
    const vol: Volume = { data: new Float32Array(8), shape: [2, 2, 2] };
    await expect(writeOrthoPreview(join(dir, 'x.jpg'), vol)).rejects.toThrow(InputError);
    await expect(writeOrthoPreview(join(dir, 'x.png'), { data: new Float32Array(7), shape: [2, 2, 2] })).rejects.toThrow(/does not match its 7 values/);
    await expect(writeImagePng(join(dir, 'y.png'), { data: new Float32Array(5), shape: [2, 3] })).rejects.toThrow(InputError);
  });
});
