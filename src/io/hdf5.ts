/**
 * HDF5 reading through h5wasm (the HDF5 C library compiled to WebAssembly; its Node build reads
 * the real filesystem directly). Used for DXchange tomography files (/exchange/...) and CXI
 * ptychography files (entry_1/...).
 *
 * Everything numeric comes back as an {@link NpyArray} (C order, host byte order), the same
 * shape the .npy reader hands out, so callers treat both alike: integer and float datasets keep
 * their width (int64/uint64 become Float64Array, exact to 2^53), compound datasets of two
 * equal-width float members (h5py/CXI complex: `r`,`i`) become interleaved complex with
 * `complex: true`, booleans (h5py enums) become Uint8Array.
 *
 * Writing ({@link writeHdf5Atomic}): groups, datasets (complex as the h5py-compatible compound
 * {r, i}), attributes and soft links into a new file, written atomically.
 */
import { open as openFd, stat, access, rename, unlink } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { makeOutputFolder, syncFolder, temporaryNameFor } from './atomic.js';
import { InputError } from '../core/errors.js';
import type { Volume } from '../core/array.js';
import type { NpyArray, NpyData } from './npy.js';
import { toFloat32 } from './npy.js';
import { requireFile, assertFitsInMemory, assertRank } from './validate.js';

type H5Module = typeof import('h5wasm/node');
type H5File = InstanceType<H5Module['File']>;
type H5Dataset = InstanceType<H5Module['Dataset']>;
type H5Group = InstanceType<H5Module['Group']>;

let h5Promise: Promise<H5Module> | undefined;

/** Loads h5wasm's Node build once per process. */
async function h5(): Promise<H5Module> {
  h5Promise ??= (async () => {
    const mod = (await import('h5wasm/node')) as H5Module;
    await mod.ready;
    return mod;
  })();
  return h5Promise;
}

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]; // \x89HDF\r\n\x1a\n

/**
 * True when the file carries the HDF5 signature at offset 0 or at one of the user-block offsets
 * (512, 1024, 2048, ...) where HDF5 allows the superblock to start.
 */
export async function isHdf5File(path: string): Promise<boolean> {
  const size = await requireFile(path);
  const fh = await openFd(path, 'r');
  try {
    const buf = new Uint8Array(8);
    for (let off = 0; off + 8 <= size; off = off === 0 ? 512 : off * 2) {
      const { bytesRead } = await fh.read(buf, 0, 8, off);
      if (bytesRead === 8 && SIGNATURE.every((b, i) => buf[i] === b)) return true;
    }
    return false;
  } finally {
    await fh.close();
  }
}

/** Attribute values as plain JavaScript values. */
export type Hdf5AttrValue = number | string | boolean | number[] | string[] | null;

/** One entry of {@link Hdf5File.walk}. */
export interface Hdf5Entry {
  /** Path without the leading '/', e.g. 'entry_1/instrument_1/detector_1/data'. */
  path: string;
  kind: 'group' | 'dataset' | 'other';
  /** Dataset shape ([] for scalars); absent for groups. */
  shape?: number[];
  /** Dataset dtype in numpy notation ('<f4', '<i4', 'string', ...); absent for groups. */
  dtype?: string;
}

/** A [start, stop) range along one axis for {@link Hdf5File.readSlice}; `[]` means the whole axis. */
export type Hdf5Range = [] | [number, number];

