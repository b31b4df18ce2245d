/**
 * Closed-form parallel-beam sinograms of ellipses (Kak & Slaney, ch. 3) in the conventions of
 * src/tomo/geometry.ts, for FBP tests without an inverse crime: no discrete projector involved.
 */
import { cosSinDeg } from '../../src/tomo/geometry.js';

/** An ellipse: centre (x0, y0) in pixel units about the rotation axis, semi-axes a, b, axis a turned by alphaDeg, value rho. */
export interface Ellipse {
  x0: number;
  y0: number;
  a: number;
  b: number;
  alphaDeg: number;
  rho: number;
}

/** The 2-D Shepp-Logan phantom (Toft's modified contrast), scaled to a slice of half-width `r` pixels, times `scale`. */
export function sheppLogan2d(r: number, scale = 1): Ellipse[] {
  const e: Array<[number, number, number, number, number, number]> = [
    [1, 0.69, 0.92, 0, 0, 0],
    [-0.8, 0.6624, 0.874, 0, -0.0184, 0],
    [-0.2, 0.11, 0.31, 0.22, 0, -18],
    [-0.2, 0.16, 0.41, -0.22, 0, 18],
    [0.1, 0.21, 0.25, 0, 0.35, 0],
    [0.1, 0.046, 0.046, 0, 0.1, 0],
    [0.1, 0.046, 0.046, 0, -0.1, 0],
    [0.1, 0.046, 0.023, -0.08, -0.605, 0],
    [0.1, 0.023, 0.023, 0, -0.606, 0],
    [0.1, 0.023, 0.046, 0.06, -0.605, 0],
  ];
  // Shepp-Logan's a is the horizontal (x) semi-axis, b the vertical one; angles counter-clockwise.
  return e.map(([rho, a, b, x0, y0, alpha]) => ({ rho: rho * scale, a: a * r, b: b * r, x0: x0 * r, y0: y0 * r, alphaDeg: alpha }));
}

/** Line integral of the ellipses at angle thetaDeg and detector coordinate u (relative to the axis). */
export function ellipseProjection(ellipses: Ellipse[], thetaDeg: number, u: number): number {
  const [c, s] = cosSinDeg(thetaDeg);
  let sum = 0;
  for (const e of ellipses) {
    const [ca, sa] = cosSinDeg(e.alphaDeg);
    // angle between the projection direction and the ellipse's a axis: cos(θ−α), sin(θ−α)
    const cd = c * ca + s * sa;
    const sd = s * ca - c * sa;
    const s2 = e.a * e.a * cd * cd + e.b * e.b * sd * sd;
    const t = u - (e.x0 * c + e.y0 * s);
    if (t * t < s2) sum += (2 * e.rho * e.a * e.b * Math.sqrt(s2 - t * t)) / s2;
  }
  return sum;
}

/** Value of the ellipses at point (x, y). */
export function ellipseValue(ellipses: Ellipse[], x: number, y: number): number {
  let v = 0;
  for (const e of ellipses) {
    const [ca, sa] = cosSinDeg(e.alphaDeg);
    const dx = x - e.x0;
    const dy = y - e.y0;
    const p = dx * ca + dy * sa;
    const q = -dx * sa + dy * ca;
    if ((p * p) / (e.a * e.a) + (q * q) / (e.b * e.b) <= 1) v += e.rho;
  }
  return v;
}

/**
 * Sinogram stack [angles, rows, cols] of `perRow[r]` ellipses for each detector row: each pixel
 * j averages `subsamples` point values spread evenly over its width around u_j = j + 0.5 − center
 * (1 = point samples at the pixel centres).
 */
export function analyticProjections(perRow: Ellipse[][], anglesDeg: ArrayLike<number>, cols: number, center: number, subsamples = 1): Float32Array {
  const A = anglesDeg.length;
  const rows = perRow.length;
  const out = new Float32Array(A * rows * cols);
  for (let a = 0; a < A; a++) {
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) {
        let v = 0;
        for (let q = 0; q < subsamples; q++) v += ellipseProjection(perRow[r], anglesDeg[a], j + (q + 0.5) / subsamples - center);
        out[(a * rows + r) * cols + j] = v / subsamples;
      }
    }
  }
  return out;
}

/** Truth slice [n, n] sampled at voxel centres (x = k + 0.5 − n/2, y = n/2 − 0.5 − i). */
export function ellipseSlice(ellipses: Ellipse[], n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) out[i * n + k] = ellipseValue(ellipses, k + 0.5 - n / 2, n / 2 - 0.5 - i);
  return out;
}

/** Uniform angles start + i·(stop − start)/count, i < count (stop excluded). */
export function uniformAngles(start: number, stop: number, count: number): Float64Array {
  return Float64Array.from({ length: count }, (_, i) => start + ((stop - start) * i) / count);
}
