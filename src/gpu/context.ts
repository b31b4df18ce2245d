/**
 * GPU context: one adapter + one device, the limits we asked for, error handling and the
 * pipeline cache. Every kernel wrapper takes a GpuContext.
 *
 * dawn.node traps handled here:
 * - the object returned by `create()` must stay reachable for the whole process, or the
 *   process crashes when it is collected: we keep every instance in a module-level array;
 * - one adapter gives one device: each GpuContext requests its own adapter;
 * - devices get spec-default limits unless asked: we request the adapter's limits we use;
 * - uncaptured errors are printed to stdout unless handled: we handle them (preventDefault)
 *   and rethrow them as typed GpuErrors at the next check;
 * - timestamp queries are quantised unless Dawn's `timestamp_quantization` toggle is off.
 */
import { createRequire } from 'node:module';
import { GpuError, gpuAdvice } from '../core/errors.js';
import { quietly } from './quiet.js';
import { PipelineCache } from './pipelines.js';
import { BufferPool } from './buffers.js';

type DawnCreate = (flags: string[]) => GPU;
type DawnModule = { create: DawnCreate; globals: Record<string, unknown> };

/** Every `create()` instance ever made: never collected while the process lives. */
const liveInstances: GPU[] = [];
let dawn: DawnModule | undefined;

function loadDawn(): DawnModule {
  if (!dawn) {
    const require = createRequire(import.meta.url);
    try {
      dawn = require('webgpu') as DawnModule;
    } catch (err) {
      throw new GpuError('no-adapter', `Could not load the 'webgpu' package (dawn.node): ${(err as Error).message}. Run \`npm install\`.`, { cause: err });
    }
    // GPUBufferUsage, GPUShaderStage, ... as globals, as in a browser.
    for (const [k, v] of Object.entries(dawn.globals)) {
      if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    }
  }
  return dawn;
}

/** Which Dawn backend to use. 'auto' tries the native core backend, then OpenGL ES compatibility. */
export type BackendName = 'auto' | 'vulkan' | 'opengles' | 'opengl' | 'metal' | 'd3d12' | 'd3d11';

/** How to choose an adapter. */
export interface GpuOptions {
  /** Dawn backend; default 'auto' (native core first, OpenGL ES compatibility as the fallback). */
  backend?: BackendName;
  /** Adapter name (as `webrecon info` prints it) to pick among several. */
  adapter?: string;
  /** Force a feature level; default: core, falling back to compatibility. */
  featureLevel?: 'core' | 'compatibility';
  /** Ask for timestamp queries when the adapter has them (default true). */
  timestamps?: boolean;
}

/** What the adapter says about itself, plus what we learned acquiring it. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** The Dawn backend the adapter came from. */
  backend: string;
  /** 'core' or 'compatibility'. */
  featureLevel: 'core' | 'compatibility';
  /** True for a software (CPU) adapter such as Mesa lavapipe/llvmpipe. */
  software: boolean;
  /** Limits that matter for our kernels (as granted to the device). */
  limits: Record<string, number>;
  features: string[];
}

/** Limits we request at the adapter's maximum (not the spec defaults). */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
  'maxBindGroups',
] as const;

function describeAdapter(adapter: GPUAdapter, device: GPUDevice, backend: string, featureLevel: 'core' | 'compatibility'): AdapterDescription {
  const info = adapter.info;
  const limits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) limits[k] = Number((device.limits as unknown as Record<string, number>)[k]);
  const description = info.description || '';
  const guessedBackend = backend !== 'auto' ? backend : /opengl/i.test(description) ? 'opengles' : process.platform === 'darwin' ? 'metal' : process.platform === 'win32' ? 'd3d12' : 'vulkan';
  return {
    vendor: info.vendor || '',
    architecture: info.architecture || '',
    device: info.device || '',
    description,
    backend: guessedBackend,
    featureLevel,
    software: (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true || /llvmpipe|lavapipe|swiftshader|software/i.test(`${info.architecture} ${info.device} ${description}`),
    limits,
    features: [...adapter.features].sort(),
  };
}

function instanceFlags(backend: BackendName, adapterName?: string): string[] {
  const flags = ['disable-dawn-features=timestamp_quantization'];
  if (backend !== 'auto') flags.push(`backend=${backend}`);
  if (adapterName) flags.push(`adapter=${adapterName}`);
  // Expert knob: extra dawn.node instance flags, whitespace-separated (e.g. enable-dawn-features=...).
  const extra = process.env.WEBRECON_DAWN_FLAGS?.trim();
  if (extra) flags.push(...extra.split(/\s+/));
  return flags;
}

