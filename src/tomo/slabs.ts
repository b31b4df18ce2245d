/**
 * Chunking along the rotation axis. Slices of a parallel-beam problem are independent, so a
 * volume that does not fit one storage binding is reconstructed as slabs of consecutive rows
 * `[r0, r1)`, each a self-contained problem.
 */
import { GpuError } from '../core/errors.js';

/**
 * Splits `rows` into consecutive slabs `[r0, r1)` so that every buffer of a slab stays within
 * `limitBytes`, given the largest buffer's size per row (`bytesPerRow`). Slabs are as even as
 * possible. Throws a GpuError when even one row does not fit.
 */
export function planSlabs(rows: number, bytesPerRow: number, limitBytes: number): Array<[number, number]> {
  const perSlab = Math.floor(limitBytes / bytesPerRow);
  if (perSlab < 1) {
    throw new GpuError('limits', `one slice needs ${(bytesPerRow / 2 ** 20).toFixed(1)} MiB in one buffer, more than this device's storage binding limit (${(limitBytes / 2 ** 20).toFixed(1)} MiB); reduce the size or the number of angles.`);
  }
  const count = Math.ceil(rows / perSlab);
  const slabs: Array<[number, number]> = [];
  for (let k = 0; k < count; k++) {
    const r0 = Math.floor((k * rows) / count);
    const r1 = Math.floor(((k + 1) * rows) / count);
    slabs.push([r0, r1]);
  }
  return slabs;
}

/** Copies rows `[r0, r1)` of every plane of a `[planes, rows, cols]` array into a new `[planes, r1 − r0, cols]` array. */
export function copyRowsOut(src: Float32Array, planes: number, rows: number, cols: number, r0: number, r1: number): Float32Array {
  const s = r1 - r0;
  if (s === rows) return src.subarray(0, planes * rows * cols);
  const out = new Float32Array(planes * s * cols);
  for (let a = 0; a < planes; a++) out.set(src.subarray((a * rows + r0) * cols, (a * rows + r1) * cols), a * s * cols);
  return out;
}

/** Writes a `[planes, r1 − r0, cols]` array into rows `[r0, r1)` of a `[planes, rows, cols]` array. */
export function copyRowsIn(dst: Float32Array, src: Float32Array, planes: number, rows: number, cols: number, r0: number, r1: number): void {
  const s = r1 - r0;
  for (let a = 0; a < planes; a++) dst.set(src.subarray(a * s * cols, (a + 1) * s * cols), (a * rows + r0) * cols);
}

/**
 * Packs slices `[r0, r1)` of every plane of a `[planes, rows, size]` array `k` to a vector (k = 1,
 * 2, 4 or 8): the result is `[planes, ceil((r1 − r0)/k), size, k]`, with slice `r0 + k·g + m` at
 * component `m` of group `g` (missing slices of the last group are zero). The layout of
 * shaders/tomo/sweep_packed.wgsl.
 */
export function packSlices(src: Float32Array, planes: number, rows: number, size: number, r0: number, r1: number, k: number): Float32Array<ArrayBuffer> {
  // One slice per group: the layout is the source's rows [r0, r1) of every plane.
  if (k === 1) return copyRowsOut(src, planes, rows, size, r0, r1) as Float32Array<ArrayBuffer>;
  const groups = Math.ceil((r1 - r0) / k);
  const out = new Float32Array(planes * groups * size * k);
  for (let a = 0; a < planes; a++) {
    for (let s = r0; s < r1; s++) {
      const g = Math.floor((s - r0) / k);
      const m = (s - r0) % k;
      const from = (a * rows + s) * size;
      const to = (a * groups + g) * size * k + m;
      for (let x = 0; x < size; x++) out[to + k * x] = src[from + x];
    }
  }
  return out;
}

/** The inverse of {@link packSlices} for one plane: writes slices `[r0, r1)` of `dst` (`[rows, size]` per slice). */
export function unpackSlices(packed: Float32Array, dst: Float32Array, size: number, r0: number, r1: number, k: number): void {
  if (k === 1) {
    copyRowsIn(dst, packed, 1, dst.length / size, size, r0, r1);
    return;
  }
  for (let s = r0; s < r1; s++) {
    const g = Math.floor((s - r0) / k);
    const m = (s - r0) % k;
    const from = g * size * k + m;
    const to = s * size;
    for (let x = 0; x < size; x++) dst[to + x] = packed[from + k * x];
  }
}
