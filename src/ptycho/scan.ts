/**
 * Scan geometry: where each frame's view lies in the object array, how large the object is, and
 * host-side tables the kernels need (packed positions, per-tile frame lists for the race-free
 * object reduction, groups of frames whose views do not overlap for batched ePIE).
 *
 * Coordinates: positions are (row, col) in object pixels and name the TOP-LEFT corner of a view.
 * {@link scanGeometry} adds one shift to every position so that the smallest lands at `margin`.
 * Frame j then reads object pixels rows floor(r_j) .. floor(r_j) + h (inclusive: the bilinear
 * interpolation of a sub-pixel view touches one extra row and column), so the object has
 * ceil(max r) + h + 1 + margin rows (likewise columns). The first frame's view starts at
 * `offset` = shifted position of frame 0 — that is the documented offset of the first view.
 */
import { InputError } from '../core/errors.js';
import { MAX_OBJECT_SIDE } from './dataset.js';

/** Positions shifted into the object array plus the array's size. */
export interface ScanGeometry {
  /** Number of frames. */
  n: number;
  /** Frame size [h, w]. */
  frame: [number, number];
  /** Shifted positions [n, 2] (row, col), every value ≥ margin. */
  positions: Float64Array;
  /** Object array size [rows, cols]. */
  objectShape: [number, number];
  /** The shift added to the input positions (row, col). */
  shift: [number, number];
  /** Top-left corner (row, col) of frame 0's view in the object array (= positions[0..1]). */
  offset: [number, number];
  /** Margin (pixels) left around the scanned field. */
  margin: number;
}

/**
 * Shifts positions so the smallest row/col lands at `margin` and sizes the object to cover every
 * view (plus the bilinear tap) and the margin on all sides.
 */
export function scanGeometry(positions: Float64Array, frame: [number, number], margin = 2, source = 'scan'): ScanGeometry {
  const n = positions.length / 2;
  if (!Number.isInteger(n) || n < 1) throw new InputError('positions must be an [n, 2] array with n ≥ 1', source);
  let minR = Infinity, minC = Infinity, maxR = -Infinity, maxC = -Infinity;
  for (let j = 0; j < n; j++) {
    const r = positions[2 * j], c = positions[2 * j + 1];
    if (!Number.isFinite(r) || !Number.isFinite(c)) throw new InputError(`scan position ${j} is not finite`, source);
    minR = Math.min(minR, r); minC = Math.min(minC, c); maxR = Math.max(maxR, r); maxC = Math.max(maxC, c);
  }
  const shift: [number, number] = [margin - minR, margin - minC];
  const out = new Float64Array(2 * n);
  for (let j = 0; j < n; j++) {
    out[2 * j] = positions[2 * j] + shift[0];
    out[2 * j + 1] = positions[2 * j + 1] + shift[1];
  }
  const rows = Math.ceil(maxR + shift[0]) + frame[0] + 1 + margin;
  const cols = Math.ceil(maxC + shift[1]) + frame[1] + 1 + margin;
  if (rows > MAX_OBJECT_SIDE || cols > MAX_OBJECT_SIDE) {
    throw new InputError(`the scan needs a ${rows}×${cols} object, larger than ${MAX_OBJECT_SIDE} px per side: positions must be in object pixels`, source);
  }
  return { n, frame, positions: out, objectShape: [rows, cols], shift, offset: [out[0], out[1]], margin };
}

/** Bytes per packed position record (WGSL `FramePos { y0: i32, x0: i32, fy: f32, fx: f32 }`). */
export const FRAME_POS_BYTES = 16;

/**
 * Packs positions for the kernels: integer corner (floor) and fractional part per frame, in the
 * layout of WGSL `FramePos` (shaders/ptycho/sample.wgsl).
 */
export function packPositions(positions: Float64Array): ArrayBuffer {
  const n = positions.length / 2;
  const buf = new ArrayBuffer(n * FRAME_POS_BYTES);
  const i32 = new Int32Array(buf);
  const f32 = new Float32Array(buf);
  for (let j = 0; j < n; j++) {
    const r = positions[2 * j], c = positions[2 * j + 1];
    const r0 = Math.floor(r), c0 = Math.floor(c);
    i32[4 * j] = r0;
    i32[4 * j + 1] = c0;
    f32[4 * j + 2] = r - r0;
    f32[4 * j + 3] = c - c0;
  }
  return buf;
}

