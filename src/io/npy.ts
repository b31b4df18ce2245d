/**
 * NumPy `.npy` files (format versions 1.0, 2.0 and 3.0), read and written without numpy.
 *
 * Layout: the magic `\x93NUMPY`, major and minor version bytes, a little-endian header length
 * (uint16 in v1, uint32 in v2/v3), an ASCII (v3: UTF-8) Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` padded with spaces to a multiple
 * of 64 bytes and ended by '\n', then the raw data.
 *
 * Reading: every little- and big-endian numeric dtype (bool, int8..int64, uint8..uint64,
 * float16/32/64, complex64/128). Results are in host (little-endian) order and C order:
 * Fortran-ordered files are transposed on reading. complex64/complex128 become interleaved
 * (re, im) Float32Array/Float64Array with `complex: true`; bool becomes Uint8Array; float16
 * becomes Float32Array; int64/uint64 become Float64Array (exact up to 2^53, which covers
 * counts and indices). `dtype` always reports the dtype as stored in the file (e.g. '>f4').
 */
import { open } from 'node:fs/promises';
import { InputError } from '../core/errors.js';
import { writeFileAtomic } from './atomic.js';
import { requireFile, assertFitsInMemory, type NumericArray } from './validate.js';
import { halfToFloat } from './half.js';

/** The typed arrays an {@link NpyArray} can hold. */
export type NpyData = NumericArray;

/** An n-D array read from (or to be written to) a `.npy` file. C order, host byte order. */
export interface NpyArray {
  /** Elements in C order; for complex data interleaved (re, im), so `data.length = 2 · size`. */
  data: NpyData;
  /** The array's shape (`[]` for a 0-d scalar); for complex data it excludes the pair axis. */
  shape: number[];
  /** The dtype as stored in the file, numpy style (e.g. '<f4', '>u2', '<c8', '|u1'). */
  dtype: string;
  /** True for complex64/complex128 (interleaved data). */
  complex?: boolean;
}