async function tryAdapter(backend: BackendName, featureLevel: 'core' | 'compatibility', adapterName?: string): Promise<GPUAdapter | null> {
  const { create } = loadDawn();
  if (backend === 'opengles' || backend === 'opengl') process.env.EGL_PLATFORM ??= 'surfaceless';
  let gpu: GPU;
  try {
    gpu = create(instanceFlags(backend, adapterName));
  } catch (err) {
    if (adapterName) throw new GpuError('no-adapter', `No adapter named '${adapterName}': ${(err as Error).message}`, { cause: err });
    return null;
  }
  liveInstances.push(gpu);
  try {
    const adapter = await gpu.requestAdapter({ featureLevel } as GPURequestAdapterOptions);
    if (!adapter) return null;
    if (featureLevel === 'core' && !adapter.features.has('core-features-and-limits' as GPUFeatureName)) return null;
    return adapter;
  } catch (err) {
    if (adapterName) throw new GpuError('no-adapter', `Adapter '${adapterName}': ${(err as Error).message}`, { cause: err });
    return null;
  }
}

/**
 * One GPU device with everything kernels need. Create with {@link GpuContext.acquire};
 * call {@link GpuContext.destroy} when done.
 */
export class GpuContext {
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  readonly queue: GPUQueue;
  readonly info: AdapterDescription;
  /** Cached compute pipelines, keyed by everything they were specialised on. */
  readonly pipelines: PipelineCache;
  /** Reusable buffers (staging buffers for read-back and scratch space). */
  readonly buffers: BufferPool;
  /** True when `timestamp-query` was granted. */
  readonly hasTimestamps: boolean;

  private pendingErrors: GPUError[] = [];
  private lostInfo: GPUDeviceLostInfo | undefined;
  private destroyed = false;

  private constructor(adapter: GPUAdapter, device: GPUDevice, info: AdapterDescription) {
    this.adapter = adapter;
    this.device = device;
    this.queue = device.queue;
    this.info = info;
    this.hasTimestamps = device.features.has('timestamp-query');
    this.pipelines = new PipelineCache(this);
    this.buffers = new BufferPool(device);
    device.addEventListener('uncapturederror', (ev: Event) => {
      ev.preventDefault();
      this.pendingErrors.push((ev as GPUUncapturedErrorEvent).error);
    });
    void device.lost.then((lost) => {
      if (!this.destroyed) this.lostInfo = lost;
    });
  }

  /** Finds an adapter (core first, then OpenGL ES compatibility) and opens a device on it. */
  static async acquire(options: GpuOptions = {}): Promise<GpuContext> {
    const backend = options.backend ?? 'auto';
    const attempts: Array<[BackendName, 'core' | 'compatibility']> = [];
    if (options.featureLevel) attempts.push([backend, options.featureLevel]);
    else if (backend === 'opengles' || backend === 'opengl') attempts.push([backend, 'compatibility']);
    else {
      attempts.push([backend, 'core']);
      if (backend === 'auto') attempts.push(['opengles', 'compatibility']);
      else attempts.push([backend, 'compatibility']);
    }
    for (const [b, level] of attempts) {
      const adapter = await tryAdapter(b, level, options.adapter);
      if (!adapter) continue;
      return GpuContext.open(adapter, b, level, options.timestamps ?? true);
    }
    throw new GpuError('no-adapter', `No WebGPU adapter found (tried ${attempts.map(([b, l]) => `${b}/${l}`).join(', ')}). ${gpuAdvice('no-adapter')}`);
  }

