/**
 * FBP filters: frequency responses on the zero-padded detector grid, computed on the host in
 * float64 (host-side set-up, not reconstruction arithmetic), and the spatial-domain kernel the
 * WGSL row convolution (shaders/tomo/fbp_filter.wgsl) applies.
 *
 * Units: detector pixels of width 1, frequencies f in cycles per pixel, |f| ≤ 1/2. The ramp is
 * the band-limited ramp of Kak & Slaney (ch. 3): its spatial samples h[0] = 1/4,
 * h[n odd] = −1/(π n)², h[n even ≠ 0] = 0, taken over one padded period and transformed, which
 * gives |f| at all but the lowest frequencies and the correct small positive DC term (a sampled
 * |f| would set DC to zero and bias the reconstruction). The apodised filters multiply it by a
 * window W(f):
 *
 * | name          | W(f)                     |
 * |---------------|--------------------------|
 * | `ramp`        | 1 (Ram-Lak)              |
 * | `shepp-logan` | sin(π f)/(π f)           |
 * | `cosine`      | cos(π f)                 |
 * | `hamming`     | 0.54 + 0.46 cos(2π f)    |
 * | `hann`        | 0.5 + 0.5 cos(2π f)      |
 *
 * Filtering a row p (zero-padded to P) gives q = IDFT(DFT(p) · H); FBP then sums
 * Σ_a Δθ_a · q_a(u) (Δθ in radians), which reconstructs attenuation per pixel length with the
 * right absolute scale.
 */
import FFT from 'fft.js';
import { InputError } from '../core/errors.js';

/** The FBP filters, by their TomoPy/scikit-image names. */
export const FILTER_NAMES = ['ramp', 'shepp-logan', 'cosine', 'hamming', 'hann'] as const;

/** One of {@link FILTER_NAMES}. */
export type FilterName = (typeof FILTER_NAMES)[number];

const ALIASES: Record<string, FilterName> = {
  ramp: 'ramp',
  'ram-lak': 'ramp',
  ramlak: 'ramp',
  'shepp-logan': 'shepp-logan',
  shepp: 'shepp-logan',
  shepplogan: 'shepp-logan',
  cosine: 'cosine',
  hamming: 'hamming',
  hann: 'hann',
  hanning: 'hann',
};

/**
 * Checks a filter name (case-insensitive; aliases `ram-lak`, `shepp`, `hanning` accepted) and
 * returns its canonical name; anything else is an {@link InputError} naming `source`.
 */
export function parseFilterName(name: string, source = '--filter'): FilterName {
  const hit = ALIASES[String(name).trim().toLowerCase()];
  if (!hit) throw new InputError(`unknown FBP filter '${name}' (choose one of ${FILTER_NAMES.join(', ')})`, source);
  return hit;
}

/** Padding of detector rows before filtering. */
export type FilterPadding = 'auto' | 'none' | number;

/**
 * Padded row length P for `cols` detector columns:
 * - `'auto'` (default): max(64, 2^⌈log2(2·cols)⌉), i.e. twice the next power of two of `cols`,
 *   so the circular convolution never wraps (P ≥ 2·cols − 1);
 * - `'none'`: P = cols (circular convolution over the detector, no zero padding);
 * - a number: that length, at least `cols`.
 */
export function paddedLength(cols: number, padding: FilterPadding = 'auto'): number {
  if (padding === 'auto') return Math.max(64, 2 ** Math.ceil(Math.log2(2 * cols)));
  if (padding === 'none') return cols;
  if (!Number.isInteger(padding) || padding < cols) {
    throw new InputError(`filter padding must be 'auto', 'none' or an integer length of at least the ${cols} detector columns, not ${padding}`, '--padding');
  }
  return padding;
}

/** Frequency (cycles per pixel) of DFT bin k of a length-P transform, in [−1/2, 1/2). */
export function binFrequency(k: number, P: number): number {
  return (k <= P / 2 ? k : k - P) / P;
}

/** Window W(f) of a filter at frequency f (cycles per pixel). */
export function filterWindow(name: FilterName, f: number): number {
  switch (name) {
    case 'ramp':
      return 1;
    case 'shepp-logan':
      return f === 0 ? 1 : Math.sin(Math.PI * f) / (Math.PI * f);
    case 'cosine':
      return Math.cos(Math.PI * f);
    case 'hamming':
      return 0.54 + 0.46 * Math.cos(2 * Math.PI * f);
    case 'hann':
      return 0.5 + 0.5 * Math.cos(2 * Math.PI * f);
  }
}

/** Real DFT of a real even sequence (length P, DFT order) in float64: fft.js for powers of two, a direct sum otherwise. */
function realDft(x: Float64Array, inverse: boolean): Float64Array {
  const P = x.length;
  const out = new Float64Array(P);
  if ((P & (P - 1)) === 0 && P >= 2) {
    const fft = new FFT(P);
    const input = fft.createComplexArray() as number[];
    const spec = fft.createComplexArray() as number[];
    for (let i = 0; i < P; i++) input[2 * i] = x[i];
    if (inverse) fft.inverseTransform(spec, input);
    else fft.transform(spec, input);
    for (let k = 0; k < P; k++) out[k] = spec[2 * k];
    return out;
  }
  for (let k = 0; k < P; k++) {
    let s = 0;
    for (let n = 0; n < P; n++) s += x[n] * Math.cos((2 * Math.PI * ((k * n) % P)) / P);
    out[k] = inverse ? s / P : s;
  }
  return out;
}

/**
 * Frequency response H[k] (length P, DFT order, real and even) of filter `name` on a padded
 * grid of P samples: the DFT of the band-limited ramp's P spatial samples, times the window.
 */
export function filterResponse(name: FilterName, P: number): Float64Array {
  const h = new Float64Array(P);
  h[0] = 0.25;
  for (let n = 1; n <= P / 2; n += 2) {
    const v = -1 / (Math.PI * n) ** 2;
    h[n] = v;
    if (P - n !== n) h[P - n] = v;
  }
  const H = realDft(h, false);
  for (let k = 0; k < P; k++) H[k] *= filterWindow(name, binFrequency(k, P));
  return H;
}

/**
 * Spatial kernel g = IDFT(H) of the filter on the padded grid (length P, g[m mod P]), the
 * circular-convolution kernel equivalent to multiplying by H after zero padding.
 */
export function filterKernel(name: FilterName, P: number): Float64Array {
  return realDft(filterResponse(name, P), true);
}

/**
 * The kernel unrolled for a row of `cols` values: e[m + cols − 1] = g[m mod P] for
 * m = −(cols−1) .. cols−1, so output column c of the filtered row is
 * Σ_k row[k] · e[c − k + cols − 1] with no modulo in the GPU loop. Float32 for upload.
 */
export function unrolledKernel(name: FilterName, cols: number, P: number): Float32Array {
  const g = filterKernel(name, P);
  const e = new Float32Array(2 * cols - 1);
  for (let m = -(cols - 1); m <= cols - 1; m++) e[m + cols - 1] = g[((m % P) + P) % P];
  return e;
}
