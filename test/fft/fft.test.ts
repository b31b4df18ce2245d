/**
 * The WGSL batched 2-D FFT (src/fft/plan.ts) against a float64 fft.js reference on fresh random
 * batches, plus analytic checks, round trips, batch isolation, fftshift folding, offsets and
 * chunked bindings with NaN-poisoned surroundings.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Fft2dPlan, fft2d, type FftDirection, type Fft2dOptions } from '../../src/fft/plan.js';
import { referenceFft2d } from '../../src/fft/reference.js';
import { InputError } from '../../src/core/errors.js';
import type { GpuContext } from '../../src/gpu/context.js';
import { allFinite, freshSeed, maxAbsDiff, randomArray, relL2, testContext } from '../helpers/gpu.js';

type Shape = [number, number, number];

const plans = new Map<string, Fft2dPlan>();

/** One plan per option set for the whole file (pipelines compile once). */
async function planFor(ctx: GpuContext, options: Fft2dOptions): Promise<Fft2dPlan> {
  const key = JSON.stringify(options);
  let plan = plans.get(key);
  if (!plan) {
    plan = await Fft2dPlan.create(ctx, options);
    plans.set(key, plan);
  }
  return plan;
}

afterAll(() => {
  for (const p of plans.values()) p.destroy();
});

/**
 * Runs `directions` in order in one compute pass on `data` placed at element `offset` of a
 * buffer poisoned with NaN everywhere else; returns the transformed images and the whole buffer.
 */
async function runPlan(ctx: GpuContext, plan: Fft2dPlan, data: Float32Array, directions: FftDirection[], opts: { offset?: number; tail?: number; shift?: boolean } = {}) {
  const offset = opts.offset ?? 0;
  const tail = opts.tail ?? 0;
  const buffer = ctx.createStorage(data.byteLength + (offset + tail) * 8, 'fft test');
  ctx.fill(buffer);
  ctx.queue.writeBuffer(buffer, offset * 8, data);
  const enc = ctx.device.createCommandEncoder();
  const pass = enc.beginComputePass();
  for (const d of directions) plan.encode(pass, buffer, d, offset, opts.shift ?? false);
  pass.end();
  await ctx.submitAndWait([enc.finish()], 'fft test');
  const all = await ctx.readF32(buffer);
  plan.forget(buffer);
  buffer.destroy();
  return { out: all.subarray(2 * offset, 2 * offset + data.length), all };
}

describe('batched 2-D FFT (WGSL Stockham) against fft.js float64', () => {
  const squares: Array<[number, number]> = [
    [32, 4],
    [64, 3],
    [128, 2],
    [256, 2],
    [512, 1],
    [1024, 1],
  ];
  for (const [n, batch] of squares) {
    it(`square ${n}×${n}, batch ${batch}: forward and inverse, relative L2 < 1e-5`, async () => {
      const ctx = await testContext();
      const seed = freshSeed();
      const shape: Shape = [batch, n, n];
      const x = randomArray(2 * batch * n * n, seed);
      const plan = await planFor(ctx, { height: n, width: n, batch });
      for (const direction of ['forward', 'inverse'] as const) {
        const { out } = await runPlan(ctx, plan, x, [direction]);
        const ref = referenceFft2d(x, shape, direction);
        expect(allFinite(out), `seed ${seed} ${direction}`).toBe(true);
        expect(relL2(out, ref), `seed ${seed} ${direction} ${n}²`).toBeLessThan(1e-5);
      }
    });
  }

  const rects: Shape[] = [
    [3, 32, 256],
    [1, 1024, 64],
    [2, 64, 32],
    [1, 128, 512],
    [2, 512, 32],
  ];
  for (const shape of rects) {
    it(`rectangular ${shape[1]}×${shape[2]}, batch ${shape[0]}: relative L2 < 1e-5`, async () => {
      const ctx = await testContext();
      const seed = freshSeed();
      const [batch, h, w] = shape;
      const x = randomArray(2 * batch * h * w, seed);
      const plan = await planFor(ctx, { height: h, width: w, batch });
      for (const direction of ['forward', 'inverse'] as const) {
        const { out } = await runPlan(ctx, plan, x, [direction]);
        expect(relL2(out, referenceFft2d(x, shape, direction)), `seed ${seed} ${direction} ${h}×${w}`).toBeLessThan(1e-5);
      }
    });
  }
});

