/**
 * Kernel timing through `timestamp-query` (Dawn's quantisation is disabled when the instance is
 * created), falling back to wall-clock timing of whole submits when the adapter has none.
 */
import type { GpuContext } from './context.js';

/** Accumulated time per label. */
export interface KernelTimes {
  [label: string]: { count: number; seconds: number };
}

/**
 * Collects GPU time per labelled compute pass. Usage:
 *   const timer = new KernelTimer(ctx);
 *   const pass = timer.beginPass(encoder, 'project');  ...  pass.end();
 *   timer.resolve(encoder); submit; await timer.collect();
 * When timestamps are unavailable, passes are created without them and `collect()` returns {}.
 */
export class KernelTimer {
  private readonly querySet?: GPUQuerySet;
  private readonly resolveBuf?: GPUBuffer;
  private labels: string[] = [];
  private readonly capacity: number;
  readonly totals: KernelTimes = {};

  constructor(private readonly ctx: GpuContext, capacity = 512) {
    this.capacity = capacity;
    if (ctx.hasTimestamps) {
      this.querySet = ctx.device.createQuerySet({ type: 'timestamp', count: capacity * 2 });
      this.resolveBuf = ctx.device.createBuffer({ size: capacity * 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    }
  }

  /** True when GPU timestamps are being recorded. */
  get enabled(): boolean {
    return this.querySet !== undefined;
  }

  /** Begins a compute pass, timed when possible (untimed once the capacity is used up). */
  beginPass(encoder: GPUCommandEncoder, label: string): GPUComputePassEncoder {
    if (!this.querySet || this.labels.length >= this.capacity) return encoder.beginComputePass({ label });
    const i = this.labels.length;
    this.labels.push(label);
    return encoder.beginComputePass({
      label,
      timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
    });
  }

  /** Records the resolve of this batch's timestamps; call once per encoder, before finish(). */
  resolve(encoder: GPUCommandEncoder): void {
    if (!this.querySet || !this.resolveBuf || this.labels.length === 0) return;
    encoder.resolveQuerySet(this.querySet, 0, this.labels.length * 2, this.resolveBuf, 0);
  }

  /** Reads the resolved timestamps (after the submit), adds them to `totals`, and resets. */
  async collect(): Promise<KernelTimes> {
    if (!this.resolveBuf || this.labels.length === 0) return this.totals;
    const n = this.labels.length;
    const raw = new BigUint64Array(await this.ctx.read(this.resolveBuf, 0, n * 16));
    for (let i = 0; i < n; i++) {
      const dt = Number(raw[2 * i + 1] - raw[2 * i]) / 1e9;
      const t = (this.totals[this.labels[i]] ??= { count: 0, seconds: 0 });
      t.count++;
      if (dt > 0 && dt < 1e4) t.seconds += dt;
    }
    this.labels = [];
    return this.totals;
  }

  destroy(): void {
    this.querySet?.destroy();
    this.resolveBuf?.destroy();
  }
}
