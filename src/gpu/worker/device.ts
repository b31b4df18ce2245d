/**
 * A GPU device in a worker process: the parent forks `dist/src/gpu/worker/host.js` with its own
 * environment (which is how one GPU among identical ones is made visible to it: see the README,
 * "One process per GPU"), the worker opens its own GpuContext and serves named services over IPC.
 *
 * - Requests carry ids; each call gets progress events, then one result or a typed error
 *   (InputError/GpuError with the worker's message, see protocol.ts).
 * - A worker that exits or is killed while calls are pending fails them with a GpuError of kind
 *   'device-lost' naming the worker, its pid and its exit code or signal, so the callers treat
 *   it exactly like a lost in-process device (their work moves to the remaining devices).
 * - A worker that cannot open a device fails {@link WorkerDevice.start} with its own error
 *   (e.g. 'no-adapter'), prefixed with which worker and which environment it had.
 * - {@link WorkerDevice.destroy} asks for a clean shutdown (the worker destroys its device and
 *   exits) and kills the process if it has not gone within a few seconds; a worker also exits by
 *   itself when its parent goes away.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GpuError } from '../../core/errors.js';
import type { AdapterDescription, GpuOptions } from '../context.js';
import { PACKAGE_ROOT } from '../shaders.js';
import { CONFIG_ENV, deserializeError, type ParentMessage, type WorkerConfig, type WorkerMessage } from './protocol.js';

/** One worker-process device: how it picks its adapter and what its environment adds. */
export interface WorkerSpec extends GpuOptions {
  /**
   * Variables set in the worker's environment on top of this process's (a value `undefined`
   * removes the variable), e.g. `{ MESA_VK_DEVICE_SELECT: '10de:2330' }` to show it one GPU.
   */
  env?: Record<string, string | undefined>;
  /** Name in messages; default 'worker K' (K counts from 1 in the pool). */
  label?: string;
  /** How long the worker may take to open its device (ms); default 120 000. */
  startTimeoutMs?: number;
}

/** Characters of the worker's own output kept for error messages. */
const TAIL_CHARS = 2000;

/** How long a clean shutdown may take before the worker is killed (ms). */
const SHUTDOWN_GRACE_MS = 5000;

/**
 * The worker's entry point: the sibling host.js when this module runs from dist/, else
 * dist/src/gpu/worker/host.js under the package root (running from TypeScript sources, as the
 * tests do, needs a build: `npm run build`, which `npm test` does first).
 */
export function workerEntry(): string {
  const here = fileURLToPath(import.meta.url);
  const sibling = join(dirname(here), 'host.js');
  if (basename(here).endsWith('.js') && existsSync(sibling)) return sibling;
  const built = join(PACKAGE_ROOT, 'dist', 'src', 'gpu', 'worker', 'host.js');
  if (!existsSync(built)) {
    throw new GpuError('internal', `the GPU worker entry point ${built} is missing: build webrecon first (npm run build)`);
  }
  return built;
}

interface Pending {
  service: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  onProgress?: (event: unknown) => void;
}

