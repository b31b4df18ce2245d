/**
 * Loading a tomography projection stack (and its dark/flat fields and angles) from whatever the
 * user points at: one multi-page TIFF, a folder of single-page TIFFs, a list of TIFF files, a
 * DXchange HDF5 file or a `.npy` array. The result is float32 `[angles, rows, cols]`, checked
 * (finite, consistent shapes, fits in memory), with raw counts: dark/flat normalisation and
 * −log happen later on the GPU (src/tomo/preprocess.ts).
 */
import { open, readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { InputError } from '../core/errors.js';
import type { RealArray, Volume } from '../core/array.js';
import { isTiffFile, isTiffName, naturalCompare, readTiffFiles } from '../io/tiff.js';
import { isHdf5File, readDxchange } from '../io/hdf5.js';
import { readNpy, toFloat32 } from '../io/npy.js';
import { assertFitsInMemory, requireFile } from '../io/validate.js';

/** A loaded projection stack with what came with it. */
export interface ProjectionInput {
  /** Projections [angles, rows, cols] as float32 (raw counts or whatever the file held). */
  projections: Volume;
  /** Flat (white) fields [frames, rows, cols], from `--flat`, DXchange `data_white` or a flat file beside the projections. */
  flat?: RealArray;
  /** Dark fields [frames, rows, cols], from `--dark`, DXchange `data_dark` or a dark file beside the projections. */
  dark?: RealArray;
  /** Angles in degrees when the input carries them (DXchange `/exchange/theta`). */
  anglesDeg?: Float64Array;
  /** What was read, for messages: a file, a folder ('dir/ (91 files)') or 'N files'. */
  source: string;
}

/** Options of {@link loadProjections}. */
export interface LoadProjectionsOptions {
  /** Flat-field file: TIFF (single or multi-page) or `.npy` (2-D or 3-D). Overrides any flat in the input. */
  flat?: string;
  /** Dark-field file: TIFF (single or multi-page) or `.npy` (2-D or 3-D). Overrides any dark in the input. */
  dark?: string;
  /** Detector rows [start, stop) to read (the slices to reconstruct); applied to flats and darks too. */
  rows?: [number, number];
}

/** Names of dark and flat frames (kept out of a projection folder). */
const DARK_NAME = /dark|background|bkg/i;
const FLAT_NAME = /flat|white|bright/i;

/** The name with its digit runs replaced by '#': raw_00012.tiff → raw_#.tiff. */
function namePattern(name: string): string {
  return name.replace(/\d+/g, '#').toLowerCase();
}

/** Which files of a folder are projections, darks and flats. */
export interface FolderPlan {
  projections: string[];
  darks: string[];
  flats: string[];
}

/**
 * Sorts the TIFF files of a folder into projections, darks and flats: names matching dark/flat
 * words are darks/flats; of the rest, the projections are the files sharing the most common
 * name pattern (digit runs ignored, e.g. `raw_#.tiff`), in natural order. So stray files
 * (a `sum.tif`, a `mask.tif`) are left out while a plain numbered series is taken whole.
 * @throws InputError when the folder is missing or holds no projection TIFF.
 */
export async function planTiffFolder(dir: string): Promise<FolderPlan> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError('folder not found', dir, { cause: e });
    throw new InputError(`cannot list folder (${code ?? String(e)})`, dir, { cause: e });
  }
  const tiffs = names.filter((n) => !n.startsWith('.') && isTiffName(n)).sort(naturalCompare);
  const darks = tiffs.filter((n) => DARK_NAME.test(n));
  const flats = tiffs.filter((n) => !DARK_NAME.test(n) && FLAT_NAME.test(n));
  const rest = tiffs.filter((n) => !DARK_NAME.test(n) && !FLAT_NAME.test(n));
  if (rest.length === 0) {
    const what = tiffs.length ? `only dark/flat TIFFs (${tiffs.slice(0, 3).join(', ')}${tiffs.length > 3 ? ', ...' : ''})` : 'no .tif/.tiff files';
    throw new InputError(`no projection images in this folder: it holds ${what}`, dir);
  }
  const groups = new Map<string, string[]>();
  for (const n of rest) {
    const k = namePattern(n);
    const g = groups.get(k);
    if (g) g.push(n);
    else groups.set(k, [n]);
  }
  let best: string[] = [];
  for (const g of groups.values()) if (g.length > best.length) best = g;
  const full = (list: string[]) => list.map((n) => join(dir, n));
  return { projections: full(best), darks: full(darks), flats: full(flats) };
}

