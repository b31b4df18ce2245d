/** Error measures against a known truth (float64 sums over float32 volumes). */
import { InputError } from '../core/errors.js';
import type { Volume } from '../core/array.js';

/** Relative L2 error ‖x − truth‖ / ‖truth‖; `source` names the truth in the shape-mismatch error. */
export function relativeError(x: Volume, truth: Volume, source?: string): number {
  if (x.shape.join() !== truth.shape.join()) {
    throw new InputError(`the truth has shape [${truth.shape.join(', ')}] but the reconstruction is [${x.shape.join(', ')}]`, source);
  }
  return relativeL2(x.data, truth.data);
}

/** Relative L2 difference ‖a − b‖ / ‖b‖ of two equally long arrays, summed in float64 (b is the reference). */
export function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    const d = a[i] - b[i];
    num += d * d;
    den += b[i] * b[i];
  }
  return Math.sqrt(num / (den || 1));
}