/** An open HDF5 file. Paths may be written with or without the leading '/'. Call {@link Hdf5File.close} when done. */
export interface Hdf5File {
  /** The file's path as given. */
  readonly path: string;
  /** True when `p` names an existing group or dataset. */
  has(p: string): boolean;
  /** True when `p` names a dataset. */
  isDataset(p: string): boolean;
  /** True when `p` names a group. */
  isGroup(p: string): boolean;
  /** Shape of dataset `p` ([] for a scalar). */
  shape(p: string): number[];
  /** Dtype of dataset `p` in numpy notation: '<f4', '>u2', '<c8' (complex compound), 'string', 'compound', ... */
  dtype(p: string): string;
  /** Reads a whole numeric dataset (a scalar gives shape [] and one element). */
  read(p: string): NpyArray;
  /** Reads a hyperslab: one [start, stop) range (or [] for all) per axis. */
  readSlice(p: string, ranges: Hdf5Range[]): NpyArray;
  /** Reads a numeric dataset holding exactly one value (a scalar or a 1-element array). */
  readNumber(p: string): number;
  /** Reads a string dataset (scalar) or the first element of a string array. */
  readString(p: string): string;
  /** The attributes of a group or dataset ('/' for the root). */
  attrs(p: string): Record<string, Hdf5AttrValue>;
  /** Names (not paths) of the members of group `p` ('/' or '' for the root). */
  list(group?: string): string[];
  /** Every group and dataset below `group`, depth first, with shapes and dtypes of datasets. */
  walk(group?: string): Hdf5Entry[];
  /** Closes the file; further calls fail. */
  close(): void;
}

function clean(p: string): string {
  return p.replace(/^\/+/, '').replace(/\/+$/, '').replace(/\/+/g, '/');
}

interface Meta {
  type: number;
  size: number;
  signed: boolean;
  littleEndian: boolean;
  vlen?: boolean;
  shape?: number[] | null;
  total_size?: number;
  compound_type?: { members: { name: string; type: number; size: number; signed: boolean; littleEndian: boolean }[] };
  enum_type?: { type: number; size: number; members?: Record<string, number> };
}

// HDF5 type classes (H5T_class_t)
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;
const H5T_STRING = 3;
const H5T_COMPOUND = 6;
const H5T_ENUM = 8;

function isComplexCompound(m: Meta): boolean {
  const mem = m.compound_type?.members;
  return (
    m.type === H5T_COMPOUND &&
    !!mem &&
    mem.length === 2 &&
    mem.every((x) => x.type === H5T_FLOAT && (x.size === 4 || x.size === 8) && x.size === mem[0]!.size)
  );
}

function dtypeOf(m: Meta): string {
  const bo = m.littleEndian ? '<' : '>';
  switch (m.type) {
    case H5T_INTEGER:
      return m.size === 1 ? `|${m.signed ? 'i' : 'u'}1` : `${bo}${m.signed ? 'i' : 'u'}${m.size}`;
    case H5T_FLOAT:
      return `${bo}f${m.size}`;
    case H5T_STRING:
      return 'string';
    case H5T_ENUM:
      return '|b1';
    case H5T_COMPOUND:
      if (isComplexCompound(m)) return `${m.compound_type!.members[0]!.littleEndian ? '<' : '>'}c${2 * m.compound_type!.members[0]!.size}`;
      return 'compound';
    default:
      return `hdf5-class-${m.type}`;
  }
}

/** A one-element typed array of the dataset's own width for a scalar value. */
function scalarArray(v: number, m: Meta): NpyData {
  if (m.type === H5T_FLOAT) return m.size === 4 ? Float32Array.of(v) : Float64Array.of(v);
  if (m.type === H5T_ENUM) return Uint8Array.of(v);
  switch (`${m.signed ? 'i' : 'u'}${m.size}`) {
    case 'i1': return Int8Array.of(v);
    case 'u1': return Uint8Array.of(v);
    case 'i2': return Int16Array.of(v);
    case 'u2': return Uint16Array.of(v);
    case 'i4': return Int32Array.of(v);
    case 'u4': return Uint32Array.of(v);
    default: return Float64Array.of(v);
  }
}

