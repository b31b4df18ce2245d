/**
 * Float64 CPU references for the preprocessing, filtering, back-projection and centre-scoring
 * kernels (tests and benchmark baselines only; the product runs the WGSL kernels). Each
 * follows the same equations as its kernel, written plainly.
 */
import FFT from 'fft.js';

/** Mean of `n` frames of `frameSize` values (float64). */
export function averageFramesReference(frames: ArrayLike<number>, n: number, frameSize: number): Float64Array {
  const out = new Float64Array(frameSize);
  for (let k = 0; k < n; k++) for (let i = 0; i < frameSize; i++) out[i] += frames[k * frameSize + i];
  for (let i = 0; i < frameSize; i++) out[i] /= n;
  return out;
}

/**
 * Dark/flat normalisation and −log with the guard rules of src/tomo/preprocess.ts:
 * t = (p − d)/(f − d) where f − d > 0 and finite, else 1; non-finite t → 1; −log(max(t, floor)).
 */
export function preprocessReference(
  proj: ArrayLike<number>,
  frameSize: number,
  dark: ArrayLike<number> | undefined,
  flat: ArrayLike<number> | undefined,
  log: boolean,
  floor: number,
): Float64Array {
  const out = new Float64Array(proj.length);
  for (let i = 0; i < proj.length; i++) {
    let t = proj[i];
    if (flat) {
      const j = i % frameSize;
      const d = dark ? dark[j] : 0;
      const den = flat[j] - d;
      t = den > 0 && Number.isFinite(den) ? (t - d) / den : 1;
    }
    if (!Number.isFinite(t)) t = 1;
    out[i] = log ? -Math.log(Math.max(t, floor)) : t;
  }
  return out;
}

/**
 * Filters each row (length `cols`) of `rows` rows with the frequency response `response`
 * (length P, DFT order) after zero padding to P: real(IFFT(FFT(pad(row)) · H))[0..cols).
 * fft.js in float64.
 */
export function filterRowsReference(data: ArrayLike<number>, rows: number, cols: number, response: Float64Array): Float64Array {
  const P = response.length;
  if ((P & (P - 1)) !== 0) return filterRowsDirect(data, rows, cols, response);
  const fft = new FFT(P);
  const out = new Float64Array(rows * cols);
  const input = fft.createComplexArray() as number[];
  const spec = fft.createComplexArray() as number[];
  const back = fft.createComplexArray() as number[];
  for (let r = 0; r < rows; r++) {
    input.fill(0);
    for (let c = 0; c < cols; c++) input[2 * c] = data[r * cols + c];
    fft.transform(spec, input);
    for (let k = 0; k < P; k++) {
      spec[2 * k] *= response[k];
      spec[2 * k + 1] *= response[k];
    }
    fft.inverseTransform(back, spec);
    for (let c = 0; c < cols; c++) out[r * cols + c] = back[2 * c];
  }
  return out;
}

/** As {@link filterRowsReference} for any P, by direct float64 DFTs (O(P²) per row). */
function filterRowsDirect(data: ArrayLike<number>, rows: number, cols: number, response: Float64Array): Float64Array {
  const P = response.length;
  const out = new Float64Array(rows * cols);
  const re = new Float64Array(P);
  const im = new Float64Array(P);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < P; k++) {
      let sr = 0;
      let si = 0;
      for (let c = 0; c < cols; c++) {
        const ph = (-2 * Math.PI * ((k * c) % P)) / P;
        sr += data[r * cols + c] * Math.cos(ph);
        si += data[r * cols + c] * Math.sin(ph);
      }
      re[k] = sr * response[k];
      im[k] = si * response[k];
    }
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let k = 0; k < P; k++) {
        const ph = (2 * Math.PI * ((k * c) % P)) / P;
        s += re[k] * Math.cos(ph) - im[k] * Math.sin(ph);
      }
      out[r * cols + c] = s / P;
    }
  }
  return out;
}

/** One angle of a back-projection: cos θ, sin θ and its weight Δθ (radians). */
export interface AngleTerm {
  cos: number;
  sin: number;
  weight: number;
}

/**
 * Voxel-driven back-projection with linear interpolation on the detector (float64), in the
 * conventions of src/tomo/geometry.ts: voxel (i, k) of an n × n slice sits at
 * x = k + 0.5 − n/2, y = n/2 − 0.5 − i and lands on detector index jf = x cos θ + y sin θ + center − 0.5;
 * vol[z, i, k] = Σ_a w_a · Σ_j max(0, 1 − |jf − j|) · sino[z, a, j]. `sino` is [slices, angles, cols].
 */
export function backprojectReference(sino: ArrayLike<number>, slices: number, cols: number, terms: AngleTerm[], n: number, center: number): Float64Array {
  const A = terms.length;
  const out = new Float64Array(slices * n * n);
  for (let z = 0; z < slices; z++) {
    for (let i = 0; i < n; i++) {
      const y = n / 2 - 0.5 - i;
      for (let k = 0; k < n; k++) {
        const x = k + 0.5 - n / 2;
        let s = 0;
        for (let a = 0; a < A; a++) {
          const jf = x * terms[a].cos + y * terms[a].sin + center - 0.5;
          s += terms[a].weight * hatSample(sino, (z * A + a) * cols, cols, jf);
        }
        out[(z * n + i) * n + k] = s;
      }
    }
  }
  return out;
}

/** Σ_j max(0, 1 − |jf − j|) · row[j] over j in [0, cols): linear interpolation, zero outside the detector. */
export function hatSample(row: ArrayLike<number>, offset: number, cols: number, jf: number): number {
  const j0 = Math.floor(jf);
  const f = jf - j0;
  const v0 = j0 >= 0 && j0 < cols ? row[offset + j0] : 0;
  const v1 = j0 + 1 >= 0 && j0 + 1 < cols ? row[offset + j0 + 1] : 0;
  return (1 - f) * v0 + f * v1;
}
