/**
 * Simulated ptychographic scans with a known truth: a complex object from two phantoms
 * (a Siemens-star phase, an amplitude of discs), a defocused-pinhole probe, a Fermat-spiral
 * (or raster) scan, far-field intensities I_j = |F(P·S_j O)|² with the same bilinear view
 * operator and unscaled FFT as the reconstruction, Poisson noise and dead pixels.
 *
 * The simulation is host-side float64 (fft.js); it is data preparation, not reconstruction.
 */
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { mulberry32, poisson } from '../core/random.js';
import type { ComplexArray } from '../core/array.js';
import { ReferenceFft2d } from '../fft/reference.js';
import { writeNpy } from '../io/npy.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { PtychoDataset } from './dataset.js';
import { scanGeometry, type ScanGeometry } from './scan.js';
import { refExitModel } from './reference.js';

/** Options of {@link simulatePtycho}. */
export interface SimulateOptions {
  /** Frame side (power of two, default 64). */
  frame?: number;
  /** Number of scan points (default 100). */
  positions?: number;
  /** 'fermat' (default) or 'raster'. */
  scan?: 'fermat' | 'raster';
  /** Probe diameter as a fraction of the frame side (pinhole image, default 0.4). */
  probeDiameter?: number;
  /** Linear overlap of neighbouring views, 0..1 (default 0.7): step = (1 − overlap)·probe diameter. */
  overlap?: number;
  /** Mean photons per frame; 0 or Infinity = noise-free (default 1e6). */
  photons?: number;
  /** Dead detector pixels (default 5): their intensity is zeroed and the mask marks them. */
  deadPixels?: number;
  /** Maximum object phase in radians (default 1). */
  phase?: number;
  /** Random seed (default 1). */
  seed?: number;
  /** Keep positions on whole pixels (default false: sub-pixel). */
  integerPositions?: boolean;
  /** Margin of the truth object (default 2, the reconstruction's default, so the arrays align). */
  margin?: number;
}

/** A simulated dataset plus its truth. */
export interface SimulatedScan {
  dataset: PtychoDataset;
  /** The object in the reconstruction's geometry (scanGeometry(positions, frame, margin)). */
  object: ComplexArray;
  /** The true probe [h, w]. */
  probe: ComplexArray;
  /** The initial probe guess written with the dataset (a pinhole with a different defocus). */
  probeGuess: ComplexArray;
  geometry: ScanGeometry;
}

/**
 * A defocused pinhole: a disc of diameter `diameter` px (real space) propagated by a quadratic
 * phase in Fourier space, exp(iπ·defocus·|k|²/N²·N), then cropped to the frame (interleaved complex [n, n]).
 */
export function defocusedPinhole(n: number, diameter: number, defocus: number): Float64Array {
  const fft = new ReferenceFft2d(n, n);
  const disc = new Float64Array(2 * n * n);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
    if (Math.hypot(y - n / 2 + 0.5, x - n / 2 + 0.5) <= diameter / 2) disc[2 * (y * n + x)] = 1;
  }
  const spec = new Float64Array(2 * n * n);
  fft.transform(disc, spec, 0, 'forward');
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
    const ky = (y < n / 2 ? y : y - n) / n, kx = (x < n / 2 ? x : x - n) / n;
    const ph = Math.PI * defocus * n * (ky * ky + kx * kx);
    const i = 2 * (y * n + x);
    const re = spec[i], im = spec[i + 1];
    spec[i] = re * Math.cos(ph) - im * Math.sin(ph);
    spec[i + 1] = re * Math.sin(ph) + im * Math.cos(ph);
  }
  const out = new Float64Array(2 * n * n);
  fft.transform(spec, out, 0, 'inverse');
  return out;
}

/** Fermat-spiral positions (row, col) in pixels around (0, 0) with nearest-neighbour step about `step`. */
export function fermatSpiral(count: number, step: number): Float64Array {
  const golden = Math.PI * (3 - Math.sqrt(5));
  const c = step / Math.sqrt(Math.PI) * 1.0;
  const out = new Float64Array(2 * count);
  for (let k = 0; k < count; k++) {
    const r = c * Math.sqrt(k + 0.5);
    out[2 * k] = r * Math.sin(k * golden);
    out[2 * k + 1] = r * Math.cos(k * golden);
  }
  return out;
}

/** A raster of about `count` positions with step `step`. */
export function rasterScan(count: number, step: number): Float64Array {
  const side = Math.ceil(Math.sqrt(count));
  const out = new Float64Array(2 * side * side);
  for (let i = 0; i < side; i++) for (let j = 0; j < side; j++) {
    out[2 * (i * side + j)] = i * step;
    out[2 * (i * side + j) + 1] = j * step;
  }
  return out;
}

/** The test object on [rows, cols]: amplitude from discs (0.6..1), phase a 16-spoke Siemens star with a radial ramp. */
export function phantomObject(rows: number, cols: number, maxPhase: number): ComplexArray {
  const data = new Float32Array(2 * rows * cols);
  const cy = rows / 2, cx = cols / 2;
  const R = Math.min(rows, cols) / 2;
  const discs = [[0.3, 0.25, 0.12], [-0.35, 0.3, 0.1], [0.25, -0.4, 0.15], [-0.2, -0.2, 0.08]];
  for (let y = 0; y < rows; y++) for (let x = 0; x < cols; x++) {
    const dy = y - cy, dx = x - cx;
    const r = Math.hypot(dy, dx) / R;
    const th = Math.atan2(dy, dx);
    const star = r < 0.9 ? (Math.sin(16 * th) > 0 ? 1 : 0) : 0;
    const phase = maxPhase * (0.7 * star + 0.3 * Math.max(0, 1 - r));
    let amp = 1;
    for (const [py, px, pr] of discs) if (Math.hypot(dy / R - py, dx / R - px) < pr) amp -= 0.2;
    amp = Math.max(0.4, amp);
    data[2 * (y * cols + x)] = amp * Math.cos(phase);
    data[2 * (y * cols + x) + 1] = amp * Math.sin(phase);
  }
  return { data, shape: [rows, cols], complex: true };
}

