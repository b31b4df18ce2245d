/**
 * Each difference-map kernel against its float64 CPU reference (src/ptycho/reference.ts) on
 * fresh random inputs, with NaN-poisoned outputs, for one and two probe modes, whole-buffer and
 * chunked bindings, sub-pixel positions.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DmEngine, dmCoefficients, probeFrameGroups } from '../../src/ptycho/engine.js';
import { refExitModel, refFourierUpdate, refObjectUpdate, refProbeUpdate } from '../../src/ptycho/reference.js';
import type { PtychoDataset } from '../../src/ptycho/dataset.js';
import { referenceFft2d } from '../../src/fft/reference.js';
import { allFinite, freshSeed, randomArray, relL2, rng, testContext } from '../helpers/gpu.js';

const engines: DmEngine[] = [];
afterAll(() => engines.forEach((e) => e.destroy()));

function randomDataset(seed: number, n: number, h: number, w: number): PtychoDataset {
  const r = rng(seed);
  const positions = new Float64Array(2 * n);
  for (let i = 0; i < 2 * n; i++) positions[i] = -7 + 40 * r();
  const frames = randomArray(n * h * w, seed + 1, 0.1, 50);
  const mask = new Uint8Array(h * w).fill(1);
  for (let i = 0; i < 9; i++) mask[Math.floor(r() * h * w)] = 0;
  return { frames, shape: [n, h, w], positions, mask, source: 'random' };
}

async function setup(seed: number, modes: number, maxBindingBytes?: number, variant: 'dm' | 'raar' = 'dm', subpixel = true, innerIterations = 1, fftSkew?: boolean, fusedModel = fftSkew) {
  const ctx = await testContext();
  const [n, h, w] = [11, 32, 32];
  const ds = randomDataset(seed, n, h, w);
  const engine = await DmEngine.create(ctx, ds, { modes, maxBindingBytes, variant, beta: variant === 'raar' ? 0.8 : 0.9, subpixel, innerIterations, fftSkew, fusedModel });
  expect(engine.exactOverlap).toBe(subpixel);
  engines.push(engine);
  const [rows, cols] = engine.geometry.objectShape;
  const b = engine.gpuBuffers;
  const obj = randomArray(2 * rows * cols, seed + 2);
  const probe = randomArray(2 * modes * h * w, seed + 3);
  ctx.queue.writeBuffer(b.obj, 0, obj);
  ctx.queue.writeBuffer(b.probe, 0, probe);
  return { ctx, ds, engine, obj, probe, n, h, w, rows, cols };
}

const CASES: Array<[number, number | undefined, boolean]> = [
  [1, undefined, true],
  [1, undefined, false],
  [2, undefined, true],
  [2, 5 * 32 * 32 * 8 * 2, true],
];
for (const [modes, chunk, subpixel] of CASES) {
  describe(`DM kernels vs float64 (modes ${modes}${chunk ? ', chunked bindings' : ''}, ${subpixel ? 'sub-pixel views, residual-form overlap' : 'whole-pixel views, closed-form overlap'})`, () => {
    it('exit model x = P·S_j O (bilinear views)', async () => {
      const seed = freshSeed();
      const { ctx, engine, obj, probe, n, h, w, cols } = await setup(seed, modes, chunk, 'dm', subpixel);
      ctx.fill(engine.gpuBuffers.x);
      await engine.runStages(['view']);
      const got = await ctx.readF32(engine.gpuBuffers.x, 2 * n * modes * h * w);
      const ref = refExitModel(obj, cols, probe, modes, h, w, engine.geometry.positions);
      expect(allFinite(got), `seed ${seed}`).toBe(true);
      expect(relL2(got, ref), `seed ${seed}`).toBeLessThan(1e-6);
    });

    for (const fused of [true, false]) {
      it(`${fused ? 'fused model + FFT row pass (the GPU default)' : 'model, then the FFT row pass (software adapters)'}, then the column pass = F(P·S_j O)`, async () => {
        const seed = freshSeed();
        const { ctx, engine, obj, probe, n, h, w, cols } = await setup(seed, modes, chunk, 'dm', subpixel, 1, undefined, fused);
        ctx.fill(engine.gpuBuffers.x);
        await engine.runStages(['model+fft']);
        const got = await ctx.readF32(engine.gpuBuffers.x, 2 * n * modes * h * w);
        const ref = referenceFft2d(refExitModel(obj, cols, probe, modes, h, w, engine.geometry.positions), [n * modes, h, w], 'forward');
        expect(allFinite(got), `seed ${seed}`).toBe(true);
        expect(relL2(got, ref), `seed ${seed}`).toBeLessThan(1e-5);
      });
    }

    it('Fourier update (modulus projection with mask) and per-frame Fourier errors', async () => {
      const seed = freshSeed();
      const { ctx, ds, engine, n, h, w } = await setup(seed, modes, chunk, 'dm', subpixel);
      const len = 2 * n * modes * h * w;
      const X = randomArray(len, seed + 5, -20, 20);
      const Psi = randomArray(len, seed + 6, -20, 20);
      ctx.queue.writeBuffer(engine.gpuBuffers.x, 0, X);
      ctx.queue.writeBuffer(engine.gpuBuffers.psi, 0, Psi);
      ctx.fill(engine.gpuBuffers.err);
      await engine.runStages(['fourier']);
      const psi = await ctx.readF32(engine.gpuBuffers.psi, len);
      const x = await ctx.readF32(engine.gpuBuffers.x, len);
      const err = await ctx.readF32(engine.gpuBuffers.err, n);
      const mag = Float64Array.from(ds.frames, Math.sqrt);
      const ref = refFourierUpdate(X, Psi, mag, ds.mask, modes, h * w, dmCoefficients('dm', 0.9));
      expect(allFinite(psi) && allFinite(err), `seed ${seed}`).toBe(true);
      expect(relL2(psi, ref.psi), `seed ${seed}`).toBeLessThan(1e-5);
      // closed form hands Ψ' to the inverse FFT, the residual form Ψ' − X
      const wantX = subpixel ? ref.psi.map((v, i) => v - X[i]) : ref.psi;
      expect(relL2(x, wantX), `seed ${seed}`).toBeLessThan(1e-5);
      expect(relL2(err, ref.errors), `seed ${seed}`).toBeLessThan(1e-5);
    });

    it('object update: gather over tile frame lists = O(c_O O + Σ SᵀP̄ψ)/(c_O + Σ Sᵀ|P|²)', async () => {
      const seed = freshSeed();
      const { ctx, engine, obj, probe, n, h, w, rows, cols } = await setup(seed, modes, chunk, 'dm', subpixel);
      const waves = randomArray(2 * n * modes * h * w, seed + 7);
      // residual form: the kernel receives D = ψ − P·S_j O
      const model = refExitModel(obj, cols, probe, modes, h, w, engine.geometry.positions);
      ctx.queue.writeBuffer(engine.gpuBuffers.x, 0, subpixel ? Float32Array.from(waves, (v, i) => v - model[i]) : waves);
      await engine.runStages(['object']);
      const got = await ctx.readF32(engine.gpuBuffers.obj, 2 * rows * cols);
      const ref = refObjectUpdate(obj, rows, cols, probe, modes, h, w, waves, engine.geometry.positions, Math.fround(engine.inertia.object), subpixel);
      expect(allFinite(got), `seed ${seed}`).toBe(true);
      expect(relL2(got, ref), `seed ${seed}`).toBeLessThan(1e-5);
    });

    it('probe update = (c_P P + Σ Ō_j ψ_j)/(c_P + Σ |O_j|²)', async () => {
      const seed = freshSeed();
      const { ctx, engine, obj, probe, n, h, w, cols } = await setup(seed, modes, chunk, 'dm', subpixel);
      const waves = randomArray(2 * n * modes * h * w, seed + 8);
      const model = refExitModel(obj, cols, probe, modes, h, w, engine.geometry.positions);
      ctx.queue.writeBuffer(engine.gpuBuffers.x, 0, subpixel ? Float32Array.from(waves, (v, i) => v - model[i]) : waves);
      await engine.runStages(['probe']);
      const got = await ctx.readF32(engine.gpuBuffers.probe, 2 * modes * h * w);
      const ref = refProbeUpdate(probe, modes, h, w, obj, cols, waves, engine.geometry.positions, Math.fround(engine.inertia.probe));
      expect(allFinite(got), `seed ${seed}`).toBe(true);
      expect(relL2(got, ref), `seed ${seed}`).toBeLessThan(1e-5);
    });
  });
}

describe('exit-wave half F⁻¹(Fourier update of F(P·S_j O)) vs float64', () => {
  // [power bound, sub-pixel, chunk bytes, skewed FFT layout (the GPU default), FFT lane passes,
  //  model fused into the FFT row pass (the GPU default; software adapters run the model on its own)]
  const CASES: Array<[boolean, boolean, number | undefined, boolean, boolean, boolean | undefined]> = [
    [false, true, undefined, false, false, undefined],
    [true, true, undefined, true, false, true],
    [true, false, 4 * 32 * 32 * 8, false, false, true],
    [false, false, undefined, true, false, false],
    [false, true, undefined, false, true, undefined],
    [true, false, 4 * 32 * 32 * 8, false, true, undefined],
    [false, true, 4 * 32 * 32 * 8, false, false, false],
  ];
  for (const [bounded, subpixel, chunk, fftSkew, fftLanes, fusedModel] of CASES) {
    it(`${bounded ? 'power bound at the median e_Φ' : 'no power bound'}, ${subpixel ? 'residual form' : 'closed form'}${chunk ? ', chunks of 4 frames' : ''}${fftSkew ? ', skewed FFT layout' : ''}${fftLanes ? ', FFT lane passes' : ''}${fusedModel === undefined ? '' : fusedModel ? ', fused model' : ', model on its own'}`, async () => {
      const seed = freshSeed();
      const ctx = await testContext();
      const [n, h, w] = [11, 32, 32];
      const hw = h * w;
      const ds = randomDataset(seed, n, h, w);
      const k = dmCoefficients('dm', 0.9);
      const mag = Float64Array.from(ds.frames, Math.sqrt);
      const r = rng(seed + 9);
      const probe = randomArray(2 * hw, seed + 3);
      const Psi = randomArray(2 * n * hw, seed + 6, -20, 20);
      // Power bound: the median of the frames' e_Φ, so some frames are relaxed and some are not.
      let bound: number | undefined;
      const engine = await DmEngine.create(ctx, ds, { subpixel, maxBindingBytes: chunk, variant: 'dm', beta: 0.9, powerBound: 'none', fftSkew, fftLanes, fusedModel });
      engines.push(engine);
      const [rows, cols] = engine.geometry.objectShape;
      const obj = randomArray(2 * rows * cols, seed + 2);
      const X = referenceFft2d(refExitModel(obj, cols, probe, 1, h, w, engine.geometry.positions), [n, h, w], 'forward');
      if (bounded) {
        const ePhi: number[] = [];
        let maskSum = 0;
        for (let q = 0; q < hw; q++) maskSum += ds.mask![q];
        for (let j = 0; j < n; j++) {
          let e = 0;
          for (let q = 0; q < hw; q++) {
            const i = 2 * (j * hw + q);
            const a = Math.hypot((1 + k.alpha) * X[i] - k.alpha * Psi[i], (1 + k.alpha) * X[i + 1] - k.alpha * Psi[i + 1]);
            e += ds.mask![q] * (a - mag[j * hw + q]) ** 2;
          }
          ePhi.push(e / maskSum);
        }
        bound = [...ePhi].sort((a, b) => a - b)[Math.floor(n / 2)] * (1 + 0.01 * r());
      }
      const eng = bounded ? await DmEngine.create(ctx, ds, { subpixel, maxBindingBytes: chunk, variant: 'dm', beta: 0.9, powerBound: bound, fftSkew, fftLanes, fusedModel }) : engine;
      if (eng !== engine) engines.push(eng);
      const b = eng.gpuBuffers;
      ctx.queue.writeBuffer(b.obj, 0, obj);
      ctx.queue.writeBuffer(b.probe, 0, probe);
      ctx.queue.writeBuffer(b.psi, 0, Psi);
      ctx.fill(b.x);
      ctx.fill(b.err);
      await eng.runStages(['exit']);
      const psi = await ctx.readF32(b.psi, 2 * n * hw);
      const x = await ctx.readF32(b.x, 2 * n * hw);
      const err = await ctx.readF32(b.err, n);
      const ref = refFourierUpdate(X, Psi, mag, ds.mask, 1, hw, k, bound);
      const wantX = referenceFft2d(subpixel ? ref.psi.map((v, i) => v - X[i]) : ref.psi, [n, h, w], 'inverse');
      expect(allFinite(psi) && allFinite(x) && allFinite(err), `seed ${seed}`).toBe(true);
      expect(relL2(psi, ref.psi), `seed ${seed}`).toBeLessThan(1e-5);
      expect(relL2(x, wantX), `seed ${seed}`).toBeLessThan(1e-5);
      expect(relL2(err, ref.errors), `seed ${seed}`).toBeLessThan(1e-5);
    });
  }
});

describe('probe update over several frame groups and chunks', () => {
  it('probeFrameGroups: at least 32 frames per group, at most 2^22 partial sums, every frame in one group', () => {
    expect(probeFrameGroups(11, 1024)).toEqual({ groups: 1, perGroup: 32 });
    expect(probeFrameGroups(75, 2048)).toEqual({ groups: 3, perGroup: 32 });
    const big = probeFrameGroups(16383, 128 * 128);
    expect(big.groups * 128 * 128).toBeLessThanOrEqual(2 ** 22);
    expect(big.groups * big.perGroup).toBeGreaterThanOrEqual(16383);
    expect((big.groups - 1) * big.perGroup).toBeLessThan(16383);
  });

  for (const residual of [false, true]) {
    it(`75 frames in chunks of 40 (2 + 2 groups), 2 modes, ${residual ? 'residual form' : 'closed form'}: = float64 reference`, async () => {
      const seed = freshSeed();
      const ctx = await testContext();
      const [n, h, w, modes] = [75, 32, 32, 2];
      const ds = randomDataset(seed, n, h, w);
      const engine = await DmEngine.create(ctx, ds, { modes, maxBindingBytes: 40 * modes * h * w * 8, subpixel: residual });
      engines.push(engine);
      const [, cols] = engine.geometry.objectShape;
      const b = engine.gpuBuffers;
      const obj = randomArray(2 * engine.geometry.objectShape[0] * cols, seed + 2);
      const probe = randomArray(2 * modes * h * w, seed + 3);
      const waves = randomArray(2 * n * modes * h * w, seed + 8);
      ctx.queue.writeBuffer(b.obj, 0, obj);
      ctx.queue.writeBuffer(b.probe, 0, probe);
      const model = refExitModel(obj, cols, probe, modes, h, w, engine.geometry.positions);
      ctx.queue.writeBuffer(b.x, 0, residual ? Float32Array.from(waves, (v, i) => v - model[i]) : waves);
      ctx.queue.writeBuffer(b.prNum, 0, new Float32Array(2 * modes * h * w).fill(NaN));
      ctx.queue.writeBuffer(b.prDen, 0, new Float32Array(modes * h * w).fill(NaN));
      await engine.runStages(['probe']);
      const got = await ctx.readF32(b.probe, 2 * modes * h * w);
      const ref = refProbeUpdate(probe, modes, h, w, obj, cols, waves, engine.geometry.positions, Math.fround(engine.inertia.probe));
      expect(allFinite(got), `seed ${seed}`).toBe(true);
      expect(relL2(got, ref), `seed ${seed}`).toBeLessThan(1e-5);
    });
  }
});

describe('constraints: object amplitude clip and probe support', () => {
  it('clip |O| ≤ 0.5 after the object update and zero the probe outside a 9-pixel disc, vs float64', async () => {
    const seed = freshSeed();
    const ctx = await testContext();
    const ds = randomDataset(seed, 11, 32, 32);
    const engine = await DmEngine.create(ctx, ds, { subpixel: false, objectAmplitudeMax: 0.5, probeSupport: 9 });
    engines.push(engine);
    const [rows, cols] = engine.geometry.objectShape;
    const obj = randomArray(2 * rows * cols, seed + 2);
    const probe = randomArray(2 * 32 * 32, seed + 3);
    const waves = randomArray(2 * 11 * 32 * 32, seed + 7);
    const b = engine.gpuBuffers;
    ctx.queue.writeBuffer(b.obj, 0, obj);
    ctx.queue.writeBuffer(b.probe, 0, probe);
    ctx.queue.writeBuffer(b.x, 0, waves);
    await engine.runStages(['object']);
    const gotO = await ctx.readF32(b.obj, 2 * rows * cols);
    const refO = refObjectUpdate(obj, rows, cols, probe, 1, 32, 32, waves, engine.geometry.positions, Math.fround(engine.inertia.object), false, 0.5);
    expect(relL2(gotO, refO), `seed ${seed}`).toBeLessThan(1e-5);
    let maxAmp = 0;
    for (let q = 0; q < rows * cols; q++) maxAmp = Math.max(maxAmp, Math.hypot(gotO[2 * q], gotO[2 * q + 1]));
    expect(maxAmp).toBeLessThanOrEqual(0.5 + 1e-6);
    await engine.runStages(['probe']);
    const gotP = await ctx.readF32(b.probe, 2 * 32 * 32);
    const refP = refProbeUpdate(probe, 1, 32, 32, refO, cols, waves, engine.geometry.positions, Math.fround(engine.inertia.probe), 9);
    expect(relL2(gotP, refP), `seed ${seed}`).toBeLessThan(1e-5);
    expect(gotP[0]).toBe(0);
  });
});

describe('incremental residual updates (residual form)', () => {
  it('D −= P·S_j(O − O_old) and D −= (P − P_old)·S_j O, vs float64', async () => {
    const seed = freshSeed();
    const { ctx, engine, obj, probe, n, h, w, rows, cols } = await setup(seed, 2, undefined, 'dm', true);
    const b = engine.gpuBuffers;
    const pos = engine.geometry.positions;
    const len = 2 * n * 2 * h * w;
    const D0 = randomArray(len, seed + 20);
    const objOld = randomArray(2 * rows * cols, seed + 21);
    ctx.queue.writeBuffer(b.x, 0, D0);
    ctx.queue.writeBuffer(b.objOld!, 0, objOld);
    await engine.runStages(['deltaObject']);
    const got = await ctx.readF32(b.x, len);
    const mNew = refExitModel(obj, cols, probe, 2, h, w, pos);
    const mOld = refExitModel(objOld, cols, probe, 2, h, w, pos);
    const want = Float64Array.from(D0, (v, i) => v - (mNew[i] - mOld[i]));
    expect(relL2(got, want), `seed ${seed}`).toBeLessThan(1e-5);
    const probeOld = randomArray(2 * 2 * h * w, seed + 22);
    ctx.queue.writeBuffer(b.x, 0, D0);
    ctx.queue.writeBuffer(b.probeOld!, 0, probeOld);
    await engine.runStages(['deltaProbe']);
    const got2 = await ctx.readF32(b.x, len);
    const pOld = refExitModel(obj, cols, probeOld, 2, h, w, pos);
    const want2 = Float64Array.from(D0, (v, i) => v - (mNew[i] - pOld[i]));
    expect(relL2(got2, want2), `seed ${seed}`).toBeLessThan(1e-5);
  });
});

describe('Fourier update with the power bound (photon-count data: auto bound 0.25)', () => {
  it('relaxes the modulus projection to meet the bound, vs float64', async () => {
    const seed = freshSeed();
    const ctx = await testContext();
    const [n, h, w] = [6, 32, 32];
    const ds = randomDataset(seed, n, h, w);
    ds.frames = Float32Array.from(ds.frames, Math.round);
    for (let j = 0; j < n; j++) ds.frames[j * h * w] += 1; // no all-zero frame
    const engine = await DmEngine.create(ctx, ds, {});
    engines.push(engine);
    expect(engine.powerBound).toBe(0.25);
    const mag = Float64Array.from(ds.frames, Math.sqrt);
    const len = 2 * n * h * w;
    // Half the frames close to the data (inside the bound: unchanged), half far (relaxed).
    const r = rng(seed + 11);
    const X = new Float32Array(len), Psi = new Float32Array(len);
    for (let j = 0; j < n; j++) for (let i = 0; i < h * w; i++) {
      const q = j * h * w + i;
      const th = 2 * Math.PI * r();
      const amp = j % 2 === 0 ? mag[q] + 0.3 * (r() - 0.5) : mag[q] * (0.2 + 2 * r());
      X[2 * q] = amp * Math.cos(th);
      X[2 * q + 1] = amp * Math.sin(th);
      Psi[2 * q] = X[2 * q] * (1 + 0.01 * (r() - 0.5));
      Psi[2 * q + 1] = X[2 * q + 1];
    }
    ctx.queue.writeBuffer(engine.gpuBuffers.x, 0, X);
    ctx.queue.writeBuffer(engine.gpuBuffers.psi, 0, Psi);
    ctx.fill(engine.gpuBuffers.err);
    await engine.runStages(['fourier']);
    const psi = await ctx.readF32(engine.gpuBuffers.psi, len);
    const ref = refFourierUpdate(X, Psi, mag, ds.mask, 1, h * w, dmCoefficients('dm'), 0.25);
    const plain = refFourierUpdate(X, Psi, mag, ds.mask, 1, h * w, dmCoefficients('dm'));
    expect(relL2(psi, ref.psi), `seed ${seed}`).toBeLessThan(1e-5);
    expect(relL2(ref.psi, plain.psi)).toBeGreaterThan(1e-3); // the bound changed something
  });
});

describe('one whole DM / RAAR iteration vs float64', () => {
  for (const [variant, subpixel, inner, skew] of [['dm', true, 1, false], ['dm', true, 2, false], ['dm', false, 2, false], ['raar', true, 1, false], ['dm', true, 1, true]] as const) {
    it(`${variant}, ${subpixel ? 'sub-pixel' : 'whole-pixel'}, ${inner} overlap alternation(s)${skew ? ', skewed FFT layout' : ''}: object, probe and Fourier error after two iterations (probe updated)`, async () => {
      const seed = freshSeed();
      const { ctx, ds, engine, obj, probe, n, h, w, rows, cols } = await setup(seed, 1, undefined, variant, subpixel, inner, skew);
      void ctx;
      const pos = engine.geometry.positions;
      const k = dmCoefficients(variant, variant === 'raar' ? 0.8 : 0.9);
      const mag = Float64Array.from(ds.frames, Math.sqrt);
      let O: ArrayLike<number> = obj;
      let P: ArrayLike<number> = probe;
      let Psi = referenceFft2d(refExitModel(O, cols, P, 1, h, w, pos), [n, h, w], 'forward');
      const refErrors: number[] = [];
      for (let it = 0; it < 2; it++) {
        const X = referenceFft2d(refExitModel(O, cols, P, 1, h, w, pos), [n, h, w], 'forward');
        const f = refFourierUpdate(X, Psi, mag, ds.mask, 1, h * w, k);
        Psi = f.psi;
        refErrors.push(f.errors.reduce((a, b) => a + b, 0) / n);
        const psi = referenceFft2d(Psi, [n, h, w], 'inverse');
        for (let inner = 0; inner < engine.innerIterations; inner++) {
          O = refObjectUpdate(O, rows, cols, P, 1, h, w, psi, pos, Math.fround(engine.inertia.object), subpixel);
          P = refProbeUpdate(P, 1, h, w, O, cols, psi, pos, Math.fround(engine.inertia.probe));
        }
      }
      const errs = [(await engine.iterate(true)).error, (await engine.iterate(true)).error];
      const gotO = (await engine.readObject()).data;
      const gotP = (await engine.readProbe()).data;
      expect(relL2(errs, refErrors), `seed ${seed}`).toBeLessThan(1e-4);
      expect(relL2(gotO, O), `seed ${seed}`).toBeLessThan(1e-4);
      expect(relL2(gotP, P), `seed ${seed}`).toBeLessThan(1e-4);
    });
  }
});
