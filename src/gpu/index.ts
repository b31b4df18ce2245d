/** GPU runtime: context, pipelines, buffers, timing, dispatch helpers. */
export { GpuContext, listAdapters, align4, align16 } from './context.js';
export type { GpuOptions, BackendName, AdapterDescription } from './context.js';
export { PipelineCache, pipelineKey } from './pipelines.js';
export type { PipelineSpec } from './pipelines.js';
export { BufferPool } from './buffers.js';
export { KernelTimer } from './timing.js';
export type { KernelTimes } from './timing.js';
export { grid1d, dispatch, UniformWriter } from './dispatch.js';
export { loadWgsl, PACKAGE_ROOT, SHADER_ROOT } from './shaders.js';