describe('batched 2-D FFT with the skewed workgroup-memory layout (the GPU default) against fft.js float64', () => {
  const shapes: Array<[Shape, { rows?: number; cols?: number }?]> = [
    [[3, 32, 256]],
    [[2, 128, 128]],
    [[2, 128, 128], { rows: 4, cols: 8 }],
    [[1, 256, 64]],
    [[1, 512, 512]],
    [[1, 1024, 32]],
  ];
  for (const [shape, lines] of shapes) {
    it(`${shape[1]}×${shape[2]}, batch ${shape[0]}${lines ? `, ${lines.rows} rows and ${lines.cols} columns per workgroup` : ''}: forward and inverse, relative L2 < 1e-5`, async () => {
      const ctx = await testContext();
      const seed = freshSeed();
      const [batch, h, w] = shape;
      const x = randomArray(2 * batch * h * w, seed);
      const plan = await planFor(ctx, { height: h, width: w, batch, skew: true, lanes: false, lines });
      expect(plan.rowShape.skew && plan.colShape.skew).toBe(true);
      for (const direction of ['forward', 'inverse'] as const) {
        const { out } = await runPlan(ctx, plan, x, [direction]);
        expect(allFinite(out), `seed ${seed} ${direction}`).toBe(true);
        expect(relL2(out, referenceFft2d(x, shape, direction)), `seed ${seed} ${direction} ${h}×${w}`).toBeLessThan(1e-5);
      }
    });
  }
});

describe('batched 2-D FFT, lane passes (one line per invocation in registers; the software-adapter default up to 128) against fft.js float64', () => {
  const shapes: Array<[Shape, { rows?: number; cols?: number }?]> = [
    [[4, 32, 32]],
    [[3, 64, 32], { rows: 16, cols: 8 }],
    [[2, 128, 128]], // compiling a 128-point lane pass takes LLVM 5–7 s: one shape, no shifts
    [[1, 1024, 64]], // rows in lanes, columns (1024 points) in the Stockham pass
    [[1, 32, 256]], // the other way round
  ];
  for (const [shape, lines] of shapes) {
    it(`${shape[1]}×${shape[2]}, batch ${shape[0]}${lines ? `, ${lines.rows} rows and ${lines.cols} columns per workgroup` : ''}: forward and inverse${Math.max(shape[1], shape[2]) > 64 ? '' : ', both shifts'}, relative L2 < 1e-5`, async () => {
      const ctx = await testContext();
      const seed = freshSeed();
      const [batch, h, w] = shape;
      const x = randomArray(2 * batch * h * w, seed);
      const plan = await planFor(ctx, { height: h, width: w, batch, lanes: true, lines });
      expect(plan.rowShape.lanes).toBe(w <= 128);
      expect(plan.colShape.lanes).toBe(h <= 128);
      for (const direction of ['forward', 'inverse'] as const) {
        const { out } = await runPlan(ctx, plan, x, [direction]);
        expect(allFinite(out), `seed ${seed} ${direction}`).toBe(true);
        expect(relL2(out, referenceFft2d(x, shape, direction)), `seed ${seed} ${direction} ${h}×${w}`).toBeLessThan(1e-5);
      }
      // The shifts folded into the loads and stores: forward gives fftshift(F x), inverse reads through ifftshift.
      if (Math.max(h, w) > 64) return;
      for (const direction of ['forward', 'inverse'] as const) {
        const { out } = await runPlan(ctx, plan, x, [direction], { shift: true });
        expect(relL2(out, referenceFft2d(x, shape, direction, true)), `seed ${seed} ${direction} shifted`).toBeLessThan(1e-5);
      }
    });
  }
});

