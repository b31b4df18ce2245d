/**
 * Parallel-beam tomography geometry with one rotation (tilt) axis, in TomoPy's conventions, so
 * a TomoPy user's `center` and angles mean the same here.
 *
 * ## Arrays
 * - Projections: `[angles, rows, cols]` (TomoPy's "radiograph order", C order, cols fastest).
 *   Detector rows run along the rotation axis; detector row `r` sees volume slice `r` only.
 * - Volume: `[rows, n, n]` (`n` defaults to `cols`). Each slice is a 2-D image `[i, k]`:
 *   `i` is the image row (TomoPy's `num_gridx` axis), `k` the image column (fastest,
 *   TomoPy's `num_gridy` axis) — the same layout `tomopy.recon` returns.
 * - Lengths are in detector-pixel units: one voxel is one detector pixel wide, so a line
 *   integral through a uniform slab of attenuation μ and width w pixels is μ·w.
 *
 * ## Coordinates (pixel and voxel centres)
 * - Detector pixel `j` (0-based column) covers columns `[j, j+1)`; its centre is at column
 *   `j + 0.5`. The rotation axis projects to column `center`, so the signed detector coordinate
 *   of pixel `j` relative to the axis is `u_j = j + 0.5 − center`.
 * - Voxel `(i, k)` of a slice has its centre at
 *   `x = k + 0.5 − n/2` (to the right, along image columns) and
 *   `y = n/2 − 0.5 − i` (upwards: image row 0 is the top of the displayed slice).
 *   The rotation axis passes through `(x, y) = (0, 0)`, the middle of the slice.
 *
 * ## Projection and angle direction
 * A point `(x, y)` of a slice lands, at projection angle θ, on detector coordinate
 *
 *     u = x·cos θ + y·sin θ            (detector column = u + center − 0.5 for a pixel centre)
 *
 * and the projection is the line integral p(θ, u) = ∫ f(x, y) δ(x cos θ + y sin θ − u) dx dy.
 * - θ = 0: the beam runs along image columns (down the rows), so with `n = cols` and the
 *   default centre, detector pixel `j` sums image column `k = j`.
 * - A positive θ rotates the beam from the image's row direction towards its column direction;
 *   seen on a displayed slice (row 0 at the top) the object turns clockwise by θ relative to
 *   the detector: a feature at the top of the slice moves to larger detector columns.
 *
 * ## Relation to TomoPy
 * TomoPy's libtomo (`preprocessing()` and `calc_coords()` in `source/libtomo/recon/utils.c`,
 * used by `project`, `art`, `sirt`, `bart`, `mlem`, ...) puts the ray of detector pixel `d`
 * at signed distance `d + 0.5 − center` from the axis, on a reconstruction grid whose cell
 * edges are at `−n/2 + i`; its ray direction is (cos θ, sin θ) in (row, column) axes. That is
 * exactly the mapping above, and TomoPy's default centre `cols / 2` is the middle of the
 * detector. Two differences at the API only: angles here are in degrees (TomoPy: radians),
 * and `center` is one value for all rows.
 * TomoPy's `gridrec` places pixel centres at `j − center` instead (half a pixel apart, see
 * tomopy issue #409): a centre found with a gridrec-based search corresponds to
 * `center + 0.5` here.
 *
 * ## Joseph's projector in these coordinates
 * The discrete projector weights voxel `(i, k)` for detector pixel `j` at angle θ by
 * `hat((u_j − u_ik)/m) / m`, with `u_ik = x_k cos θ + y_i sin θ`, `m = max(|cos θ|, |sin θ|)`
 * and `hat(t) = max(0, 1 − |t|)`: stepping along the principal axis of the ray with linear
 * interpolation across the other axis, times the step length `1/m` (see projector.ts).
 */
import { InputError } from '../core/errors.js';

/** A parallel-beam, single-axis tomography geometry (see the module comment for conventions). */
export interface TomoGeometry {
  /** Projection angles in degrees, one per projection. */
  readonly anglesDeg: Float64Array;
  /** Detector rows = volume slices (along the rotation axis). */
  readonly rows: number;
  /** Detector columns. */
  readonly cols: number;
  /** Rotation-axis position in detector-column units (pixel `j` spans `[j, j+1)`); TomoPy's `center`. */
  readonly center: number;
  /** Reconstructed slice size: the volume is `[rows, n, n]`. */
  readonly n: number;
}

/** Optional parts of a geometry. */
export interface GeometryOptions {
  /** Rotation-axis column (TomoPy's `center`); default `cols / 2`, the detector middle. */
  center?: number;
  /** Slice size `n` of the `[rows, n, n]` volume; default `cols`. */
  n?: number;
}

/** Where a geometry came from, for error messages (a file name or an argument such as '--angles'). */
export type GeometrySource = string | undefined;

function positiveInteger(v: number, what: string, source: GeometrySource): void {
  if (!Number.isInteger(v) || v < 1) throw new InputError(`${what} must be a positive integer, got ${v}`, source);
}

/**
 * Builds and validates a geometry. Throws an {@link InputError} for an empty or non-finite angle
 * list, non-integer or non-positive sizes, a non-finite centre or a slice size below 1.
 */
