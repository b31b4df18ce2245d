/** Batched 2-D complex FFT on the GPU (WGSL Stockham), its float64 reference and benchmark. */
export { Fft2dPlan, fft2d, fftPassSpec, chooseFftPassShape, fftLanesByDefault, FFT_LANE_MAX, FFT_SHADERS, fftRadices, FFT_MIN_SIZE, FFT_MAX_SIZE } from './plan.js';
export type { FftDirection, Fft2dOptions, FftAxis, FftPassShape } from './plan.js';
export { ReferenceFft2d, referenceFft2d } from './reference.js';
export { twiddleTable, FFT_TABLE_SIZE } from './twiddles.js';
export { benchmarkFft2d, FFT_BENCH_CONVENTION } from './bench.js';
export type { FftBenchOptions, FftBenchResult, FftThroughput } from './bench.js';
