/**
 * Writing a ptychographic reconstruction to a folder, every file atomically:
 *   object.npy, probe.npy          complex64 ([rows, cols]; [h, w] or [modes, h, w])
 *   object_phase.tif, object_amplitude.tif   float32 (radians; modulus)
 *   object_phase.png, object_amplitude.png, probe_amplitude.png, errors.png   previews
 *   metrics.json                   per-iteration Fourier errors and seconds, geometry, device
 * The object array covers the scanned field: frame 0's view has its top-left corner at
 * geometry.offset (row, col) and every input position p maps to p + geometry.shift.
 *
 * Or one CXI file ({@link writePtychoCxi}, HDF5, written atomically):
 *   /cxi_version                       150
 *   /entry_1/image_1/data              the object, complex64 [rows, cols] (HDF5 compound {r, i}
 *                                      of float32: h5py/numpy read it as complex64)
 *   /entry_1/image_1/process_1/...     algorithm, iterations, Fourier errors and seconds per
 *                                      iteration, the full metrics.json content as JSON
 *   /entry_1/image_2/data              the probe, complex64 [h, w] or [modes, h, w]
 *   /entry_1/data_1/data               soft link to the object (CXI's default data)
 * with the geometry (first_view_offset, position_shift, positions) and, when known, the object
 * pixel size (x_pixel_size, y_pixel_size, image_size in metres) next to each image.
 */
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { writeNpy } from '../io/npy.js';
import { writeTiff } from '../io/tiff.js';
import { writeFileAtomic } from '../io/atomic.js';
import { writeHdf5Atomic } from '../io/hdf5.js';
import type { ComplexArray } from '../core/array.js';
import type { PtychoResult } from './recon.js';

/** Phase (radians) and modulus of a complex array. */
export function phaseAndAmplitude(a: ComplexArray): { phase: Float32Array; amplitude: Float32Array } {
  const n = a.data.length / 2;
  const phase = new Float32Array(n);
  const amplitude = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    phase[i] = Math.atan2(a.data[2 * i + 1], a.data[2 * i]);
    amplitude[i] = Math.hypot(a.data[2 * i], a.data[2 * i + 1]);
  }
  return { phase, amplitude };
}

/** Encodes a grey image (robust 0.5–99.5 % percentile window) as PNG bytes. */
export function greyPng(values: Float32Array, rows: number, cols: number): Uint8Array {
  const sorted = Float32Array.from(values).sort();
  const lo = sorted[Math.floor(0.005 * (sorted.length - 1))];
  const hi = sorted[Math.ceil(0.995 * (sorted.length - 1))];
  const png = new PNG({ width: cols, height: rows });
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  for (let i = 0; i < rows * cols; i++) {
    const v = Math.max(0, Math.min(255, Math.round((values[i] - lo) * scale)));
    png.data[4 * i] = v;
    png.data[4 * i + 1] = v;
    png.data[4 * i + 2] = v;
    png.data[4 * i + 3] = 255;
  }
  return PNG.sync.write(png);
}

/** A small line plot of log10(error) against iteration, as PNG bytes. */
export function errorCurvePng(errors: number[], width = 400, height = 200): Uint8Array {
  const png = new PNG({ width, height });
  png.data.fill(255);
  const logs = errors.map((e) => Math.log10(Math.max(e, 1e-30)));
  const lo = Math.min(...logs), hi = Math.max(...logs);
  const pad = 10;
  const px = (i: number) => pad + (errors.length > 1 ? (i / (errors.length - 1)) * (width - 2 * pad) : 0);
  const py = (v: number) => height - pad - (hi > lo ? ((v - lo) / (hi - lo)) * (height - 2 * pad) : (height - 2 * pad) / 2);
  const dot = (x: number, y: number) => {
    const xi = Math.round(x), yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= width || yi >= height) return;
    const o = 4 * (yi * width + xi);
    png.data[o] = 200; png.data[o + 1] = 30; png.data[o + 2] = 30; png.data[o + 3] = 255;
  };
  for (let x = pad; x < width - pad; x++) { const o = 4 * ((height - pad) * width + x); png.data[o] = png.data[o + 1] = png.data[o + 2] = 0; }
  for (let y = pad; y <= height - pad; y++) { const o = 4 * (y * width + pad); png.data[o] = png.data[o + 1] = png.data[o + 2] = 0; }
  for (let i = 1; i < logs.length; i++) {
    const steps = Math.max(2, Math.ceil(Math.abs(px(i) - px(i - 1)) + Math.abs(py(logs[i]) - py(logs[i - 1]))));
    for (let s = 0; s <= steps; s++) {
      const t = s / steps;
      dot(px(i - 1) + t * (px(i) - px(i - 1)), py(logs[i - 1]) + t * (py(logs[i]) - py(logs[i - 1])));
    }
  }
  if (logs.length === 1) dot(px(0), py(logs[0]));
  return PNG.sync.write(png);
}

