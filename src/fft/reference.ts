/**
 * Float64 CPU references for the WGSL FFT, built on fft.js: used by the tests and as the CPU
 * baseline of the FFT benchmark. Same conventions as the GPU plan (src/fft/plan.ts): forward
 * unscaled with e^{-2πi kn/N}, inverse scaled by 1/(H·W), optional fftshift of the spectrum.
 */
import FFT from 'fft.js';
import type { FftDirection } from './plan.js';

/** A float64 2-D transform of one size, reusable over many images. */
export class ReferenceFft2d {
  private readonly rowFft: FFT;
  private readonly colFft: FFT;
  private readonly rowIn: number[];
  private readonly rowOut: number[];
  private readonly colIn: number[];
  private readonly colOut: number[];

  constructor(readonly height: number, readonly width: number) {
    this.rowFft = new FFT(width);
    this.colFft = new FFT(height);
    this.rowIn = this.rowFft.createComplexArray();
    this.rowOut = this.rowFft.createComplexArray();
    this.colIn = this.colFft.createComplexArray();
    this.colOut = this.colFft.createComplexArray();
  }

  /**
   * Transforms one image (interleaved complex, [height, width]) from `src` at element offset
   * `at` into `dst` at the same offset (float64). `shift`: forward writes fftshift(F x),
   * inverse reads its input through ifftshift.
   */
  transform(src: ArrayLike<number>, dst: Float64Array, at: number, direction: FftDirection, shift = false): void {
    const h = this.height;
    const w = this.width;
    const inverse = direction === 'inverse';
    const tmp = new Float64Array(2 * h * w);
    // rows
    for (let y = 0; y < h; y++) {
      const sy = inverse && shift ? (y + h / 2) % h : y;
      for (let x = 0; x < w; x++) {
        const sx = inverse && shift ? (x + w / 2) % w : x;
        const s = 2 * (at + sy * w + sx);
        this.rowIn[2 * x] = src[s];
        this.rowIn[2 * x + 1] = src[s + 1];
      }
      if (inverse) this.rowFft.inverseTransform(this.rowOut, this.rowIn);
      else this.rowFft.transform(this.rowOut, this.rowIn);
      for (let x = 0; x < 2 * w; x++) tmp[2 * y * w + x] = this.rowOut[x];
    }
    // columns
    for (let x = 0; x < w; x++) {
      for (let y = 0; y < h; y++) {
        this.colIn[2 * y] = tmp[2 * (y * w + x)];
        this.colIn[2 * y + 1] = tmp[2 * (y * w + x) + 1];
      }
      if (inverse) this.colFft.inverseTransform(this.colOut, this.colIn);
      else this.colFft.transform(this.colOut, this.colIn);
      for (let y = 0; y < h; y++) {
        const dy = !inverse && shift ? (y + h / 2) % h : y;
        const dx = !inverse && shift ? (x + w / 2) % w : x;
        const d = 2 * (at + dy * w + dx);
        dst[d] = this.colOut[2 * y];
        dst[d + 1] = this.colOut[2 * y + 1];
      }
    }
  }
}

/**
 * Float64 reference of the batched 2-D FFT: `data` is interleaved complex [batch, h, w].
 * Returns a new Float64Array in the same layout.
 */
export function referenceFft2d(data: ArrayLike<number>, shape: [number, number, number], direction: FftDirection, shift = false): Float64Array {
  const [batch, h, w] = shape;
  const ref = new ReferenceFft2d(h, w);
  const out = new Float64Array(2 * batch * h * w);
  for (let b = 0; b < batch; b++) ref.transform(data, out, b * h * w, direction, shift);
  return out;
}
