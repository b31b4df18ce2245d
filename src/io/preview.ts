/**
 * PNG previews: any float image as 8-bit grey with a robust window, and the three orthogonal
 * central slices of a volume side by side (a quick look at a reconstruction without a viewer).
 * Written with pngjs, atomically (temporary name + rename).
 */
import { createRequire } from 'node:module';
import { InputError } from '../core/errors.js';
import type { Volume } from '../core/array.js';
import { writeFileAtomic } from './atomic.js';

// pngjs is CommonJS; load it the way Node resolves it for ESM callers and bundlers alike.
const require = createRequire(import.meta.url);
const { PNG } = require('pngjs') as typeof import('pngjs');

/** A 2-D float image, row-major [height, width]. */
export interface FloatImage {
  data: Float32Array;
  shape: [number, number];
}

/** Options of {@link writeImagePng}. */
export interface ImagePngOptions {
  /**
   * Grey window [black, white] in data units. Default: the `percentiles` of the finite values,
   * so a few hot or dead pixels do not wash out the picture.
   */
  window?: [number, number];
  /** Percentiles (0..100) for the automatic window; default [0.5, 99.5]. */
  percentiles?: [number, number];
  /** Stored as the PNG's tEXt 'Title' (shown by some viewers); nothing is drawn. */
  title?: string;
}

/** Options of {@link writeOrthoPreview}. */
export interface OrthoPreviewOptions {
  /** Stored as the PNG's tEXt 'Title', followed by which slices are shown. */
  title?: string;
  /** Percentiles (0..100) for the common grey window of the three slices; default [0.5, 99.5]. */
  percentiles?: [number, number];
}

/**
 * The values at the given percentiles (0..100) of the finite entries of `values` (nearest rank
 * on the sorted values). Returns [0, 1] when there is no finite value.
 */
export function percentileWindow(values: ArrayLike<number>, lowPct = 0.5, highPct = 99.5): [number, number] {
  const finite = new Float32Array(values.length);
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) finite[m++] = v;
  }
  if (m === 0) return [0, 1];
  const sorted = finite.subarray(0, m).sort();
  const at = (p: number) => sorted[Math.min(m - 1, Math.max(0, Math.round(((m - 1) * p) / 100)))]!;
  return [at(lowPct), at(highPct)];
}

/** Maps floats to 8-bit grey through the window [lo, hi] (clamped; NaN → 0; a flat window → mid grey). */
export function toGrey8(data: ArrayLike<number>, window: [number, number]): Uint8Array {
  const [lo, hi] = window;
  const out = new Uint8Array(data.length);
  const flat = !(hi > lo);
  const scale = flat ? 0 : 255 / (hi - lo);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (Number.isNaN(v)) out[i] = 0;
    else if (flat) out[i] = v > hi ? 255 : v < lo ? 0 : 128;
    else out[i] = Math.max(0, Math.min(255, Math.round((v - lo) * scale)));
  }
  return out;
}

// CRC-32 (IEEE) for the tEXt chunk we add after IHDR.
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A PNG tEXt chunk (Latin-1 keyword and text; other characters become '?'). */
function textChunk(keyword: string, text: string): Uint8Array {
  const latin1 = (s: string) => Uint8Array.from(s, (ch) => (ch.charCodeAt(0) < 256 && ch !== '\0' ? ch.charCodeAt(0) : 0x3f));
  const body = new Uint8Array([...latin1('tEXt'), ...latin1(keyword.slice(0, 79)), 0, ...latin1(text)]);
  const chunk = new Uint8Array(12 + body.length - 4);
  const dv = new DataView(chunk.buffer);
  dv.setUint32(0, body.length - 4);
  chunk.set(body, 4);
  dv.setUint32(4 + body.length, crc32(body));
  return chunk;
}

/** Encodes 8-bit grey pixels [height, width] as PNG bytes (with an optional tEXt Title). */
export function encodeGreyPng(grey: Uint8Array, width: number, height: number, title?: string): Uint8Array {
  const png = PNG.sync.write({ width, height, data: Buffer.from(grey.buffer, grey.byteOffset, grey.byteLength) } as never, {
    colorType: 0,
    inputColorType: 0,
    bitDepth: 8,
    inputHasAlpha: false,
  });
  if (!title) return png;
  // insert after the 8-byte signature and the 25-byte IHDR chunk
  const chunk = textChunk('Title', title);
  const out = new Uint8Array(png.length + chunk.length);
  out.set(png.subarray(0, 33), 0);
  out.set(chunk, 33);
  out.set(png.subarray(33), 33 + chunk.length);
  return out;
}

function checkPngPath(path: string): void {
  if (!/\.png$/i.test(path)) throw new InputError('a preview must be written to a .png file', path);
}