/** The metrics.json content of a result. */
export function ptychoMetrics(result: PtychoResult, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const its = result.iterationSeconds;
  const sorted = [...its].sort((a, b) => a - b);
  return {
    algorithm: result.algorithm,
    device: result.device,
    iterations: result.errors.length,
    fourierError: result.errors,
    fourierErrorReduction: result.errors[0] / result.errors[result.errors.length - 1],
    iterationSeconds: its,
    medianIterationSeconds: sorted[Math.floor(sorted.length / 2)],
    totalSeconds: result.totalSeconds,
    objectShape: result.geometry.objectShape,
    firstViewOffset: result.geometry.offset,
    positionShift: result.geometry.shift,
    probeShape: result.probe.shape,
    options: result.options,
    conventions: {
      positions: '(row, col) in object pixels, top-left corner of each view; object index = position + positionShift',
      fft: 'forward unscaled exp(-2πi kn/N); frames with zero frequency at [0, 0]; I = |F(P·O_j)|²',
      fourierError: 'mean over frames of Σ mask·(|F(P·O_j)| − √I)² / Σ mask, of the model each iteration started from',
    },
    ...extra,
  };
}

/** Writes object, probe, TIFFs, PNG previews and metrics.json into `dir` (created if needed). Returns the paths written. */
export async function writePtychoResult(dir: string, result: PtychoResult, extra: Record<string, unknown> = {}): Promise<string[]> {
  const [rows, cols] = result.object.shape as [number, number];
  const { phase, amplitude } = phaseAndAmplitude(result.object);
  const probeAmp = phaseAndAmplitude(result.probe).amplitude;
  const ph = result.probe.shape[result.probe.shape.length - 2], pw = result.probe.shape[result.probe.shape.length - 1];
  const files: Array<[string, () => Promise<unknown>]> = [
    ['object.npy', (p = join(dir, 'object.npy')) => writeNpy(p, { data: result.object.data, shape: result.object.shape, complex: true })],
    ['probe.npy', (p = join(dir, 'probe.npy')) => writeNpy(p, { data: result.probe.data, shape: result.probe.shape, complex: true })],
    ['object_phase.tif', (p = join(dir, 'object_phase.tif')) => writeTiff(p, { data: phase, shape: [rows, cols] })],
    ['object_amplitude.tif', (p = join(dir, 'object_amplitude.tif')) => writeTiff(p, { data: amplitude, shape: [rows, cols] })],
    ['object_phase.png', (p = join(dir, 'object_phase.png')) => writeFileAtomic(p, greyPng(phase, rows, cols))],
    ['object_amplitude.png', (p = join(dir, 'object_amplitude.png')) => writeFileAtomic(p, greyPng(amplitude, rows, cols))],
    ['probe_amplitude.png', (p = join(dir, 'probe_amplitude.png')) => writeFileAtomic(p, greyPng(probeAmp.subarray(0, ph * pw), ph, pw))],
    ['errors.png', (p = join(dir, 'errors.png')) => writeFileAtomic(p, errorCurvePng(result.errors))],
    ['metrics.json', (p = join(dir, 'metrics.json')) => writeFileAtomic(p, new TextEncoder().encode(`${JSON.stringify(ptychoMetrics(result, extra), null, 2)}\n`))],
  ];
  const written: string[] = [];
  for (const [name, write] of files) {
    await write();
    written.push(join(dir, name));
  }
  return written;
}

/** CXI version written by {@link writePtychoCxi} (the CXI 1.5 layout of images and processes). */
export const CXI_VERSION = 150;