/** Keeps rows [r0, r1) of every frame of a [frames, rows, cols] array. */
function sliceRows(v: Volume, rows: [number, number] | undefined, file: string): Volume {
  if (!rows) return v;
  const [n, h, w] = v.shape;
  const [r0, r1] = rows;
  checkRows(rows, h, file);
  if (r0 === 0 && r1 === h) return v;
  const nr = r1 - r0;
  const out = new Float32Array(n * nr * w);
  for (let a = 0; a < n; a++) out.set(v.data.subarray((a * h + r0) * w, (a * h + r1) * w), a * nr * w);
  return { data: out, shape: [n, nr, w] };
}

function checkRows(rows: [number, number], height: number, file: string): void {
  const [r0, r1] = rows;
  if (!Number.isInteger(r0) || !Number.isInteger(r1) || r0 < 0 || r1 > height || r0 >= r1) {
    throw new InputError(`rows ${r0}:${r1} are outside the ${height} detector rows (give start:stop with 0 <= start < stop <= ${height})`, file);
  }
}

/** Reads a `.npy` as a float32 [frames, rows, cols] stack (2-D = one frame). */
async function readNpyStack(path: string, what: string): Promise<Volume> {
  const a = await readNpy(path);
  if (a.complex) throw new InputError(`${what} are complex (${a.dtype}); expected real values`, path);
  let shape = a.shape;
  if (shape.length === 2) shape = [1, shape[0]!, shape[1]!];
  if (shape.length !== 3 || shape.some((s) => s <= 0)) {
    throw new InputError(`${what} must be a 3-D array [angles, rows, cols] (or one 2-D image) but the .npy has shape (${a.shape.join(', ')})`, path);
  }
  if (!(a.data instanceof Float32Array)) {
    assertFitsInMemory(a.data.length * 4, `the float32 copy of ${path}`, 'use a smaller file or a machine with more memory');
  }
  const f = toFloat32(a);
  return { data: f.data, shape: shape as [number, number, number] };
}

/**
 * Throws an InputError when `v` holds NaN/±Inf, naming the file the bad value came from and its
 * index: with `files` (one per frame, a stack read from many files) the file and [row, col]
 * within it; otherwise `file` and [frame, row, col]. `rowOffset` maps rows back to the file's rows.
 */
function assertFiniteStack(v: Volume, file: string, what: string, rowOffset = 0, files?: string[]): void {
  const d = v.data;
  for (let i = 0; i < d.length; i++) {
    const x = d[i]!;
    if (x - x !== 0) {
      const [, h, w] = v.shape;
      const frame = Math.floor(i / (h * w));
      const r = Math.floor(i / w) % h;
      const c = i % w;
      const kind = Number.isNaN(x) ? 'NaN' : x > 0 ? '+Inf' : '-Inf';
      const advice = 'clean or mask the data before reconstructing';
      if (files && files.length === v.shape[0]) {
        throw new InputError(`${what} contain ${kind} at [row ${r + rowOffset}, col ${c}] (frame ${frame} of the stack); ${advice}`, files[frame]);
      }
      throw new InputError(`${what} contain ${kind} at [${frame}, ${r + rowOffset}, ${c}] ([frame, row, col]); ${advice}`, file);
    }
  }
}