/** Per-tile lists of the frames whose views touch the tile: the gather table of the object reduction. */
export interface TileFrameLists {
  /** Tile side in pixels. */
  tile: number;
  /** Tiles along rows and columns. */
  tilesY: number;
  tilesX: number;
  /** CSR offsets, length tilesY·tilesX + 1: tile t's frames are frames[start[t] .. start[t+1]). */
  start: Uint32Array;
  /** Frame indices (global), ascending within each tile: the fixed summation order. */
  frames: Uint32Array;
}

/**
 * Builds, for each `tile`×`tile` block of the object, the ascending list of frames in
 * [first, end) whose footprint (rows floor(r)..floor(r)+h, cols floor(c)..floor(c)+w) touches it.
 */
export function tileFrameLists(geom: ScanGeometry, tile: number, first = 0, end = geom.n): TileFrameLists {
  const [rows, cols] = geom.objectShape;
  const [h, w] = geom.frame;
  const tilesY = Math.ceil(rows / tile), tilesX = Math.ceil(cols / tile);
  const counts = new Uint32Array(tilesY * tilesX);
  const spans: Array<[number, number, number, number]> = [];
  for (let j = first; j < end; j++) {
    const y0 = Math.floor(geom.positions[2 * j]), x0 = Math.floor(geom.positions[2 * j + 1]);
    const ty0 = Math.floor(y0 / tile), ty1 = Math.min(tilesY - 1, Math.floor((y0 + h) / tile));
    const tx0 = Math.floor(x0 / tile), tx1 = Math.min(tilesX - 1, Math.floor((x0 + w) / tile));
    spans.push([ty0, ty1, tx0, tx1]);
    for (let ty = ty0; ty <= ty1; ty++) for (let tx = tx0; tx <= tx1; tx++) counts[ty * tilesX + tx]++;
  }
  const start = new Uint32Array(tilesY * tilesX + 1);
  for (let t = 0; t < counts.length; t++) start[t + 1] = start[t] + counts[t];
  const frames = new Uint32Array(Math.max(1, start[counts.length]));
  const fill = start.slice(0, counts.length);
  for (let j = first; j < end; j++) {
    const [ty0, ty1, tx0, tx1] = spans[j - first];
    for (let ty = ty0; ty <= ty1; ty++) for (let tx = tx0; tx <= tx1; tx++) frames[fill[ty * tilesX + tx]++] = j;
  }
  return { tile, tilesY, tilesX, start, frames };
}

/** True when the footprints of frames a and b (views plus the bilinear tap) share a pixel. */
export function footprintsOverlap(geom: ScanGeometry, a: number, b: number): boolean {
  const [h, w] = geom.frame;
  const ya = Math.floor(geom.positions[2 * a]), xa = Math.floor(geom.positions[2 * a + 1]);
  const yb = Math.floor(geom.positions[2 * b]), xb = Math.floor(geom.positions[2 * b + 1]);
  return Math.abs(ya - yb) <= h && Math.abs(xa - xb) <= w;
}

/**
 * Splits `order` into consecutive groups of at most `maxSize` frames whose footprints are
 * pairwise disjoint (greedy, in order): frames of one group can update the object at the same
 * time without races. With maxSize = 1 every frame is its own group (sequential ePIE).
 */
export function nonOverlappingGroups(geom: ScanGeometry, order: ArrayLike<number>, maxSize: number): number[][] {
  const groups: number[][] = [];
  let current: number[] = [];
  for (let i = 0; i < order.length; i++) {
    const j = order[i];
    const clash = current.length >= maxSize || current.some((k) => footprintsOverlap(geom, j, k));
    if (clash) {
      groups.push(current);
      current = [];
    }
    current.push(j);
  }
  if (current.length) groups.push(current);
  return groups;
}

/** A seeded permutation of 0..n-1 (Fisher–Yates with mulberry32), for ePIE's random order. */
export function seededPermutation(n: number, seed: number): Uint32Array {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const k = Math.floor(next() * (i + 1));
    const t = p[i]; p[i] = p[k]; p[k] = t;
  }
  return p;
}

/** Frame ranges [first, end) of at most `perChunk` frames each, covering 0..n. */
export function frameChunks(n: number, perChunk: number): Array<[number, number]> {
  const chunks: Array<[number, number]> = [];
  const count = Math.ceil(n / Math.max(1, perChunk));
  const size = Math.ceil(n / count);
  for (let f = 0; f < n; f += size) chunks.push([f, Math.min(n, f + size)]);
  return chunks;
}
