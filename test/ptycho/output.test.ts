/**
 * CXI result files (src/ptycho/output.ts writePtychoCxi over src/io/hdf5.ts writeHdf5Atomic):
 * written, read back with h5wasm (values, shapes, dtypes, attributes, links), atomic on failure.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePtychoCxi, CXI_VERSION } from '../../src/ptycho/output.js';
import type { PtychoResult } from '../../src/ptycho/recon.js';
import { scanGeometry } from '../../src/ptycho/scan.js';
import { openHdf5, writeHdf5Atomic } from '../../src/io/hdf5.js';
import { InputError } from '../../src/core/errors.js';
import { freshSeed, randomArray } from '../helpers/gpu.js';

const dir = mkdtempSync(join(tmpdir(), 'webrecon-cxi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fakeResult(seed: number, modes = 1): PtychoResult {
  const positions = Float64Array.from(randomArray(2 * 7, seed, -20, 20));
  const geometry = scanGeometry(positions, [16, 16], 2);
  const [rows, cols] = geometry.objectShape;
  return {
    object: { data: randomArray(2 * rows * cols, seed + 1), shape: [rows, cols], complex: true },
    probe: { data: randomArray(2 * modes * 256, seed + 2), shape: modes === 1 ? [16, 16] : [modes, 16, 16], complex: true },
    geometry,
    algorithm: 'epie',
    errors: [0.5, 0.25, 0.125],
    iterationSeconds: [0.1, 0.2, 0.3],
    totalSeconds: 1.5,
    device: 'test device',
    options: { algorithm: 'epie', iterations: 3 },
  };
}

describe('CXI result files', () => {
  it('object, probe, geometry, pixel size and the per-iteration errors read back exactly', async () => {
    const seed = freshSeed();
    const r = fakeResult(seed, 2);
    const path = join(dir, 'sub', 'result.cxi');
    await writePtychoCxi(path, r, { pixelSize: [2e-8, 3e-8], extra: { input: 'somewhere', truth: { objectError: 0.01 } } });
    const f = await openHdf5(path);
    try {
      expect(f.readNumber('cxi_version')).toBe(CXI_VERSION);
      expect(f.dtype('cxi_version')).toBe('<i4');
      expect(f.dtype('entry_1/image_1/x_pixel_size')).toBe('<f8');
      expect(f.attrs('entry_1').NX_class).toBe('NXentry');
      const obj = f.read('entry_1/image_1/data');
      expect(obj.dtype).toBe('<c8');
      expect(obj.complex).toBe(true);
      expect(obj.shape).toEqual(r.geometry.objectShape);
      expect(Array.from(obj.data), `seed ${seed}`).toEqual(Array.from(r.object.data));
      const probe = f.read('entry_1/image_2/data');
      expect(probe.dtype).toBe('<c8');
      expect(probe.shape).toEqual([2, 16, 16]);
      expect(Array.from(probe.data)).toEqual(Array.from(r.probe.data));
      // CXI's default data is a link to the object
      expect(Array.from(f.read('entry_1/data_1/data').data)).toEqual(Array.from(r.object.data));
      expect(f.readString('entry_1/image_1/data_type')).toBe('object');
      expect(f.readString('entry_1/image_2/data_type')).toBe('probe');
      expect(Array.from(f.read('entry_1/image_1/first_view_offset').data)).toEqual(r.geometry.offset);
      expect(Array.from(f.read('entry_1/image_1/position_shift').data)).toEqual(r.geometry.shift);
      const pos = f.read('entry_1/image_1/positions');
      expect(pos.shape).toEqual([7, 2]);
      expect(Array.from(pos.data)).toEqual(Array.from(r.geometry.positions));
      expect(f.readNumber('entry_1/image_1/x_pixel_size')).toBe(3e-8);
      expect(f.readNumber('entry_1/image_1/y_pixel_size')).toBe(2e-8);
      expect(f.attrs('entry_1/image_1/x_pixel_size').units).toBe('m');
      const [rows, cols] = r.geometry.objectShape;
      expect(Array.from(f.read('entry_1/image_1/image_size').data)).toEqual([cols * 3e-8, rows * 2e-8]);
      const proc = 'entry_1/image_1/process_1';
      expect(f.attrs(proc).NX_class).toBe('NXprocess');
      expect(f.readString(`${proc}/algorithm`)).toBe('epie');
      expect(f.readNumber(`${proc}/iterations`)).toBe(3);
      expect(f.dtype(`${proc}/iterations`)).toBe('<i4');
      expect(Array.from(f.read(`${proc}/fourier_error`).data)).toEqual(r.errors);
      expect(Array.from(f.read(`${proc}/iteration_seconds`).data)).toEqual(r.iterationSeconds);
      expect(f.readString(`${proc}/device`)).toBe('test device');
      const m = JSON.parse(f.readString(`${proc}/metrics_json`));
      expect(m.fourierError).toEqual(r.errors);
      expect(m.firstViewOffset).toEqual(r.geometry.offset);
      expect(m.truth.objectError).toBe(0.01);
      expect(m.input).toBe('somewhere');
      expect(f.readString('entry_1/image_2/process_1/algorithm')).toBe('epie');
      // no pixel size given → none written (checked below on a second file)
    } finally {
      f.close();
    }
    expect(readdirSync(join(dir, 'sub'))).toEqual(['result.cxi']); // no temporary left behind
    const p2 = join(dir, 'nopix.cxi');
    await writePtychoCxi(p2, fakeResult(seed + 5));
    const g = await openHdf5(p2);
    try {
      expect(g.has('entry_1/image_1/x_pixel_size')).toBe(false);
      expect(g.read('entry_1/image_2/data').shape).toEqual([16, 16]);
    } finally {
      g.close();
    }
  });

  it('atomic: a failing build leaves the previous file untouched and no temporary; a folder as target is an InputError', async () => {
    const path = join(dir, 'keep.cxi');
    writeFileSync(path, 'previous content');
    await expect(writeHdf5Atomic(path, (w) => {
      w.dataset('x', 1);
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(readFileSync(path, 'utf8')).toBe('previous content');
    expect(readdirSync(dir).filter((n) => n.includes('keep.cxi'))).toEqual(['keep.cxi']);
    const folder = join(dir, 'afolder.cxi');
    rmSync(folder, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(folder));
    const e = await writePtychoCxi(folder, fakeResult(1)).catch((x) => x);
    expect(e).toBeInstanceOf(InputError);
    expect(String(e.message)).toContain('folder');
    const blocker = join(dir, 'afile');
    writeFileSync(blocker, 'x');
    const e2 = await writePtychoCxi(join(blocker, 'r.cxi'), fakeResult(1)).catch((x) => x);
    expect(e2).toBeInstanceOf(InputError);
  });
});
