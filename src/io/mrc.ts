/**
 * MRC2014 files (the format of IMOD, Chimera/ChimeraX, RELION, cryoSPARC).
 *
 * Layout: a 1024-byte header of 256 little-endian 4-byte words, an optional extended header of
 * NSYMBT bytes, then the data with X (columns) fastest, then Y (rows), then Z (sections). A
 * webrecon array [slices, rows, cols] therefore maps to NZ = slices, NY = rows, NX = cols with
 * no reordering.
 *
 * Writing: mode 2 (float32) with the full MRC2014 header (cell = voxel size × dimensions in Å,
 * angles 90°, axes 1 2 3, statistics, 'MAP ', machine stamp 0x44 0x44 0 0, labels).
 * Reading: modes 0 (int8; unsigned when IMOD's flags say so), 1 (int16), 2 (float32), 6 (uint16)
 * and 12 (float16), either byte order (from the machine stamp), converted to float32.
 */
import { open } from 'node:fs/promises';
import { InputError } from '../core/errors.js';
import type { Volume } from '../core/array.js';
import { writeFileAtomic } from './atomic.js';
import { requireFile, assertFitsInMemory } from './validate.js';
import { halfToFloat } from './half.js';

/** Options of {@link writeMrc}. */
export interface MrcWriteOptions {
  /** Voxel size in Å, one value or [x, y, z] (default 1 Å). */
  voxelSize?: number | [number, number, number];
  /** ORIGIN words in Å (default 0, 0, 0). */
  origin?: [number, number, number];
  /** Up to 10 labels of at most 80 characters (default one 'webrecon' label with the date). */
  labels?: string[];
  /**
   * 'volume' (default) writes ISPG = 1 (a 3-D map); 'stack' writes ISPG = 0 (a stack of images,
   * e.g. a tilt series, as IMOD's .st/.ali files are).
   */
  kind?: 'volume' | 'stack';
}

/** What {@link readMrc} returns. */
export interface MrcData {
  /** The data as float32 [NZ, NY, NX]. */
  volume: Volume;
  /** MRC mode of the file (0, 1, 2, 6 or 12). */
  mode: number;
  /** Voxel size in Å from CELLA / (MX, MY, MZ); 0 where the header leaves it undefined. */
  voxelSize: [number, number, number];
  /** ORIGIN words. */
  origin: [number, number, number];
  /** Header statistics as stored (DMIN, DMAX, DMEAN, RMS). */
  stats: { min: number; max: number; mean: number; rms: number };
  /** ISPG (0 for image stacks, 1 for volumes). */
  spaceGroup: number;
  /** Non-empty labels. */
  labels: string[];
  /** True when the file was big endian. */
  bigEndian: boolean;
}

const HEADER = 1024;
const IMOD_STAMP = 1146047817;

function voxelTriple(v: MrcWriteOptions['voxelSize']): [number, number, number] {
  if (v === undefined) return [1, 1, 1];
  if (typeof v === 'number') return [v, v, v];
  return v;
}

/** Header statistics of float data: min, max, mean and RMS deviation from the mean (float64 sums). */
export function mrcStatistics(data: ArrayLike<number>): { min: number; max: number; mean: number; rms: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const mean = data.length ? sum / data.length : 0;
  let ss = 0;
  for (let i = 0; i < data.length; i++) {
    const d = data[i]! - mean;
    ss += d * d;
  }
  return { min: data.length ? min : 0, max: data.length ? max : 0, mean, rms: data.length ? Math.sqrt(ss / data.length) : 0 };
}

