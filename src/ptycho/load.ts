/**
 * Reading ptychographic scans: a folder of .npy files (data, positions in pixels, optional probe
 * and mask), a CXI file (HDF5) or a TIFF stack of frames plus a positions CSV. Every loader
 * returns a {@link PtychoDataset} in our conventions (see dataset.ts): frames with zero frequency
 * at [0, 0], positions (row, col) in object pixels, mask 1 = good.
 *
 * CXI (https://www.cxidb.org/cxi.html):
 *   frames      entry_1/instrument_1/detector_1/data (or entry_1/data_1/data), [n, h, w], stored
 *               with the zero frequency at the detector centre → ifftshifted on reading
 *               (`shifted: false` keeps them as they are)
 *   mask        detector_1/mask, [h, w], CXI convention nonzero = bad → converted to 1 = good
 *   distance    detector_1/distance (m); pixel size detector_1/x_pixel_size, y_pixel_size (m)
 *   wavelength  source_1/wavelength (m), or from source_1/energy (J): λ = hc/E
 *   positions   entry_1/sample_1/geometry_1/translation [n, 3] (x, y, z) in metres (fallback
 *               entry_1/data_1/translation). The SAMPLE moves, so the probe position on the
 *               object is the negative translation: row = −y / pixel_row, col = −x / pixel_col,
 *               with the far-field object pixel λz/(N·dx) per axis (rows: λz/(h·dy), cols: λz/(w·dx)).
 *               `objectPixelSize` overrides it (near-field data: the detector pixel over the
 *               magnification); `transform` transposes or flips axes when a facility differs.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { readNpy } from '../io/npy.js';
import { withHdf5, isHdf5File } from '../io/hdf5.js';
import { readTiff } from '../io/tiff.js';
import type { PtychoDataset } from './dataset.js';

/** Axis changes applied to positions after unit conversion (transpose first, then flips). */
export interface PositionTransform {
  /** Swap (row, col). */
  transpose?: boolean;
  /** Negate rows. */
  flipRows?: boolean;
  /** Negate cols. */
  flipCols?: boolean;
}

/** Options shared by the loaders. */
export interface LoadOptions {
  /** Frames are stored with the zero frequency at the centre (fftshifted). Default: false for npy/TIFF, true for CXI. */
  shifted?: boolean;
  /** Positions file (npy [n, 2] or CSV 'row,col' per line) overriding the one found with the data. */
  positions?: string;
  /** Probe file (.npy complex [h, w] or [modes, h, w]) overriding the one found with the data. */
  probe?: string;
  /** Axis changes of the positions. */
  transform?: PositionTransform;
  /** CXI: object pixel size in metres (overrides λz/(N·dx)). */
  objectPixelSize?: number;
  /** Crop frames (centred on the zero frequency) to size×size, e.g. to reach a power of two. */
  crop?: number;
}

const H = 6.62607015e-34;
const C = 299792458;

/** Swaps quadrants of every frame (fftshift/ifftshift are the same for even sizes). */
export function shiftFrames<T extends Float32Array | Uint8Array>(data: T, n: number, h: number, w: number): T {
  const out = new (data.constructor as new (len: number) => T)(data.length);
  const hh = Math.floor(h / 2), hw2 = Math.floor(w / 2);
  for (let j = 0; j < n; j++) {
    const base = j * h * w;
    for (let y = 0; y < h; y++) {
      const sy = (y + hh) % h;
      for (let x = 0; x < w; x++) out[base + sy * w + ((x + hw2) % w)] = data[base + y * w + x];
    }
  }
  return out;
}

/** Crops unshifted frames (zero frequency at [0, 0]) to the size×size band around zero frequency. */
export function cropDataset(ds: PtychoDataset, size: number): PtychoDataset {
  const [n, h, w] = ds.shape;
  if (!Number.isInteger(size) || size < 2 || size > h || size > w) throw new InputError(`cannot crop ${h}×${w} frames to ${size}×${size}`, ds.source);
  const crop = <T extends Float32Array | Uint8Array>(data: T, count: number): T => {
    const out = new (data.constructor as new (len: number) => T)(count * size * size);
    for (let j = 0; j < count; j++) for (let y = 0; y < size; y++) {
      const sy = (y - (y >= size / 2 ? size : 0) + h) % h;
      for (let x = 0; x < size; x++) {
        const sx = (x - (x >= size / 2 ? size : 0) + w) % w;
        out[(j * size + y) * size + x] = data[(j * h + sy) * w + sx];
      }
    }
    return out;
  };
  return { ...ds, frames: crop(ds.frames, n), shape: [n, size, size], mask: ds.mask ? crop(ds.mask, 1) : undefined, probe: undefined };
}

function applyTransform(pos: Float64Array, t: PositionTransform | undefined): Float64Array {
  if (!t) return pos;
  for (let j = 0; j < pos.length / 2; j++) {
    let r = pos[2 * j], c = pos[2 * j + 1];
    if (t.transpose) [r, c] = [c, r];
    if (t.flipRows) r = -r;
    if (t.flipCols) c = -c;
    pos[2 * j] = r;
    pos[2 * j + 1] = c;
  }
  return pos;
}

