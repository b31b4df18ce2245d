import { describe, it, expect } from 'vitest';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy, writeNpy, parseNpy, toFloat32, fortranToC } from '../../src/io/npy.js';
import { InputError } from '../../src/core/errors.js';
import { freshSeed, rng } from '../helpers/gpu.js';
import { tempDir, DATA } from './tmp.js';

const dir = tempDir();

/** Builds a .npy file by hand (independent of writeNpy) from a header dict and raw data bytes. */
function handNpy(dict: string, raw: Uint8Array, version = 1): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  const out = new Uint8Array(total + raw.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const hl = total - pre;
  if (version === 1) new DataView(out.buffer).setUint16(8, hl, true);
  else new DataView(out.buffer).setUint32(8, hl, true);
  for (let i = 0; i < dict.length; i++) out[pre + i] = dict.charCodeAt(i);
  out.fill(0x20, pre + dict.length, total - 1);
  out[total - 1] = 10;
  out.set(raw, total);
  return out;
}

describe('npy', () => {
  it('round-trips float32, float64, complex64, uint16, int32, uint8 with exact values and shapes', async () => {
    const seed = freshSeed();
    const r = rng(seed);
    const cases = [
      { data: Float32Array.from({ length: 2 * 3 * 5 }, () => r() * 2 - 1), shape: [2, 3, 5] },
      { data: Float64Array.from({ length: 7 }, () => r() * 1e6), shape: [7] },
      { data: Float32Array.from({ length: 2 * 4 * 6 }, () => r() - 0.5), shape: [4, 6], complex: true },
      { data: Uint16Array.from({ length: 12 }, () => Math.floor(r() * 65536)), shape: [3, 4] },
      { data: Int32Array.from({ length: 6 }, () => Math.floor((r() - 0.5) * 2 ** 31)), shape: [1, 6] },
      { data: Uint8Array.from({ length: 4 }, () => Math.floor(r() * 256)), shape: [2, 2] },
      { data: Float32Array.of(3.5), shape: [] as number[] },
    ];
    for (const [i, c] of cases.entries()) {
      const p = join(dir, `rt${i}.npy`);
      await writeNpy(p, c);
      // header is padded to a multiple of 64 and ends with '\n'
      const bytes = readFileSync(p);
      const hl = bytes.readUInt16LE(8);
      expect((10 + hl) % 64, `seed ${seed}`).toBe(0);
      expect(bytes[10 + hl - 1]).toBe(10);
      const back = await readNpy(p);
      expect(back.shape, `case ${i} seed ${seed}`).toEqual(c.shape);
      expect(back.data.constructor).toBe(c.data.constructor);
      expect(Array.from(back.data), `case ${i} seed ${seed}`).toEqual(Array.from(c.data));
      expect(back.complex ?? false).toBe(c.complex ?? false);
    }
    expect((await readNpy(join(dir, 'rt2.npy'))).dtype).toBe('<c8');
    expect((await readNpy(join(dir, 'rt3.npy'))).dtype).toBe('<u2');
  });

  it('writes the header numpy writes for a 1-D shape (trailing comma)', async () => {
    const p = join(dir, 'hdr.npy');
    await writeNpy(p, { data: new Float32Array(3), shape: [3] });
    const text = readFileSync(p).subarray(10, 128).toString('latin1');
    expect(text).toContain("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }");
  });

  it('reads big-endian data (>f4, >u2, >c8, >i8) into host order', () => {
    const vals = [1.5, -2.25, 1e-3, 12345.678];
    const be = new DataView(new ArrayBuffer(16));
    vals.forEach((v, i) => be.setFloat32(4 * i, v, false));
    const a = parseNpy(handNpy("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", new Uint8Array(be.buffer)));
    expect(a.dtype).toBe('>f4');
    expect(a.shape).toEqual([2, 2]);
    expect(Array.from(a.data)).toEqual(Array.from(Float32Array.from(vals)));

    const u = new DataView(new ArrayBuffer(6));
    [1, 258, 65535].forEach((v, i) => u.setUint16(2 * i, v, false));
    const b = parseNpy(handNpy("{'descr': '>u2', 'fortran_order': False, 'shape': (3,), }", new Uint8Array(u.buffer)));
    expect(b.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(b.data)).toEqual([1, 258, 65535]);

    const c = new DataView(new ArrayBuffer(16));
    [1, 2, -3, 4.5].forEach((v, i) => c.setFloat32(4 * i, v, false));
    const cc = parseNpy(handNpy("{'descr': '>c8', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(c.buffer)));
    expect(cc.complex).toBe(true);
    expect(Array.from(cc.data)).toEqual([1, 2, -3, 4.5]);

    const l = new DataView(new ArrayBuffer(16));
    l.setBigInt64(0, -5n, false);
    l.setBigInt64(8, 2n ** 40n, false);
    const ll = parseNpy(handNpy("{'descr': '>i8', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(l.buffer)));
    expect(Array.from(ll.data)).toEqual([-5, 2 ** 40]);
  });

  it('transposes fortran_order data to C order (2-D, 3-D and complex)', () => {
    // a[i, j] = 10 i + j for shape (2, 3); Fortran order stores column by column.
    const f = Float32Array.of(0, 10, 1, 11, 2, 12);
    const a = parseNpy(handNpy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", new Uint8Array(f.buffer)));
    expect(Array.from(a.data)).toEqual([0, 1, 2, 10, 11, 12]);

    // 3-D (2, 3, 4): a[i,j,k] = 100 i + 10 j + k; Fortran order: i fastest, then j, then k.
    const shape = [2, 3, 4];
    const f3 = new Float64Array(24);
    let n = 0;
    for (let k = 0; k < 4; k++) for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) f3[n++] = 100 * i + 10 * j + k;
    const b = parseNpy(handNpy("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3, 4), }", new Uint8Array(f3.buffer)));
    expect(b.shape).toEqual(shape);
    n = 0;
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) expect(b.data[n++]).toBe(100 * i + 10 * j + k);

    // complex (2, 2) Fortran: element (i, j) = (i + 2j) + i·(10 i + j)
    const fc = new Float32Array(8);
    n = 0;
    for (let j = 0; j < 2; j++) for (let i = 0; i < 2; i++) { fc[n++] = i + 2 * j; fc[n++] = 10 * i + j; }
    const c = parseNpy(handNpy("{'descr': '<c8', 'fortran_order': True, 'shape': (2, 2), }", new Uint8Array(fc.buffer)));
    expect(Array.from(c.data)).toEqual([0, 0, 2, 1, 1, 10, 3, 11]);
    // fortranToC of a 1-D array is a copy
    expect(Array.from(fortranToC(Float32Array.of(1, 2, 3), [3]))).toEqual([1, 2, 3]);
  });

  it('reads version 2 and 3 headers, bool and float16', () => {
    const v2 = parseNpy(handNpy("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(Int16Array.of(-7, 9).buffer), 2));
    expect(Array.from(v2.data)).toEqual([-7, 9]);
    const v3 = parseNpy(handNpy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", Uint8Array.of(1, 0, 1), 3));
    expect(Array.from(v3.data)).toEqual([1, 0, 1]);
    // float16: 1.0 = 0x3c00, -2.0 = 0xc000, 0.5 = 0x3800
    const h = parseNpy(handNpy("{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }", new Uint8Array(Uint16Array.of(0x3c00, 0xc000, 0x3800).buffer)));
    expect(Array.from(h.data)).toEqual([1, -2, 0.5]);
  });

  it('toFloat32 converts integer data and keeps float32 without a copy', () => {
    const u = { data: Uint16Array.of(1, 65535), shape: [2], dtype: '<u2' };
    const f = toFloat32(u);
    expect(f.data).toBeInstanceOf(Float32Array);
    expect(Array.from(f.data)).toEqual([1, 65535]);
    const g = { data: Float32Array.of(1, 2), shape: [1], dtype: '<c8', complex: true };
    expect(toFloat32(g).data).toBe(g.data);
    expect(toFloat32(g).complex).toBe(true);
  });

  it('reads the real Siemens-star npy files (uint16 data, float32 scan, complex64 probe)', async () => {
    const base = join(DATA, 'ptycho/siemens-star-tike');
    const data = await readNpy(join(base, 'data.npy'));
    expect(data.shape).toEqual([516, 128, 128]);
    expect(data.data).toBeInstanceOf(Uint16Array);
    let max = 0;
    for (const v of data.data) max = Math.max(max, v);
    expect(max).toBe(963);
    const scan = await readNpy(join(base, 'scan.npy'));
    expect(scan.shape).toEqual([516, 2]);
    expect(scan.dtype).toBe('<f4');
    let lo = Infinity, hi = -Infinity;
    for (const v of scan.data) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    expect(lo).toBeGreaterThan(-170);
    expect(lo).toBeLessThan(-150);
    expect(hi).toBeGreaterThan(150);
    expect(hi).toBeLessThan(175);
    const probe = await readNpy(join(base, 'probe.npy'));
    expect(probe.shape).toEqual([128, 128]);
    expect(probe.complex).toBe(true);
    expect(probe.data).toBeInstanceOf(Float32Array);
    expect(probe.data.length).toBe(2 * 128 * 128);
  });

  it('gives InputErrors naming the file for missing, non-npy, truncated and unsupported files', async () => {
    const missing = join(dir, 'nope.npy');
    await expect(readNpy(missing)).rejects.toThrow(InputError);
    await expect(readNpy(missing)).rejects.toThrow(`${missing}: file not found`);
    const txt = join(dir, 'text.npy');
    writeFileSync(txt, 'hello, not numpy at all');
    await expect(readNpy(txt)).rejects.toThrow(/text\.npy: not a NumPy \.npy file/);
    const trunc = join(dir, 'trunc.npy');
    writeFileSync(trunc, handNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (10,), }", new Uint8Array(12)));
    await expect(readNpy(trunc)).rejects.toThrow(/trunc\.npy: truncated \.npy file/);
    const obj = join(dir, 'obj.npy');
    writeFileSync(obj, handNpy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)));
    await expect(readNpy(obj)).rejects.toThrow(/obj\.npy: unsupported \.npy dtype '\|O'/);
    const rec = join(dir, 'rec.npy');
    writeFileSync(rec, handNpy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)));
    await expect(readNpy(rec)).rejects.toThrow(/structured/);
    await expect(writeNpy(join(dir, 'bad.npy'), { data: new Float32Array(5), shape: [2, 3] })).rejects.toThrow(
      /needs 6 values but the data hold 5/,
    );
  });
});