export function makeGeometry(anglesDeg: ArrayLike<number>, rows: number, cols: number, options: GeometryOptions = {}, source?: GeometrySource): TomoGeometry {
  if (!anglesDeg || anglesDeg.length === 0) throw new InputError('no projection angles given', source);
  const angles = Float64Array.from(anglesDeg);
  for (let p = 0; p < angles.length; p++) {
    if (!Number.isFinite(angles[p])) throw new InputError(`projection angle ${p} is not a finite number (${anglesDeg[p]})`, source);
  }
  positiveInteger(rows, 'the number of detector rows', source);
  positiveInteger(cols, 'the number of detector columns', source);
  const center = options.center ?? cols / 2;
  if (!Number.isFinite(center)) throw new InputError(`the rotation centre must be a finite number, got ${options.center}`, source);
  const n = options.n ?? cols;
  positiveInteger(n, 'the reconstruction size n', source);
  return { anglesDeg: angles, rows, cols, center, n };
}

/**
 * Checks that a projection array's shape matches the geometry (`[angles, rows, cols]`);
 * throws an {@link InputError} naming `source` otherwise.
 */
export function checkProjectionShape(geometry: TomoGeometry, shape: readonly number[], source?: GeometrySource): void {
  if (shape.length !== 3) throw new InputError(`projections must be a 3-D array [angles, rows, cols], got shape [${shape.join(', ')}]`, source);
  const [a, r, c] = shape;
  if (a !== geometry.anglesDeg.length) throw new InputError(`${a} projections but ${geometry.anglesDeg.length} angles`, source);
  if (r !== geometry.rows || c !== geometry.cols) throw new InputError(`projection size ${r}×${c} (rows×cols) does not match the geometry's ${geometry.rows}×${geometry.cols}`, source);
}

/** The volume shape `[rows, n, n]` a geometry reconstructs. */
export function volumeShape(geometry: TomoGeometry): [number, number, number] {
  return [geometry.rows, geometry.n, geometry.n];
}

/** The projection shape `[angles, rows, cols]` a geometry describes. */
export function projectionShape(geometry: TomoGeometry): [number, number, number] {
  return [geometry.anglesDeg.length, geometry.rows, geometry.cols];
}

/** cos θ and sin θ per angle (float64). */
export interface AngleTrig {
  cos: Float64Array;
  sin: Float64Array;
}

/** Per-angle cos θ and sin θ. Exact zeros at multiples of 90° (degrees are reduced first). */
export function angleTrig(geometry: TomoGeometry): AngleTrig {
  const na = geometry.anglesDeg.length;
  const cos = new Float64Array(na);
  const sin = new Float64Array(na);
  for (let p = 0; p < na; p++) {
    const [c, s] = cosSinDeg(geometry.anglesDeg[p]);
    cos[p] = c;
    sin[p] = s;
  }
  return { cos, sin };
}

/** cos and sin of an angle in degrees, exact at multiples of 90° (no 6e-17 residues). */
export function cosSinDeg(deg: number): [number, number] {
  const r = ((deg % 360) + 360) % 360;
  if (r === 0) return [1, 0];
  if (r === 90) return [0, 1];
  if (r === 180) return [-1, 0];
  if (r === 270) return [0, -1];
  const rad = (r * Math.PI) / 180;
  return [Math.cos(rad), Math.sin(rad)];
}

/** Centre of image column `k` of an `n`-wide slice: `x = k + 0.5 − n/2`. */
export function voxelX(n: number, k: number): number {
  return k + 0.5 - n / 2;
}

/** Centre of image row `i` of an `n`-high slice: `y = n/2 − 0.5 − i` (row 0 at the top). */
export function voxelY(n: number, i: number): number {
  return n / 2 - 0.5 - i;
}

/** Signed detector coordinate of pixel `j`'s centre relative to the axis: `u_j = j + 0.5 − center`. */
export function pixelU(geometry: TomoGeometry, j: number): number {
  return j + 0.5 - geometry.center;
}

/**
 * Detector coordinate `u = x cos θ + y sin θ` of the centre of voxel `(i, k)` (image row, column)
 * at angle θ given by its cosine and sine.
 */
export function voxelU(n: number, i: number, k: number, cos: number, sin: number): number {
  return voxelX(n, k) * cos + voxelY(n, i) * sin;
}

/**
 * Continuous detector column index where the centre of voxel `(i, k)` projects at angle θ:
 * pixel `j`'s centre is at index `j`, so `jf = u + center − 0.5`. Linear in (i, k):
 * `jf = offset + k·cos θ − i·sin θ` with `offset` from {@link detectorOffset}.
 */
export function voxelToDetector(geometry: TomoGeometry, i: number, k: number, cos: number, sin: number): number {
  return voxelU(geometry.n, i, k, cos, sin) + geometry.center - 0.5;
}

/**
 * The constant term of {@link voxelToDetector}: the continuous detector index of voxel (0, 0)'s
 * centre, `(0.5 − n/2)·cos θ + (n/2 − 0.5)·sin θ + center − 0.5`.
 */
export function detectorOffset(geometry: TomoGeometry, cos: number, sin: number): number {
  const h = geometry.n / 2 - 0.5;
  return -h * cos + h * sin + geometry.center - 0.5;
}
