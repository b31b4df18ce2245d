/**
 * A pool of GPU devices for work split across them (issue: tiling across devices).
 *
 * - `devices: N` opens N devices on the adapter `GpuContext.acquire` picks (each with its own
 *   `create()` instance and `requestAdapter()`, since one adapter gives one device). On one
 *   physical GPU this only adds overhead; it is how CI exercises the multi-device code on the
 *   software adapter.
 * - `adapters: [names]` opens one device per named adapter (names as `webrecon info` prints them).
 * - `devices: 'all'` opens one device per distinct adapter Dawn lists (core-mode first).
 *
 * Identical GPUs that one process cannot tell apart (dawn.node has no adapter index) are reached by
 * one process per GPU with the GPU made visible by environment (see the README); a pool here
 * always lives in one process, and every device submits its own work independently.
 */
import { InputError } from '../core/errors.js';
import { GpuContext, listAdapters, type GpuOptions } from './context.js';

/** How many devices, and which. */
export interface DevicePoolOptions extends GpuOptions {
  /** Number of devices on the chosen adapter, or 'all' distinct adapters; default 1. */
  devices?: number | 'all';
  /** Adapter names, one device each (overrides `devices` and `adapter`). */
  adapters?: string[];
}

/** Parses `--devices` (a positive integer or 'all'). */
export function parseDevices(value: string): number | 'all' {
  if (value === 'all') return 'all';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InputError(`expected a device count 1..64 or 'all', got '${value}'`, '--devices');
  return n;
}

/** Opens the devices of a pool. The caller destroys every context. */
export async function acquireDevices(options: DevicePoolOptions = {}): Promise<GpuContext[]> {
  const out: GpuContext[] = [];
  try {
    if (options.adapters && options.adapters.length > 0) {
      for (const name of options.adapters) out.push(await GpuContext.acquire({ ...options, adapter: name }));
    } else if (options.devices === 'all') {
      const listed = await listAdapters();
      const core = listed.filter((a) => a.featureLevel === 'core');
      const chosen = core.length > 0 ? core : listed;
      for (const a of chosen) out.push(await GpuContext.acquire({ ...options, backend: a.featureLevel === 'core' ? options.backend : 'opengles', adapter: a.description }));
      if (out.length === 0) out.push(await GpuContext.acquire(options));
    } else {
      const n = options.devices ?? 1;
      for (let i = 0; i < n; i++) out.push(await GpuContext.acquire(options));
    }
  } catch (err) {
    for (const c of out) c.destroy();
    throw err;
  }
  return out;
}
