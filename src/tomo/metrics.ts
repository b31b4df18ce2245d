/** Error measures against a known truth (float64 sums over float32 volumes). */
import { InputError } from '../core/errors.js';
import type { Volume } from '../core/array.js';

/** Relative L2 error ‖x − truth‖ / ‖truth‖; `source` names the truth in the shape-mismatch error. */
export function relativeError(x: Volume, truth: Volume, source?: string): number {
  if (x.shape.join() !== truth.shape.join()) {
    throw new InputError(`the truth has shape [${truth.shape.join(', ')}] but the reconstruction is [${x.shape.join(', ')}]`, source);
  }
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.data.length; i++) {
    const d = x.data[i] - truth.data[i];
    num += d * d;
    den += truth.data[i] * truth.data[i];
  }
  return Math.sqrt(num / (den || 1));
}