async function readPositionsFile(path: string): Promise<Float64Array> {
  if (/\.npy$/i.test(path)) {
    const a = await readNpy(path);
    if (a.shape.length !== 2 || a.shape[1] !== 2 || a.complex) throw new InputError(`positions must be a real [n, 2] array (row, col), got shape [${a.shape.join(', ')}]${a.complex ? ' complex' : ''}`, path);
    return Float64Array.from(a.data as ArrayLike<number>);
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new InputError('cannot read the positions file', path, { cause: e });
  }
  const vals: number[] = [];
  let line = 0;
  for (const raw of text.split(/\r?\n/)) {
    line++;
    const s = raw.trim();
    if (!s || s.startsWith('#')) continue;
    const parts = s.split(/[,;\s]+/).filter(Boolean);
    const nums = parts.map(Number);
    if (nums.some((v) => Number.isNaN(v))) {
      if (vals.length === 0 && line === 1) continue; // header line
      throw new InputError(`line ${line}: expected two numbers 'row,col', got '${s}'`, path);
    }
    if (nums.length !== 2) throw new InputError(`line ${line}: expected two numbers 'row,col', got ${nums.length}`, path);
    vals.push(nums[0], nums[1]);
  }
  if (vals.length === 0) throw new InputError('no positions found', path);
  return Float64Array.from(vals);
}