/** Converts what h5wasm returns for a numeric dataset to one of our typed arrays. */
function toNumeric(value: unknown, m: Meta, file: string, p: string): { data: NpyData; complex?: boolean } {
  if (isComplexCompound(m)) {
    const rows = (Array.isArray(value) ? value : [value]) as number[][];
    const out = m.compound_type!.members[0]!.size === 8 ? new Float64Array(rows.length * 2) : new Float32Array(rows.length * 2);
    for (let i = 0; i < rows.length; i++) {
      out[2 * i] = Number(rows[i]![0]);
      out[2 * i + 1] = Number(rows[i]![1]);
    }
    return { data: out, complex: true };
  }
  if (m.type !== H5T_INTEGER && m.type !== H5T_FLOAT && m.type !== H5T_ENUM) {
    throw new InputError(`dataset '/${p}' is not numeric (its type is ${dtypeOf(m)})`, file);
  }
  if (typeof value === 'number') return { data: scalarArray(value, m) };
  if (typeof value === 'bigint') return { data: Float64Array.of(Number(value)) };
  if (typeof value === 'boolean') return { data: Uint8Array.of(value ? 1 : 0) };
  if (value instanceof BigInt64Array || value instanceof BigUint64Array) {
    const out = new Float64Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = Number(value[i]!);
    return { data: out };
  }
  if (value instanceof Uint8ClampedArray) return { data: new Uint8Array(value) };
  if (
    value instanceof Float32Array ||
    value instanceof Float64Array ||
    value instanceof Int8Array ||
    value instanceof Uint8Array ||
    value instanceof Int16Array ||
    value instanceof Uint16Array ||
    value instanceof Int32Array ||
    value instanceof Uint32Array
  ) {
    if (m.type === H5T_FLOAT && m.size === 2 && value instanceof Uint8Array) {
      throw new InputError(`dataset '/${p}' is float16, which is not supported; convert it to float32`, file);
    }
    return { data: value };
  }
  if (Array.isArray(value)) {
    return { data: Float64Array.from(value.flat(Infinity) as number[], (v) => Number(v)) };
  }
  throw new InputError(`dataset '/${p}' has a type webrecon cannot read (${dtypeOf(m)})`, file);
}

function plainAttr(v: unknown): Hdf5AttrValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return Number(v);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => Number(x));
  }
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string')) return v as string[];
    return v.flat(Infinity).map((x) => Number(x));
  }
  return String(v);
}

class Hdf5FileImpl implements Hdf5File {
  private open = true;
  constructor(
    readonly path: string,
    private readonly mod: H5Module,
    private readonly file: H5File,
  ) {}

  private check(): void {
    if (!this.open) throw new Error(`${this.path}: HDF5 file already closed`);
  }

  private entity(p: string): unknown {
    this.check();
    const c = clean(p);
    if (c === '') return this.file;
    // walk member by member so a missing link never reaches libhdf5's error printer
    let g: H5Group = this.file;
    const parts = c.split('/');
    for (let i = 0; i < parts.length; i++) {
      if (!g.keys().includes(parts[i]!)) return null;
      const e = g.get(parts[i]!);
      if (i === parts.length - 1) return e;
      if (!(e instanceof this.mod.Group)) return null;
      g = e;
    }
    return null;
  }

  private dataset(p: string): H5Dataset {
    const e = this.entity(p);
    if (e instanceof this.mod.Dataset) return e;
    if (e === null || e === undefined) throw new InputError(`dataset '/${clean(p)}' not found in this HDF5 file`, this.path);
    throw new InputError(`'/${clean(p)}' is a group, not a dataset`, this.path);
  }

  has(p: string): boolean {
    const e = this.entity(p);
    return e !== null && e !== undefined;
  }
  isDataset(p: string): boolean {
    return this.entity(p) instanceof this.mod.Dataset;
  }
  isGroup(p: string): boolean {
    return this.entity(p) instanceof this.mod.Group;
  }
  shape(p: string): number[] {
    return [...(this.dataset(p).shape ?? [])];
  }
  dtype(p: string): string {
    return dtypeOf(this.dataset(p).metadata as unknown as Meta);
  }

  private sizeCheck(m: Meta, count: number, p: string): void {
    const bytes = count * (isComplexCompound(m) ? 2 * m.compound_type!.members[0]!.size : Math.max(m.size, 1));
    assertFitsInMemory(bytes, `dataset '/${clean(p)}' of ${this.path}`, 'read fewer rows (--rows) or use a machine with more memory');
  }