/** Optional metadata of {@link writePtychoCxi}. */
export interface CxiMetadata {
  /** Object pixel size (row, col) in metres, when known (CXI input: λz/(N·dx) or --object-pixel-size). */
  pixelSize?: [number, number];
  /** Extra fields for the metrics JSON (e.g. the input path, errors against a truth). */
  extra?: Record<string, unknown>;
}

/**
 * Writes a reconstruction as one CXI (HDF5) file, atomically; layout in this module's header.
 * Every image group carries data_type ('object' or 'probe'), data_space 'real', the geometry
 * (first_view_offset and position_shift (row, col) in object pixels, positions [n, 2] = the
 * shifted positions, i.e. where each view's top-left corner lies in the object array) and,
 * when `meta.pixelSize` is given, x_pixel_size, y_pixel_size and image_size (metres).
 * process_1 holds program, algorithm, iterations, fourier_error [iterations],
 * iteration_seconds, total_seconds, device and `metrics_json` (the metrics.json text).
 */
export async function writePtychoCxi(path: string, result: PtychoResult, meta: CxiMetadata = {}): Promise<void> {
  const metrics = ptychoMetrics(result, meta.extra ?? {});
  const g = result.geometry;
  await writeHdf5Atomic(path, (w) => {
    w.dataset('cxi_version', CXI_VERSION, { dtype: '<i4' });
    w.group('entry_1', { NX_class: 'NXentry' });
    w.dataset('entry_1/program_name', 'webrecon');
    w.dataset('entry_1/end_time', new Date().toISOString());
    const image = (name: string, a: ComplexArray, type: string): void => {
      const base = `entry_1/${name}`;
      w.group(base, { NX_class: 'NXdata' });
      w.dataset(`${base}/data`, { data: a.data, shape: a.shape, complex: true });
      w.dataset(`${base}/data_type`, type);
      w.dataset(`${base}/data_space`, 'real');
      w.dataset(`${base}/first_view_offset`, { data: Float64Array.from(g.offset), shape: [2] }, { attrs: { units: 'object pixels (row, col)' } });
      w.dataset(`${base}/position_shift`, { data: Float64Array.from(g.shift), shape: [2] }, { attrs: { units: 'object pixels (row, col)' } });
      w.dataset(`${base}/positions`, { data: Float64Array.from(g.positions), shape: [g.n, 2] }, { attrs: { units: 'object pixels (row, col), top-left corner of each view in the object array' } });
      if (meta.pixelSize) {
        const [py, px] = meta.pixelSize;
        const rows = a.shape[a.shape.length - 2]!, cols = a.shape[a.shape.length - 1]!;
        w.dataset(`${base}/x_pixel_size`, px, { attrs: { units: 'm' } });
        w.dataset(`${base}/y_pixel_size`, py, { attrs: { units: 'm' } });
        w.dataset(`${base}/image_size`, { data: Float64Array.of(cols * px, rows * py), shape: [2] }, { attrs: { units: 'm (x, y)' } });
      }
    };
    image('image_1', result.object, 'object');
    const proc = 'entry_1/image_1/process_1';
    w.group(proc, { NX_class: 'NXprocess' });
    w.dataset(`${proc}/program`, 'webrecon');
    w.dataset(`${proc}/algorithm`, result.algorithm);
    w.dataset(`${proc}/iterations`, result.errors.length, { dtype: '<i4' });
    w.dataset(`${proc}/fourier_error`, { data: Float64Array.from(result.errors), shape: [result.errors.length] });
    w.dataset(`${proc}/iteration_seconds`, { data: Float64Array.from(result.iterationSeconds), shape: [result.iterationSeconds.length] });
    w.dataset(`${proc}/total_seconds`, result.totalSeconds);
    w.dataset(`${proc}/device`, result.device);
    w.dataset(`${proc}/metrics_json`, JSON.stringify(metrics));
    image('image_2', result.probe, 'probe');
    w.softLink(`/${proc}`, 'entry_1/image_2/process_1');
    w.group('entry_1/data_1', { NX_class: 'NXdata' });
    w.softLink('/entry_1/image_1/data', 'entry_1/data_1/data');
  });
}
