/**
 * Compute pipelines cached under a key naming everything they were specialised on: the
 * shader file, the entry point and every override constant. Creating a pipeline compiles the
 * shader (slow on software adapters), so kernels ask the cache, never the device.
 */
import { GpuError } from '../core/errors.js';
import type { GpuContext } from './context.js';
import { loadWgsl } from './shaders.js';

/** What a pipeline is specialised on. */
export interface PipelineSpec {
  /** Path under shaders/, e.g. 'tomo/project.wgsl'. */
  shader: string;
  /** Entry point name. */
  entry: string;
  /** WGSL `override` constants. */
  constants?: Record<string, number>;
  /**
   * An explicit pipeline layout, for kernels whose entry points share bind groups ('auto' layouts
   * are private to their pipeline). `key` names the layout in the cache key: layouts with the same
   * key must be built from the same bind group layout descriptors.
   */
  layout?: { key: string; layout: GPUPipelineLayout };
}

/** The cache key for a spec: shader, entry and sorted constants. */
export function pipelineKey(spec: PipelineSpec): string {
  const consts = Object.entries(spec.constants ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${spec.shader}#${spec.entry}(${consts})${spec.layout ? `[${spec.layout.key}]` : ''}`;
}

export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(private readonly ctx: GpuContext) {}

  /** Number of pipelines compiled so far. */
  get size(): number {
    return this.pipelines.size;
  }

  /** Returns the pipeline for `spec`, compiling it on first use (synchronously). */
  get(spec: PipelineSpec): GPUComputePipeline {
    const key = pipelineKey(spec);
    let pipeline = this.pipelines.get(key);
    if (pipeline) return pipeline;
    const device = this.ctx.device;
    let module = this.modules.get(spec.shader);
    if (!module) {
      module = device.createShaderModule({ label: spec.shader, code: loadWgsl(spec.shader) });
      this.modules.set(spec.shader, module);
    }
    pipeline = device.createComputePipeline({
      label: key,
      layout: spec.layout?.layout ?? 'auto',
      compute: { module, entryPoint: spec.entry, constants: spec.constants },
    });
    this.pipelines.set(key, pipeline);
    return pipeline;
  }

  /**
   * Like {@link get}, but compiles inside error scopes and reports WGSL compilation errors
   * with their line numbers. Use the first time a kernel is set up.
   */
  async getChecked(spec: PipelineSpec): Promise<GPUComputePipeline> {
    const key = pipelineKey(spec);
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    try {
      return await this.ctx.checked(`compiling ${key}`, () => this.get(spec));
    } catch (err) {
      const module = this.modules.get(spec.shader);
      if (module) {
        const info = await module.getCompilationInfo();
        const msgs = info.messages.filter((m) => m.type === 'error').map((m) => `  ${spec.shader}:${m.lineNum}:${m.linePos} ${m.message}`);
        if (msgs.length) {
          this.modules.delete(spec.shader);
          throw new GpuError('validation', `WGSL compilation failed for ${key}:\n${msgs.join('\n')}`, { cause: err });
        }
      }
      throw err;
    }
  }
}
