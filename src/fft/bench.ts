/**
 * FFT throughput benchmark: times forward + inverse batched 2-D transforms on the GPU and the
 * same work with the float64 fft.js reference on the CPU (the baseline), in the same run.
 *
 * Conventions (stated in every result):
 * - flops: 5·N·log2(N) per complex N-point 1-D transform, so one H×W 2-D transform counts
 *   5·H·W·log2(H·W) and a forward + inverse pair twice that;
 * - effective bytes: the traffic of our two-pass algorithm, one read and one write of the
 *   complex64 array per pass: 2 passes × 2 × 8·H·W bytes per 2-D transform (twiddle reads,
 *   which stay in cache, are not counted). The CPU figure uses the same byte count.
 */
import type { GpuContext } from '../gpu/context.js';
import { KernelTimer } from '../gpu/timing.js';
import { Fft2dPlan } from './plan.js';
import { ReferenceFft2d } from './reference.js';

/** What to time. */
export interface FftBenchOptions {
  height: number;
  width: number;
  batch: number;
  /** Timed forward + inverse repetitions on the GPU (default 3), after one untimed warm-up. */
  repeats?: number;
  /** Images the CPU baseline transforms (default min(batch, 16)); its time is scaled to the batch. */
  cpuImages?: number;
  /** Skip the CPU baseline. */
  skipCpu?: boolean;
}

/** Throughput of one implementation. */
export interface FftThroughput {
  /** Seconds for forward + inverse of the whole batch. */
  seconds: number;
  gflops: number;
  gbytesPerSecond: number;
}

/** Result of {@link benchmarkFft2d}. */
export interface FftBenchResult {
  height: number;
  width: number;
  batch: number;
  /** The flop and byte conventions used. */
  convention: string;
  /** GPU time: from timestamp queries when the adapter has them ('timestamps'), else the wall clock of the submits ('wall'). */
  gpu: FftThroughput & { timing: 'timestamps' | 'wall'; wallSeconds: number };
  /** fft.js float64 on one CPU thread (undefined when skipped). */
  cpu?: FftThroughput & { imagesTimed: number };
  /** cpu.seconds / gpu.seconds. */
  speedup?: number;
  /** The adapter's description. */
  device: string;
}

export const FFT_BENCH_CONVENTION =
  'flops = 5·N·log2(N) per complex N-point transform (5·H·W·log2(H·W) per 2-D transform, ×2 for forward+inverse); ' +
  'bytes = 2 passes × (read + write) × 8·H·W per 2-D transform';

function throughput(seconds: number, h: number, w: number, batch: number): FftThroughput {
  const flops = 2 * batch * 5 * h * w * Math.log2(h * w);
  const bytes = 2 * batch * 4 * 8 * h * w;
  return { seconds, gflops: flops / seconds / 1e9, gbytesPerSecond: bytes / seconds / 1e9 };
}

/** Times forward + inverse 2-D FFTs of `batch` H×W complex images on the GPU and (optionally) with fft.js. */
export async function benchmarkFft2d(ctx: GpuContext, options: FftBenchOptions): Promise<FftBenchResult> {
  const { height: h, width: w, batch } = options;
  const repeats = options.repeats ?? 3;
  const plan = await Fft2dPlan.create(ctx, { height: h, width: w, batch });
  const n = batch * h * w;
  const buffer = ctx.createStorage(n * 8, 'fft bench');
  // Host-side test pattern (not reconstruction arithmetic): a bounded deterministic signal.
  const pattern = new Float32Array(2 * h * w);
  for (let i = 0; i < pattern.length; i++) pattern[i] = Math.sin(0.37 * i) * 0.5;
  for (let b = 0; b < batch; b++) ctx.queue.writeBuffer(buffer, b * pattern.byteLength, pattern);
  const timer = new KernelTimer(ctx, 2 * (repeats + 1));
  try {
    const run = async (timed: boolean): Promise<number> => {
      const enc = ctx.device.createCommandEncoder({ label: 'fft bench' });
      for (const d of ['forward', 'inverse'] as const) {
        const pass = timed ? timer.beginPass(enc, 'fft') : enc.beginComputePass();
        plan.encode(pass, buffer, d);
        pass.end();
      }
      if (timed) timer.resolve(enc);
      const t0 = performance.now();
      await ctx.submitAndWait([enc.finish()], 'fft bench');
      return (performance.now() - t0) / 1000;
    };
    await run(false); // warm-up
    let wall = 0;
    for (let r = 0; r < repeats; r++) wall += await run(true);
    wall /= repeats;
    const totals = await timer.collect();
    const stamped = timer.enabled && totals.fft && totals.fft.seconds > 0;
    const gpuSeconds = stamped ? totals.fft.seconds / repeats : wall;
    const result: FftBenchResult = {
      height: h,
      width: w,
      batch,
      convention: FFT_BENCH_CONVENTION,
      gpu: { ...throughput(gpuSeconds, h, w, batch), timing: stamped ? 'timestamps' : 'wall', wallSeconds: wall },
      device: ctx.info.description,
    };
    if (!options.skipCpu) {
      const images = Math.max(1, Math.min(batch, options.cpuImages ?? 16));
      const ref = new ReferenceFft2d(h, w);
      const src = new Float64Array(2 * h * w);
      src.set(pattern);
      const mid = new Float64Array(2 * h * w);
      const back = new Float64Array(2 * h * w);
      ref.transform(src, mid, 0, 'forward'); // warm-up (JIT)
      const t0 = performance.now();
      for (let b = 0; b < images; b++) {
        ref.transform(src, mid, 0, 'forward');
        ref.transform(mid, back, 0, 'inverse');
      }
      const cpuSeconds = ((performance.now() - t0) / 1000) * (batch / images);
      result.cpu = { ...throughput(cpuSeconds, h, w, batch), imagesTimed: images };
      result.speedup = cpuSeconds / gpuSeconds;
    }
    return result;
  } finally {
    timer.destroy();
    plan.forget(buffer);
    buffer.destroy();
    plan.destroy();
  }
}
