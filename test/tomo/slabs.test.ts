import { describe, expect, it } from 'vitest';
import { packSlices, unpackSlices } from '../../src/tomo/slabs.js';

/** packSlices by its definition, element by element: slice r0 + k·g + m at component m of group g. */
function packByDefinition(src: Float32Array, planes: number, rows: number, size: number, r0: number, r1: number, k: number): Float32Array {
  const groups = Math.ceil((r1 - r0) / k);
  const out = new Float32Array(planes * groups * size * k);
  for (let a = 0; a < planes; a++) {
    for (let s = r0; s < r1; s++) {
      const g = Math.floor((s - r0) / k), m = (s - r0) % k;
      for (let x = 0; x < size; x++) out[(a * groups + g) * size * k + m + k * x] = src[(a * rows + s) * size + x];
    }
  }
  return out;
}

describe('slab packing (slices interleaved k per value for the sweep kernels)', () => {
  const planes = 3, rows = 11, size = 7;
  const src = Float32Array.from({ length: planes * rows * size }, (_, i) => i + 0.5);
  for (const k of [1, 2, 4, 8]) {
    it(`k = ${k}: packs as defined and unpacks back, rows [2, 9) of ${rows}`, () => {
      const packed = packSlices(src, planes, rows, size, 2, 9, k);
      expect(Array.from(packed)).toEqual(Array.from(packByDefinition(src, planes, rows, size, 2, 9, k)));
      // Unpack plane 1 into a poisoned destination: exactly rows [2, 9) are written.
      const groups = Math.ceil(7 / k);
      const dst = new Float32Array(rows * size).fill(Number.NaN);
      unpackSlices(packed.subarray(groups * size * k, 2 * groups * size * k), dst, size, 2, 9, k);
      for (let s = 0; s < rows; s++) {
        for (let x = 0; x < size; x++) {
          const v = dst[s * size + x];
          if (s >= 2 && s < 9) expect(v).toBe(src[(rows + s) * size + x]);
          else expect(v).toBeNaN();
        }
      }
    });
  }
});
