/**
 * Phantoms whose truth is known: sums of uniform ellipsoids, voxelised on the reconstruction grid
 * and projected analytically (reference.ts `ellipsoidProjectionsRef`), so a simulated tilt series
 * carries no "inverse crime" from our own projector.
 *
 * World coordinates (geometry.ts): `x` along image columns (to the right), `y` along image rows
 * (upwards, row 0 at the top), `z` along the rotation axis (upwards, slice 0 at the top), all in
 * voxel units with the origin at the middle of the volume. Voxel `(s, i, k)` of a `[rows, n, n]`
 * volume has its centre at `x = k + 0.5 − n/2`, `y = n/2 − 0.5 − i`, `z = rows/2 − 0.5 − s`.
 */
import { InputError } from '../core/errors.js';
import type { Volume } from '../core/array.js';
import { cosSinDeg } from './geometry.js';

/**
 * A uniform ellipsoid in normalised units: centre `(x0, y0, z0)` and semi-axes `(a, b, c)` as
 * fractions of the half-sizes of the volume (`n/2` in x and y, `rows/2` in z), turned by
 * `alphaDeg` about the z (rotation) axis, counter-clockwise from x towards y; `value` is added
 * inside.
 */
export interface Ellipsoid {
  value: number;
  a: number;
  b: number;
  c: number;
  x0: number;
  y0: number;
  z0: number;
  alphaDeg: number;
}

/** The names `webrecon tomo simulate --phantom` accepts. */
export const PHANTOM_NAMES = ['shepp3d'] as const;
export type PhantomName = (typeof PHANTOM_NAMES)[number];

/**
 * The 3-D Shepp-Logan head phantom (Kak & Slaney's ellipsoids, Toft's modified contrast so the
 * interior features are visible), scaled by `scale` (1: the brain is 0.2, features 0.1..0.4).
 * The ellipsoids' rotations all lie about the z axis, so `alphaDeg` carries them.
 */
export function sheppLogan3d(scale = 1): Ellipsoid[] {
  // value, a, b, c, x0, y0, z0, alpha (degrees about z)
  const rows: Array<[number, number, number, number, number, number, number, number]> = [
    [1, 0.69, 0.92, 0.81, 0, 0, 0, 0],
    [-0.8, 0.6624, 0.874, 0.78, 0, -0.0184, 0, 0],
    [-0.2, 0.11, 0.31, 0.22, 0.22, 0, 0, -18],
    [-0.2, 0.16, 0.41, 0.28, -0.22, 0, 0, 18],
    [0.1, 0.21, 0.25, 0.41, 0, 0.35, -0.15, 0],
    [0.1, 0.046, 0.046, 0.05, 0, 0.1, 0.25, 0],
    [0.1, 0.046, 0.046, 0.05, 0, -0.1, 0.25, 0],
    [0.1, 0.046, 0.023, 0.05, -0.08, -0.605, 0, 0],
    [0.1, 0.023, 0.023, 0.02, 0, -0.606, 0, 0],
    [0.1, 0.023, 0.046, 0.02, 0.06, -0.605, 0, 0],
  ];
  return rows.map(([value, a, b, c, x0, y0, z0, alphaDeg]) => ({ value: value * scale, a, b, c, x0, y0, z0, alphaDeg }));
}

/** The ellipsoids of a named phantom. */
export function phantomEllipsoids(name: string, scale = 1): Ellipsoid[] {
  if (name === 'shepp3d') return sheppLogan3d(scale);
  throw new InputError(`unknown phantom '${name}' (known: ${PHANTOM_NAMES.join(', ')})`, '--phantom');
}

/**
 * An ellipsoid in voxel units for a `[rows, n, n]` volume: a point `p` is inside when
 * `|m · (p − centre)| ≤ 1` (`m` row-major 3×3).
 */
export interface EllipsoidFrame {
  m: Float64Array;
  centre: [number, number, number];
  value: number;
}

/** The voxel-unit frame of an ellipsoid in a volume of `rows` slices of `n × n`. */
export function ellipsoidFrame(e: Ellipsoid, n: number, rows: number): EllipsoidFrame {
  const hx = n / 2;
  const hz = rows / 2;
  const [c, s] = cosSinDeg(e.alphaDeg);
  const ax = e.a * hx;
  const by = e.b * hx;
  const cz = e.c * hz;
  // local = Rᵀ (p − centre), R = rotation by alpha about z; then divide by the semi-axes.
  const m = new Float64Array([c / ax, s / ax, 0, -s / by, c / by, 0, 0, 0, 1 / cz]);
  return { m, centre: [e.x0 * hx, e.y0 * hx, e.z0 * hz], value: e.value };
}

/**
 * Voxelises ellipsoids into a `[rows, n, n]` volume, averaging `supersample³` points per voxel
 * (1: the value at the voxel centre). `rowRange` [first, end) voxelises only those slices of the
 * `rows`-slice volume (shape `[end − first, n, n]`), e.g. a truth for a few slices of a volume too
 * large to voxelise whole.
 */
export function voxelizePhantom(ellipsoids: readonly Ellipsoid[], rows: number, n: number, supersample = 1, rowRange: readonly [number, number] = [0, rows]): Volume {
  const [first, end] = rowRange;
  if (!(Number.isInteger(first) && Number.isInteger(end) && first >= 0 && first < end && end <= rows)) throw new RangeError(`row range [${first}, ${end}) is not within 0..${rows}`);
  const frames = ellipsoids.map((e) => ellipsoidFrame(e, n, rows));
  const out = new Float32Array((end - first) * n * n);
  const ss = supersample;
  const offs = Array.from({ length: ss }, (_, q) => (q + 0.5) / ss - 0.5);
  const inv = 1 / (ss * ss * ss);
  for (let sl = first; sl < end; sl++) {
    const zc = rows / 2 - 0.5 - sl;
    for (let i = 0; i < n; i++) {
      const yc = n / 2 - 0.5 - i;
      for (let k = 0; k < n; k++) {
        const xc = k + 0.5 - n / 2;
        let acc = 0;
        for (const oz of offs) {
          for (const oy of offs) {
            for (const ox of offs) {
              const x = xc + ox;
              const y = yc - oy;
              const z = zc - oz;
              for (const f of frames) {
                const dx = x - f.centre[0];
                const dy = y - f.centre[1];
                const dz = z - f.centre[2];
                const q0 = f.m[0] * dx + f.m[1] * dy + f.m[2] * dz;
                const q1 = f.m[3] * dx + f.m[4] * dy + f.m[5] * dz;
                const q2 = f.m[6] * dx + f.m[7] * dy + f.m[8] * dz;
                if (q0 * q0 + q1 * q1 + q2 * q2 <= 1) acc += f.value;
              }
            }
          }
        }
        out[((sl - first) * n + i) * n + k] = acc * inv;
      }
    }
  }
  return { data: out, shape: [end - first, n, n] };
}
