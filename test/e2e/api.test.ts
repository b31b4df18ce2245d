/**
 * The public API as a user's program meets it: a separate Node process imports 'webrecon'
 * (through node_modules/webrecon → this package, so package.json "exports" and the built
 * dist/ are what is tested) and runs the index.ts example on the real I13 data: load a TIFF
 * folder with dark/flat, read the angle file, reconstruct with the centre found automatically,
 * write the volume. Bad input arrives as a typed InputError naming the file.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readVolume } from '../../src/io/volume.js';
import { DATA, ROOT, allFinite, ensureBuilt, tempDir } from '../cli/cli.js';

const dir = tempDir('webrecon-api-');
const I13 = join(DATA, 'tomo', 'i13-24737');

const program = `
import { GpuContext, InputError, loadProjections, readAngles, reconstructTomo, writeVolume, readVolume, TOMO_ALGORITHMS } from 'webrecon';
const [i13, out] = process.argv.slice(2);
const result = { algorithms: [...TOMO_ALGORITHMS] };
try {
  await loadProjections([i13 + '/no-such-folder']);
} catch (e) {
  result.error = { isInputError: e instanceof InputError, file: e.file, exitCode: e.exitCode, message: e.message };
}
const ctx = await GpuContext.acquire();
try {
  const input = await loadProjections([i13 + '/projections'], { flat: i13 + '/flat_00001.tiff', dark: i13 + '/dark_00001.tiff', rows: [80, 84] });
  const angles = await readAngles(i13 + '/projection_angles_deg.txt', input.projections.shape[0]);
  const events = [];
  const r = await reconstructTomo(ctx, input.projections, { algorithm: 'sirt', anglesDeg: angles, flat: input.flat, dark: input.dark, center: 'auto', iterations: 4, onProgress: (e) => events.push(e) });
  await writeVolume(out, r.volume);
  const back = await readVolume(out);
  Object.assign(result, { center: r.geometry.center, centerMethod: r.centerMethod, shape: r.volume.shape, residuals: r.residuals, stages: events.map((e) => e.stage), timings: r.timings, backShape: back.shape, device: ctx.info.description });
} finally {
  ctx.destroy();
}
process.stdout.write(JSON.stringify(result) + '\\n');
`;

function runNode(script: string, args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(!existsSync(join(I13, 'projections')))("the public API, imported as 'webrecon' by a separate program", () => {
  beforeAll(() => {
    ensureBuilt();
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules', 'webrecon'), 'dir');
    writeFileSync(join(dir, 'app.mjs'), program);
  });
  // remove the link to the repository before the temporary folder is deleted
  afterAll(() => unlinkSync(join(dir, 'node_modules', 'webrecon')));

  it('loads I13 (rows 80:84), finds the centre near 86, reconstructs with SIRT and writes the volume; a missing folder is an InputError', async () => {
    const out = join(dir, 'vol.tif');
    const r = await runNode(join(dir, 'app.mjs'), [I13, out], dir);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
    console.log(`API, I13 rows 80:84: centre ${res.center} (${res.centerMethod})`);
    expect(res.algorithms).toEqual(['art', 'sart', 'sirt', 'fbp']);
    expect(res.error).toMatchObject({ isInputError: true, exitCode: 2, file: join(I13, 'no-such-folder') });
    expect(res.error.message).toMatch(/not found/);
    expect(Math.abs(res.center - 86)).toBeLessThanOrEqual(1);
    expect(res.shape).toEqual([4, 160, 160]);
    expect(res.backShape).toEqual([4, 160, 160]);
    expect(res.residuals).toHaveLength(4);
    expect(res.residuals[3]).toBeLessThan(res.residuals[0]);
    expect(res.stages).toEqual(expect.arrayContaining(['preprocess', 'center', 'sirt']));
    expect(Object.keys(res.timings)).toEqual(expect.arrayContaining(['preprocess', 'center', 'reconstruct']));
    const vol = await readVolume(out);
    expect(allFinite(vol.data)).toBe(true);
  });
});