/** A device in its own process; create with {@link WorkerDevice.start}, end with {@link WorkerDevice.destroy}. */
export class WorkerDevice {
  /** The worker's adapter, as its GpuContext describes it. */
  readonly info: AdapterDescription;
  /** Process id of the worker. */
  readonly pid: number;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure?: GpuError;
  private destroyed = false;
  private exitPromise: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    /** Name in messages, e.g. 'GPU worker 2 (MESA_VK_DEVICE_SELECT=1002:73bf)'. */
    readonly label: string,
    info: AdapterDescription,
    private readonly tail: () => string,
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  ) {
    this.info = info;
    this.pid = child.pid ?? -1;
    child.on('message', (msg: WorkerMessage) => this.onMessage(msg));
    this.exitPromise = exited.then(({ code, signal }) => {
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const busy = [...new Set([...this.pending.values()].map((p) => p.service))];
      const last = this.tail().trim().split('\n').slice(-3).join(' | ');
      this.failure = new GpuError(
        'device-lost',
        `${this.label} (pid ${this.pid}) ${how}${busy.length ? ` during ${busy.join(', ')}` : ''}${this.destroyed ? '' : last ? `; its last output: ${last}` : ''}`,
      );
      for (const p of this.pending.values()) p.reject(this.failure);
      this.pending.clear();
    });
  }

  /**
   * Forks a worker with `spec`'s environment and waits until it has opened its device. Fails
   * with the worker's own error (e.g. GpuError 'no-adapter'), prefixed with which worker and
   * environment it was, or with a GpuError when it exits or times out before that.
   */
  static async start(spec: WorkerSpec = {}, index = 0): Promise<WorkerDevice> {
    const envText = Object.entries(spec.env ?? {}).map(([k, v]) => (v === undefined ? `-${k}` : `${k}=${v}`)).join(' ');
    const label = spec.label ?? `GPU worker ${index + 1}${envText ? ` (${envText})` : ''}`;
    const entry = workerEntry();
    const config: WorkerConfig = { gpu: { backend: spec.backend, adapter: spec.adapter, featureLevel: spec.featureLevel, timestamps: spec.timestamps }, label };
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const [k, v] of Object.entries(spec.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    env[CONFIG_ENV] = JSON.stringify(config);
    let child: ChildProcess;
    try {
      child = fork(entry, [], { env, execArgv: [], serialization: 'advanced', stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    } catch (err) {
      throw new GpuError('internal', `${label}: could not start a worker process: ${(err as Error).message}`, { cause: err });
    }
    // The worker's output (Dawn's notices, driver messages) goes to our stderr, never our stdout.
    let tail = '';
    const keep = (chunk: Buffer) => {
      process.stderr.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-TAIL_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
    });
    const timeout = spec.startTimeoutMs ?? 120_000;
    const info = await new Promise<AdapterDescription>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new GpuError('no-adapter', `${label} did not open a GPU device within ${(timeout / 1000).toFixed(0)} s`));
      }, timeout);
      const onMessage = (msg: WorkerMessage) => {
        if (msg.type === 'ready') {
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(msg.info);
        } else if (msg.type === 'start-failed') {
          clearTimeout(timer);
          const err = deserializeError(msg.error, label);
          err.message = `${label} could not open a GPU device: ${err.message}`;
          reject(err);
        }
      };
      child.on('message', onMessage);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new GpuError('internal', `${label}: worker process error: ${err.message}`, { cause: err }));
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        const last = tail.trim().split('\n').slice(-3).join(' | ');
        reject(new GpuError('no-adapter', `${label} ${signal ? `was killed by ${signal}` : `exited with code ${code}`} before opening a GPU device${last ? `; its last output: ${last}` : ''}`));
      });
    });
    return new WorkerDevice(child, label, info, () => tail, exited);
  }

  /** True while the worker process runs and has not been told to shut down. */
  get alive(): boolean {
    return !this.failure && !this.destroyed;
  }

  /** Why the worker is gone (undefined while it runs). */
  get lostError(): GpuError | undefined {
    return this.failure;
  }

  /**
   * Calls service `service` in the worker; `onProgress` receives its progress events (in order,
   * all before the call settles). If `onProgress` throws, the call rejects with that error.
   */
  call<T>(service: string, payload: unknown, onProgress?: (event: unknown) => void): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.destroyed) return Promise.reject(new GpuError('device-lost', `${this.label} has been shut down`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { service, resolve: resolve as (v: unknown) => void, reject, onProgress });
      try {
        this.child.send({ type: 'call', id, service, payload } satisfies ParentMessage);
      } catch (err) {
        this.pending.delete(id);
        reject(this.failure ?? new GpuError('device-lost', `${this.label}: cannot reach the worker process: ${(err as Error).message}`, { cause: err }));
      }
    });
  }

  private onMessage(msg: WorkerMessage): void {
    if (msg.type !== 'progress' && msg.type !== 'result' && msg.type !== 'error') return;
    const p = this.pending.get(msg.id);
    if (!p) return; // a call already failed (its progress handler threw)
    if (msg.type === 'progress') {
      try {
        p.onProgress?.(msg.event);
      } catch (err) {
        this.pending.delete(msg.id);
        p.reject(err as Error);
      }
      return;
    }
    this.pending.delete(msg.id);
    if (msg.type === 'result') p.resolve(msg.result);
    else p.reject(deserializeError(msg.error, this.label));
  }

  /**
   * Asks the worker to destroy its device and exit (after the calls it is serving), and kills it
   * if it is still there after a grace period. Calls still pending then fail with 'device-lost'.
   */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.failure) return;
    try {
      this.child.send({ type: 'shutdown' } satisfies ParentMessage);
    } catch {
      this.child.kill('SIGKILL');
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), SHUTDOWN_GRACE_MS);
    timer.unref();
    void this.exitPromise.then(() => clearTimeout(timer));
    // The IPC channel and pipes must not keep this process alive once it has nothing else to do.
    this.child.unref();
    this.child.channel?.unref();
    for (const s of [this.child.stdout, this.child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
  }

  /** Destroys the worker and waits until its process has exited. */
  async close(): Promise<void> {
    this.destroy();
    this.child.ref(); // keep this process alive until the worker has gone
    await this.exitPromise;
  }

  /** Kills the worker process at once (as a crash would). For tests and emergencies. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }
}