  read(p: string): NpyArray {
    const d = this.dataset(p);
    const m = d.metadata as unknown as Meta;
    const shape = [...(d.shape ?? [])];
    this.sizeCheck(m, shape.reduce((a, b) => a * b, 1), p);
    let value: unknown;
    try {
      value = d.value;
    } catch (e) {
      throw new InputError(`cannot read dataset '/${clean(p)}': ${(e as Error).message}`, this.path, { cause: e });
    }
    const { data, complex } = toNumeric(value, m, this.path, clean(p));
    const out: NpyArray = { data, shape, dtype: dtypeOf(m) };
    if (complex) out.complex = true;
    return out;
  }

  readSlice(p: string, ranges: Hdf5Range[]): NpyArray {
    const d = this.dataset(p);
    const m = d.metadata as unknown as Meta;
    const full = [...(d.shape ?? [])];
    if (ranges.length > full.length) {
      throw new InputError(`${ranges.length} slice ranges given for the ${full.length}-D dataset '/${clean(p)}'`, this.path);
    }
    const shape = full.map((n, i) => {
      const r = ranges[i];
      if (!r || r.length === 0) return n;
      const [a, b] = r;
      if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b > n || a >= b) {
        throw new InputError(`slice [${a}, ${b}) is outside axis ${i} (length ${n}) of dataset '/${clean(p)}'`, this.path);
      }
      return b - a;
    });
    this.sizeCheck(m, shape.reduce((a, b) => a * b, 1), p);
    let value: unknown;
    try {
      value = d.slice(full.map((_, i) => (ranges[i] && ranges[i]!.length ? [ranges[i]![0]!, ranges[i]![1]!] : [])) as never);
    } catch (e) {
      throw new InputError(`cannot read dataset '/${clean(p)}': ${(e as Error).message}`, this.path, { cause: e });
    }
    const { data, complex } = toNumeric(value, m, this.path, clean(p));
    const out: NpyArray = { data, shape, dtype: dtypeOf(m) };
    if (complex) out.complex = true;
    return out;
  }

  readNumber(p: string): number {
    const a = this.read(p);
    if (a.data.length !== (a.complex ? 2 : 1)) {
      throw new InputError(`dataset '/${clean(p)}' should hold one number but has shape (${a.shape.join(', ')})`, this.path);
    }
    return Number(a.data[0]);
  }

  readString(p: string): string {
    const d = this.dataset(p);
    const m = d.metadata as unknown as Meta;
    if (m.type !== H5T_STRING) throw new InputError(`dataset '/${clean(p)}' is not a string (its type is ${dtypeOf(m)})`, this.path);
    const v = d.value;
    if (typeof v === 'string') return v;
    if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
    return String(v);
  }

  attrs(p: string): Record<string, Hdf5AttrValue> {
    const e = this.entity(p) as { attrs?: Record<string, { value: unknown }> } | null;
    if (!e) throw new InputError(`'/${clean(p)}' not found in this HDF5 file`, this.path);
    const out: Record<string, Hdf5AttrValue> = {};
    const attrs = e.attrs ?? {};
    for (const name of Object.keys(attrs)) {
      try {
        out[name] = plainAttr(attrs[name]!.value);
      } catch {
        out[name] = null;
      }
    }
    return out;
  }

  list(group = '/'): string[] {
    const e = this.entity(group);
    if (!(e instanceof this.mod.Group)) {
      if (e === null || e === undefined) throw new InputError(`group '/${clean(group)}' not found in this HDF5 file`, this.path);
      throw new InputError(`'/${clean(group)}' is a dataset, not a group`, this.path);
    }
    return e.keys();
  }

  walk(group = '/'): Hdf5Entry[] {
    const out: Hdf5Entry[] = [];
    const visit = (prefix: string): void => {
      for (const name of this.list(prefix)) {
        const path = prefix ? `${prefix}/${name}` : name;
        const e = this.entity(path);
        if (e instanceof this.mod.Group) {
          out.push({ path, kind: 'group' });
          visit(path);
        } else if (e instanceof this.mod.Dataset) {
          out.push({ path, kind: 'dataset', shape: [...(e.shape ?? [])], dtype: dtypeOf(e.metadata as unknown as Meta) });
        } else {
          out.push({ path, kind: 'other' });
        }
      }
    };
    visit(clean(group));
    return out;
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.file.close();
  }
}