/** What {@link writeNpy} needs: data, shape and whether the data are interleaved complex. */
export interface NpyInput {
  /** Elements in C order (interleaved re, im when `complex`). */
  data: NpyData;
  /** The array's shape (excluding the pair axis for complex). */
  shape: readonly number[];
  /** Interleaved complex data: written as complex64 (Float32Array) or complex128 (Float64Array). */
  complex?: boolean;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** How a stored element kind maps to what we hand out. */
interface Kind {
  /** bytes per stored scalar (per component for complex) */
  size: number;
  complex: boolean;
  /** builds the output array from little-endian raw bytes of `count` scalars */
  make(raw: Uint8Array, count: number): NpyData;
  /** output typed array when the raw bytes can be used directly (no conversion) */
  direct?: new (buffer: ArrayBuffer, byteOffset: number, length: number) => NpyData;
}

function viewOf<T>(C: new (b: ArrayBuffer, o: number, l: number) => T, raw: Uint8Array, count: number): T {
  if (raw.byteOffset % 8 === 0) return new C(raw.buffer as ArrayBuffer, raw.byteOffset, count);
  const copy = raw.slice();
  return new C(copy.buffer, 0, count);
}

function kindOf(char: string, size: number, file: string, descr: string): Kind {
  const key = `${char}${size}`;
  switch (key) {
    case 'f4':
      return { size: 4, complex: false, make: (r, n) => viewOf(Float32Array, r, n), direct: Float32Array };
    case 'f8':
      return { size: 8, complex: false, make: (r, n) => viewOf(Float64Array, r, n), direct: Float64Array };
    case 'c8':
      return { size: 4, complex: true, make: (r, n) => viewOf(Float32Array, r, n), direct: Float32Array };
    case 'c16':
      return { size: 8, complex: true, make: (r, n) => viewOf(Float64Array, r, n), direct: Float64Array };
    case 'u1':
    case 'b1':
      return { size: 1, complex: false, make: (r, n) => viewOf(Uint8Array, r, n), direct: Uint8Array };
    case 'i1':
      return { size: 1, complex: false, make: (r, n) => viewOf(Int8Array, r, n), direct: Int8Array };
    case 'u2':
      return { size: 2, complex: false, make: (r, n) => viewOf(Uint16Array, r, n), direct: Uint16Array };
    case 'i2':
      return { size: 2, complex: false, make: (r, n) => viewOf(Int16Array, r, n), direct: Int16Array };
    case 'u4':
      return { size: 4, complex: false, make: (r, n) => viewOf(Uint32Array, r, n), direct: Uint32Array };
    case 'i4':
      return { size: 4, complex: false, make: (r, n) => viewOf(Int32Array, r, n), direct: Int32Array };
    case 'f2':
      return {
        size: 2,
        complex: false,
        make: (r, n) => {
          const h = viewOf(Uint16Array, r, n);
          const out = new Float32Array(n);
          for (let i = 0; i < n; i++) out[i] = halfToFloat(h[i]!);
          return out;
        },
      };
    case 'i8':
    case 'u8':
      return {
        size: 8,
        complex: false,
        make: (r, n) => {
          const b = char === 'i' ? viewOf(BigInt64Array, r, n) : viewOf(BigUint64Array, r, n);
          const out = new Float64Array(n);
          for (let i = 0; i < n; i++) out[i] = Number(b[i]!);
          return out;
        },
      };
    default:
      throw new InputError(
        `unsupported .npy dtype '${descr}' (supported: bool, int8..int64, uint8..uint64, float16/32/64, complex64/128)`,
        file,
      );
  }
}

/** Parsed `.npy` header. */
export interface NpyHeader {
  /** numpy dtype string, e.g. '<f4' */
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** byte offset of the data in the file */
  dataOffset: number;
  /** format major version (1, 2 or 3) */
  version: number;
}

/** Parses the header at the start of `bytes` (at least the first 10 bytes plus the header). */
export function parseNpyHeader(bytes: Uint8Array, file = '<buffer>'): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) {
    throw new InputError('not a NumPy .npy file (missing the \\x93NUMPY signature)', file);
  }
  const major = bytes[6]!;
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = bytes[8]! | (bytes[9]! << 8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new InputError('truncated .npy header', file);
    headerLen = (bytes[8]! | (bytes[9]! << 8) | (bytes[10]! << 16)) + bytes[11]! * 2 ** 24;
    start = 12;
  } else {
    throw new InputError(`unsupported .npy format version ${major}.${bytes[7]} (supported: 1, 2, 3)`, file);
  }
  if (bytes.length < start + headerLen) throw new InputError('truncated .npy header', file);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descrM = /['"]descr['"]\s*:\s*(['"])([^'"]*)\1/.exec(text);
  const fortranM = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shapeM = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descrM) {
    if (/['"]descr['"]\s*:\s*\[/.test(text)) {
      throw new InputError('structured (record) .npy arrays are not supported; save a plain numeric array', file);
    }
    throw new InputError(`malformed .npy header (no 'descr'): ${text.trim()}`, file);
  }
  if (!fortranM || !shapeM) throw new InputError(`malformed .npy header: ${text.trim()}`, file);
  const shape = shapeM[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const v = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(v) || v < 0) throw new InputError(`malformed .npy shape (${shapeM[1]})`, file);
      return v;
    });
  return { descr: descrM[2]!, fortranOrder: fortranM[1] === 'True', shape, dataOffset: start + headerLen, version: major };
}

function splitDescr(descr: string, file: string): { order: '<' | '>' | '|'; char: string; size: number } {
  const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  if (!m) throw new InputError(`unsupported .npy dtype '${descr}'`, file);
  let order = (m[1] || '=') as '<' | '>' | '|' | '=';
  if (order === '=') order = '<'; // native; webrecon hosts are little endian
  let char = m[2]!;
  if (char === '?') char = 'b';
  return { order, char, size: Number(m[3]) };
}

function byteSwapInPlace(raw: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i + size <= raw.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = raw[a]!;
      raw[a] = raw[b]!;
      raw[b] = t;
    }
  }
}

/**
 * Reorders a Fortran-ordered (first index fastest) array into C order. `per` is the number of
 * scalars per element (2 for interleaved complex).
 */