describe('batched 2-D FFT: analytic checks', () => {
  const h = 64;
  const w = 128;

  it('a delta at the origin gives a constant; a shifted delta gives a pure phase ramp', async () => {
    const ctx = await testContext();
    const plan = await planFor(ctx, { height: h, width: w, batch: 2 });
    const x = new Float32Array(2 * 2 * h * w);
    x[0] = 1; // image 0: delta at (0, 0)
    const y0 = 5;
    const x0 = 9;
    x[2 * (h * w + y0 * w + x0)] = 1; // image 1: delta at (y0, x0)
    const { out } = await runPlan(ctx, plan, x, ['forward']);
    let err0 = 0;
    let err1 = 0;
    for (let k = 0; k < h; k++) {
      for (let l = 0; l < w; l++) {
        const i = 2 * (k * w + l);
        err0 = Math.max(err0, Math.abs(out[i] - 1), Math.abs(out[i + 1]));
        const phi = -2 * Math.PI * ((k * y0) / h + (l * x0) / w);
        const j = 2 * (h * w) + i;
        err1 = Math.max(err1, Math.abs(out[j] - Math.cos(phi)), Math.abs(out[j + 1] - Math.sin(phi)));
      }
    }
    expect(err0).toBeLessThan(1e-6);
    expect(err1).toBeLessThan(1e-5);
  });

  it('a constant gives a delta of height H·W at the origin (forward) and 1 after the inverse', async () => {
    const ctx = await testContext();
    const plan = await planFor(ctx, { height: h, width: w, batch: 2 });
    const c: [number, number] = [0.75, -0.5];
    const x = new Float32Array(2 * 2 * h * w);
    for (let i = 0; i < x.length; i += 2) {
      x[i] = c[0];
      x[i + 1] = c[1];
    }
    const { out } = await runPlan(ctx, plan, x, ['forward']);
    const expected = new Float64Array(x.length);
    for (let b = 0; b < 2; b++) {
      expected[2 * b * h * w] = c[0] * h * w;
      expected[2 * b * h * w + 1] = c[1] * h * w;
    }
    expect(maxAbsDiff(out, expected) / (h * w)).toBeLessThan(1e-6);
    const inv = await runPlan(ctx, plan, x, ['inverse']);
    const expectedInv = new Float64Array(x.length);
    for (let b = 0; b < 2; b++) {
      expectedInv[2 * b * h * w] = c[0];
      expectedInv[2 * b * h * w + 1] = c[1];
    }
    expect(maxAbsDiff(inv.out, expectedInv)).toBeLessThan(1e-6);
  });

  it('a pure tone e^{+2πi(k0·y/H + l0·x/W)} lands in the single bin (k0, l0)', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const k0 = 1 + (seed % (h - 1));
    const l0 = 1 + ((seed >>> 8) % (w - 1));
    const plan = await planFor(ctx, { height: h, width: w, batch: 2 });
    const x = new Float32Array(2 * h * w);
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        const phi = 2 * Math.PI * ((k0 * y) / h + (l0 * xx) / w);
        x[2 * (y * w + xx)] = Math.cos(phi);
        x[2 * (y * w + xx) + 1] = Math.sin(phi);
      }
    }
    const batch = new Float32Array(2 * 2 * h * w);
    batch.set(x, 0);
    batch.set(x, 2 * h * w);
    const { out } = await runPlan(ctx, plan, batch, ['forward']);
    const expected = new Float64Array(batch.length);
    for (let b = 0; b < 2; b++) expected[2 * (b * h * w + k0 * w + l0)] = h * w;
    expect(maxAbsDiff(out, expected) / (h * w), `tone (${k0}, ${l0}), seed ${seed}`).toBeLessThan(1e-5);
  });

  it('forward then inverse in one pass returns the input (several sizes)', async () => {
    const ctx = await testContext();
    for (const shape of [
      [3, 32, 32],
      [2, 128, 64],
      [1, 256, 512],
    ] as Shape[]) {
      const seed = freshSeed();
      const [batch, hh, ww] = shape;
      const x = randomArray(2 * batch * hh * ww, seed);
      const plan = await planFor(ctx, { height: hh, width: ww, batch });
      const { out } = await runPlan(ctx, plan, x, ['forward', 'inverse']);
      expect(relL2(out, x), `seed ${seed} ${hh}×${ww}`).toBeLessThan(1e-6);
    }
  });

  it('images in a batch do not mix: a zero image stays exactly zero between random ones', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const batch = 4;
    const n = h * w;
    const x = randomArray(2 * batch * n, seed);
    x.fill(0, 2 * n, 4 * n); // image 1 is zero
    for (let i = 6 * n; i < 8 * n; i++) x[i] *= 100; // image 3 is much louder
    const plan = await planFor(ctx, { height: h, width: w, batch });
    const { out } = await runPlan(ctx, plan, x, ['forward']);
    const ref = referenceFft2d(x, [batch, h, w], 'forward');
    for (const b of [0, 2, 3]) {
      const got = out.subarray(2 * b * n, 2 * (b + 1) * n);
      expect(relL2(got, ref.subarray(2 * b * n, 2 * (b + 1) * n)), `image ${b}, seed ${seed}`).toBeLessThan(1e-5);
    }
    expect(maxAbsDiff(out.subarray(2 * n, 4 * n), new Float32Array(2 * n))).toBe(0);
  });
});