/**
 * Opens an HDF5 file for reading.
 * @throws InputError when the file is missing or is not an HDF5 file (checked from its
 *   signature before libhdf5 sees it, so no HDF5 diagnostics are printed).
 */
export async function openHdf5(path: string): Promise<Hdf5File> {
  if (!(await isHdf5File(path))) {
    throw new InputError('not an HDF5 file (no HDF5 signature found)', path);
  }
  const mod = await h5();
  let file: H5File;
  try {
    file = new mod.File(resolve(path), 'r');
  } catch (e) {
    throw new InputError(`cannot open as HDF5: ${(e as Error).message}`, path, { cause: e });
  }
  return new Hdf5FileImpl(path, mod, file);
}

/** Runs `fn` with an open HDF5 file and closes it afterwards, also on error. */
export async function withHdf5<T>(path: string, fn: (f: Hdf5File) => T | Promise<T>): Promise<T> {
  const f = await openHdf5(path);
  try {
    return await fn(f);
  } finally {
    f.close();
  }
}

/** What {@link readDxchange} returns: float32 stacks [angles|frames, rows, cols] and angles in degrees. */
export interface DxchangeData {
  /** /exchange/data as float32, [angles, rows, cols]. */
  data: Volume;
  /** /exchange/data_white (flat fields), [frames, rows, cols], if present. */
  flats?: Volume;
  /** /exchange/data_dark (dark fields), [frames, rows, cols], if present. */
  darks?: Volume;
  /** /exchange/theta converted to degrees, if present. */
  thetaDeg?: Float64Array;
  /** True when theta was judged to be in radians and converted. */
  thetaWasRadians?: boolean;
}

/** Options of {@link readDxchange}. */
export interface DxchangeOptions {
  /** Read only detector rows [start, stop) (the slices to reconstruct); default all. */
  rows?: [number, number];
}

/**
 * Decides whether a list of angles is in radians: true when there are more than 10 angles and
 * every |θ| ≤ 2π + 1e-3. A degree scan of more than 10 angles spanning at most ±6.28° is
 * implausible, while a radian scan never exceeds 2π. Fewer angles are taken as degrees.
 */
export function anglesLookLikeRadians(theta: ArrayLike<number>): boolean {
  if (theta.length <= 10) return false;
  let max = 0;
  for (let i = 0; i < theta.length; i++) max = Math.max(max, Math.abs(theta[i]!));
  return max <= 2 * Math.PI + 1e-3;
}

function asVolume(a: NpyArray, file: string, what: string): Volume {
  const f = toFloat32(a);
  if (f.complex) throw new InputError(`${what} is complex; expected real projections`, file);
  let shape = f.shape;
  if (shape.length === 2) shape = [1, shape[0]!, shape[1]!];
  assertRank(shape, 3, what, file);
  return { data: f.data, shape: shape as [number, number, number] };
}

/**
 * Reads a DXchange HDF5 file: /exchange/data (required), /exchange/data_white (flats),
 * /exchange/data_dark (darks) and /exchange/theta, converting to float32. Theta is returned in
 * degrees: DXchange says degrees, but radians occur in the wild, so theta is converted from
 * radians when {@link anglesLookLikeRadians} says so (the TomoPy tooth file is in degrees,
 * 0..179). 2-D flats/darks are taken as one frame.
 * @throws InputError naming the file for a missing /exchange/data, a theta count different from
 *   the projection count, shapes of flats/darks whose rows/columns differ from the data, or bad rows.
 */
