/**
 * Ptychography partitions (src/ptycho/partition.ts) hosted in worker processes
 * (src/gpu/worker/ptycho-*.ts): the distributed DM/RAAR coordinator (src/ptycho/distributed.ts)
 * given worker devices from the pool creates RemoteDmPartitions for them and gives bit for bit
 * what it gives with the same number of in-process devices; a worker killed mid-run restarts the
 * run on the device left; reconstructPtycho and `webrecon ptycho recon` take such pools.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureBuilt, jsonLines, runCli, show, tempDir } from '../cli/cli.js';
import { join } from 'node:path';
import { loadPtycho } from '../../src/ptycho/load.js';
import { reconstructPtycho } from '../../src/ptycho/recon.js';
import { readNpy } from '../../src/io/npy.js';
import type { GpuContext } from '../../src/gpu/context.js';
import { acquireDevices, closeDevices, type PoolDevice } from '../../src/gpu/pool.js';
import type { WorkerDevice } from '../../src/gpu/worker/device.js';
import { RemoteDmPartition } from '../../src/gpu/worker/ptycho-client.js';
import { runDistributedDm } from '../../src/ptycho/distributed.js';
import { simulatePtycho } from '../../src/ptycho/simulate.js';
import { relL2 } from '../helpers/gpu.js';

const opened: PoolDevice[] = [];
afterAll(() => closeDevices(opened));
afterEach(() => vi.restoreAllMocks());

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

describe('DM partitions in worker processes', () => {
  const sim = simulatePtycho({ frame: 32, positions: 36, photons: 1e5, seed: 5 });
  const opts = { variant: 'dm' as const, iterations: 3, probeStart: 1 };
  let local: GpuContext[];
  let workers: PoolDevice[];

  beforeAll(async () => {
    ensureBuilt();
    local = (await acquireDevices({ devices: 2 })) as GpuContext[];
    workers = await acquireDevices({ devices: 2, processPerDevice: true });
    opened.push(...local, ...workers);
  });

  it('1 and 2 worker processes give the object, probe and errors of 1 and 2 in-process devices bit for bit', async () => {
    const remoteCreate = vi.spyOn(RemoteDmPartition, 'create');
    const objects: Float32Array[] = [];
    for (const parts of [1, 2]) {
      const inProcess = await runDistributedDm(local.slice(0, parts), sim.dataset, opts);
      const remote = await runDistributedDm(workers.slice(0, parts), sim.dataset, opts);
      expect(remote.devices).toBe(parts);
      expect(same(remote.object.data, inProcess.object.data), `${parts} devices`).toBe(true);
      expect(same(remote.probe.data, inProcess.probe.data), `${parts} devices`).toBe(true);
      expect(remote.errors).toEqual(inProcess.errors);
      expect(remote.reductionBytesPerIteration).toBe(inProcess.reductionBytesPerIteration);
      objects.push(remote.object.data);
    }
    // 1 vs 2 worker processes: the split changes only the order of float32 sums (see test/ptycho/devices.test.ts).
    const diff = relL2(objects[1], objects[0]);
    console.log(`DM, 1 vs 2 worker processes after ${opts.iterations} iterations: relative L2 ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-5);
    // One remote partition per worker and run (1 + 2), none in this process for them.
    expect(remoteCreate.mock.calls.length).toBe(3);
  });

  it('a worker killed mid-run: the run restarts on the device left, as with a lost in-process device', async () => {
    const reference = await runDistributedDm([local[0]], sim.dataset, opts);
    const [victim] = (await acquireDevices({ workers: [{}] })) as WorkerDevice[];
    opened.push(victim);
    let killed = false;
    const r = await runDistributedDm([local[0], victim], sim.dataset, {
      ...opts,
      onProgress: (e) => {
        if (e.iteration === 1 && !killed) {
          killed = true;
          victim.kill();
        }
      },
    });
    expect(killed).toBe(true);
    expect(r.devices).toBe(1);
    expect(r.droppedDevices.length).toBe(1);
    expect(same(r.object.data, reference.object.data)).toBe(true);
    expect(r.errors).toEqual(reference.errors);
  });
});

describe('reconstructPtycho and webrecon ptycho recon with worker-process devices', () => {
  const dir = tempDir('webrecon-ptycho-workers-');
  it('the API and the CLI (--process-per-device, --device-env) give the in-process 2-device object bit for bit; ePIE refuses a pool of workers only (exit 2)', async () => {
    ensureBuilt();
    const data = join(dir, 'sim');
    expect((await runCli(['ptycho', 'simulate', '--frame', '32', '--positions', '30', '--photons', '1e6', '-o', data])).code).toBe(0);
    const dataset = await loadPtycho(data);
    const local2 = (await acquireDevices({ devices: 2 })) as GpuContext[];
    opened.push(...local2);
    const inProcess = await reconstructPtycho(dataset, { iterations: 3, contexts: local2 });
    // API: a pool of worker processes it opens (and closes) itself.
    const viaApi = await reconstructPtycho(dataset, { iterations: 3, devices: 2, processPerDevice: true });
    expect(viaApi.devices).toBe(2);
    expect(same(viaApi.object.data, inProcess.object.data)).toBe(true);
    // CLI: two worker processes, and one in-process device plus one worker with its own environment.
    for (const flags of [['--devices', '2', '--process-per-device'], ['--devices', '1', '--device-env', 'WEBRECON_TEST_WORKER=1']]) {
      const out = join(dir, flags.join('_').replace(/[^a-zA-Z0-9_]/g, ''));
      const r = await runCli(['--json', 'ptycho', 'recon', data, '-n', '3', ...flags, '-o', out]);
      expect(r.code, show(r)).toBe(0);
      const summary = jsonLines(r.stdout).find((l) => l.type === 'summary')!;
      expect(summary.devices, flags.join(' ')).toBe(2);
      const obj = await readNpy(join(out, 'object.npy'));
      expect(same(Float32Array.from(obj.data as Float32Array), inProcess.object.data), flags.join(' ')).toBe(true);
    }
    const e = await runCli(['ptycho', 'recon', data, '-a', 'epie', '-n', '1', '--process-per-device', '-o', join(dir, 'epie')]);
    expect(e.code, show(e)).toBe(2);
    expect(e.stderr).toMatch(/ePIE runs on one device in this process .* every device given is a worker process/);
  }, 240_000);
});
