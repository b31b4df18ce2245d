/**
 * Progress as events: one source for the CLI's bar, `--json` lines and API callbacks.
 */

/** One progress report. */
export interface ProgressEvent {
  /** Which stage is reporting, e.g. 'read', 'preprocess', 'art', 'dm', 'write'. */
  stage: string;
  /** 1-based iteration number, when the stage iterates. */
  iteration?: number;
  /** Total iterations of the stage, when known. */
  of?: number;
  /** A residual or error metric for this iteration (algorithm-specific, documented there). */
  residual?: number;
  /** Further named metrics (e.g. error against a known truth). */
  metrics?: Record<string, number>;
  /** Seconds since the stage started. */
  seconds: number;
}

/** A function that receives progress events. */
export type ProgressCallback = (event: ProgressEvent) => void;

/** Seconds since `start` (a `performance.now()` reading). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
