import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../src/gpu/context.js';
import { encodeAxpby } from '../../src/gpu/elementwise.js';
import { loadWgsl } from '../../src/gpu/shaders.js';
import { pipelineKey } from '../../src/gpu/pipelines.js';
import { KernelTimer } from '../../src/gpu/timing.js';
import { GpuError } from '../../src/core/errors.js';
import { freshSeed, randomArray, relL2, testContext, allFinite } from '../helpers/gpu.js';

describe('GPU runtime', () => {
  it('acquires an adapter with the limits we asked for', async () => {
    const ctx = await testContext();
    expect(ctx.info.description.length).toBeGreaterThan(0);
    expect(ctx.device.limits.maxStorageBufferBindingSize).toBe(ctx.adapter.limits.maxStorageBufferBindingSize);
    expect(ctx.device.limits.maxComputeWorkgroupStorageSize).toBe(ctx.adapter.limits.maxComputeWorkgroupStorageSize);
  });

  it('expands WGSL includes once', () => {
    const src = loadWgsl('util/elementwise.wgsl');
    expect(src).toContain('fn linear_index');
    expect(src.match(/fn linear_index/g)?.length).toBe(1);
    expect(src).not.toContain('//#include');
  });

  it('keys pipelines by shader, entry and every constant', () => {
    expect(pipelineKey({ shader: 'a.wgsl', entry: 'main', constants: { B: 2, A: 1 } })).toBe('a.wgsl#main(A=1,B=2)');
  });

  it('reads float32 values straight into a destination at an offset (readF32Into), and refuses a range that does not fit', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const src = randomArray(1000, seed);
    const buf = ctx.upload(src);
    const dst = new Float32Array(600).fill(Number.NaN);
    await ctx.readF32Into(buf, dst, 100, 400, 250); // values 250..649 of the buffer → dst[100..499]
    for (let i = 0; i < dst.length; i++) {
      if (i >= 100 && i < 500) expect(dst[i], `seed ${seed} at ${i}`).toBe(src[250 + i - 100]);
      else expect(dst[i]).toBeNaN();
    }
    await expect(ctx.readF32Into(buf, dst, 300, 400)).rejects.toThrow(RangeError);
    buf.destroy();
  });

  it('runs a kernel that matches a float64 reference on fresh random input (poisoned output)', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const n = 70_001; // not a multiple of the workgroup size
    const x = randomArray(n, seed);
    const y0 = randomArray(n, seed + 1);
    const xb = ctx.upload(x);
    const yb = ctx.upload(y0);
    const out = ctx.createStorage(n * 4 + 64);
    ctx.fill(out); // NaN poison beyond n must survive
    const enc = ctx.device.createCommandEncoder();
    enc.copyBufferToBuffer(yb, 0, out, 0, n * 4);
    const pass = enc.beginComputePass();
    const params = encodeAxpby(ctx, pass, n, 1.5, xb, -0.25, out, -0.5);
    pass.end();
    await ctx.submitAndWait([enc.finish()]);
    const got = await ctx.readF32(out);
    const ref = new Float64Array(n);
    for (let i = 0; i < n; i++) ref[i] = Math.max(1.5 * x[i] - 0.25 * y0[i], -0.5);
    expect(allFinite(got.subarray(0, n))).toBe(true);
    expect(Number.isNaN(got[n])).toBe(true);
    expect(relL2(got.subarray(0, n), ref), `seed ${seed}`).toBeLessThan(1e-6);
    for (const b of [xb, yb, out, params]) b.destroy();
  });

  it('turns GPU validation errors into typed errors and keeps them off stdout', async () => {
    const ctx = await testContext();
    await expect(ctx.checked('bad buffer', () => ctx.device.createBuffer({ size: 16, usage: 0xffff }))).rejects.toBeInstanceOf(GpuError);
    // an uncaptured error is held and rethrown at the next check
    ctx.device.createBuffer({ size: 16, usage: 0xffff });
    await expect(ctx.finish('after a bad call')).rejects.toThrow(/after a bad call/);
    await ctx.finish();
  });

  it('reports WGSL compile errors with a line number', async () => {
    const ctx = await testContext();
    const err = await ctx.pipelines.getChecked({ shader: 'util/elementwise.wgsl', entry: 'no_such_entry' }).catch((e) => e);
    expect(err).toBeInstanceOf(GpuError);
  });

  it('times passes with timestamp queries when available', async () => {
    const ctx = await testContext();
    const timer = new KernelTimer(ctx);
    const n = 1 << 20;
    const x = ctx.createStorage(n * 4);
    const y = ctx.createStorage(n * 4);
    const enc = ctx.device.createCommandEncoder();
    const pass = timer.beginPass(enc, 'axpby');
    const params = encodeAxpby(ctx, pass, n, 1, x, 1, y);
    pass.end();
    timer.resolve(enc);
    await ctx.submitAndWait([enc.finish()]);
    const times = await timer.collect();
    if (timer.enabled) {
      expect(times.axpby.count).toBe(1);
      expect(times.axpby.seconds).toBeGreaterThan(0);
    }
    for (const b of [x, y, params]) b.destroy();
    timer.destroy();
  });

  it('runs in compatibility mode on the OpenGL ES backend (software adapter smoke test)', async () => {
    let ctx: GpuContext;
    try {
      ctx = await GpuContext.acquire({ backend: 'opengles', featureLevel: 'compatibility' });
    } catch (err) {
      // Only a machine with no GL driver at all may skip; lavapipe machines have llvmpipe GL.
      if (err instanceof GpuError && err.kind === 'no-adapter' && !process.env.CI) return;
      throw err;
    }
    expect(ctx.info.featureLevel).toBe('compatibility');
    const n = 1000;
    const x = randomArray(n, 7);
    const xb = ctx.upload(x);
    const yb = ctx.createStorage(n * 4);
    ctx.fill(yb, 0);
    const enc = ctx.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    const params = encodeAxpby(ctx, pass, n, 2, xb, 0, yb);
    pass.end();
    await ctx.submitAndWait([enc.finish()]);
    const got = await ctx.readF32(yb);
    expect(relL2(got, x.map((v) => 2 * v))).toBeLessThan(1e-7);
    params.destroy();
    ctx.destroy();
  });
});
