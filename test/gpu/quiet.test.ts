import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { quietly, quietWaitActive } from '../../src/gpu/quiet.js';
import { testContext } from '../helpers/gpu.js';

/** CPU seconds (user + system) the main JS thread has used (Linux: /proc/self/task/<pid>/stat). */
function mainThreadCpuSeconds(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  // Fields after the command name (which is in parentheses and may hold spaces): utime is field 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

describe('quiet GPU waits (dawn.node polling without spinning the JS thread)', () => {
  it('replaces setImmediate only while a wait is pending, nested waits included, and restores it after a failure', async () => {
    const real = globalThis.setImmediate;
    expect(quietWaitActive()).toBe(false);
    await quietly(async () => {
      expect(globalThis.setImmediate).not.toBe(real);
      await quietly(async () => expect(quietWaitActive()).toBe(true));
      expect(quietWaitActive()).toBe(true);
    });
    expect(globalThis.setImmediate).toBe(real);
    await expect(quietly(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(globalThis.setImmediate).toBe(real);
    expect(quietWaitActive()).toBe(false);
  });

  it('leaves a replacement someone else installed during a wait in place, and passes through to Node’s own setImmediate outside waits', async () => {
    const real = globalThis.setImmediate;
    let theirs: typeof setImmediate | undefined;
    try {
      await quietly(async () => {
        // A library that wraps whatever setImmediate it finds (here: the deferring version).
        const found = globalThis.setImmediate;
        theirs = ((cb: (...a: unknown[]) => void, ...a: unknown[]) => found(cb, ...a)) as unknown as typeof setImmediate;
        globalThis.setImmediate = theirs;
      });
      expect(globalThis.setImmediate).toBe(theirs);
      expect(quietWaitActive()).toBe(false);
      // Their wrapper still works outside any wait: the deferring version hands it to Node's own.
      expect(await new Promise<number>((resolve) => setImmediate((v: number) => resolve(v), 7))).toBe(7);
      // A later wait restores their wrapper, not ours, when it ends.
      await quietly(async () => expect(globalThis.setImmediate).not.toBe(theirs));
      expect(globalThis.setImmediate).toBe(theirs);
    } finally {
      globalThis.setImmediate = real;
    }
  });

  it('passes everyone else’s setImmediate calls straight through (arguments, clearImmediate, promisify)', async () => {
    await quietly(async () => {
      const got = await new Promise<number[]>((resolve) => setImmediate((a: number, b: number) => resolve([a, b]), 1, 2));
      expect(got).toEqual([1, 2]);
      let ran = false;
      const handle = setImmediate(function named() { ran = true; });
      clearImmediate(handle);
      const { promisify } = await import('node:util');
      expect(await promisify(setImmediate)('value')).toBe('value');
      await new Promise((r) => setTimeout(r, 5));
      expect(ran).toBe(false);
    });
  });

  it('waits for real GPU work with the JS thread mostly asleep on a software adapter', async (testCtx) => {
    const ctx = await testContext();
    if (!ctx.info.software || !existsSync(`/proc/self/task/${process.pid}/stat`)) testCtx.skip();
    // A kernel that keeps the adapter busy for a while: a long dependent arithmetic chain per invocation.
    const module = ctx.device.createShaderModule({
      code: `@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  var x = f32(g.x); var y = 1.0;
  for (var i = 0; i < 40000; i++) { y = y * 0.999 + x * 1e-7; x = x * 0.9999 + y; }
  out[g.x] = x + y;
}`,
    });
    const pipeline = ctx.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const buffer = ctx.createStorage(4 * 64 * 512);
    const group = ctx.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer } }] });
    const run = async (): Promise<{ wall: number; cpu: number }> => {
      const enc = ctx.device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(512);
      pass.end();
      const c0 = mainThreadCpuSeconds();
      const t0 = performance.now();
      await ctx.submitAndWait([enc.finish()], 'quiet wait test');
      return { wall: (performance.now() - t0) / 1000, cpu: mainThreadCpuSeconds() - c0 };
    };
    await run(); // compiles the shader
    const { wall, cpu } = await run();
    buffer.destroy();
    // A spinning wait uses the thread for the whole wall time; the quiet one a few per cent of it (measured: 0.66 spinning, 0.0 quiet).
    expect(wall).toBeGreaterThan(0.1);
    expect(cpu / wall).toBeLessThan(0.25);
  });
});
