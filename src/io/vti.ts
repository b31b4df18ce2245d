/**
 * VTK XML ImageData (`.vti`) for ParaView and other VTK tools.
 *
 * Written as one piece with a Float32 point-data array stored as appended raw binary
 * (`header_type="UInt64"`: the array is preceded by its byte count as a little-endian uint64).
 * VTK's point index is i + nx·(j + ny·k) (x fastest), so a webrecon array [slices, rows, cols]
 * maps to x = cols, y = rows, z = slices with no reordering; Spacing and Origin are given in the
 * same x, y, z order.
 */
import { readFile } from 'node:fs/promises';
import { InputError } from '../core/errors.js';
import type { Volume } from '../core/array.js';
import { writeFileAtomic } from './atomic.js';
import { requireFile } from './validate.js';

/** Options of {@link writeVti}. */
export interface VtiWriteOptions {
  /** Name of the point-data array (default 'density'). */
  name?: string;
  /** Voxel spacing (x, y, z) = (cols, rows, slices); one number for all (default 1). */
  spacing?: number | [number, number, number];
  /** Origin (x, y, z) (default 0, 0, 0). */
  origin?: [number, number, number];
}

/** What {@link readVti} returns. */
export interface VtiData {
  /** The array as float32 [nz, ny, nx]. */
  volume: Volume;
  /** Name of the point-data array. */
  name: string;
  spacing: [number, number, number];
  origin: [number, number, number];
  /** WholeExtent as written (x0 x1 y0 y1 z0 z1). */
  extent: [number, number, number, number, number, number];
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(9).replace(/\.?0+$/, '').replace(/\.?0+e/, 'e');
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/**
 * Writes a float32 volume [slices, rows, cols] as a `.vti` file, atomically.
 * @throws InputError when the data length does not match the shape.
 */
export async function writeVti(path: string, volume: { data: Float32Array; shape: readonly number[] }, options: VtiWriteOptions = {}): Promise<void> {
  const shape = volume.shape.length === 2 ? [1, volume.shape[0]!, volume.shape[1]!] : [...volume.shape];
  if (shape.length !== 3 || shape.some((s) => !Number.isInteger(s) || s <= 0)) {
    throw new InputError(`VTI output needs a 2-D or 3-D shape, got (${volume.shape.join(', ')})`, path);
  }
  const [nz, ny, nx] = shape as [number, number, number];
  if (volume.data.length !== nx * ny * nz) {
    throw new InputError(`cannot write: shape (${volume.shape.join(', ')}) needs ${nx * ny * nz} values but the data hold ${volume.data.length}`, path);
  }
  const sp = options.spacing === undefined ? [1, 1, 1] : typeof options.spacing === 'number' ? [options.spacing, options.spacing, options.spacing] : options.spacing;
  const org = options.origin ?? [0, 0, 0];
  const name = escapeXml(options.name ?? 'density');
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of volume.data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const extent = `0 ${nx - 1} 0 ${ny - 1} 0 ${nz - 1}`;
  const range = Number.isFinite(lo) && Number.isFinite(hi) ? ` RangeMin="${fmt(lo)}" RangeMax="${fmt(hi)}"` : '';
  const xml =
    `<?xml version="1.0"?>\n` +
    `<VTKFile type="ImageData" version="1.0" byte_order="LittleEndian" header_type="UInt64">\n` +
    `  <ImageData WholeExtent="${extent}" Origin="${org.map(fmt).join(' ')}" Spacing="${sp.map(fmt).join(' ')}">\n` +
    `    <Piece Extent="${extent}">\n` +
    `      <PointData Scalars="${name}">\n` +
    `        <DataArray type="Float32" Name="${name}" NumberOfComponents="1" format="appended"${range} offset="0"/>\n` +
    `      </PointData>\n` +
    `      <CellData>\n` +
    `      </CellData>\n` +
    `    </Piece>\n` +
    `  </ImageData>\n` +
    `  <AppendedData encoding="raw">\n   _`;
  const count = new Uint8Array(8);
  new DataView(count.buffer).setBigUint64(0, BigInt(volume.data.byteLength), true);
  const tail = `\n  </AppendedData>\n</VTKFile>\n`;
  const enc = new TextEncoder();
  await writeFileAtomic(path, [enc.encode(xml), count, volume.data, enc.encode(tail)]);
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m?.[1];
}

function numbers(s: string | undefined, n: number, what: string, file: string): number[] {
  const v = (s ?? '').trim().split(/\s+/).map(Number);
  if (v.length !== n || v.some((x) => !Number.isFinite(x))) throw new InputError(`malformed ${what} in .vti file`, file);
  return v;
}

/**
 * Reads a `.vti` file with one Float32 point-data array stored as appended raw binary (what
 * {@link writeVti} writes; UInt32 or UInt64 headers, either byte order).
 * @throws InputError for a missing file, a file that is not VTK ImageData, or a layout this
 *   reader does not handle (compressed, base64, several pieces, non-Float32 arrays).
 */
export async function readVti(path: string): Promise<VtiData> {
  await requireFile(path);
  const bytes = await readFile(path);
  const marker = bytes.indexOf('<AppendedData');
  const headText = bytes.subarray(0, marker >= 0 ? marker : Math.min(bytes.length, 65536)).toString('latin1');
  if (!/<VTKFile[^>]*type="ImageData"/.test(headText)) throw new InputError('not a VTK XML ImageData (.vti) file', path);
  const vtk = /<VTKFile[^>]*>/.exec(headText)![0];
  if (attr(vtk, 'compressor')) throw new InputError('compressed .vti files are not supported; save uncompressed', path);
  const le = (attr(vtk, 'byte_order') ?? 'LittleEndian') === 'LittleEndian';
  const header64 = (attr(vtk, 'header_type') ?? 'UInt32') === 'UInt64';
  const image = /<ImageData[^>]*>/.exec(headText);
  if (!image) throw new InputError('no <ImageData> element', path);
  const ext = numbers(attr(image[0], 'WholeExtent'), 6, 'WholeExtent', path) as VtiData['extent'];
  const spacing = numbers(attr(image[0], 'Spacing') ?? '1 1 1', 3, 'Spacing', path) as VtiData['spacing'];
  const origin = numbers(attr(image[0], 'Origin') ?? '0 0 0', 3, 'Origin', path) as VtiData['origin'];
  if ((headText.match(/<Piece/g) ?? []).length !== 1) throw new InputError('only single-piece .vti files are supported', path);
  const da = /<PointData[^>]*>\s*<DataArray[^>]*>/.exec(headText);
  if (!da) throw new InputError('no point-data array found', path);
  const arr = da[0].slice(da[0].lastIndexOf('<DataArray'));
  if (attr(arr, 'type') !== 'Float32') throw new InputError(`point data of type ${attr(arr, 'type')} are not supported (Float32 only)`, path);
  if (attr(arr, 'format') !== 'appended' || marker < 0) throw new InputError('only appended raw .vti data are supported', path);
  if ((attr(arr, 'NumberOfComponents') ?? '1') !== '1') throw new InputError('only single-component point data are supported', path);
  const appendedTag = /<AppendedData[^>]*>/.exec(bytes.subarray(marker, marker + 200).toString('latin1'))![0];
  if ((attr(appendedTag, 'encoding') ?? '') !== 'raw') throw new InputError('only raw appended encoding is supported', path);
  const underscore = bytes.indexOf(0x5f, marker + appendedTag.length);
  const start = underscore + 1 + Number(attr(arr, 'offset') ?? '0');
  const nx = ext[1] - ext[0] + 1;
  const ny = ext[3] - ext[2] + 1;
  const nz = ext[5] - ext[4] + 1;
  const count = nx * ny * nz;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nbytes = header64 ? Number(dv.getBigUint64(start, le)) : dv.getUint32(start, le);
  const dataStart = start + (header64 ? 8 : 4);
  if (nbytes !== count * 4 || dataStart + nbytes > bytes.length) {
    throw new InputError(`the appended data hold ${nbytes} bytes but the extent needs ${count * 4}`, path);
  }
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = dv.getFloat32(dataStart + 4 * i, le);
  return { volume: { data: out, shape: [nz, ny, nx] }, name: attr(arr, 'Name') ?? '', spacing, origin, extent: ext };
}
