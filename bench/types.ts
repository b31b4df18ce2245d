/** The shape of a benchmark result (what bench/run.ts writes to bench/results/*.json). */
import type { AdapterDescription } from '../src/gpu/context.js';
import type { KernelTimes } from '../src/gpu/timing.js';

/** GPU figures of one workload (wall clock unless named kernel). */
export interface GpuFigures {
  /** Upload + reconstruct + read-back, wall clock (the call to reconstructIterative / reconstructFbp). */
  seconds: number;
  /** Wall-clock seconds of each iteration (FBP: the whole pass). */
  iterationSeconds: number[];
  /** Mean of {@link iterationSeconds}. */
  secondsPerIteration: number;
  /** seconds − Σ iterationSeconds: uploads, set-up kernels, read-back. */
  overheadSeconds: number;
  /** Σ GPU kernel time from timestamp queries; null when the adapter has none. */
  kernelSeconds: number | null;
  kernels: KernelTimes;
  /** Voxel updates per second over the iterations (angles × rows × n² per iteration / s per iteration). */
  voxelUpdatesPerSecond: number;
  /** Sweep residual per iteration (iterative algorithms). */
  residuals: number[];
}

/** The CPU baseline of one workload. */
export interface CpuFigures {
  /** Slices actually computed, [s0, s1). */
  sliceRange: [number, number];
  /** Number of slices computed. */
  slices: number;
  /** True when the figures are scaled from a subset of slices to the whole volume. */
  scaled: boolean;
  /** Wall clock of the loops on the subset. */
  measuredSeconds: number;
  /** Set-up (row/column weights or filter), not scaled. */
  setupSeconds: number;
  /** Whole volume, all iterations: measuredSeconds × rows / slices + setupSeconds. */
  seconds: number;
  /** Whole volume, per iteration (FBP: the pass). */
  secondsPerIteration: number;
  voxelUpdatesPerSecond: number;
  /** Relative L2 error vs truth on the subset. */
  errorVsTruthSubset: number;
  /** GPU relative L2 error vs truth on the same subset. */
  gpuErrorVsTruthSubset: number;
  /** ‖cpu − gpu‖ / ‖gpu‖ on the subset: the two compute the same algorithm. */
  relativeDifferenceVsGpu: number;
}

/** The "including I/O" figures (ART 5): TIFF read (loadProjections), reconstruct, TIFF write (writeVolume). */
export interface IoFigures {
  readSeconds: number;
  reconstructSeconds: number;
  writeSeconds: number;
  totalSeconds: number;
  inputBytes: number;
  outputBytes: number;
}

/** One workload's figures. */
export interface WorkloadResult {
  name: string;
  algorithm: 'art' | 'sirt' | 'fbp';
  iterations: number;
  /** Voxel updates per iteration (FBP: per pass): angles × rows × n². */
  voxelUpdatesPerIteration: number;
  gpu: GpuFigures;
  /** Relative L2 error ‖x − truth‖/‖truth‖ (src/tomo/metrics.ts relativeError). */
  errorVsTruth: number;
  cpu: CpuFigures | null;
  /** cpu / gpu seconds. */
  speedup: { perIteration: number; total: number } | null;
  io: IoFigures | null;
  /** ART only: TomoPy's C ART figure stated in issue 2 (not measured), as a ratio to our GPU time per iteration. */
  tomopy: { secondsPerIteration: number; source: string; ratio: number; targetRatio: number; meetsTarget: boolean; comparable: boolean } | null;
}

/** A whole benchmark run. */
export interface BenchResult {
  schema: 'webrecon-bench/1';
  date: string;
  git: { commit: string; dirty: boolean } | null;
  node: string;
  command: string;
  machine: {
    platform: string;
    arch: string;
    cpuModel: string;
    cpuCount: number;
    memoryBytes: number;
    loadAverageStart: number[];
    loadAverageEnd: number[];
  };
  adapter: AdapterDescription & { hasTimestamps: boolean };
  params: {
    size: number;
    rows: number;
    cols: number;
    angles: number;
    angleRange: [number, number];
    phantom: string;
    nonNegative: boolean;
    relaxation: number;
    iterationsScale: number;
    cpuSlices: number;
    quick: boolean;
    workloads: string[];
    /** The sweep traversal the iterative workloads ran (bands or voxels). */
    traversal?: string;
  };
  simulateSeconds: number;
  /** Shader compilation (first use of each pipeline), done before the timed runs. */
  warmupSeconds: number;
  workloads: WorkloadResult[];
  totalSeconds: number;
}