/** Reads a dark or flat field file (TIFF, single or multi-page, or .npy) as [frames, rows, cols]. */
async function readFieldFile(path: string, what: string, rows?: [number, number]): Promise<Volume> {
  await requireFile(path);
  if (await isTiffFile(path)) {
    return readTiffFiles([path], rows ? { rows } : {});
  }
  if (extname(path).toLowerCase() === '.npy' || (await hasNpyMagic(path))) {
    return sliceRows(await readNpyStack(path, `the ${what} fields`), rows, path);
  }
  throw new InputError(`the ${what} field must be a TIFF (single or multi-page) or a .npy file; this file is neither`, path);
}

async function hasNpyMagic(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = new Uint8Array(6);
    const { bytesRead } = await fh.read(b, 0, 6, 0);
    return bytesRead === 6 && b[0] === 0x93 && String.fromCharCode(...b.subarray(1)) === 'NUMPY';
  } finally {
    await fh.close();
  }
}

/** Checks a field's frames against the projections' [rows, cols]. */
function checkField(field: Volume, proj: Volume, what: string, file: string): void {
  const [, h, w] = field.shape;
  const [, ph, pw] = proj.shape;
  if (h !== ph || w !== pw) {
    throw new InputError(`the ${what} field frames are ${h} × ${w} (rows × cols) but the projections are ${ph} × ${pw}`, file);
  }
}

/**
 * Loads projections, dark/flat fields and angles from the given inputs.
 *
 * Inputs (one of):
 * - one multi-page TIFF (pages = projections);
 * - a folder of single-page TIFFs: the projections are the TIFFs sharing the most common name
 *   pattern (digits ignored, e.g. `raw_#.tiff`), in natural order (raw_2 before raw_10); files
 *   whose names say dark/flat (dark, background, flat, white, bright) are not projections, and
 *   are used as dark/flat fields when `options.dark`/`options.flat` are not given;
 * - a list of TIFF files (natural order of their paths; multi-page files contribute all pages);
 * - a DXchange HDF5 file: `/exchange/data`, `/exchange/data_white` → flat,
 *   `/exchange/data_dark` → dark, `/exchange/theta` (degrees) → anglesDeg;
 * - a `.npy` file: 3-D [angles, rows, cols], or 2-D = one projection.
 * TIFF pixels may be 8/16/32-bit integers or 32/64-bit floats; everything becomes float32.
 *
 * `options.flat`/`options.dark` name TIFF (single or multi-page) or `.npy` files and override
 * fields found in the input. `options.rows` = [a, b) keeps detector rows a..b−1 of projections
 * and fields (TIFF and HDF5 read only those rows; .npy is read whole, then cut).
 *
 * @throws InputError naming the file for: a missing file or folder, a file that is not a TIFF,
 *   HDF5 or .npy, mixed image shapes in a stack (the offending file), NaN/Inf in the data (file
 *   and index), an unsupported sample format, data too big for free memory, dark/flat frames
 *   whose shape differs from the projections, or rows outside the detector.
 */