export async function readDxchange(path: string, options: DxchangeOptions = {}): Promise<DxchangeData> {
  return withHdf5(path, (f) => {
    const DATA = 'exchange/data';
    if (!f.isDataset(DATA)) {
      throw new InputError(`not a DXchange file: dataset '/exchange/data' not found (top level holds: ${f.list('/').join(', ') || 'nothing'})`, path);
    }
    const readStack = (p: string, what: string): Volume => {
      const shape = f.shape(p);
      if (options.rows && (shape.length === 3 || shape.length === 2)) {
        const axis = shape.length - 2;
        const [a, b] = options.rows;
        if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b > shape[axis]! || a >= b) {
          throw new InputError(`rows ${a}:${b} are outside the ${shape[axis]} detector rows of ${what}`, path);
        }
        const ranges: Hdf5Range[] = shape.map(() => [] as Hdf5Range);
        ranges[axis] = [a, b];
        return asVolume(f.readSlice(p, ranges), path, what);
      }
      return asVolume(f.read(p), path, what);
    };
    const data = readStack(DATA, '/exchange/data');
    const out: DxchangeData = { data };
    const check = (v: Volume, what: string): void => {
      if (v.shape[1] !== data.shape[1] || v.shape[2] !== data.shape[2]) {
        throw new InputError(
          `${what} frames are ${v.shape[1]} × ${v.shape[2]} but the projections are ${data.shape[1]} × ${data.shape[2]}`,
          path,
        );
      }
    };
    if (f.isDataset('exchange/data_white')) {
      out.flats = readStack('exchange/data_white', '/exchange/data_white');
      check(out.flats, '/exchange/data_white');
    }
    if (f.isDataset('exchange/data_dark')) {
      out.darks = readStack('exchange/data_dark', '/exchange/data_dark');
      check(out.darks, '/exchange/data_dark');
    }
    if (f.isDataset('exchange/theta')) {
      const t = f.read('exchange/theta');
      const theta = Float64Array.from(t.data as ArrayLike<number>);
      if (theta.length !== data.shape[0]) {
        throw new InputError(`/exchange/theta holds ${theta.length} angles but /exchange/data has ${data.shape[0]} projections`, path);
      }
      if (anglesLookLikeRadians(theta)) {
        for (let i = 0; i < theta.length; i++) theta[i] = (theta[i]! * 180) / Math.PI;
        out.thetaWasRadians = true;
      }
      out.thetaDeg = theta;
    }
    return out;
  });
}

// ---------------------------------------------------------------------------------------------
// Writing

/** A value for {@link Hdf5Writer.dataset} and attributes: a typed array with its shape, a number or a string. */
export type Hdf5WriteValue =
  | { data: Float32Array | Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array; shape: number[]; complex?: boolean }
  | number
  | string;

/** Builds the content of a new HDF5 file (see {@link writeHdf5Atomic}). Paths are absolute or relative to the root. */
export interface Hdf5Writer {
  /** Creates a group (parents must exist) with optional attributes. */
  group(path: string, attrs?: Record<string, number | string>): void;
  /**
   * Creates a dataset. Typed arrays keep their element type; `complex: true` arrays (interleaved
   * re, im) are written as the compound {r, i} of two floats of the array's width, which h5py
   * reads as complex64/complex128. Numbers are float64 scalars unless `dtype` says e.g. '<i4';
   * strings are variable-length UTF-8 strings.
   */
  dataset(path: string, value: Hdf5WriteValue, options?: { dtype?: '<i4' | '<i8' | '<f4' | '<f8'; attrs?: Record<string, number | string> }): void;
  /** Adds attributes to an existing group or dataset ('/' for the root). */
  attrs(path: string, attrs: Record<string, number | string>): void;
  /** Creates a soft link at `path` pointing to the absolute path `target`. */
  softLink(target: string, path: string): void;
}

class Hdf5WriterImpl implements Hdf5Writer {
  constructor(private readonly mod: H5Module, private readonly file: H5File) {}

  private parent(p: string): { group: H5Group; name: string } {
    const c = clean(p);
    const i = c.lastIndexOf('/');
    const group = i < 0 ? this.file : (this.file.get(c.slice(0, i)) as H5Group | null);
    if (!(group instanceof this.mod.Group)) throw new Error(`HDF5 write: the parent group of '/${c}' does not exist`);
    return { group, name: c.slice(i + 1) };
  }

