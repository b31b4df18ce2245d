/** Small element-wise kernels shared by algorithms (shaders/util/elementwise.wgsl). */
import type { GpuContext } from './context.js';
import { grid1d, UniformWriter } from './dispatch.js';

const WG = 256;

/**
 * Records y = max(a·x + b·y, lo) over `n` float32 elements into `pass`. Returns the uniform
 * buffer it created (owned by the caller, who destroys it when the work is done).
 */
export function encodeAxpby(ctx: GpuContext, pass: GPUComputePassEncoder, n: number, a: number, x: GPUBuffer, b: number, y: GPUBuffer, lo = -Infinity): GPUBuffer {
  const pipeline = ctx.pipelines.get({ shader: 'util/elementwise.wgsl', entry: 'axpby', constants: { WG } });
  const params = ctx.uniform(new UniformWriter(4).u32(n).f32(a).f32(b).f32(lo === -Infinity ? -3.4e38 : lo).buffer, 'axpby params');
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, ctx.bind(pipeline, [params, x, y]));
  const [gx, gy] = grid1d(n, WG, ctx.device.limits.maxComputeWorkgroupsPerDimension);
  pass.dispatchWorkgroups(gx, gy);
  return params;
}