/** Builds the 1024-byte MRC2014 header for float32 data of shape [nz, ny, nx]. */
export function mrcHeader(shape: readonly [number, number, number], data: ArrayLike<number>, options: MrcWriteOptions = {}): Uint8Array {
  const [nz, ny, nx] = shape;
  const h = new Uint8Array(HEADER);
  const dv = new DataView(h.buffer);
  const i32 = (word: number, v: number) => dv.setInt32(4 * (word - 1), v, true);
  const f32 = (word: number, v: number) => dv.setFloat32(4 * (word - 1), v, true);
  const [vx, vy, vz] = voxelTriple(options.voxelSize);
  const [ox, oy, oz] = options.origin ?? [0, 0, 0];
  const st = mrcStatistics(data);
  i32(1, nx);
  i32(2, ny);
  i32(3, nz);
  i32(4, 2); // MODE 2: float32
  i32(5, 0); // NXSTART
  i32(6, 0);
  i32(7, 0);
  i32(8, nx); // MX
  i32(9, ny);
  i32(10, nz);
  f32(11, nx * vx); // CELLA (Å)
  f32(12, ny * vy);
  f32(13, nz * vz);
  f32(14, 90); // CELLB
  f32(15, 90);
  f32(16, 90);
  i32(17, 1); // MAPC: columns = X
  i32(18, 2); // MAPR: rows = Y
  i32(19, 3); // MAPS: sections = Z
  f32(20, st.min);
  f32(21, st.max);
  f32(22, st.mean);
  i32(23, options.kind === 'stack' ? 0 : 1); // ISPG
  i32(24, 0); // NSYMBT: no extended header
  // EXTRA: EXTTYP (bytes 104..107) left blank, NVERSION (bytes 108..111) = 20140
  dv.setInt32(108, 20140, true);
  f32(50, ox); // ORIGIN
  f32(51, oy);
  f32(52, oz);
  h.set([0x4d, 0x41, 0x50, 0x20], 208); // 'MAP '
  h.set([0x44, 0x44, 0x00, 0x00], 212); // machine stamp: little endian
  f32(55, st.rms);
  const labels = (options.labels ?? [`webrecon ${new Date().toISOString().replace('T', ' ').slice(0, 19)}`]).slice(0, 10);
  i32(56, labels.length); // NLABL
  h.fill(0x20, 224, 1024);
  labels.forEach((text, k) => {
    const ascii = text.replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
    for (let c = 0; c < ascii.length; c++) h[224 + 80 * k + c] = ascii.charCodeAt(c);
  });
  return h;
}

/**
 * Writes a float32 volume [slices, rows, cols] as an MRC2014 mode-2 file, atomically.
 * @throws InputError when the data length does not match the shape.
 */
export async function writeMrc(path: string, volume: { data: Float32Array; shape: readonly number[] }, options: MrcWriteOptions = {}): Promise<void> {
  const shape = volume.shape.length === 2 ? [1, volume.shape[0]!, volume.shape[1]!] : [...volume.shape];
  if (shape.length !== 3 || shape.some((s) => !Number.isInteger(s) || s <= 0)) {
    throw new InputError(`MRC output needs a 2-D or 3-D shape, got (${volume.shape.join(', ')})`, path);
  }
  const n = shape[0]! * shape[1]! * shape[2]!;
  if (volume.data.length !== n) {
    throw new InputError(`cannot write: shape (${volume.shape.join(', ')}) needs ${n} values but the data hold ${volume.data.length}`, path);
  }
  const header = mrcHeader(shape as [number, number, number], volume.data, options);
  await writeFileAtomic(path, [header, volume.data]);
}

const MODE_BYTES: Record<number, number> = { 0: 1, 1: 2, 2: 4, 6: 2, 12: 2 };

/**
 * Reads an MRC/CCP4 file (.mrc, .map, .st, .ali, .rec, .mrcs) as float32 [NZ, NY, NX].
 * @throws InputError for a missing file, a file too short for its header, an unsupported mode
 *   (named), non-positive dimensions, a truncated data block, or a volume too big for memory.
 */
