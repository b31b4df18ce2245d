/**
 * The FFT twiddle table: exp(-2πi m / FFT_TABLE_SIZE) for m in [0, FFT_TABLE_SIZE), computed in
 * float64 and stored as float32 (vec2f interleaved). One table serves every power-of-two line
 * length up to FFT_TABLE_SIZE: the N-point twiddle exp(-2πi m/N) is entry m·(FFT_TABLE_SIZE/N).
 * This is host-side set-up (a coefficient table), not reconstruction arithmetic.
 */

/** Length of the twiddle table; also the largest supported line length. Matches FFT_TABLE in shaders/fft/stockham.wgsl. */
export const FFT_TABLE_SIZE = 1024;

/** Builds the interleaved (re, im) float32 twiddle table. */
export function twiddleTable(size = FFT_TABLE_SIZE): Float32Array {
  const out = new Float32Array(2 * size);
  for (let m = 0; m < size; m++) {
    const phi = (-2 * Math.PI * m) / size;
    out[2 * m] = Math.cos(phi);
    out[2 * m + 1] = Math.sin(phi);
  }
  return out;
}
