/**
 * Simulated tilt series with a known truth: a phantom's exact line integrals (float64, no
 * discrete projector, so no inverse crime) and optional Poisson noise.
 */
import { InputError } from '../core/errors.js';
import type { Volume } from '../core/array.js';
import { secondsSince, type ProgressCallback } from '../core/progress.js';
import { mulberry32, poisson } from '../core/random.js';
import { makeGeometry } from './geometry.js';
import { phantomEllipsoids, voxelizePhantom } from './phantom.js';
import { ellipsoidProjectionsRef } from './reference.js';

/** Options of {@link simulateTiltSeries}. */
export interface SimulateOptions {
  /** Phantom name (see phantom.ts PHANTOM_NAMES); default 'shepp3d'. */
  phantom?: string;
  /** Slice size n = detector columns. */
  size: number;
  /** Slices = detector rows; default `size`. */
  rows?: number;
  /** Angles in degrees. */
  anglesDeg: ArrayLike<number>;
  /** Attenuation scale (per voxel length) of the phantom; default 1. */
  scale?: number;
  /** Incident photons per detector pixel for Poisson noise; default none (exact data). */
  photons?: number;
  /** Noise seed; default 1. */
  seed?: number;
  /** Supersampling of the truth voxelisation (points per voxel edge); default 2. */
  supersample?: number;
  onProgress?: ProgressCallback;
}

/** A simulated tilt series and its truth. */
export interface Simulation {
  /** Line integrals `[angles, rows, size]`. */
  projections: Volume;
  /** The voxelised phantom `[rows, size, size]`. */
  truth: Volume;
  anglesDeg: Float64Array;
  seconds: number;
}

/** Simulates the tilt series of a phantom (exact line integrals, optional Poisson noise). */
export function simulateTiltSeries(options: SimulateOptions): Simulation {
  const t0 = performance.now();
  const rows = options.rows ?? options.size;
  const geometry = makeGeometry(options.anglesDeg, rows, options.size, {}, '--angles');
  const scale = options.scale ?? 1;
  if (!(scale > 0)) throw new InputError(`the phantom scale must be positive, got ${scale}`, '--scale');
  const ellipsoids = phantomEllipsoids(options.phantom ?? 'shepp3d', scale);
  const truth = voxelizePhantom(ellipsoids, rows, options.size, options.supersample ?? 2);
  options.onProgress?.({ stage: 'phantom', seconds: secondsSince(t0) });
  const exact = ellipsoidProjectionsRef(ellipsoids, geometry);
  const data = Float32Array.from(exact);
  if (options.photons !== undefined) {
    const i0 = options.photons;
    if (!(i0 > 0) || !Number.isFinite(i0)) throw new InputError(`the photon count must be a positive number, got ${i0}`, '--noise');
    const rand = mulberry32(options.seed ?? 1);
    for (let i = 0; i < data.length; i++) {
      const counts = poisson(i0 * Math.exp(-exact[i]), rand);
      data[i] = -Math.log(Math.max(counts, 0.5) / i0);
    }
  }
  options.onProgress?.({ stage: 'project', seconds: secondsSince(t0) });
  return { projections: { data, shape: [geometry.anglesDeg.length, rows, options.size] }, truth, anglesDeg: geometry.anglesDeg, seconds: secondsSince(t0) };
}
