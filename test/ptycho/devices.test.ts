/**
 * Ptychography across several devices (src/ptycho/distributed.ts, partition.ts): the all-reduce
 * kernels against float64 references on fresh random inputs; 1 device bit-identical to the
 * single-device engine; 2 and 3 devices within 1e-5 of 1 device, with bit-identical shared pixels
 * on every device and bit-identical runs; the bytes the reduction moves; a device lost mid-run;
 * the real Siemens star; `webrecon ptycho recon --devices`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { acquireDevices } from '../../src/gpu/pool.js';
import type { GpuContext } from '../../src/gpu/context.js';
import { grid1d, UniformWriter } from '../../src/gpu/dispatch.js';
import { simulatePtycho } from '../../src/ptycho/simulate.js';
import { reconstructPtycho } from '../../src/ptycho/recon.js';
import { DistributedDm, runDistributedDm, scanPartitions } from '../../src/ptycho/distributed.js';
import { overlapOffsets, type PixelRect } from '../../src/ptycho/partition.js';
import { loadPtycho } from '../../src/ptycho/load.js';
import { readNpy } from '../../src/io/npy.js';
import { jsonLines, runCli, show, tempDir } from '../cli/cli.js';
import { join } from 'node:path';
import { allFinite, freshSeed, randomArray, relL2, rng, testContext } from '../helpers/gpu.js';

const STAR = join(new URL('../../../shared/data/ptycho/', import.meta.url).pathname, 'siemens-star-tike');

const opened: GpuContext[] = [];
// Each test's devices are closed after it: every device compiles its own pipelines, and lavapipe's
// JIT code of many open devices can exhaust the process's memory maps.
afterEach(() => {
  for (const c of opened.splice(0)) c.destroy();
});

async function pool(n: number): Promise<GpuContext[]> {
  const p = await acquireDevices({ devices: n });
  opened.push(...p);
  return p;
}

const same = (a: Float32Array, b: Float32Array) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

// float64 finalisation (ptycho/finalize.wgsl)
function finalize(v: [number, number], acc: [number, number], d: number, c: number, residual: boolean): [number, number] {
  return residual ? [v[0] + acc[0] / (c + d), v[1] + acc[1] / (c + d)] : [(c * v[0] + acc[0]) / (c + d), (c * v[1] + acc[1]) / (c + d)];
}

describe('all-reduce kernels vs float64 (fresh random inputs, poisoned outputs)', () => {
  const WG = 64;

  it('pack_overlap + reduce_object: overlaps packed rectangle by rectangle, sums in device order, closed and residual forms, amplitude clip', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const r = rng(seed);
    const [rows, cols, parts, me] = [23, 37, 4, 2];
    // rectangles of the other devices' overlaps (one device has none)
    const rects: Array<PixelRect | null> = [
      { y0: 0, x0: 3, h: 9, w: 30 },
      { y0: 5, x0: 0, h: 18, w: 37 },
      null,
      null,
    ];
    rects[3 - (seed % 2)] = seed % 2 ? { y0: 14, x0: 7, h: 9, w: 11 } : null;
    const { offsets, total } = overlapOffsets(rects);
    const table = new Uint32Array(8 * parts);
    rects.forEach((q, e) => q && table.set([q.y0, q.x0, q.h, q.w, offsets[e]], 8 * e));
    const num = randomArray(2 * rows * cols, seed + 1);
    const den = randomArray(rows * cols, seed + 2, 0, 3);
    const obj = randomArray(2 * rows * cols, seed + 3);
    const imports = randomArray(3 * total, seed + 4, 0, 1);
    const cO = 0.05 + r(), ampMax = 1.1;
    const tbl = ctx.upload(table), numB = ctx.upload(num), denB = ctx.upload(den), impB = ctx.upload(imports);
    const packed = ctx.createStorage(Math.max(16, 12 * total));
    ctx.fill(packed);
    const pack = await ctx.pipelines.getChecked({ shader: 'ptycho/pack_overlap.wgsl', entry: 'main', constants: { WG } });
    const pu = ctx.uniform(new UniformWriter(4).u32(cols).u32(parts).u32(total).u32(0).buffer);
    let enc = ctx.device.createCommandEncoder();
    let pass = enc.beginComputePass();
    pass.setPipeline(pack);
    pass.setBindGroup(0, ctx.bind(pack, [pu, numB, denB, tbl, packed]));
    pass.dispatchWorkgroups(...grid1d(total, WG));
    pass.end();
    await ctx.submitAndWait([enc.finish()]);
    const gotPacked = await ctx.readF32(packed, 3 * total);
    const refPacked = new Float32Array(3 * total);
    rects.forEach((q, e) => {
      if (!q) return;
      for (let y = 0; y < q.h; y++) for (let x = 0; x < q.w; x++) {
        const i = offsets[e] + y * q.w + x, s = (q.y0 + y) * cols + q.x0 + x;
        refPacked.set([num[2 * s], num[2 * s + 1], den[s]], 3 * i);
      }
    });
    expect(same(gotPacked, refPacked), `seed ${seed}`).toBe(true);
    for (const residual of [false, true]) {
      const objB = ctx.upload(obj);
      const red = await ctx.pipelines.getChecked({ shader: 'ptycho/reduce_object.wgsl', entry: 'main', constants: { WG, RESIDUAL: residual ? 1 : 0 } });
      const ru = ctx.uniform(new UniformWriter(8).u32(rows).u32(cols).u32(parts).u32(me).f32(cO).f32(ampMax).u32(0).u32(0).buffer);
      enc = ctx.device.createCommandEncoder();
      pass = enc.beginComputePass();
      pass.setPipeline(red);
      pass.setBindGroup(0, ctx.bind(red, [ru, objB, numB, denB, tbl, impB]));
      pass.dispatchWorkgroups(...grid1d(rows * cols, WG));
      pass.end();
      await ctx.submitAndWait([enc.finish()]);
      const got = await ctx.readF32(objB, 2 * rows * cols);
      const ref = new Float64Array(2 * rows * cols);
      let clipped = 0;
      for (let y = 0; y < rows; y++) for (let x = 0; x < cols; x++) {
        const q = y * cols + x;
        const acc: [number, number] = [0, 0];
        let d = 0;
        for (let e = 0; e < parts; e++) {
          if (e === me) { acc[0] += num[2 * q]; acc[1] += num[2 * q + 1]; d += den[q]; continue; }
          const t = rects[e];
          if (!t || y < t.y0 || y >= t.y0 + t.h || x < t.x0 || x >= t.x0 + t.w) continue;
          const k = 3 * (offsets[e] + (y - t.y0) * t.w + (x - t.x0));
          acc[0] += imports[k]; acc[1] += imports[k + 1]; d += imports[k + 2];
        }
        let o = finalize([obj[2 * q], obj[2 * q + 1]], acc, d, cO, residual);
        const a = Math.hypot(o[0], o[1]);
        if (a > ampMax) { o = [(o[0] * ampMax) / a, (o[1] * ampMax) / a]; clipped++; }
        ref[2 * q] = o[0]; ref[2 * q + 1] = o[1];
      }
      expect(clipped).toBeGreaterThan(0);
      expect(allFinite(got)).toBe(true);
      expect(relL2(got, ref), `seed ${seed}, residual ${residual}`).toBeLessThan(1e-6);
      objB.destroy();
    }
    for (const b of [tbl, numB, denB, impB, packed]) b.destroy();
  });

  it('reduce_probe: (parts − 1) imported blocks and the own partial summed in device order, two modes, support', async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const [h, w, modes, parts, me] = [16, 32, 2, 3, 1];
    const total = modes * h * w;
    const num = randomArray(2 * total, seed + 1);
    const den = randomArray(total, seed + 2, 0, 2);
    const probe = randomArray(2 * total, seed + 3);
    const imports = randomArray(3 * total * (parts - 1), seed + 4, 0, 1);
    const cP = 0.3, support = 9.5;
    for (const residual of [false, true]) {
      const prB = ctx.upload(probe), numB = ctx.upload(num), denB = ctx.upload(den), impB = ctx.upload(imports);
      const red = await ctx.pipelines.getChecked({ shader: 'ptycho/reduce_probe.wgsl', entry: 'main', constants: { WG, RESIDUAL: residual ? 1 : 0 } });
      const u = ctx.uniform(new UniformWriter(8).u32(h).u32(w).u32(modes).u32(parts).u32(me).f32(cP).f32(support).u32(0).buffer);
      const enc = ctx.device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(red);
      pass.setBindGroup(0, ctx.bind(red, [u, prB, numB, denB, impB]));
      pass.dispatchWorkgroups(...grid1d(total, WG));
      pass.end();
      await ctx.submitAndWait([enc.finish()]);
      const got = await ctx.readF32(prB, 2 * total);
      const ref = new Float64Array(2 * total);
      for (let i = 0; i < total; i++) {
        const acc: [number, number] = [0, 0];
        let d = 0;
        for (let e = 0, s = 0; e < parts; e++) {
          if (e === me) { acc[0] += num[2 * i]; acc[1] += num[2 * i + 1]; d += den[i]; continue; }
          const base = 3 * total * s++;
          acc[0] += imports[base + 2 * i]; acc[1] += imports[base + 2 * i + 1]; d += imports[base + 2 * total + i];
        }
        const r = i % (h * w), ry = Math.floor(r / w), rx = r % w;
        const out = (ry - h / 2) ** 2 + (rx - w / 2) ** 2 > support * support ? [0, 0] : finalize([probe[2 * i], probe[2 * i + 1]], acc, d, cP, residual);
        ref[2 * i] = out[0]; ref[2 * i + 1] = out[1];
      }
      expect(allFinite(got)).toBe(true);
      expect(relL2(got, ref), `seed ${seed}, residual ${residual}`).toBeLessThan(1e-6);
      for (const b of [prB, numB, denB, impB]) b.destroy();
    }
  });
});

describe('stripe partitions', () => {
  it('split the frames into equal groups (stripes, a 2 × 2 grid for 4) whose windows cover the object and contain every footprint', () => {
    const sim = simulatePtycho({ frame: 32, positions: 60, photons: 0, seed: 2 });
    const g = sim.geometry;
    for (const parts of [1, 2, 3, 4, 5, 6]) {
      const L = scanPartitions(g, parts);
      if (parts === 4) expect(L.filter((l) => l.shape[1] < g.objectShape[1]).length).toBe(4);
      expect(L.length).toBe(parts);
      const all = L.flatMap((l) => Array.from(l.frames)).sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: g.n }, (_, j) => j));
      for (const l of L) {
        expect(l.frames.length).toBeGreaterThanOrEqual(Math.floor(g.n / parts));
        for (const j of l.frames) {
          const y = Math.floor(g.positions[2 * j]) - l.offset[0], x = Math.floor(g.positions[2 * j + 1]) - l.offset[1];
          expect(y >= 0 && x >= 0 && y + 33 <= l.shape[0] && x + 33 <= l.shape[1]).toBe(true);
        }
      }
      const covered = new Uint8Array(g.objectShape[0] * g.objectShape[1]);
      for (const l of L) for (let y = 0; y < l.shape[0]; y++) covered.fill(1, (l.offset[0] + y) * g.objectShape[1] + l.offset[1], (l.offset[0] + y) * g.objectShape[1] + l.offset[1] + l.shape[1]);
      expect(covered.every((v) => v === 1)).toBe(true);
    }
    // more devices than frames: one frame each
    const few = simulatePtycho({ frame: 32, positions: 5, photons: 0, seed: 2 });
    const L = scanPartitions(few.geometry, 8);
    expect(L.map((l) => l.frames.length)).toEqual([1, 1, 1, 1, 1]);
  });
});

describe('DM / RAAR on 1, 2 and 3 devices (48 frames of 32², sub-pixel and whole-pixel scans)', () => {
  const sim = simulatePtycho({ frame: 32, positions: 48, photons: 1e5, seed: 11 });
  const whole = simulatePtycho({ frame: 32, positions: 48, photons: 0, seed: 12, integerPositions: true });
  // Few iterations: far from convergence DM and RAAR amplify ANY rounding difference about twofold
  // per iteration (measured: 8e-8 after one iteration, 2e-5 after six, 2e-3 after twelve on this
  // scan), whatever its source; the reduction's own difference is the first iteration's.
  const base = { iterations: 4, probeUpdateStart: 1 };

  it('one device through the distributed path is bit-identical to the single-device engine (DM residual form, RAAR closed form)', async () => {
    const [one] = await pool(1);
    for (const [ds, algorithm, innerIterations] of [[sim.dataset, 'dm', 2], [whole.dataset, 'raar', 1]] as const) {
      const single = await reconstructPtycho(ds, { ...base, algorithm, innerIterations, context: one });
      const dist = await runDistributedDm([one], ds, { variant: algorithm, innerIterations, iterations: base.iterations, probeStart: base.probeUpdateStart });
      expect(dist.devices).toBe(1);
      expect(same(dist.object.data, single.object.data), algorithm).toBe(true);
      expect(same(dist.probe.data, single.probe.data), algorithm).toBe(true);
      expect(dist.errors).toEqual(single.errors);
      expect(dist.reductionBytesPerIteration).toBe(0);
    }
  });

  it('2 and 3 devices agree with 1 within 1e-5 (object, probe, errors); runs are bit-identical', async () => {
    const one = await pool(1);
    const two = await pool(2);
    const three = await pool(3);
    for (const [ds, algorithm] of [[sim.dataset, 'dm'], [whole.dataset, 'raar']] as const) {
      const r1 = await reconstructPtycho(ds, { ...base, algorithm, contexts: one });
      for (const p of [two, three]) {
        const r = await reconstructPtycho(ds, { ...base, algorithm, contexts: p });
        expect(r.devices).toBe(p.length);
        const eo = relL2(r.object.data, r1.object.data), ep = relL2(r.probe.data, r1.probe.data);
        console.log(`${algorithm} on ${p.length} devices vs 1: object ${eo.toExponential(2)}, probe ${ep.toExponential(2)}, reduction ${(r.reductionBytesPerIteration! / 1024).toFixed(1)} KiB/iteration`);
        expect(eo).toBeLessThan(1e-5);
        // one iteration (exit waves, object and probe reduced once): float32 rounding of the sum order only
        const first1 = await reconstructPtycho(ds, { iterations: 1, probeUpdateStart: 0, algorithm, contexts: one });
        const firstN = await reconstructPtycho(ds, { iterations: 1, probeUpdateStart: 0, algorithm, contexts: p });
        expect(relL2(firstN.object.data, first1.object.data)).toBeLessThan(1e-6);
        expect(relL2(firstN.probe.data, first1.probe.data)).toBeLessThan(1e-6);
        expect(ep).toBeLessThan(1e-5);
        r.errors.forEach((e, i) => expect(Math.abs(e - r1.errors[i]) / r1.errors[i]).toBeLessThan(1e-5));
        const again = await reconstructPtycho(ds, { ...base, algorithm, contexts: p });
        expect(same(again.object.data, r.object.data)).toBe(true);
        expect(same(again.probe.data, r.probe.data)).toBe(true);
        expect(again.errors).toEqual(r.errors);
      }
    }
  });

  it('3 devices (stripes) and 4 devices (a 2 × 2 grid: corners shared by four windows): every device holds bit-identical shared pixels and probe; the bytes moved are as counted', async () => {
    for (const devices of [3, 4]) {
      const run = await DistributedDm.create(await pool(devices), sim.dataset, { innerIterations: 2 });
      try {
        const grid = devices === 4;
        // a 2 × 2 grid has windows that are not full-width
        expect(run.layouts.some((l) => l.shape[1] < run.geometry.objectShape[1])).toBe(grid);
        for (let it = 0; it < 3; it++) await run.iterate(it >= 1);
        const windows = await run.readWindows();
        let shared = 0, overlapPixels = 0;
        for (let a = 0; a < devices; a++) for (let b = 0; b < devices; b++) {
          if (a === b) continue;
          const A = run.layouts[a], B = run.layouts[b];
          for (let gy = Math.max(A.offset[0], B.offset[0]); gy < Math.min(A.offset[0] + A.shape[0], B.offset[0] + B.shape[0]); gy++) {
            for (let gx = Math.max(A.offset[1], B.offset[1]); gx < Math.min(A.offset[1] + A.shape[1], B.offset[1] + B.shape[1]); gx++) {
              const ia = 2 * ((gy - A.offset[0]) * A.shape[1] + gx - A.offset[1]), ib = 2 * ((gy - B.offset[0]) * B.shape[1] + gx - B.offset[1]);
              if (windows.objects[a][ia] !== windows.objects[b][ib] || windows.objects[a][ia + 1] !== windows.objects[b][ib + 1]) throw new Error(`devices ${a}, ${b} differ at (${gy}, ${gx})`);
              overlapPixels++;
              if (a < b) shared++;
            }
          }
        }
        expect(shared).toBeGreaterThan(2 * run.geometry.objectShape[1]);
        for (let d = 1; d < devices; d++) expect(same(windows.probes[d], windows.probes[0])).toBe(true);
        // each overlap pixel read once and written once (12 bytes each way); the probe partials
        // (12 bytes per probe pixel) read from every device and written to every other; two
        // inner iterations, each with an object and a probe reduction
        const probeBytes = 12 * 32 * 32;
        expect(run.lastIterationBytes).toBe(2 * (2 * 12 * overlapPixels + devices * probeBytes + devices * (devices - 1) * probeBytes));
      } finally {
        run.destroy();
      }
    }
    const r1 = await reconstructPtycho(sim.dataset, { ...base, contexts: await pool(1) });
    const r4 = await reconstructPtycho(sim.dataset, { ...base, contexts: await pool(4) });
    expect(r4.devices).toBe(4);
    expect(relL2(r4.object.data, r1.object.data)).toBeLessThan(1e-5);
    expect(relL2(r4.probe.data, r1.probe.data)).toBeLessThan(1e-5);
  });

  it('two probe modes, chunked bindings (5 frames per binding), 2 inner iterations, amplitude clip and probe support on 3 devices agree with 1 device within 1e-5', async () => {
    const opts = { ...base, modes: 2, innerIterations: 2, maxBindingBytes: 5 * 2 * 32 * 32 * 8, objectAmplitudeMax: 1, probeSupport: 12 };
    const r1 = await reconstructPtycho(sim.dataset, { ...opts, contexts: await pool(1) });
    const r3 = await reconstructPtycho(sim.dataset, { ...opts, contexts: await pool(3) });
    expect(r3.probe.shape).toEqual([2, 32, 32]);
    // the constraints reached every device: no amplitude above 1, no probe outside the support
    let maxAmp = 0, outside = 0;
    for (let i = 0; i < r3.object.data.length; i += 2) maxAmp = Math.max(maxAmp, Math.hypot(r3.object.data[i], r3.object.data[i + 1]));
    for (let i = 0; i < 2 * 32 * 32; i++) {
      const r = i % (32 * 32), y = Math.floor(r / 32), x = r % 32;
      if ((y - 16) ** 2 + (x - 16) ** 2 > 144) outside += Math.abs(r3.probe.data[2 * i]) + Math.abs(r3.probe.data[2 * i + 1]);
    }
    expect(maxAmp).toBeLessThanOrEqual(1 + 1e-6);
    expect(outside).toBe(0);
    expect(relL2(r3.object.data, r1.object.data)).toBeLessThan(1e-5);
    expect(relL2(r3.probe.data, r1.probe.data)).toBeLessThan(1e-5);
    r3.errors.forEach((e, i) => expect(Math.abs(e - r1.errors[i]) / r1.errors[i]).toBeLessThan(1e-5));
  });

  it('a device lost mid-run: the reconstruction restarts on the remaining device and gives the 1-device result', async () => {
    const reference = await reconstructPtycho(sim.dataset, { ...base, contexts: await pool(1) });
    const two = await pool(2);
    let killed = false;
    const events: Array<{ iteration?: number; restart?: number }> = [];
    const r = await reconstructPtycho(sim.dataset, {
      ...base,
      contexts: two,
      onProgress: (e) => {
        events.push({ iteration: e.iteration, restart: e.metrics?.restart });
        if (e.iteration === 2 && !killed) {
          killed = true;
          two[1].device.destroy();
        }
      },
    });
    expect(killed).toBe(true);
    expect(r.devices).toBe(1);
    expect(r.droppedDevices).toHaveLength(1);
    expect(r.droppedDevices![0]).toMatch(/device 2/);
    expect(events.filter((e) => e.restart === 1).map((e) => e.iteration)).toEqual([1, 2, 3, 4]);
    expect(same(r.object.data, reference.object.data)).toBe(true);
    expect(r.errors).toEqual(reference.errors);
  });

  it('a fixed partition count: 1, 2 and 3 devices give bit-identical results after 12 iterations (DM and RAAR), also when a device is lost', async () => {
    // One set of three devices, used as 1, 2 and 3 (each device compiles every pipeline once;
    // lavapipe's JIT memory is finite), and a fresh set for the device loss.
    const set = await pool(3);
    const opts = { iterations: 12, probeUpdateStart: 2, partitions: 3 };
    let dmOne: Float32Array | undefined;
    for (const algorithm of ['dm', 'raar'] as const) {
      const one = await reconstructPtycho(sim.dataset, { ...opts, algorithm, contexts: set.slice(0, 1) });
      expect(one.partitions).toBe(3);
      expect(one.devices).toBe(1);
      if (algorithm === 'dm') dmOne = one.object.data;
      for (const n of [2, 3]) {
        const r = await reconstructPtycho(sim.dataset, { ...opts, algorithm, contexts: set.slice(0, n) });
        expect(r.devices).toBe(n);
        expect(same(r.object.data, one.object.data), `${algorithm}, ${n} devices`).toBe(true);
        expect(same(r.probe.data, one.probe.data), `${algorithm}, ${n} devices`).toBe(true);
        expect(r.errors).toEqual(one.errors);
      }
    }
    // Without a fixed count the partitions follow the devices, and only rounding separates them.
    const free = await reconstructPtycho(sim.dataset, { iterations: 12, probeUpdateStart: 2, contexts: set.slice(0, 2) });
    expect(free.partitions).toBe(2);
    expect(same(free.object.data, dmOne!)).toBe(false);
    // A device lost after iteration 3: the run restarts with the same 3 partitions on the other two.
    const three = await pool(3);
    let killed = false;
    const r = await reconstructPtycho(sim.dataset, {
      ...opts,
      contexts: three,
      onProgress: (e) => {
        if (e.iteration === 3 && !killed) {
          killed = true;
          three[1].device.destroy();
        }
      },
    });
    expect(killed).toBe(true);
    expect(r.devices).toBe(2);
    expect(r.partitions).toBe(3);
    expect(same(r.object.data, dmOne!)).toBe(true);
    await expect(reconstructPtycho(sim.dataset, { algorithm: 'epie', iterations: 1, partitions: 2 })).rejects.toThrow(/partitions split DM and RAAR/);
    await expect(reconstructPtycho(sim.dataset, { iterations: 1, partitions: 0, contexts: set.slice(0, 1) })).rejects.toThrow(/partitions must be a positive integer/);
  });

  it('every device lost: a clear GPU error naming the device, never a result', async () => {
    const two = await pool(2);
    await expect(
      reconstructPtycho(sim.dataset, {
        ...base,
        contexts: two,
        onProgress: (e) => {
          if (e.iteration === 1) for (const c of two) c.device.destroy();
        },
      }),
    ).rejects.toThrow(/every GPU device failed: device 1 \(.*\) failed during .*iteration 1.*lost.*\(dropped before: .*device 1 \(/);
  });

  it('ePIE given several devices runs on the first (the same result as that device alone, with a note), and a bad window margin is an input error', async () => {
    const two = await pool(2);
    const onTwo = await reconstructPtycho(whole.dataset, { algorithm: 'epie', iterations: 2, contexts: two });
    const onOne = await reconstructPtycho(whole.dataset, { algorithm: 'epie', iterations: 2, contexts: [two[0]] });
    expect(onTwo.devices).toBe(1);
    expect(onTwo.note).toMatch(/ePIE updates the object frame by frame, so it ran on one device .* of the 2 given/);
    expect(same(onTwo.object.data, onOne.object.data)).toBe(true);
    expect(onTwo.errors).toEqual(onOne.errors);
    await expect(reconstructPtycho(whole.dataset, { iterations: 1, contexts: two, windowMargin: -1 })).rejects.toThrow(/window margin/);
  });

  it('devices: 2 opens (and closes) its own pool and gives the same result as a given pool of 2', async () => {
    const given = await reconstructPtycho(sim.dataset, { ...base, contexts: await pool(2) });
    const own = await reconstructPtycho(sim.dataset, { ...base, devices: 2 });
    expect(own.devices).toBe(2);
    expect(same(own.object.data, given.object.data)).toBe(true);
    expect(own.errors).toEqual(given.errors);
  });
});

describe('the real Siemens star (516 frames of 128², sub-pixel) on 1 and 2 devices', () => {
  it('3 DM iterations with probe refinement: object, probe and errors within 1e-5 of one device', async () => {
    const star = await loadPtycho(STAR);
    const opts = { iterations: 3, probeUpdateStart: 1 };
    const r1 = await reconstructPtycho(star, { ...opts, contexts: await pool(1) });
    const r2 = await reconstructPtycho(star, { ...opts, contexts: await pool(2) });
    const eo = relL2(r2.object.data, r1.object.data), ep = relL2(r2.probe.data, r1.probe.data);
    console.log(`Siemens star, 2 devices vs 1: object ${eo.toExponential(2)}, probe ${ep.toExponential(2)}, ${(r2.reductionBytesPerIteration! / 2 ** 20).toFixed(2)} MiB reduced per iteration; s/iteration ${r1.iterationSeconds.at(-1)!.toFixed(2)} (1) vs ${r2.iterationSeconds.at(-1)!.toFixed(2)} (2)`);
    expect(r2.devices).toBe(2);
    expect(eo).toBeLessThan(1e-5);
    expect(ep).toBeLessThan(1e-5);
    r2.errors.forEach((e, i) => expect(Math.abs(e - r1.errors[i]) / r1.errors[i]).toBeLessThan(1e-5));
  });
});

describe('webrecon ptycho recon --devices / --adapters', () => {
  const dir = tempDir('webrecon-ptycho-devices-');
  it('--devices 2 gives the in-process 2-device result (bit-identical object) and reports the devices and bytes; ePIE with --devices 2 runs on one of them (same object as one device, a note says so); a bad count is exit code 2', async () => {
    const data = join(dir, 'sim'), out = join(dir, 'out');
    expect((await runCli(['ptycho', 'simulate', '--frame', '32', '--positions', '30', '--photons', '1e6', '-o', data])).code).toBe(0);
    const r = await runCli(['--json', 'ptycho', 'recon', data, '-n', '3', '--devices', '2', '-o', out]);
    expect(r.code, show(r)).toBe(0);
    const summary = jsonLines(r.stdout).find((l) => l.type === 'summary')!;
    expect(summary.devices).toBe(2);
    expect(summary.reductionBytesPerIteration as number).toBeGreaterThan(0);
    const viaApi = await reconstructPtycho(await loadPtycho(data), { iterations: 3, contexts: await pool(2) });
    const obj = await readNpy(join(out, 'object.npy'));
    expect(same(Float32Array.from(obj.data as Float32Array), viaApi.object.data)).toBe(true);
    // ePIE does not split (frame-by-frame updates): given two devices it runs on the first and says so.
    const a = await runCli(['--json', 'ptycho', 'recon', data, '-a', 'epie', '-n', '2', '--devices', '2', '-o', join(dir, 'x')]);
    expect(a.code, show(a)).toBe(0);
    const aSummary = jsonLines(a.stdout).find((l) => l.type === 'summary')!;
    expect(aSummary.devices).toBe(1);
    expect(aSummary.note).toMatch(/ePIE .* ran on one device .* of the 2 given/);
    const epieOne = await reconstructPtycho(await loadPtycho(data), { algorithm: 'epie', iterations: 2, contexts: await pool(1) });
    const epieObj = await readNpy(join(dir, 'x', 'object.npy'));
    expect(same(Float32Array.from(epieObj.data as Float32Array), epieOne.object.data)).toBe(true);
    // --partitions 2: one device and two devices write the same bytes.
    const outs = [];
    for (const devs of ['1', '2']) {
      const o = join(dir, `parts-${devs}`);
      const rp = await runCli(['--json', 'ptycho', 'recon', data, '-n', '4', '--partitions', '2', '--devices', devs, '-o', o]);
      expect(rp.code, show(rp)).toBe(0);
      expect(jsonLines(rp.stdout).find((l) => l.type === 'summary')!.partitions).toBe(2);
      outs.push(await readNpy(join(o, 'object.npy')));
    }
    expect(same(Float32Array.from(outs[0].data as Float32Array), Float32Array.from(outs[1].data as Float32Array))).toBe(true);
    const b = await runCli(['ptycho', 'recon', data, '--devices', 'two', '-o', join(dir, 'y')]);
    expect(b.code, show(b)).toBe(2);
    expect(b.stderr).toContain('--devices');
  }, 240_000);
});