  /** @internal Opens a device on an adapter already found. */
  static async open(adapter: GPUAdapter, backend: BackendName, level: 'core' | 'compatibility', timestamps: boolean): Promise<GpuContext> {
    const requiredLimits: Record<string, number> = {};
    for (const k of WANTED_LIMITS) {
      const v = (adapter.limits as unknown as Record<string, number>)[k];
      if (typeof v === 'number') requiredLimits[k] = v;
    }
    const requiredFeatures: GPUFeatureName[] = [];
    if (timestamps && adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
    let device: GPUDevice;
    try {
      device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'webrecon' });
    } catch (err) {
      throw new GpuError('limits', `Could not open a device: ${(err as Error).message}. ${gpuAdvice('limits')}`, { cause: err });
    }
    const info = describeAdapter(adapter, device, backend, level);
    return new GpuContext(adapter, device, info);
  }

  /** Largest storage buffer binding in bytes (chunk big arrays below this). */
  get maxBinding(): number {
    return Math.min(this.device.limits.maxStorageBufferBindingSize, this.device.limits.maxBufferSize);
  }

  /** Throws a GpuError for any error that arrived since the last check (or if the device is lost). */
  throwIfFailed(what = 'GPU work'): void {
    if (this.lostInfo) {
      throw new GpuError('device-lost', `${what}: the GPU device was lost (${this.lostInfo.reason}: ${this.lostInfo.message}). ${gpuAdvice('device-lost')}`);
    }
    const err = this.pendingErrors.shift();
    if (err) {
      this.pendingErrors.length = 0;
      throw toGpuError(err, what);
    }
  }

  /**
   * Runs `fn` inside validation and out-of-memory error scopes and throws a typed GpuError
   * if either caught something. Use around allocation and pipeline creation.
   */
  async checked<T>(what: string, fn: () => T | Promise<T>): Promise<T> {
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    let result: T;
    try {
      result = await fn();
    } finally {
      const validation = await this.settle(() => this.device.popErrorScope());
      const oom = await this.settle(() => this.device.popErrorScope());
      const err = oom ?? validation;
      if (err) throw toGpuError(err, what);
    }
    return result;
  }

  /** Submits command buffers and waits for the queue to finish them; throws on GPU errors. */
  async submitAndWait(commands: GPUCommandBuffer[], what = 'GPU work'): Promise<void> {
    this.queue.submit(commands);
    await this.settle(() => this.queue.onSubmittedWorkDone());
    this.throwIfFailed(what);
  }

  /**
   * Records one compute pass with `record`, submits it and waits for it (one-off jobs such as a
   * single projection or a table); throws on GPU errors, naming `what` (default `label`).
   */
  async runPass(label: string, record: (pass: GPUComputePassEncoder) => void, what = label): Promise<void> {
    const enc = this.device.createCommandEncoder({ label });
    const pass = enc.beginComputePass({ label });
    record(pass);
    pass.end();
    await this.submitAndWait([enc.finish()], what);
  }

  /**
   * Awaits a dawn.node promise that `op` starts (a read-back, `onSubmittedWorkDone`, …). On a
   * software adapter the wait does not spin the JS thread (see quiet.ts: dawn.node's polling
   * would take a core from the adapter's threads); on a GPU it is a plain await (though while a
   * software adapter's wait is pending in the same process, every dawn.node wait polls once per ms).
   */
  settle<T>(op: () => Promise<T>): Promise<T> {
    return this.info.software ? quietly(op) : op();
  }

  /** Waits for all submitted work; throws on GPU errors. */
  async finish(what = 'GPU work'): Promise<void> {
    await this.settle(() => this.queue.onSubmittedWorkDone());
    this.throwIfFailed(what);
  }

  /** Creates a storage buffer holding `data` (plus COPY_SRC/COPY_DST). */
  upload(data: ArrayBufferView, label = 'upload', extraUsage = 0): GPUBuffer {
    const size = align4(data.byteLength);
    const buffer = this.createStorage(size, label, extraUsage);
    this.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  /** Creates a storage buffer of `byteLength` bytes usable as copy source and destination. */
  createStorage(byteLength: number, label = 'storage', extraUsage = 0): GPUBuffer {
    const size = Math.max(16, align4(byteLength));
    if (size > this.device.limits.maxBufferSize) {
      throw new GpuError('limits', `${label}: a buffer of ${(size / 2 ** 20).toFixed(1)} MiB exceeds this device's maxBufferSize (${(this.device.limits.maxBufferSize / 2 ** 20).toFixed(0)} MiB).`);
    }
    return this.device.createBuffer({ size, label, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extraUsage });
  }

  /** Creates a uniform buffer holding `data`. */
  uniform(data: ArrayBufferView | ArrayBuffer, label = 'params'): GPUBuffer {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const buffer = this.device.createBuffer({ size: Math.max(16, align16(bytes.byteLength)), label, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.queue.writeBuffer(buffer, 0, bytes as Uint8Array<ArrayBuffer>);
    return buffer;
  }

  /** Fills a buffer with a float32 value (default NaN): poison outputs so unwritten elements show. */
  fill(buffer: GPUBuffer, value = Number.NaN, byteOffset = 0, byteLength = buffer.size - byteOffset): void {
    const chunk = Math.min(byteLength, 1 << 24);
    const pattern = new Float32Array(chunk / 4).fill(value);
    for (let off = 0; off < byteLength; off += chunk) {
      const n = Math.min(chunk, byteLength - off);
      this.queue.writeBuffer(buffer, byteOffset + off, pattern.buffer, 0, n);
    }
  }

  /** Copies `byteLength` bytes of a GPU buffer back to the host (waits for the GPU). */
  async read(buffer: GPUBuffer, byteOffset = 0, byteLength = buffer.size - byteOffset): Promise<ArrayBuffer> {
    return this.readMapped(buffer, byteOffset, byteLength, (mapped) => mapped.slice(0, byteLength));
  }

  /** Reads a GPU buffer as float32. */
  async readF32(buffer: GPUBuffer, count?: number, elementOffset = 0): Promise<Float32Array> {
    const n = count ?? (buffer.size / 4 - elementOffset);
    return new Float32Array(await this.read(buffer, elementOffset * 4, n * 4));
  }

  /**
   * Reads `count` float32 values of a GPU buffer (from element `elementOffset`) straight into
   * `dst` at `dstOffset`: one copy out of the mapped staging buffer, no intermediate array (for a
   * 4 GiB volume that saves a 4 GiB allocation and a copy).
   */
  async readF32Into(buffer: GPUBuffer, dst: Float32Array, dstOffset: number, count: number, elementOffset = 0): Promise<void> {
    if (!(dstOffset >= 0 && dstOffset + count <= dst.length)) throw new RangeError(`readF32Into: ${count} values at ${dstOffset} do not fit a destination of ${dst.length}`);
    await this.readMapped(buffer, elementOffset * 4, count * 4, (mapped) => dst.set(new Float32Array(mapped, 0, count), dstOffset));
  }

  /** Copies a range of `buffer` to a mappable staging buffer, maps it and hands the mapped bytes to `use` before unmapping. */
  private async readMapped<T>(buffer: GPUBuffer, byteOffset: number, byteLength: number, use: (mapped: ArrayBuffer) => T): Promise<T> {
    const staging = this.buffers.acquire(byteLength, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'readback');
    try {
      const enc = this.device.createCommandEncoder({ label: 'readback' });
      enc.copyBufferToBuffer(buffer, byteOffset, staging, 0, align4(byteLength));
      this.queue.submit([enc.finish()]);
      await this.settle(() => staging.mapAsync(GPUMapMode.READ, 0, align4(byteLength)));
      const out = use(staging.getMappedRange(0, align4(byteLength)));
      staging.unmap();
      this.throwIfFailed('reading results back');
      return out;
    } catch (err) {
      this.throwIfFailed('reading results back');
      throw err;
    } finally {
      this.buffers.release(staging);
    }
  }

  /** Creates a bind group for `pipeline` group 0 binding buffers in order (binding i = entries[i]). */
  bind(pipeline: GPUComputePipeline, entries: Array<GPUBuffer | GPUBufferBinding>, label?: string, group = 0): GPUBindGroup {
    return this.device.createBindGroup({
      label,
      layout: pipeline.getBindGroupLayout(group),
      entries: entries.map((e, i) => ({ binding: i, resource: 'buffer' in e ? e : { buffer: e } })),
    });
  }

  /** Releases the device and every pooled buffer. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.buffers.destroy();
    this.device.destroy();
  }
}

function toGpuError(err: GPUError, what: string): GpuError {
  const name = err.constructor?.name ?? '';
  if (name.includes('OutOfMemory')) return new GpuError('out-of-memory', `${what}: ${err.message}. ${gpuAdvice('out-of-memory')}`);
  if (name.includes('Validation')) return new GpuError('validation', `${what}: the GPU rejected a command: ${err.message}`);
  return new GpuError('internal', `${what}: ${err.message}. ${gpuAdvice('internal')}`);
}

/** Rounds up to a multiple of 4 bytes (copy alignment). */
export function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/** Rounds up to a multiple of 16 bytes (uniform alignment). */
export function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}

/** Lists every adapter Dawn can see (native backends and OpenGL ES), for `webrecon info`. */
export async function listAdapters(): Promise<AdapterDescription[]> {
  const found: AdapterDescription[] = [];
  for (const [b, level] of [['auto', 'core'], ['opengles', 'compatibility']] as Array<[BackendName, 'core' | 'compatibility']>) {
    for (const powerPreference of ['high-performance', 'low-power'] as const) {
      const { create } = loadDawn();
      if (b === 'opengles') process.env.EGL_PLATFORM ??= 'surfaceless';
      const gpu = create(instanceFlags(b));
      liveInstances.push(gpu);
      const adapter = await gpu.requestAdapter({ featureLevel: level, powerPreference } as GPURequestAdapterOptions).catch(() => null);
      if (!adapter) continue;
      if (level === 'core' && !adapter.features.has('core-features-and-limits' as GPUFeatureName)) continue;
      const ctx = await GpuContext.open(adapter, b, level, true).catch(() => null);
      if (!ctx) continue;
      if (!found.some((f) => f.description === ctx.info.description && f.backend === ctx.info.backend)) found.push(ctx.info);
      ctx.destroy();
    }
  }
  return found;
}