  private setAttrs(target: { create_attribute: H5Group['create_attribute'] }, attrs: Record<string, number | string> | undefined): void {
    for (const [k, v] of Object.entries(attrs ?? {})) target.create_attribute(k, v);
  }

  group(path: string, attrs?: Record<string, number | string>): void {
    const { group, name } = this.parent(path);
    this.setAttrs(group.create_group(name), attrs);
  }

  dataset(path: string, value: Hdf5WriteValue, options: { dtype?: '<i4' | '<i8' | '<f4' | '<f8'; attrs?: Record<string, number | string> } = {}): void {
    const { group, name } = this.parent(path);
    let ds: H5Dataset;
    if (typeof value === 'number') {
      // h5wasm spells dtypes with struct codes: d = float64, f = float32, i = int32, q = int64.
      const code = { '<f8': '<d', '<f4': '<f', '<i4': '<i', '<i8': '<q' }[options.dtype ?? '<f8'];
      if (code !== '<d' && code !== '<f' && !Number.isInteger(value)) throw new Error(`HDF5 write: '/${clean(path)}' is an integer dataset but got ${value}`);
      ds = group.create_dataset({ name, data: value, shape: [], dtype: code });
    } else if (typeof value === 'string') {
      ds = group.create_dataset({ name, data: value });
    } else if (value.complex) {
      const n = value.data.length / 2;
      const wide = value.data instanceof Float64Array;
      const re = wide ? new Float64Array(n) : new Float32Array(n);
      const im = wide ? new Float64Array(n) : new Float32Array(n);
      for (let i = 0; i < n; i++) {
        re[i] = value.data[2 * i]!;
        im[i] = value.data[2 * i + 1]!;
      }
      const f = wide ? '<f8' : '<f4';
      ds = group.create_dataset({ name, data: new Map<string, Float32Array | Float64Array>([['r', re], ['i', im]]), shape: value.shape, dtype: [['r', f], ['i', f]] });
    } else {
      ds = group.create_dataset({ name, data: value.data, shape: value.shape });
    }
    this.setAttrs(ds, options.attrs);
  }

  attrs(path: string, attrs: Record<string, number | string>): void {
    const c = clean(path);
    const e = c === '' ? this.file : this.file.get(c);
    if (!e) throw new Error(`HDF5 write: '/${c}' does not exist`);
    this.setAttrs(e as H5Group, attrs);
  }

  softLink(target: string, path: string): void {
    const { group, name } = this.parent(path);
    group.create_soft_link(target, name);
  }
}

/**
 * Writes a new HDF5 file atomically: `build` fills it through an {@link Hdf5Writer} at a hidden
 * temporary name in the target's folder (created when missing); the file is closed, synced to
 * disk and renamed over `path` only when `build` succeeded, so readers never see a partial file
 * and a failure leaves any previous file untouched (the temporary file is removed).
 * @throws InputError when the folder cannot be created or written, or `path` is a folder.
 */
export async function writeHdf5Atomic(path: string, build: (w: Hdf5Writer) => void | Promise<void>): Promise<void> {
  const target = resolve(path);
  const dir = dirname(target);
  await makeOutputFolder(dir, path);
  const existing = await stat(target).catch(() => undefined);
  if (existing?.isDirectory()) throw new InputError('cannot write: the output path is a folder', path);
  try {
    await access(dir, fsConstants.W_OK);
  } catch (e) {
    throw new InputError(`cannot write: no permission to create files in ${dir}`, path, { cause: e });
  }
  const mod = await h5();
  const tmp = temporaryNameFor(target);
  let file: H5File | undefined;
  try {
    file = new mod.File(tmp, 'w');
    await build(new Hdf5WriterImpl(mod, file));
    file.close();
    file = undefined;
    const fh = await openFd(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (e) {
    if (file) {
      try {
        file.close();
      } catch {
        /* already failing */
      }
    }
    await unlink(tmp).catch(() => undefined);
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw new InputError('cannot write: no space left on the device', path, { cause: e });
    throw e;
  }
  await syncFolder(dir);
}
