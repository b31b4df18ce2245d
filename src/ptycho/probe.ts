/**
 * Initial probe guesses when the dataset brings none (or the user asks for one): a disc, a
 * Gaussian or a defocused pinhole, centred in the frame. The engines scale every initial probe to
 * the measured power (h·w·Σ|P|² = mean frame sum), so the amplitude here is arbitrary.
 */
import { InputError } from '../core/errors.js';
import type { ComplexArray } from '../core/array.js';
import { defocusedPinhole } from './simulate.js';

/** Kinds of initial probe. */
export type ProbeGuessKind = 'disc' | 'gaussian' | 'pinhole';

/**
 * A probe guess [h, w] (complex): 'disc' of the given diameter (px); 'gaussian' with that FWHM;
 * 'pinhole': a disc of that diameter propagated by a quadratic Fourier phase (defocus 0.1·h),
 * the ring-structured probe of a defocused pinhole or zone plate. Default diameter: min(h, w)/2.
 */
export function probeGuess(kind: ProbeGuessKind, h: number, w: number, diameter = Math.min(h, w) / 2): ComplexArray {
  if (!(diameter > 0 && diameter <= Math.max(h, w))) throw new InputError(`probe diameter must be in (0, ${Math.max(h, w)}] pixels, got ${diameter}`, '--probe-diameter');
  const data = new Float32Array(2 * h * w);
  if (kind === 'pinhole') {
    if (h !== w) throw new InputError('the pinhole guess needs square frames; use disc or gaussian', '--probe-guess');
    data.set(defocusedPinhole(h, diameter, 0.1 * h));
    return { data, shape: [h, w], complex: true };
  }
  if (kind !== 'disc' && kind !== 'gaussian') throw new InputError(`unknown probe guess '${kind}' (disc, gaussian or pinhole)`, '--probe-guess');
  const sigma = diameter / (2 * Math.sqrt(2 * Math.log(2)));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const r = Math.hypot(y - h / 2, x - w / 2);
    data[2 * (y * w + x)] = kind === 'disc' ? (r <= diameter / 2 ? 1 : 0) : Math.exp(-(r * r) / (2 * sigma * sigma));
  }
  return { data, shape: [h, w], complex: true };
}
