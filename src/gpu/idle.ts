import type { GpuContext } from './context.js';

/**
 * How long to sleep after a submit before waiting for its read-back on a software adapter, where
 * dawn.node's busy polling of the JS thread would take a CPU core from the adapter's own threads
 * (see GpuContext.idle). Starts at a caller's estimate (default zero); then 85 % of the last
 * submit-to-read-back time, shrinking by a quarter whenever the wait after the sleep was
 * negligible (the work had finished while sleeping), so it settles just under the true time.
 */
export class IdleEstimator {
  private next: number;
  constructor(initialMs = 0) {
    this.next = initialMs;
  }
  /**
   * Waits for work just submitted: on a software adapter sleeps through most of its expected
   * time first (`scale` shrinks the sleep for a smaller job), then runs `read` (the read-back or
   * wait) and learns from how long it all took. On a GPU it only runs `read`.
   */
  async wait<T>(ctx: GpuContext, read: () => Promise<T>, scale = 1): Promise<T> {
    const t0 = performance.now();
    const slept = ctx.info.software ? this.next * scale : 0;
    await ctx.idle(slept);
    const result = await ctx.settle(read);
    this.record(slept, performance.now() - t0);
    return result;
  }

  /** Records one submit: how long it slept and the whole submit-to-read-back time. */
  private record(sleptMs: number, totalMs: number): void {
    const waited = totalMs - sleptMs;
    this.next = sleptMs > 0 && waited < 2 ? 0.75 * sleptMs : 0.85 * totalMs;
  }
}