async function readProbeFile(path: string) {
  const p = await readNpy(path);
  if (!p.complex || !(p.shape.length === 2 || p.shape.length === 3)) throw new InputError(`the probe must be a complex [h, w] or [modes, h, w] array, got ${p.complex ? '' : 'real '}shape [${p.shape.join(', ')}]`, path);
  return { data: Float32Array.from(p.data as ArrayLike<number>), shape: p.shape, complex: true as const };
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** Reads an npy folder: data.npy [n, h, w], scan.npy or positions.npy [n, 2] (row, col) px, optional probe.npy, mask.npy (nonzero = good). */
export async function loadNpyFolder(dir: string, options: LoadOptions = {}): Promise<PtychoDataset> {
  const dataPath = join(dir, 'data.npy');
  if (!(await exists(dataPath))) throw new InputError('no data.npy in this folder (expected data.npy [n, h, w], scan.npy [n, 2])', dir);
  const d = await readNpy(dataPath);
  if (d.shape.length !== 3 || d.complex) throw new InputError(`frames must be a real [n, h, w] array, got shape [${d.shape.join(', ')}]${d.complex ? ' complex' : ''}`, dataPath);
  const [n, h, w] = d.shape as [number, number, number];
  let frames = d.data instanceof Float32Array ? d.data : Float32Array.from(d.data as ArrayLike<number>);
  let posPath = options.positions;
  if (!posPath) {
    for (const name of ['scan.npy', 'positions.npy', 'positions.csv']) if (await exists(join(dir, name))) { posPath = join(dir, name); break; }
  }
  if (!posPath) throw new InputError('no scan.npy / positions.npy / positions.csv in this folder', dir);
  const positions = applyTransform(await readPositionsFile(posPath), options.transform);
  let mask: Uint8Array | undefined;
  const maskPath = join(dir, 'mask.npy');
  if (await exists(maskPath)) {
    const m = await readNpy(maskPath);
    if (m.shape.length !== 2 || m.shape[0] !== h || m.shape[1] !== w) throw new InputError(`the mask is [${m.shape.join(', ')}] but frames are ${h}×${w}`, maskPath);
    mask = Uint8Array.from(m.data as ArrayLike<number>, (v) => (v ? 1 : 0));
  }
  const probePath = options.probe ?? ((await exists(join(dir, 'probe.npy'))) ? join(dir, 'probe.npy') : undefined);
  const probe = probePath ? await readProbeFile(probePath) : undefined;
  if (options.shifted) {
    frames = shiftFrames(frames, n, h, w);
    if (mask) mask = shiftFrames(mask, 1, h, w);
  }
  let ds: PtychoDataset = { frames, shape: [n, h, w], positions, mask, probe, source: dataPath };
  if (options.crop) ds = cropDataset(ds, options.crop);
  return ds;
}

/** Reads a CXI file (see the module comment for the datasets and conventions). */
export async function loadCxi(path: string, options: LoadOptions = {}): Promise<PtychoDataset> {
  return withHdf5(path, async (f) => {
    const need = (cands: string[], what: string): string => {
      const hit = cands.find((c) => f.has(c) && f.isDataset(c));
      if (!hit) throw new InputError(`missing ${what}: none of ${cands.join(', ')} exists`, path);
      return hit;
    };
    const det = 'entry_1/instrument_1/detector_1';
    const dataPath = need([`${det}/data`, 'entry_1/data_1/data'], 'the diffraction frames');
    const shape = f.shape(dataPath);
    if (shape.length !== 3) throw new InputError(`${dataPath} is [${shape.join(', ')}], expected [n, h, w]`, path);
    const [n, h, w] = shape as [number, number, number];
    const raw = f.read(dataPath);
    if (raw.complex) throw new InputError(`${dataPath} is complex; expected intensities`, path);
    let frames = raw.data instanceof Float32Array ? raw.data : Float32Array.from(raw.data as ArrayLike<number>);
    const distance = f.readNumber(need([`${det}/distance`], 'the detector distance'));
    const dx = f.readNumber(need([`${det}/x_pixel_size`], 'the detector pixel size'));
    const dy = f.has(`${det}/y_pixel_size`) ? f.readNumber(`${det}/y_pixel_size`) : dx;
    let wavelength: number;
    if (f.has('entry_1/instrument_1/source_1/wavelength')) wavelength = f.readNumber('entry_1/instrument_1/source_1/wavelength');
    else if (f.has('entry_1/instrument_1/source_1/energy')) wavelength = (H * C) / f.readNumber('entry_1/instrument_1/source_1/energy');
    else throw new InputError('missing the wavelength: neither entry_1/instrument_1/source_1/wavelength nor .../energy exists', path);
    for (const [name, v] of [['distance', distance], ['x_pixel_size', dx], ['y_pixel_size', dy], ['wavelength', wavelength]] as const) {
      if (!(Number.isFinite(v) && v > 0)) throw new InputError(`${name} must be a positive number of metres, got ${v}`, path);
    }
    const trPath = need(['entry_1/sample_1/geometry_1/translation', 'entry_1/data_1/translation'], 'the scan translations');
    const tr = f.read(trPath);
    if (tr.shape.length !== 2 || (tr.shape[1] !== 3 && tr.shape[1] !== 2)) throw new InputError(`${trPath} is [${tr.shape.join(', ')}], expected [n, 3] (x, y, z) in metres`, path);
    const pixRow = options.objectPixelSize ?? (wavelength * distance) / (h * dy);
    const pixCol = options.objectPixelSize ?? (wavelength * distance) / (w * dx);
    const k = tr.shape[1];
    const positions = new Float64Array(2 * tr.shape[0]);
    for (let j = 0; j < tr.shape[0]; j++) {
      positions[2 * j] = -Number(tr.data[j * k + 1]) / pixRow;
      positions[2 * j + 1] = -Number(tr.data[j * k]) / pixCol;
    }
    applyTransform(positions, options.transform);
    let mask: Uint8Array | undefined;
    if (f.has(`${det}/mask`)) {
      const m = f.read(`${det}/mask`);
      if (m.shape.length !== 2 || m.shape[0] !== h || m.shape[1] !== w) throw new InputError(`${det}/mask is [${m.shape.join(', ')}] but frames are ${h}×${w}`, path);
      mask = Uint8Array.from(m.data as ArrayLike<number>, (v) => (v ? 0 : 1));
    }
    if (options.shifted ?? true) {
      frames = shiftFrames(frames, n, h, w);
      if (mask) mask = shiftFrames(mask, 1, h, w);
    }
    const probe = options.probe ? await readProbeFile(options.probe) : undefined;
    let ds: PtychoDataset = { frames, shape: [n, h, w], positions, mask, probe, wavelength, distance, pixelSize: dx, source: path };
    if (options.crop) ds = cropDataset(ds, options.crop);
    return ds;
  });
}

/** Reads a TIFF stack of frames (file or folder) plus a positions file (CSV 'row,col' px or npy). */
export async function loadTiffScan(path: string, options: LoadOptions = {}): Promise<PtychoDataset> {
  if (!options.positions) throw new InputError('a TIFF stack needs --positions (CSV row,col in pixels, or .npy [n, 2])', path);
  const v = await readTiff(path);
  const [n, h, w] = v.shape;
  const positions = applyTransform(await readPositionsFile(options.positions), options.transform);
  let frames = v.data;
  if (options.shifted) frames = shiftFrames(frames, n, h, w);
  const probe = options.probe ? await readProbeFile(options.probe) : undefined;
  let ds: PtychoDataset = { frames, shape: [n, h, w], positions, probe, source: path };
  if (options.crop) ds = cropDataset(ds, options.crop);
  return ds;
}

/** Reads any supported input: an npy folder, a CXI/HDF5 file, or a TIFF stack (file or folder) with `positions`. */
export async function loadPtycho(path: string, options: LoadOptions = {}): Promise<PtychoDataset> {
  let s;
  try {
    s = await stat(path);
  } catch (e) {
    throw new InputError('not found', path, { cause: e });
  }
  if (s.isDirectory()) {
    if (await exists(join(path, 'data.npy'))) return loadNpyFolder(path, options);
    const names = await readdir(path);
    if (names.some((x) => /\.tiff?$/i.test(x))) return loadTiffScan(path, options);
    throw new InputError('folder holds neither data.npy (npy folder) nor TIFF frames', path);
  }
  if (await isHdf5File(path)) return loadCxi(path, options);
  if (/\.tiff?$/i.test(path)) return loadTiffScan(path, options);
  throw new InputError('unknown input: expected an npy folder, a .cxi (HDF5) file or a TIFF stack', path);
}