/** Simulates a scan; see {@link SimulateOptions}. */
export function simulatePtycho(options: SimulateOptions = {}): SimulatedScan {
  const n = options.frame ?? 64;
  if (!(Number.isInteger(n) && n >= 32 && (n & (n - 1)) === 0)) throw new InputError(`frame size must be a power of two ≥ 32, got ${n}`, '--frame');
  const count = options.positions ?? 100;
  if (!Number.isInteger(count) || count < 1) throw new InputError(`positions must be a positive integer, got ${count}`, '--positions');
  const diameter = (options.probeDiameter ?? 0.4) * n;
  const overlap = options.overlap ?? 0.7;
  if (!(overlap >= 0 && overlap < 1)) throw new InputError(`overlap must be in [0, 1), got ${overlap}`, '--overlap');
  const step = Math.max(1, (1 - overlap) * diameter);
  const r = mulberry32(options.seed ?? 1);
  const pos = options.scan === 'raster' ? rasterScan(count, step) : fermatSpiral(count, step);
  for (let i = 0; i < pos.length; i++) {
    pos[i] += (r() - 0.5) * 0.6; // positional jitter breaks raster periodicity
    pos[i] = options.integerPositions ? Math.round(pos[i]) : Math.fround(pos[i]); // as scan.npy (float32) stores it
  }
  const nPos = pos.length / 2;
  const margin = options.margin ?? 2;
  const geometry = scanGeometry(pos, [n, n], margin, 'simulation');
  const [rows, cols] = geometry.objectShape;
  const object = phantomObject(rows, cols, options.phase ?? 1);
  const probeTrue = defocusedPinhole(n, diameter, 0.15 * n);
  const guess = defocusedPinhole(n, diameter, 0.12 * n);
  // Exit waves with the reconstruction's bilinear views, then |F ψ|².
  const waves = refExitModel(object.data, cols, probeTrue, 1, n, n, geometry.positions);
  const fft = new ReferenceFft2d(n, n);
  const spec = new Float64Array(2 * n * n);
  const hw = n * n;
  const intens = new Float64Array(nPos * hw);
  let total = 0;
  for (let j = 0; j < nPos; j++) {
    fft.transform(waves.subarray(2 * j * hw, 2 * (j + 1) * hw), spec, 0, 'forward');
    for (let i = 0; i < hw; i++) {
      const v = spec[2 * i] ** 2 + spec[2 * i + 1] ** 2;
      intens[j * hw + i] = v;
      total += v;
    }
  }
  const photons = options.photons ?? 1e6;
  const noisy = Number.isFinite(photons) && photons > 0;
  const scale = noisy ? photons / (total / nPos) : 1;
  const frames = new Float32Array(nPos * hw);
  for (let i = 0; i < frames.length; i++) frames[i] = noisy ? poisson(intens[i] * scale, r) : intens[i];
  const mask = new Uint8Array(hw).fill(1);
  const dead = options.deadPixels ?? 5;
  for (let k = 0; k < dead; k++) {
    const i = Math.floor(r() * hw);
    mask[i] = 0;
    for (let j = 0; j < nPos; j++) frames[j * hw + i] = 0;
  }
  const g = Math.sqrt(scale);
  const probe: ComplexArray = { data: Float32Array.from(probeTrue, (v) => v * g), shape: [n, n], complex: true };
  const probeGuess: ComplexArray = { data: Float32Array.from(guess, (v) => v * g), shape: [n, n], complex: true };
  const dataset: PtychoDataset = { frames, shape: [nPos, n, n], positions: pos, mask, probe: probeGuess, source: 'simulation' };
  return { dataset, object, probe, probeGuess, geometry };
}

/**
 * Writes a simulated scan as an npy folder (data.npy float32 counts, scan.npy float32 [n, 2]
 * (row, col) px, probe.npy complex64 initial guess, mask.npy uint8 1 = good) and, when `truthDir`
 * is given, the truth (object.npy, probe.npy, truth.json with the geometry).
 */
export async function writeSimulation(dir: string, sim: SimulatedScan, truthDir?: string): Promise<void> {
  const ds = sim.dataset;
  await writeNpy(join(dir, 'data.npy'), { data: ds.frames, shape: ds.shape });
  await writeNpy(join(dir, 'scan.npy'), { data: Float32Array.from(ds.positions), shape: [ds.shape[0], 2] });
  await writeNpy(join(dir, 'probe.npy'), { data: sim.probeGuess.data, shape: sim.probeGuess.shape, complex: true });
  if (ds.mask) await writeNpy(join(dir, 'mask.npy'), { data: ds.mask, shape: [ds.shape[1], ds.shape[2]] });
  if (truthDir) {
    await writeNpy(join(truthDir, 'object.npy'), { data: sim.object.data, shape: sim.object.shape, complex: true });
    await writeNpy(join(truthDir, 'probe.npy'), { data: sim.probe.data, shape: sim.probe.shape, complex: true });
    const info = { objectShape: sim.geometry.objectShape, positionShift: sim.geometry.shift, margin: sim.geometry.margin, firstViewOffset: sim.geometry.offset };
    await writeFileAtomic(join(truthDir, 'truth.json'), new TextEncoder().encode(`${JSON.stringify(info, null, 2)}\n`));
  }
}