/**
 * Writes a float image [height, width] as an 8-bit grey PNG, atomically. The grey window is
 * `options.window`, or by default the 0.5 and 99.5 percentiles of the finite values; values
 * outside are clamped, NaN is black.
 * @throws InputError for a path not ending in .png, or a shape that does not match the data.
 */
export async function writeImagePng(path: string, image: FloatImage, options: ImagePngOptions = {}): Promise<void> {
  checkPngPath(path);
  const [h, w] = image.shape;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h <= 0 || w <= 0 || image.data.length !== h * w) {
    throw new InputError(`cannot write: image shape (${image.shape.join(', ')}) does not match its ${image.data.length} values`, path);
  }
  const [pl, ph] = options.percentiles ?? [0.5, 99.5];
  const window = options.window ?? percentileWindow(image.data, pl, ph);
  await writeFileAtomic(path, encodeGreyPng(toGrey8(image.data, window), w, h, options.title));
}

/** The three central slices of a [z, y, x] volume: axial [y, x] at z = nz/2, coronal [z, x] at y = ny/2, sagittal [z, y] at x = nx/2. */
export function centralSlices(volume: Volume): { axial: FloatImage; coronal: FloatImage; sagittal: FloatImage; at: [number, number, number] } {
  const [nz, ny, nx] = volume.shape;
  const z0 = nz >> 1;
  const y0 = ny >> 1;
  const x0 = nx >> 1;
  const d = volume.data;
  const axial = d.slice(z0 * ny * nx, (z0 + 1) * ny * nx);
  const coronal = new Float32Array(nz * nx);
  const sagittal = new Float32Array(nz * ny);
  for (let z = 0; z < nz; z++) {
    coronal.set(d.subarray((z * ny + y0) * nx, (z * ny + y0 + 1) * nx), z * nx);
    for (let y = 0; y < ny; y++) sagittal[z * ny + y] = d[(z * ny + y) * nx + x0]!;
  }
  return {
    axial: { data: axial, shape: [ny, nx] },
    coronal: { data: coronal, shape: [nz, nx] },
    sagittal: { data: sagittal, shape: [nz, ny] },
    at: [z0, y0, x0],
  };
}

/** Gap between the panels of {@link writeOrthoPreview}, in pixels. */
export const ORTHO_GAP = 4;

/**
 * Writes a PNG of the three orthogonal central slices of a [z, y, x] volume side by side, left
 * to right: axial (z = nz/2, rows y, columns x), coronal (y = ny/2, rows z, columns x) and
 * sagittal (x = nx/2, rows z, columns y); top-aligned, separated by 4-pixel black gaps. One
 * common 8-bit grey window for the three, from the 0.5 and 99.5 percentiles of their finite
 * values. Written atomically.
 * @throws InputError for a path not ending in .png or a volume whose shape does not match its data.
 */
export async function writeOrthoPreview(path: string, volume: Volume, options: OrthoPreviewOptions = {}): Promise<void> {
  checkPngPath(path);
  const s = volume.shape;
  if (s.length !== 3 || s.some((v) => !Number.isInteger(v) || v <= 0) || volume.data.length !== s[0] * s[1] * s[2]) {
    throw new InputError(`cannot write a preview: volume shape (${s.join(', ')}) does not match its ${volume.data.length} values`, path);
  }
  const [nz, ny, nx] = s;
  const { axial, coronal, sagittal, at } = centralSlices(volume);
  const all = new Float32Array(axial.data.length + coronal.data.length + sagittal.data.length);
  all.set(axial.data, 0);
  all.set(coronal.data, axial.data.length);
  all.set(sagittal.data, axial.data.length + coronal.data.length);
  const [pl, ph] = options.percentiles ?? [0.5, 99.5];
  const window = percentileWindow(all, pl, ph);
  const width = nx + ORTHO_GAP + nx + ORTHO_GAP + ny;
  const height = Math.max(ny, nz);
  const grey = new Uint8Array(width * height);
  const paste = (img: FloatImage, x0: number) => {
    const [h, w] = img.shape;
    const g = toGrey8(img.data, window);
    for (let r = 0; r < h; r++) grey.set(g.subarray(r * w, (r + 1) * w), r * width + x0);
  };
  paste(axial, 0);
  paste(coronal, nx + ORTHO_GAP);
  paste(sagittal, 2 * (nx + ORTHO_GAP));
  const what = `axial z=${at[0]}, coronal y=${at[1]}, sagittal x=${at[2]} of ${nz}x${ny}x${nx}; window ${window[0].toPrecision(4)}..${window[1].toPrecision(4)}`;
  const title = options.title ? `${options.title} (${what})` : what;
  await writeFileAtomic(path, encodeGreyPng(grey, width, height, title));
}
