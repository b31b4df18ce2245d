/**
 * Worker-process devices (src/gpu/worker/): the same volumes as in-process devices, bit for bit
 * (same kernels, same per-slice arithmetic), for 2 worker processes and for a mixed pool; a
 * worker that dies mid-run has its wave redone on the others; a worker that cannot open a device
 * fails with a clear error; errors and progress cross the process boundary intact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { freshSeed, randomArray } from '../helpers/gpu.js';
import { ensureBuilt } from '../cli/cli.js';
import { GpuError, InputError } from '../../src/core/errors.js';
import type { ProgressEvent } from '../../src/core/progress.js';
import { acquireDevices, closeDevices, isWorkerDevice, parseDeviceEnv, type PoolDevice } from '../../src/gpu/pool.js';
import { WorkerDevice } from '../../src/gpu/worker/device.js';
import { TEST_EXIT_CODE, TEST_EXIT_ENV } from '../../src/gpu/worker/protocol.js';
import { makeGeometry } from '../../src/tomo/geometry.js';
import { reconstructIterative } from '../../src/tomo/iterative.js';
import { reconstructTomo } from '../../src/tomo/recon.js';

const opened: PoolDevice[] = [];
async function pool(options: Parameters<typeof acquireDevices>[0]): Promise<PoolDevice[]> {
  const p = await acquireDevices(options!);
  opened.push(...p);
  return p;
}
afterAll(() => closeDevices(opened));

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

describe('worker-process devices', () => {
  const rows = 11;
  const cols = 24;
  const angles = Array.from({ length: 15 }, (_, i) => -70 + 10 * i);
  const g = makeGeometry(angles, rows, cols, { center: 12.3 });
  const shape: [number, number, number] = [angles.length, rows, cols];
  let local1: PoolDevice[];
  let local2: PoolDevice[];
  let workers2: PoolDevice[];
  let mixed: PoolDevice[];

  beforeAll(async () => {
    ensureBuilt(); // the workers run dist/src/gpu/worker/host.js
    local1 = await pool({ devices: 1 });
    local2 = await pool({ devices: 2 });
    workers2 = await pool({ devices: 2, processPerDevice: true });
    mixed = await pool({ devices: 1, workers: [{}] });
  });

  it('the pool says which devices are worker processes, each with its own pid and adapter', () => {
    expect(workers2.map(isWorkerDevice)).toEqual([true, true]);
    expect(mixed.map(isWorkerDevice)).toEqual([false, true]);
    const pids = workers2.map((d) => (d as WorkerDevice).pid);
    expect(new Set([...pids, process.pid]).size).toBe(3);
    expect(workers2[0].info.description).toBe(local1[0].info.description);
  });

  it('ART, SART and SIRT: 2 worker processes and a mixed pool give the 1-device volume bit for bit, with the same iteration events', async () => {
    const seed = freshSeed();
    const b = randomArray(angles.length * rows * cols, seed, 0, 1);
    const initial = randomArray(rows * cols * cols, seed + 1, 0, 0.01);
    for (const alg of ['art', 'sart', 'sirt'] as const) {
      const opts = { iterations: 3, nonNegative: true, order: 'random' as const, seed: 5, blockSize: 4, initial: { data: initial, shape: [rows, cols, cols] as [number, number, number] } };
      const events = new Map<string, ProgressEvent[]>();
      const run = async (name: string, p: PoolDevice[]) => {
        const ev: ProgressEvent[] = [];
        events.set(name, ev);
        return reconstructIterative(p, { data: b, shape }, g, alg, { ...opts, onProgress: (e) => ev.push(e) });
      };
      const r1 = await run('one', local1);
      const rl2 = await run('local2', local2);
      const rw2 = await run('workers2', workers2);
      const rm = await run('mixed', mixed);
      expect(rw2.devices).toBe(2);
      expect(rw2.waves).toBe(2);
      expect(same(rw2.volume.data, r1.volume.data), `${alg}, seed ${seed}`).toBe(true);
      expect(same(rm.volume.data, r1.volume.data), `${alg}, seed ${seed}`).toBe(true);
      // Two waves' float64 sums, whichever process computed them: the residuals of 2 in-process devices exactly.
      expect(rw2.residuals).toEqual(rl2.residuals);
      expect(rm.residuals).toEqual(rl2.residuals);
      const strip = (ev: ProgressEvent[]) => ev.map((e) => [e.stage, e.iteration, e.of, e.residual]);
      expect(strip(events.get('workers2')!)).toEqual(strip(events.get('local2')!));
      expect(strip(events.get('mixed')!).length).toBe(3);
      rw2.residuals.forEach((r, i) => expect(Math.abs(r - r1.residuals[i]) / r1.residuals[i]).toBeLessThan(1e-6));
    }
  });

  it('FBP: 2 worker processes and a mixed pool give the 1-device volume bit for bit', async () => {
    const seed = freshSeed();
    const b = randomArray(angles.length * rows * cols, seed, 0, 1);
    const opts = { algorithm: 'fbp' as const, anglesDeg: angles, center: 12.3, filter: 'hann' };
    const r1 = await reconstructTomo(local1, { data: b, shape }, opts);
    const rw2 = await reconstructTomo(workers2, { data: b, shape }, opts);
    const rm = await reconstructTomo(mixed, { data: b, shape }, opts);
    expect(same(rw2.volume.data, r1.volume.data), `seed ${seed}`).toBe(true);
    expect(same(rm.volume.data, r1.volume.data), `seed ${seed}`).toBe(true);
  });

  it('an all-worker pool preprocesses (flat, dark, -log) and finds the centre in a worker: the same result as in-process', async () => {
    const seed = freshSeed();
    const flat = { data: randomArray(rows * cols, seed, 900, 1000), shape: [rows, cols] };
    const dark = { data: randomArray(rows * cols, seed + 1, 0, 10), shape: [rows, cols] };
    const raw = randomArray(angles.length * rows * cols, seed + 2, 200, 800);
    const opts = { algorithm: 'sirt' as const, iterations: 2, anglesDeg: angles, center: 'auto' as const, flat, dark };
    const r1 = await reconstructTomo(local1, { data: raw, shape }, opts);
    const rw = await reconstructTomo(workers2, { data: raw, shape }, opts);
    expect(rw.geometry.center).toBe(r1.geometry.center);
    expect(rw.centerMethod).toBe(r1.centerMethod);
    expect(same(rw.volume.data, r1.volume.data), `seed ${seed}`).toBe(true);
  });

  it('a worker that dies mid-run: its wave is redone on the others, the volume is still bit-identical', async () => {
    const seed = freshSeed();
    const b = randomArray(angles.length * rows * cols, seed, 0, 1);
    const reference = await reconstructIterative(local1, { data: b, shape }, g, 'art', { iterations: 4 });
    // Worker 2 exits after reporting its 2nd iteration (the test hook), as a crashed process would.
    const p = await pool({ devices: 1, workers: [{}, { env: { [TEST_EXIT_ENV]: '2' } }] });
    const r = await reconstructIterative(p, { data: b, shape }, g, 'art', { iterations: 4 });
    const dead = p[2] as WorkerDevice;
    expect(dead.alive).toBe(false);
    expect(dead.lostError).toBeInstanceOf(GpuError);
    expect(dead.lostError!.kind).toBe('device-lost');
    expect(dead.lostError!.message).toMatch(new RegExp(`GPU worker 2 .*pid ${dead.pid}.*exited with code ${TEST_EXIT_CODE} during tomo.sweep.run`));
    expect(same(r.volume.data, reference.volume.data), `seed ${seed}`).toBe(true);
    r.residuals.forEach((x, i) => expect(Math.abs(x - reference.residuals[i]) / reference.residuals[i]).toBeLessThan(1e-6));
    // A call to a dead worker fails at once with the same error.
    await expect(dead.call('tomo.sweep.close', { handle: 1 })).rejects.toBe(dead.lostError);
  });

  it('FBP with a worker that dies: its rows are redone on the other device', async () => {
    const seed = freshSeed();
    const b = randomArray(angles.length * rows * cols, seed, 0, 1);
    const opts = { algorithm: 'fbp' as const, anglesDeg: angles, center: 12.3 };
    const reference = await reconstructTomo(local1, { data: b, shape }, opts);
    const p = await pool({ workers: [{ env: { [TEST_EXIT_ENV]: '1' } }, {}] });
    const r = await reconstructTomo(p, { data: b, shape }, opts);
    expect((p[0] as WorkerDevice).alive).toBe(false);
    expect(same(r.volume.data, reference.volume.data), `seed ${seed}`).toBe(true);
  });

  it('every worker dead: a GPU error, not a partial volume', async () => {
    const b = randomArray(angles.length * rows * cols, 3, 0, 1);
    const p = await pool({ workers: [{ env: { [TEST_EXIT_ENV]: '1' } }] });
    const err = await reconstructIterative(p, { data: b, shape }, g, 'art', { iterations: 3 }).catch((e) => e);
    expect(err).toBeInstanceOf(GpuError);
    expect(err.message).toMatch(/GPU worker 1 .*exited with code/);
  });

  it('a worker that cannot open a device: a clear error naming the worker, its environment and the cause', async () => {
    const err = await acquireDevices({ workers: [{ adapter: 'no-such-adapter-xyz', env: { WEBRECON_TEST_MARK: 'a' } }] }).catch((e) => e);
    expect(err).toBeInstanceOf(GpuError);
    expect(err.kind).toBe('no-adapter');
    expect(err.message).toMatch(/GPU worker 1 \(WEBRECON_TEST_MARK=a\) could not open a GPU device: .*no-such-adapter-xyz/);
    // A Vulkan loader shown no driver, core Vulkan required: no adapter.
    const err2 = await acquireDevices({ devices: 1, workers: [{ backend: 'vulkan', featureLevel: 'core', env: { VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json' } }] }).catch((e) => e);
    expect(err2).toBeInstanceOf(GpuError);
    expect(err2.message).toMatch(/GPU worker 1 \(VK_ICD_FILENAMES=\/nonexistent\/icd.json VK_DRIVER_FILES=\/nonexistent\/icd.json\) could not open a GPU device/);
  });

  // Mesa's device-select layer (installed with Mesa's Vulkan drivers, which CI's lavapipe is) reads
  // the worker's own environment: proof that the variables reach the worker's Vulkan loader.
  it.skipIf(!existsSync('/usr/share/vulkan/implicit_layer.d/VkLayer_MESA_device_select.json'))(
    "a worker's environment reaches its Vulkan loader (Mesa's device-select layer)",
    async () => {
      const listed = await acquireDevices({ workers: [{ backend: 'vulkan', env: { MESA_VK_DEVICE_SELECT: 'list' } }] }).catch((e) => e);
      expect(listed).toBeInstanceOf(GpuError);
      expect(listed.message).toMatch(/GPU worker 1 \(MESA_VK_DEVICE_SELECT=list\) exited with code 0 before opening a GPU device; its last output: .*selectable devices/);
      // The software adapter's vendor:device as the layer prints it, the only device shown.
      const id = /GPU 0: ([0-9a-f]+:[0-9a-f]+)/.exec(listed.message)?.[1];
      expect(id).toBeDefined();
      const [w] = await pool({ workers: [{ backend: 'vulkan', env: { MESA_VK_DEVICE_SELECT: id, MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE: '1' } }] });
      expect(w.info.description).toBe(local1[0].info.description);
    },
  );

  it('errors cross the process boundary with their class and message; a throwing progress handler fails the call', async () => {
    const w = workers2[0] as WorkerDevice;
    const raw = { data: randomArray(angles.length * rows * cols, 1, 1, 2), shape };
    const dark = { data: new Float32Array(rows * cols), shape: [rows, cols] };
    const local = await reconstructTomo(local1, raw, { algorithm: 'fbp', anglesDeg: angles, dark, source: 'scan.h5' }).catch((e) => e);
    const remote = await reconstructTomo([w], raw, { algorithm: 'fbp', anglesDeg: angles, dark, source: 'scan.h5' }).catch((e) => e);
    expect(local).toBeInstanceOf(InputError);
    expect(remote).toBeInstanceOf(InputError);
    expect(remote.message).toBe(local.message);
    expect(remote.file).toBe('scan.h5');
    await expect(w.call('no.such.service', {})).rejects.toThrow(/unknown service 'no.such.service'/);
    const b = randomArray(angles.length * rows * cols, 2, 0, 1);
    await expect(reconstructIterative([w], { data: b, shape }, g, 'art', { iterations: 2, onProgress: () => { throw new Error('handler failed'); } })).rejects.toThrow('handler failed');
    // The worker is still fine afterwards.
    const again = await reconstructIterative([w], { data: b, shape }, g, 'art', { iterations: 2 });
    const ref = await reconstructIterative(local1, { data: b, shape }, g, 'art', { iterations: 2 });
    expect(same(again.volume.data, ref.volume.data)).toBe(true);
  });

  it('a clean shutdown ends the worker process', async () => {
    const [w] = (await acquireDevices({ workers: [{}] })) as WorkerDevice[];
    expect(w.alive).toBe(true);
    await w.close();
    expect(w.alive).toBe(false);
    expect(() => process.kill(w.pid, 0)).toThrow();
    await expect(w.call('tomo.sweep.close', { handle: 1 })).rejects.toThrow(/GPU worker 1 .*exited with code 0|shut down/);
  });

  it('--device-env values parse into environments; bad ones are input errors naming the flag', () => {
    expect(parseDeviceEnv('MESA_VK_DEVICE_SELECT=1002:73bf,DRI_PRIME=1')).toEqual({ MESA_VK_DEVICE_SELECT: '1002:73bf', DRI_PRIME: '1' });
    expect(parseDeviceEnv('-')).toEqual({});
    expect(parseDeviceEnv('A=')).toEqual({ A: '' });
    expect(() => parseDeviceEnv('novalue')).toThrow(/--device-env/);
    expect(() => parseDeviceEnv('1A=2')).toThrow(InputError);
  });
});