describe('batched 2-D FFT: shift, offsets, chunks, errors', () => {
  it('shift: forward gives fftshift(F x), inverse reads through ifftshift; the round trip is the identity', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const shape: Shape = [2, 64, 32];
    const [batch, h, w] = shape;
    const x = randomArray(2 * batch * h * w, seed);
    const plan = await planFor(ctx, { height: h, width: w, batch, shift: true });
    const fwd = await runPlan(ctx, plan, x, ['forward'], { shift: true });
    expect(relL2(fwd.out, referenceFft2d(x, shape, 'forward', true)), `seed ${seed}`).toBeLessThan(1e-5);
    const inv = await runPlan(ctx, plan, x, ['inverse'], { shift: true });
    expect(relL2(inv.out, referenceFft2d(x, shape, 'inverse', true)), `seed ${seed}`).toBeLessThan(1e-5);
    const trip = await runPlan(ctx, plan, x, ['forward', 'inverse'], { shift: true });
    expect(relL2(trip.out, x), `seed ${seed}`).toBeLessThan(1e-6);
    // a constant lands at the centre [H/2, W/2]
    const c = new Float32Array(2 * batch * h * w).fill(1);
    const { out } = await runPlan(ctx, plan, c, ['forward'], { shift: true });
    expect(out[2 * ((h / 2) * w + w / 2)]).toBeCloseTo(h * w, 2);
    expect(Math.abs(out[0])).toBeLessThan(1e-3);
  });

  it('honours an element offset that is not 256-byte aligned and leaves NaN-poisoned neighbours untouched', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const shape: Shape = [3, 32, 64];
    const [batch, h, w] = shape;
    const x = randomArray(2 * batch * h * w, seed);
    const plan = await planFor(ctx, { height: h, width: w, batch });
    const offset = 37;
    const tail = 29;
    const { out, all } = await runPlan(ctx, plan, x, ['forward'], { offset, tail });
    expect(allFinite(out)).toBe(true);
    expect(relL2(out, referenceFft2d(x, shape, 'forward')), `seed ${seed}`).toBeLessThan(1e-5);
    expect(all.subarray(0, 2 * offset).every(Number.isNaN)).toBe(true);
    expect(all.subarray(2 * offset + x.length).every(Number.isNaN)).toBe(true);
  });

  it('binds batches larger than one binding in chunks of whole images', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const shape: Shape = [5, 32, 32];
    const [batch, h, w] = shape;
    const x = randomArray(2 * batch * h * w, seed);
    const plan = await planFor(ctx, { height: h, width: w, batch, maxBindingBytes: 2 * h * w * 8 + 256 });
    expect(plan.imagesPerBinding).toBe(2);
    const offset = 3;
    const { out, all } = await runPlan(ctx, plan, x, ['forward'], { offset, tail: 5 });
    expect(relL2(out, referenceFft2d(x, shape, 'forward')), `seed ${seed}`).toBeLessThan(1e-5);
    expect(all.subarray(0, 2 * offset).every(Number.isNaN)).toBe(true);
    expect(all.subarray(2 * offset + x.length).every(Number.isNaN)).toBe(true);
  });

  it('the fft2d convenience function matches the reference', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const shape: Shape = [2, 32, 64];
    const x = randomArray(2 * 2 * 32 * 64, seed);
    const got = await fft2d(ctx, x, shape, 'forward');
    expect(relL2(got, referenceFft2d(x, shape, 'forward')), `seed ${seed}`).toBeLessThan(1e-5);
  });

  it('rejects sizes that are not powers of two in 32..1024, and buffers too small for the batch', async () => {
    const ctx = await testContext();
    for (const [hh, ww] of [
      [48, 64],
      [64, 16],
      [2048, 64],
    ]) {
      await expect(Fft2dPlan.create(ctx, { height: hh, width: ww, batch: 1 })).rejects.toBeInstanceOf(InputError);
    }
    await expect(Fft2dPlan.create(ctx, { height: 32, width: 32, batch: 0 })).rejects.toBeInstanceOf(InputError);
    const plan = await planFor(ctx, { height: 32, width: 32, batch: 2 });
    const small = ctx.createStorage(32 * 32 * 8);
    const enc = ctx.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    expect(() => plan.encode(pass, small, 'forward')).toThrow(InputError);
    pass.end();
    enc.finish();
    small.destroy();
    await expect(fft2d(ctx, new Float32Array(10), [1, 32, 32], 'forward')).rejects.toBeInstanceOf(InputError);
  });
});
