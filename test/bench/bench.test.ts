/**
 * The benchmark entry (bench/run.ts) end to end at a tiny size: every workload runs, the JSON
 * lands where --out says with the expected fields and finite numbers, and the saved result
 * prints again as text and Markdown.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main, parseBenchArgs, WORKLOAD_NAMES } from '../../bench/run.js';
import type { BenchResult } from '../../bench/types.js';

function expectFinite(v: unknown, what: string): void {
  expect(typeof v, what).toBe('number');
  expect(Number.isFinite(v as number), `${what} = ${String(v)}`).toBe(true);
}

describe('bench', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('parses its flags', () => {
    expect(parseBenchArgs([]).size).toBe(256);
    expect(parseBenchArgs(['--quick']).size).toBe(128);
    expect(parseBenchArgs(['--quick', '--size', '32']).size).toBe(32);
    expect(parseBenchArgs(['--only', 'fbp,art1']).only).toEqual(['art1', 'fbp']);
    expect(() => parseBenchArgs(['--only', 'nope'])).toThrow(/unknown workload/);
    expect(() => parseBenchArgs(['--iterations-scale', '0'])).toThrow(/iterations-scale/);
  });

  it('runs every workload at --size 32 --quick and writes complete JSON', async () => {
    dir = await mkdtemp(join(tmpdir(), 'webrecon-bench-test-'));
    const out = join(dir, 'result.json');
    const printed: string[] = [];
    const code = await main(['--size', '32', '--quick', '--quiet', '--out', out], (s) => printed.push(s));
    expect(code).toBe(0);
    const r = JSON.parse(await readFile(out, 'utf8')) as BenchResult;

    expect(r.schema).toBe('webrecon-bench/1');
    expect(Number.isNaN(Date.parse(r.date))).toBe(false);
    expect(r.node).toBe(process.version);
    expect(typeof r.adapter.description).toBe('string');
    expect(typeof r.adapter.backend).toBe('string');
    expect(r.machine.cpuCount).toBeGreaterThan(0);
    expect(r.machine.cpuModel.length).toBeGreaterThan(0);
    expectFinite(r.machine.memoryBytes, 'memoryBytes');
    expect(r.params).toMatchObject({ size: 32, rows: 32, cols: 32, angles: 74, quick: true, cpuSlices: 8 });
    expectFinite(r.simulateSeconds, 'simulateSeconds');
    expectFinite(r.warmupSeconds, 'warmupSeconds');
    expectFinite(r.totalSeconds, 'totalSeconds');

    expect(r.workloads.map((w) => w.name)).toEqual(WORKLOAD_NAMES);
    for (const w of r.workloads) {
      const at = (f: string) => `${w.name}.${f}`;
      expect(w.voxelUpdatesPerIteration).toBe(74 * 32 * 32 * 32);
      for (const f of ['seconds', 'secondsPerIteration', 'voxelUpdatesPerSecond'] as const) {
        expectFinite(w.gpu[f], at(`gpu.${f}`));
        expect(w.gpu[f]).toBeGreaterThan(0);
      }
      if (w.gpu.kernelSeconds !== null) expectFinite(w.gpu.kernelSeconds, at('gpu.kernelSeconds'));
      expectFinite(w.errorVsTruth, at('errorVsTruth'));
      expect(w.errorVsTruth).toBeLessThan(1);
      expect(w.cpu).not.toBeNull();
      for (const f of ['seconds', 'secondsPerIteration', 'voxelUpdatesPerSecond', 'errorVsTruthSubset', 'relativeDifferenceVsGpu'] as const) expectFinite(w.cpu![f], at(`cpu.${f}`));
      expect(w.cpu!.scaled).toBe(true);
      // the CPU baseline computes the same algorithm as the GPU
      expect(w.cpu!.relativeDifferenceVsGpu).toBeLessThan(1e-3);
      expectFinite(w.speedup!.perIteration, at('speedup.perIteration'));
      expectFinite(w.speedup!.total, at('speedup.total'));
      if (w.algorithm === 'art') {
        expect(w.tomopy).toMatchObject({ secondsPerIteration: 2.8, targetRatio: 2, comparable: false });
        expectFinite(w.tomopy!.ratio, at('tomopy.ratio'));
      } else expect(w.tomopy).toBeNull();
      if (w.algorithm !== 'fbp') {
        expect(w.gpu.residuals.length).toBe(w.iterations);
        expect(w.gpu.iterationSeconds.length).toBe(w.iterations);
      }
      expect(w.io === null).toBe(w.name !== 'art5');
    }
    const io = r.workloads.find((w) => w.name === 'art5')!.io!;
    for (const f of ['readSeconds', 'reconstructSeconds', 'writeSeconds', 'totalSeconds'] as const) expectFinite(io[f], `io.${f}`);
    expect(io.inputBytes).toBeGreaterThan(74 * 32 * 32 * 4);
    expect(io.outputBytes).toBeGreaterThan(32 * 32 * 32 * 4);

    // the table: one line per workload, and the same again from the saved JSON, in Markdown
    expect(printed.join('\n')).toMatch(/sirt20/);
    const md: string[] = [];
    expect(await main(['--from', out, '--markdown'], (s) => md.push(s))).toBe(0);
    const lines = md.join('\n').split('\n');
    expect(lines[0]).toMatch(/^\| workload \|/);
    expect(lines.filter((l) => /^\| (art1|art5|sirt20|fbp) \|/.test(l))).toHaveLength(4);
  }, 60_000);
});
