/**
 * common/intconv.wgsl: ⌊x⌋ and ⌈x⌉ as integers through the float's mantissa (the band-walk sweep
 * and the FBP back-projection use them instead of WGSL's saturating i32(f32)), against Math.floor
 * and Math.ceil on fresh random values, whole numbers, halves and values next to whole numbers.
 */
import { describe, expect, it } from 'vitest';
import { freshSeed, rng, testContext } from '../helpers/gpu.js';
import { loadWgsl } from '../../src/gpu/shaders.js';

// A test kernel around the helpers: out[2i] = ⌊x_i⌋, out[2i + 1] = ⌈x_i⌉.
const KERNEL = `
${loadWgsl('common/intconv.wgsl')}
@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<i32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= arrayLength(&xs)) { return; }
  out[2u * i] = floor_i32(xs[i]);
  out[2u * i + 1u] = ceil_i32(xs[i]);
}`;

describe('float to integer conversions (common/intconv.wgsl)', () => {
  it('floor_i32 and ceil_i32 match Math.floor and Math.ceil for |x| < 2^22', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const r = rng(seed);
    const values: number[] = [0, -0, 1, -1, 0.5, -0.5, 2 ** 22 - 1, -(2 ** 22) + 1, 4194303.5, -4194303.5];
    for (let i = 0; i < 2000; i++) values.push((r() * 2 - 1) * 2 ** 21);
    for (let i = 0; i < 500; i++) {
      const k = Math.round((r() * 2 - 1) * 5000);
      values.push(k, k + 1e-3, k - 1e-3, k + 0.5);
    }
    const xs = Float32Array.from(values);
    const module = ctx.device.createShaderModule({ code: KERNEL });
    const pipeline = ctx.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const input = ctx.upload(xs, 'intconv input');
    const out = ctx.createStorage(xs.length * 8, 'intconv output');
    ctx.fill(out, Number.NaN); // poison: an unwritten element cannot pass for an integer
    try {
      const bind = ctx.bind(pipeline, [input, out]);
      await ctx.runPass('intconv', (pass) => {
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bind);
        pass.dispatchWorkgroups(Math.ceil(xs.length / 64));
      }, 'intconv');
      const got = new Int32Array((await ctx.readF32(out, xs.length * 2)).buffer);
      for (let i = 0; i < xs.length; i++) {
        expect(got[2 * i], `floor(${xs[i]}), seed ${seed}`).toBe(Math.floor(xs[i]) + 0);
        expect(got[2 * i + 1], `ceil(${xs[i]}), seed ${seed}`).toBe(Math.ceil(xs[i]) + 0);
      }
    } finally {
      input.destroy();
      out.destroy();
    }
  });
});
