/**
 * Difference map and RAAR end to end: recovery of a simulated object and probe (noise-free and
 * with Poisson noise), determinism (bit-identical runs), and outputs written by the API.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulatePtycho } from '../../src/ptycho/simulate.js';
import { reconstructPtycho } from '../../src/ptycho/recon.js';
import { writePtychoResult } from '../../src/ptycho/output.js';
import { objectError, illuminatedRegion, probeError } from '../../src/ptycho/metrics.js';
import { readNpy } from '../../src/io/npy.js';
import { testContext } from '../helpers/gpu.js';

const dir = mkdtempSync(join(tmpdir(), 'webrecon-dm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('DM / RAAR on simulated scans (64² frames, 100 Fermat-spiral positions, sub-pixel)', () => {
  const sim = simulatePtycho({ frame: 64, positions: 100, photons: 0, seed: 3 });
  const region = illuminatedRegion(sim.probe, sim.geometry.positions, sim.geometry.objectShape, 0.3);

  it('DM, noise-free: recovers the object (< 2 % after global phase removal) and the probe (< 2 %) from a defocus-mismatched probe guess', async () => {
    const ctx = await testContext();
    const r = await reconstructPtycho(sim.dataset, { context: ctx, algorithm: 'dm', iterations: 100, probeUpdateStart: 2 });
    const oe = objectError(r.object, sim.object, region, 2);
    const pe = probeError(r.probe, sim.probe);
    console.log(`DM noise-free: Fourier error ${r.errors[0].toExponential(2)} → ${r.errors[99].toExponential(2)}, object error ${(100 * oe.error).toFixed(2)} % (shift ${oe.shift}), probe error ${(100 * pe).toFixed(2)} %`);
    expect(r.errors[99]).toBeLessThan(r.errors[0] / 1000);
    expect(oe.error).toBeLessThan(0.02);
    expect(pe).toBeLessThan(0.02);
    // outputs
    const out = join(dir, 'dm');
    await writePtychoResult(out, r);
    for (const f of ['object.npy', 'probe.npy', 'object_phase.tif', 'object_amplitude.tif', 'object_phase.png', 'object_amplitude.png', 'probe_amplitude.png', 'errors.png', 'metrics.json']) expect(existsSync(join(out, f)), f).toBe(true);
    const obj = await readNpy(join(out, 'object.npy'));
    expect(obj.dtype).toBe('<c8');
    expect(obj.shape).toEqual(sim.geometry.objectShape);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.fourierError).toHaveLength(100);
    expect(metrics.firstViewOffset).toEqual(sim.geometry.offset);
  });

  it('RAAR (default β = 0.9), noise-free: recovers the object and probe (< 2 %)', async () => {
    const ctx = await testContext();
    const r = await reconstructPtycho(sim.dataset, { context: ctx, algorithm: 'raar', iterations: 100, probeUpdateStart: 2 });
    const oe = objectError(r.object, sim.object, region, 2);
    const pe = probeError(r.probe, sim.probe);
    console.log(`RAAR noise-free: Fourier error ${r.errors[0].toExponential(2)} → ${r.errors[99].toExponential(2)}, object error ${(100 * oe.error).toFixed(2)} %, probe error ${(100 * pe).toFixed(2)} %`);
    expect(oe.error).toBeLessThan(0.02);
    expect(pe).toBeLessThan(0.02);
  });

  it('DM with Poisson noise (1e6 photons per frame), 5 dead pixels and the power bound at the Poisson floor: converges to the noise floor (object error < 8 %)', async () => {
    const ctx = await testContext();
    const noisy = simulatePtycho({ frame: 64, positions: 100, photons: 1e6, seed: 4, deadPixels: 5 });
    const reg = illuminatedRegion(noisy.probe, noisy.geometry.positions, noisy.geometry.objectShape, 0.3);
    const r = await reconstructPtycho(noisy.dataset, { context: ctx, algorithm: 'dm', iterations: 60, probeUpdateStart: 2, powerBound: 0.25 });
    const oe = objectError(r.object, noisy.object, reg, 2);
    console.log(`DM noisy: Fourier error ${r.errors[0].toExponential(2)} → ${r.errors[59].toExponential(2)}, object error ${(100 * oe.error).toFixed(2)} %`);
    expect(r.errors[59]).toBeLessThan(r.errors[0] / 20);
    expect(oe.error).toBeLessThan(0.08);
  });

  it('two probe modes on single-mode data: the Fourier error still falls and the object is recovered (< 8 % after 40 iterations)', async () => {
    const ctx = await testContext();
    const r = await reconstructPtycho(sim.dataset, { context: ctx, algorithm: 'dm', iterations: 40, probeUpdateStart: 2, modes: 2 });
    const oe = objectError(r.object, sim.object, region, 2);
    console.log(`DM 2 modes: Fourier error ${r.errors[0].toExponential(2)} → ${r.errors[39].toExponential(2)}, object error ${(100 * oe.error).toFixed(2)} %`);
    expect(r.probe.shape).toEqual([2, 64, 64]);
    expect(r.errors[39]).toBeLessThan(r.errors[0] / 100);
    expect(oe.error).toBeLessThan(0.08);
  });

  it('ePIE (sequential, seeded random order) and rPIE on a whole-pixel scan: object error < 10 % after 30 iterations', async () => {
    const ctx = await testContext();
    const whole = simulatePtycho({ frame: 64, positions: 100, photons: 0, seed: 3, integerPositions: true });
    const reg = illuminatedRegion(whole.probe, whole.geometry.positions, whole.geometry.objectShape, 0.3);
    for (const rpie of [1, 0.3]) {
      const r = await reconstructPtycho(whole.dataset, { context: ctx, algorithm: 'epie', iterations: 30, probeUpdateStart: 2, rpie, seed: 5 });
      const oe = objectError(r.object, whole.object, reg, 2);
      console.log(`${rpie === 1 ? 'ePIE' : 'rPIE γ=0.3'}: Fourier error ${r.errors[0].toExponential(2)} → ${r.errors[29].toExponential(2)}, object error ${(100 * oe.error).toFixed(2)} % (shift ${oe.shift}), ${r.iterationSeconds[10].toFixed(3)} s/iteration`);
      expect(r.errors[29]).toBeLessThan(r.errors[0] / 10);
      expect(oe.error).toBeLessThan(0.1);
    }
  });

  it('is deterministic: two runs give bit-identical object, probe and errors', async () => {
    const ctx = await testContext();
    const small = simulatePtycho({ frame: 32, positions: 40, photons: 1e5, seed: 9 });
    const run = () => reconstructPtycho(small.dataset, { context: ctx, algorithm: 'dm', iterations: 8, probeUpdateStart: 1 });
    const a = await run();
    const b = await run();
    expect(Buffer.compare(Buffer.from(a.object.data.buffer), Buffer.from(b.object.data.buffer))).toBe(0);
    expect(Buffer.compare(Buffer.from(a.probe.data.buffer), Buffer.from(b.probe.data.buffer))).toBe(0);
    expect(a.errors).toEqual(b.errors);
  });
});
