/**
 * Waiting on dawn.node without spinning the JS thread, for software adapters.
 *
 * dawn.node settles its promises (`mapAsync`, `onSubmittedWorkDone`, `popErrorScope`, …) by
 * processing Dawn's events from a chain of `setImmediate` callbacks, one scheduling the next for
 * as long as anything is pending, and it looks `setImmediate` up on the global object each time.
 * That chain keeps the JS thread at 100 % of a core for the whole wait. On a GPU that costs
 * nothing the GPU needs; on a software adapter (Mesa lavapipe), whose worker threads run the
 * kernels on the same two cores, it takes a core from them: on the two-core reference machine
 * batched FFTs ran at 3.9–4.8 GFLOP/s with the spin and 8.1–9.6 without it, and DM on
 * 1024 × 256² frames at 7.9 s per iteration against 3.45 (README, "Quiet waits").
 *
 * {@link quietly} runs one wait with the global `setImmediate` replaced by a version that defers
 * dawn.node's callbacks by a 1 ms timer, so the thread sleeps between event checks (at most 1 ms
 * added to each wait) and the adapter's threads get both cores. Only dawn.node's callbacks are
 * deferred — anonymous native functions called without arguments; anything else goes straight to
 * Node's own `setImmediate`. The replacement is installed while at least one quiet wait is pending
 * (nested and concurrent waits are counted) and removed after the last one ends, however it ends,
 * unless someone else replaced the global meanwhile (theirs is then left in place). The global is
 * shared by every dawn.node instance in the process: while a software adapter's wait is pending,
 * a GPU context's waits in the same process also check for events once per millisecond.
 */

import { setImmediate as nodeSetImmediate } from 'node:timers';
import { promisify } from 'node:util';

/** How long dawn.node's next event check is deferred during a quiet wait (ms). */
export const QUIET_POLL_MS = 1;

let depth = 0;
/** The global `setImmediate` found when the outermost quiet wait began (restored after it). */
let saved: typeof setImmediate | undefined;

/** True for the callbacks dawn.node schedules: anonymous native functions, called without arguments. */
function isDawnTick(callback: unknown, args: unknown[]): boolean {
  return typeof callback === 'function' && callback.name === '' && args.length === 0 && Function.prototype.toString.call(callback).includes('[native code]');
}

function deferredSetImmediate(this: unknown, callback: (...args: unknown[]) => void, ...args: unknown[]): NodeJS.Immediate {
  // Node's own setImmediate, never a global that may be this function again.
  if (!isDawnTick(callback, args)) return nodeSetImmediate(callback, ...args);
  // dawn.node ignores the handle; a timer stands in for the Immediate it would have had.
  return setTimeout(callback, QUIET_POLL_MS) as unknown as NodeJS.Immediate;
}

// util.promisify(setImmediate) keeps working while the replacement is installed.
Object.defineProperty(deferredSetImmediate, promisify.custom, { value: (nodeSetImmediate as unknown as Record<symbol, unknown>)[promisify.custom] });

/** True while a quiet wait is pending (the global `setImmediate` is the deferring version). */
export function quietWaitActive(): boolean {
  return depth > 0;
}

/**
 * Awaits `op()` (which starts the dawn.node operation) with dawn.node's event polling deferred by
 * {@link QUIET_POLL_MS} per check instead of spinning. `op` is called after the replacement is in
 * place, because dawn.node schedules its first check when the operation starts.
 */
export async function quietly<T>(op: () => Promise<T>): Promise<T> {
  if (depth++ === 0) {
    saved = globalThis.setImmediate;
    globalThis.setImmediate = deferredSetImmediate as unknown as typeof setImmediate;
  }
  try {
    return await op();
  } finally {
    if (--depth === 0) {
      if (globalThis.setImmediate === (deferredSetImmediate as unknown)) globalThis.setImmediate = saved!;
      saved = undefined;
    }
  }
}