export async function loadProjections(inputs: string[], options: LoadProjectionsOptions = {}): Promise<ProjectionInput> {
  if (!inputs || inputs.length === 0) throw new InputError('no input given (a TIFF file or folder, TIFF files, a DXchange .h5 or a .npy)');
  const rows = options.rows;
  let projections: Volume;
  let flat: Volume | undefined;
  let dark: Volume | undefined;
  let flatFile: string | undefined;
  let darkFile: string | undefined;
  let anglesDeg: Float64Array | undefined;
  let source: string;
  let files: string[] | undefined; // one per projection, when read from single-page files
  let mainFile: string;

  if (inputs.length === 1) {
    const path = inputs[0]!;
    let isDir = false;
    try {
      isDir = (await stat(path)).isDirectory();
    } catch (e) {
      throw new InputError('file not found', path, { cause: e });
    }
    mainFile = path;
    if (isDir) {
      const plan = await planTiffFolder(path);
      projections = await readTiffFiles(plan.projections, rows ? { rows } : {});
      if (projections.shape[0] === plan.projections.length) files = plan.projections;
      source = `${path} (${plan.projections.length} files ${basename(plan.projections[0]!)} .. ${basename(plan.projections[plan.projections.length - 1]!)})`;
      if (!options.flat && plan.flats.length) {
        flat = await readTiffFiles(plan.flats, rows ? { rows } : {});
        flatFile = plan.flats.length === 1 ? plan.flats[0] : path;
      }
      if (!options.dark && plan.darks.length) {
        dark = await readTiffFiles(plan.darks, rows ? { rows } : {});
        darkFile = plan.darks.length === 1 ? plan.darks[0] : path;
      }
    } else {
      await requireFile(path);
      source = path;
      if (await isTiffFile(path)) {
        projections = await readTiffFiles([path], rows ? { rows } : {});
      } else if (await isHdf5File(path)) {
        const dx = await readDxchange(path, rows ? { rows } : {});
        projections = dx.data;
        if (dx.flats) {
          flat = dx.flats;
          flatFile = `${path}:/exchange/data_white`;
        }
        if (dx.darks) {
          dark = dx.darks;
          darkFile = `${path}:/exchange/data_dark`;
        }
        anglesDeg = dx.thetaDeg;
      } else if (await hasNpyMagic(path)) {
        projections = sliceRows(await readNpyStack(path, 'the projections'), rows, path);
      } else {
        const ext = extname(path).toLowerCase();
        const claimed = ext === '.tif' || ext === '.tiff' ? 'not a TIFF file (no TIFF signature)' : ext === '.npy' ? 'not a .npy file (no NUMPY signature)' : ext === '.h5' || ext === '.hdf5' || ext === '.hdf' ? 'not an HDF5 file (no HDF5 signature)' : 'not a TIFF, HDF5 or .npy file';
        throw new InputError(`${claimed}; webrecon reads projections from TIFF (file or folder), DXchange HDF5 or .npy`, path);
      }
    }
  } else {
    const list = [...inputs];
    for (const p of list) {
      let s;
      try {
        s = await stat(p);
      } catch (e) {
        throw new InputError('file not found', p, { cause: e });
      }
      if (s.isDirectory()) throw new InputError('is a folder; give either one folder or a list of TIFF files, not both', p);
      if (!(await isTiffFile(p))) throw new InputError('not a TIFF file (no TIFF signature); a list of inputs must be TIFF files', p);
    }
    list.sort(naturalCompare);
    projections = await readTiffFiles(list, rows ? { rows } : {});
    if (projections.shape[0] === list.length) files = list;
    mainFile = list[0]!;
    source = `${list.length} files (${basename(list[0]!)} .. ${basename(list[list.length - 1]!)})`;
  }

  const rowOffset = rows ? rows[0] : 0;
  assertFiniteStack(projections, mainFile, 'the projections', rowOffset, files);

  if (options.flat) {
    flat = await readFieldFile(options.flat, 'flat', rows);
    flatFile = options.flat;
  }
  if (options.dark) {
    dark = await readFieldFile(options.dark, 'dark', rows);
    darkFile = options.dark;
  }
  if (flat) {
    checkField(flat, projections, 'flat', flatFile!);
    assertFiniteStack(flat, flatFile!, 'the flat fields', rowOffset);
  }
  if (dark) {
    checkField(dark, projections, 'dark', darkFile!);
    assertFiniteStack(dark, darkFile!, 'the dark fields', rowOffset);
  }
  const out: ProjectionInput = { projections, source };
  if (flat) out.flat = flat;
  if (dark) out.dark = dark;
  if (anglesDeg) out.anglesDeg = anglesDeg;
  return out;
}