export function fortranToC<T extends NpyData>(src: T, shape: readonly number[], per = 1): T {
  const nd = shape.length;
  const total = shape.reduce((a, b) => a * b, 1);
  const out = new (src.constructor as new (n: number) => T)(src.length);
  if (nd <= 1 || total === 0) {
    out.set(src as unknown as ArrayLike<number>);
    return out;
  }
  // Fortran strides in elements.
  const fstride = new Array<number>(nd);
  fstride[0] = 1;
  for (let d = 1; d < nd; d++) fstride[d] = fstride[d - 1]! * shape[d - 1]!;
  const idx = new Array<number>(nd).fill(0);
  let fOff = 0;
  const last = nd - 1;
  const nLast = shape[last]!;
  const sLast = fstride[last]!;
  for (let c = 0; c < total; c += nLast) {
    // inner loop over the last (fastest in C) axis
    let f = fOff;
    for (let k = 0; k < nLast; k++, f += sLast) {
      const o = (c + k) * per;
      const s = f * per;
      for (let p = 0; p < per; p++) out[o + p] = src[s + p]!;
    }
    // advance the multi-index over axes 0..last-1 (C order: axis last-1 fastest)
    for (let d = last - 1; d >= 0; d--) {
      idx[d]!++;
      fOff += fstride[d]!;
      if (idx[d]! < shape[d]!) break;
      fOff -= fstride[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

function decode(header: NpyHeader, raw: Uint8Array, file: string): NpyArray {
  const { order, char, size } = splitDescr(header.descr, file);
  const kind = kindOf(char, size, file, header.descr);
  const count = header.shape.reduce((a, b) => a * b, 1) * (kind.complex ? 2 : 1);
  if (order === '>') byteSwapInPlace(raw, kind.size);
  let data = kind.make(raw, count);
  if (header.fortranOrder) data = fortranToC(data, header.shape, kind.complex ? 2 : 1);
  const out: NpyArray = { data, shape: header.shape, dtype: header.descr };
  if (kind.complex) out.complex = true;
  return out;
}

function storedBytes(header: NpyHeader, file: string): number {
  const { char, size } = splitDescr(header.descr, file);
  kindOf(char, size, file, header.descr); // validates the dtype early
  return header.shape.reduce((a, b) => a * b, 1) * size;
}

/**
 * Parses a whole `.npy` file held in memory (e.g. one member of an `.npz`).
 * @param file name used in error messages
 */
export function parseNpy(bytes: Uint8Array, file = '<buffer>'): NpyArray {
  const header = parseNpyHeader(bytes, file);
  const need = storedBytes(header, file);
  if (bytes.length - header.dataOffset < need) {
    throw new InputError(`truncated .npy file: the header promises ${need} data bytes but only ${bytes.length - header.dataOffset} follow`, file);
  }
  // copy into a fresh, aligned buffer we own (byte swapping works in place)
  const raw = new Uint8Array(need);
  raw.set(bytes.subarray(header.dataOffset, header.dataOffset + need));
  return decode(header, raw, file);
}

/**
 * Reads a `.npy` file from disk (streamed into one buffer, so files above 2 GiB work).
 * @throws InputError for a missing file, a file that is not .npy, a truncated file, an
 *   unsupported dtype, or an array that cannot fit in free memory.
 */
export async function readNpy(path: string): Promise<NpyArray> {
  const size = await requireFile(path);
  const fh = await open(path, 'r');
  try {
    const probe = new Uint8Array(Math.min(size, 4096));
    await fh.read(probe, 0, probe.length, 0);
    let head = probe;
    if (probe.length >= 12 && MAGIC.every((m, i) => probe[i] === m)) {
      const major = probe[6]!;
      const hl = major === 1 ? probe[8]! | (probe[9]! << 8) : (probe[8]! | (probe[9]! << 8) | (probe[10]! << 16)) + probe[11]! * 2 ** 24;
      const full = (major === 1 ? 10 : 12) + hl;
      if (full > probe.length && full <= size) {
        head = new Uint8Array(full);
        await fh.read(head, 0, full, 0);
      }
    }
    const header = parseNpyHeader(head, path);
    const need = storedBytes(header, path);
    if (size - header.dataOffset < need) {
      throw new InputError(
        `truncated .npy file: shape (${header.shape.join(', ')}) of '${header.descr}' needs ${need} data bytes but only ${size - header.dataOffset} follow`,
        path,
      );
    }
    assertFitsInMemory(need, `the array in ${path}`, 'use a smaller file or a machine with more memory');
    const raw = new Uint8Array(need);
    const CH = 1 << 30;
    for (let off = 0; off < need; ) {
      const { bytesRead } = await fh.read(raw, off, Math.min(CH, need - off), header.dataOffset + off);
      if (bytesRead === 0) throw new InputError('unexpected end of file', path);
      off += bytesRead;
    }
    return decode(header, raw, path);
  } finally {
    await fh.close();
  }
}

/** numpy dtype written for a typed array (little endian). */
export function npyDescrFor(data: NpyData, complex = false): string {
  if (complex) {
    if (data instanceof Float32Array) return '<c8';
    if (data instanceof Float64Array) return '<c16';
    throw new InputError('complex .npy output needs a Float32Array (complex64) or Float64Array (complex128)');
  }
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof Float64Array) return '<f8';
  if (data instanceof Int32Array) return '<i4';
  if (data instanceof Uint32Array) return '<u4';
  if (data instanceof Int16Array) return '<i2';
  if (data instanceof Uint16Array) return '<u2';
  if (data instanceof Int8Array) return '|i1';
  if (data instanceof Uint8Array) return '|u1';
  throw new InputError('unsupported array type for .npy output');
}

/** Builds the `.npy` header bytes (version 1.0, or 2.0 when the header exceeds 65535 bytes). */
export function npyHeaderBytes(descr: string, shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  for (const version of [1, 2]) {
    const pre = version === 1 ? 10 : 12;
    const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
    const hl = total - pre;
    if (version === 1 && hl > 0xffff) continue;
    const out = new Uint8Array(total);
    out.set(MAGIC, 0);
    out[6] = version;
    out[7] = 0;
    if (version === 1) {
      out[8] = hl & 0xff;
      out[9] = hl >> 8;
    } else {
      new DataView(out.buffer).setUint32(8, hl, true);
    }
    for (let i = 0; i < dict.length; i++) out[pre + i] = dict.charCodeAt(i);
    out.fill(0x20, pre + dict.length, total - 1);
    out[total - 1] = 0x0a;
    return out;
  }
  throw new Error('unreachable');
}

/**
 * Writes a `.npy` file (format 1.0; 2.0 for huge headers) atomically: float32 → '<f4',
 * float64 → '<f8', complex Float32Array → '<c8' (complex64), complex Float64Array → '<c16',
 * uint8/uint16/uint32/int8/int16/int32 likewise.
 * @throws InputError when `data.length` does not match the shape.
 */
export async function writeNpy(path: string, array: NpyInput): Promise<void> {
  const complex = array.complex ?? false;
  const descr = npyDescrFor(array.data, complex);
  const n = array.shape.reduce((a, b) => a * b, 1) * (complex ? 2 : 1);
  if (array.shape.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new InputError(`invalid shape (${array.shape.join(', ')}) for .npy output`, path);
  }
  if (n !== array.data.length) {
    throw new InputError(
      `cannot write: shape (${array.shape.join(', ')})${complex ? ' complex' : ''} needs ${n} values but the data hold ${array.data.length}`,
      path,
    );
  }
  await writeFileAtomic(path, [npyHeaderBytes(descr, array.shape), array.data]);
}

/** A float32 (or interleaved complex64) copy/view of an {@link NpyArray}, keeping the shape. */
export interface Float32Npy {
  data: Float32Array;
  shape: number[];
  complex?: boolean;
}

/**
 * Converts any {@link NpyArray} to float32 (complex stays interleaved complex64). Float32Array
 * data are returned as they are (no copy); other types are converted element by element.
 */
export function toFloat32(npy: { data: NpyData; shape: number[]; complex?: boolean }): Float32Npy {
  const data = npy.data instanceof Float32Array ? npy.data : Float32Array.from(npy.data as ArrayLike<number>);
  const out: Float32Npy = { data, shape: npy.shape };
  if (npy.complex) out.complex = true;
  return out;
}
