/**
 * The messages between a parent process and a GPU worker process (src/gpu/worker/host.ts),
 * sent over Node's IPC channel with `serialization: 'advanced'` (typed arrays travel as such).
 *
 * The protocol is generic: the parent calls a named service with a payload and an id; the worker
 * answers with any number of progress events for that id, then exactly one result or error.
 * Calls are served one after another, in the order they were sent. Errors travel as
 * {@link SerializedError} and come back as the same class (InputError, GpuError) with the same
 * message, so the parent handles them as if the work had run in its own process.
 */
import { GpuError, InputError, type GpuErrorKind } from '../../core/errors.js';
import type { AdapterDescription, GpuOptions } from '../context.js';

/** What the parent tells the worker at start-up (in the environment variable {@link CONFIG_ENV}). */
export interface WorkerConfig {
  /** How the worker picks its adapter (backend, adapter name, feature level, timestamps). */
  gpu: GpuOptions;
  /** A name for messages, e.g. 'worker 2'. */
  label: string;
}

/** The environment variable carrying the JSON {@link WorkerConfig} to the worker. */
export const CONFIG_ENV = 'WEBRECON_WORKER_CONFIG';

/**
 * Test hook: a worker started with this variable set to N exits (code {@link TEST_EXIT_CODE})
 * right after sending its N-th progress event, as a crashed process would.
 */
export const TEST_EXIT_ENV = 'WEBRECON_WORKER_TEST_EXIT_AFTER_PROGRESS';
/** Exit code of the {@link TEST_EXIT_ENV} hook. */
export const TEST_EXIT_CODE = 86;

/** An error as it crosses the process boundary. */
export interface SerializedError {
  /** 'InputError', 'GpuError', or another Error's name. */
  name: string;
  message: string;
  /** GpuError's kind. */
  kind?: GpuErrorKind;
  /** InputError's file. */
  file?: string;
  stack?: string;
}

/** Parent → worker. */
export type ParentMessage = { type: 'call'; id: number; service: string; payload: unknown } | { type: 'shutdown' };

/** Worker → parent. */
export type WorkerMessage =
  | { type: 'ready'; info: AdapterDescription; pid: number }
  | { type: 'start-failed'; error: SerializedError }
  | { type: 'progress'; id: number; event: unknown }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; error: SerializedError };

/** Turns any thrown value into a {@link SerializedError}. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const out: SerializedError = { name: err.name, message: err.message, stack: err.stack };
    if (err instanceof GpuError) out.kind = err.kind;
    if (err instanceof InputError && err.file !== undefined) out.file = err.file;
    return out;
  }
  return { name: 'Error', message: String(err) };
}

/**
 * Rebuilds the error a worker sent: an InputError or GpuError of the same kind and message
 * (so exit codes and retry decisions are the same as in-process), any other error as an Error
 * with the worker's name and message. The worker's stack is kept as the `cause`.
 */
export function deserializeError(e: SerializedError, where: string): Error {
  const cause = e.stack ? new Error(`${where}: ${e.stack}`) : undefined;
  let out: Error;
  if (e.name === 'InputError') {
    out = new InputError('', e.file, { cause });
  } else if (e.name === 'GpuError' && e.kind) {
    out = new GpuError(e.kind, '', { cause });
  } else {
    out = new Error('', { cause });
    out.name = e.name;
  }
  out.message = e.message;
  return out;
}
