/**
 * A pool of GPU devices for work split across them (issue: tiling across devices).
 *
 * - `devices: N` opens N devices on the adapter `GpuContext.acquire` picks (each with its own
 *   `create()` instance and `requestAdapter()`, since one adapter gives one device). On one
 *   physical GPU this only adds overhead; it is how CI exercises the multi-device code on the
 *   software adapter.
 * - `adapters: [names]` opens one device per named adapter (names as `webrecon info` prints them).
 * - `devices: 'all'` opens one device per distinct adapter Dawn lists (core-mode first).
 * - `processPerDevice: true` opens each of those devices in its own worker process instead, and
 *   `workers: [{ env }, ...]` adds one worker-process device per entry, with that environment:
 *   identical GPUs that one process cannot tell apart (dawn.node has no adapter index) are reached
 *   by one process per GPU, each shown one GPU by its environment (see the README, "One process
 *   per GPU").
 *
 * Whatever the mix, the reconstructions take the pool as it is (`reconstructTomo(pool, ...)`):
 * every device, in this process or a worker, submits its own work without waiting on the others.
 */
import { InputError } from '../core/errors.js';
import { GpuContext, listAdapters, type AdapterDescription, type GpuOptions } from './context.js';
import { WorkerDevice, type WorkerSpec } from './worker/device.js';

export { WorkerDevice, type WorkerSpec } from './worker/device.js';

/** A device of a pool: in this process, or in a worker process. */
export type PoolDevice = GpuContext | WorkerDevice;

/** How many devices, and which. */
export interface DevicePoolOptions extends GpuOptions {
  /**
   * Number of devices on the chosen adapter, or 'all' distinct adapters; default 1, or 0 when
   * `workers` are given (then only the workers).
   */
  devices?: number | 'all';
  /** Adapter names, one device each (overrides `devices` and `adapter`). */
  adapters?: string[];
  /** Open each device of `devices`/`adapters` in its own worker process rather than in this one. */
  processPerDevice?: boolean;
  /** Further devices, one worker process each, with its own environment and adapter choice. */
  workers?: WorkerSpec[];
}

/** Options of a pool that lives entirely in this process. */
export type InProcessPoolOptions = Omit<DevicePoolOptions, 'processPerDevice' | 'workers'> & { processPerDevice?: false; workers?: undefined };

/** Parses `--devices` (a positive integer or 'all'). */
export function parseDevices(value: string): number | 'all' {
  if (value === 'all') return 'all';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InputError(`expected a device count 1..64 or 'all', got '${value}'`, '--devices');
  return n;
}

/**
 * Parses one `--device-env` value: `NAME=value` pairs separated by commas (`''` or `-`: no
 * change to the environment). Names must be environment-variable names.
 */
export function parseDeviceEnv(value: string, flag = '--device-env'): Record<string, string> {
  const env: Record<string, string> = {};
  const text = value.trim();
  if (text === '' || text === '-') return env;
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? '' : part.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new InputError(`expected NAME=value[,NAME=value...], got '${part}'`, flag);
    env[name] = part.slice(eq + 1);
  }
  return env;
}

/** True for a device that lives in a worker process. */
export function isWorkerDevice(d: PoolDevice): d is WorkerDevice {
  return d instanceof WorkerDevice;
}

/** The adapter description of any pool device. */
export function deviceInfo(d: PoolDevice): AdapterDescription {
  return d.info;
}

/**
 * Opens the devices of a pool: the in-process ones first, then the worker processes (started in
 * parallel; each pays Dawn's start-up). If any fails to open, the others are closed and the
 * error names the device (a worker's error says which worker and environment). The caller
 * destroys every device.
 */
export async function acquireDevices(options?: InProcessPoolOptions): Promise<GpuContext[]>;
export async function acquireDevices(options: DevicePoolOptions): Promise<PoolDevice[]>;
export async function acquireDevices(options: DevicePoolOptions = {}): Promise<PoolDevice[]> {
  const out: PoolDevice[] = [];
  const gpu: GpuOptions = { backend: options.backend, adapter: options.adapter, featureLevel: options.featureLevel, timestamps: options.timestamps };
  // What the in-process part would open, as adapter choices.
  const local: GpuOptions[] = [];
  if (options.adapters && options.adapters.length > 0) {
    for (const name of options.adapters) local.push({ ...gpu, adapter: name });
  } else if (options.devices === 'all') {
    const listed = await listAdapters();
    const core = listed.filter((a) => a.featureLevel === 'core');
    const chosen = core.length > 0 ? core : listed;
    for (const a of chosen) local.push({ ...gpu, backend: a.featureLevel === 'core' ? options.backend : 'opengles', adapter: a.description });
    if (local.length === 0) local.push(gpu);
  } else {
    const n = options.devices ?? (options.workers && options.workers.length > 0 ? 0 : 1);
    if (!Number.isInteger(n) || n < 0) throw new InputError(`expected a device count, got ${n}`, '--devices');
    for (let i = 0; i < n; i++) local.push(gpu);
  }
  const specs: WorkerSpec[] = [...(options.processPerDevice ? local.map((o): WorkerSpec => ({ ...o })) : []), ...(options.workers ?? []).map((w) => ({ ...gpu, ...w }))];
  if (options.processPerDevice) local.length = 0;
  if (local.length + specs.length === 0) throw new InputError('the device pool is empty: ask for at least one device or worker', '--devices');
  try {
    for (const o of local) out.push(await GpuContext.acquire(o));
    const started = await Promise.allSettled(specs.map((s, i) => WorkerDevice.start(s, i)));
    for (const s of started) if (s.status === 'fulfilled') out.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (err) {
    for (const c of out) c.destroy();
    throw err;
  }
  return out;
}

/** Destroys every device of a pool (worker processes shut down cleanly; see {@link closeDevices} to wait for them). */
export function destroyDevices(pool: readonly PoolDevice[]): void {
  for (const d of pool) d.destroy();
}

/** Destroys every device of a pool and waits until its worker processes have exited. */
export async function closeDevices(pool: readonly PoolDevice[]): Promise<void> {
  await Promise.all(pool.map((d) => (d instanceof WorkerDevice ? d.close() : d.destroy())));
}
