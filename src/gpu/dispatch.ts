/**
 * Dispatch-size helpers. WebGPU caps workgroups per dimension (65535 by default), so long 1-D
 * jobs are laid out on a 2-D grid; kernels rebuild the linear index with `linear_index()` from
 * shaders/common/index.wgsl.
 */

/** Workgroup counts [x, y] covering `total` invocations with `workgroupSize` per group. */
export function grid1d(total: number, workgroupSize: number, maxPerDim = 65535): [number, number] {
  const groups = Math.max(1, Math.ceil(total / workgroupSize));
  if (groups <= maxPerDim) return [groups, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y];
}

/** Records one compute dispatch into an open pass. */
export function dispatch(pass: GPUComputePassEncoder, pipeline: GPUComputePipeline, bindGroup: GPUBindGroup, x: number, y = 1, z = 1): void {
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(x, y, z);
}

/**
 * Packs a uniform block of 4-byte scalars (u32, i32, f32) in declaration order. Keep WGSL
 * uniform structs to scalar fields (pad to 16 bytes) so the layout matches.
 */
export class UniformWriter {
  private readonly view: DataView;
  private offset = 0;
  readonly buffer: ArrayBuffer;

  constructor(fields: number) {
    this.buffer = new ArrayBuffer(Math.max(16, Math.ceil((fields * 4) / 16) * 16));
    this.view = new DataView(this.buffer);
  }
  u32(v: number): this {
    this.view.setUint32(this.offset, v >>> 0, true);
    this.offset += 4;
    return this;
  }
  i32(v: number): this {
    this.view.setInt32(this.offset, v | 0, true);
    this.offset += 4;
    return this;
  }
  f32(v: number): this {
    this.view.setFloat32(this.offset, v, true);
    this.offset += 4;
    return this;
  }
}