export async function readMrc(path: string): Promise<MrcData> {
  const size = await requireFile(path);
  if (size < HEADER) throw new InputError(`not an MRC file (only ${size} bytes; the header alone is 1024)`, path);
  const fh = await open(path, 'r');
  try {
    const h = new Uint8Array(HEADER);
    await fh.read(h, 0, HEADER, 0);
    const dv = new DataView(h.buffer);
    // byte order: the machine stamp says 0x44 (LE) or 0x11 (BE); fall back to a plausible MODE
    let le = true;
    if (h[212] === 0x11) le = false;
    else if (h[212] !== 0x44) {
      const modeLe = dv.getInt32(12, true);
      le = modeLe >= 0 && modeLe < 100;
    }
    const i32 = (word: number) => dv.getInt32(4 * (word - 1), le);
    const f32 = (word: number) => dv.getFloat32(4 * (word - 1), le);
    const nx = i32(1);
    const ny = i32(2);
    const nz = i32(3);
    const mode = i32(4);
    if (!(nx > 0 && ny > 0 && nz > 0) || nx > 1e7 || ny > 1e7 || nz > 1e7) {
      throw new InputError(`not an MRC file, or a damaged one (dimensions ${nx} × ${ny} × ${nz})`, path);
    }
    const bytesPer = MODE_BYTES[mode];
    if (bytesPer === undefined) {
      const names: Record<number, string> = { 3: 'complex int16', 4: 'complex float32', 16: 'RGB uint8', 101: '4-bit packed' };
      throw new InputError(
        `unsupported MRC mode ${mode}${names[mode] ? ` (${names[mode]})` : ''}; supported: 0 int8, 1 int16, 2 float32, 6 uint16, 12 float16`,
        path,
      );
    }
    const nsymbt = Math.max(0, i32(24));
    const count = nx * ny * nz;
    const need = count * bytesPer;
    const offset = HEADER + nsymbt;
    if (size - offset < need) {
      throw new InputError(`truncated MRC file: ${nx} × ${ny} × ${nz} of mode ${mode} needs ${need} data bytes but only ${size - offset} follow`, path);
    }
    assertFitsInMemory(count * 4 + need, `the volume in ${path}`, 'use a smaller file or a machine with more memory');
    const raw = new Uint8Array(need);
    for (let off = 0; off < need; ) {
      const { bytesRead } = await fh.read(raw, off, Math.min(1 << 30, need - off), offset + off);
      if (bytesRead === 0) throw new InputError('unexpected end of file', path);
      off += bytesRead;
    }
    const rv = new DataView(raw.buffer);
    const out = new Float32Array(count);
    // IMOD: mode 0 is unsigned unless its flags (word 40, bit 0) say signed
    const unsignedBytes = mode === 0 && i32(39) === IMOD_STAMP && (i32(40) & 1) === 0;
    switch (mode) {
      case 0:
        for (let i = 0; i < count; i++) out[i] = unsignedBytes ? rv.getUint8(i) : rv.getInt8(i);
        break;
      case 1:
        for (let i = 0; i < count; i++) out[i] = rv.getInt16(2 * i, le);
        break;
      case 2:
        if (le) out.set(new Float32Array(raw.buffer, 0, count));
        else for (let i = 0; i < count; i++) out[i] = rv.getFloat32(4 * i, false);
        break;
      case 6:
        for (let i = 0; i < count; i++) out[i] = rv.getUint16(2 * i, le);
        break;
      case 12:
        for (let i = 0; i < count; i++) out[i] = halfToFloat(rv.getUint16(2 * i, le));
        break;
    }
    const mx = i32(8);
    const my = i32(9);
    const mz = i32(10);
    const cell = [f32(11), f32(12), f32(13)];
    const vs = (c: number, m: number) => (m > 0 && c > 0 ? c / m : 0);
    const nlabl = Math.min(10, Math.max(0, i32(56)));
    const labels: string[] = [];
    for (let k = 0; k < nlabl; k++) {
      const text = new TextDecoder('latin1').decode(h.subarray(224 + 80 * k, 304 + 80 * k)).replace(/[\0\s]+$/, '');
      if (text) labels.push(text);
    }
    return {
      volume: { data: out, shape: [nz, ny, nx] },
      mode,
      voxelSize: [vs(cell[0]!, mx), vs(cell[1]!, my), vs(cell[2]!, mz)],
      origin: [f32(50), f32(51), f32(52)],
      stats: { min: f32(20), max: f32(21), mean: f32(22), rms: f32(55) },
      spaceGroup: i32(23),
      labels,
      bigEndian: !le,
    };
  } finally {
    await fh.close();
  }
}
