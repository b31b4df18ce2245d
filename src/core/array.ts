/**
 * Plain typed values that travel between stages. C order (last index fastest), the same as
 * numpy, tifffile and our .npy writer.
 */

/** A real float32 array with its shape. */
export interface RealArray {
  data: Float32Array;
  shape: number[];
}

/** A 3-D real array: [slices, rows, cols] for volumes, [angles, rows, cols] for projections. */
export interface Volume extends RealArray {
  shape: [number, number, number];
}

/** A complex array, interleaved (re, im) in one Float32Array (matches `vec2f` in WGSL). `shape` excludes the pair axis. */
export interface ComplexArray {
  data: Float32Array;
  shape: number[];
  complex: true;
}

/** Number of elements a shape holds. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** Makes a zero-filled real array of the given shape. */
export function zeros<S extends number[]>(shape: S): { data: Float32Array; shape: S } {
  return { data: new Float32Array(sizeOf(shape)), shape };
}
