/**
 * The services a GPU worker process offers: a named function of the worker's GpuContext and a
 * payload (plain data and typed arrays), with a channel for progress events. Services may keep
 * state between calls (e.g. a sweep opened once and run on several waves) keyed by handles they
 * hand out themselves; calls are served one at a time.
 */
import type { GpuContext } from '../context.js';

/** Sends one progress event for the call being served. */
export type Emit = (event: unknown) => void;

/** One service: runs in the worker on its device. */
export type Service = (ctx: GpuContext, payload: never, emit: Emit) => Promise<unknown>;

/** Services by name. */
export type ServiceTable = Record<string, Service>;
