/**
 * Bad input through the built CLI: every case exits with code 2 and prints one line naming the
 * file (or flag) and the problem — no stack trace — and leaves no output file and no temporary
 * file behind; an existing output survives a run that fails.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTiff } from '../../src/io/tiff.js';
import { writeNpy } from '../../src/io/npy.js';
import { ensureBuilt, runCli, show, tempDir, type CliResult } from './cli.js';

const dir = tempDir('webrecon-cli-errors-');
const stack = join(dir, 'stack.tif'); // 10 projections of 2 rows x 16 columns
const ANGLES = '0:162:10';
let outCount = 0;

/** A fresh, empty output folder. */
function outDir(): string {
  const d = join(dir, `out${outCount++}`);
  mkdirSync(d);
  return d;
}

/**
 * Runs `webrecon <args>` expecting bad input: exit 2, nothing on stdout, exactly one line on
 * stderr ('webrecon: <names>: <problem>'), no stack trace, and `out` left as it was.
 */
async function expectBadInput(args: string[], names: string, problem: RegExp, out: string, before: string[] = []): Promise<CliResult> {
  const r = await runCli(args);
  expect(r.code, show(r)).toBe(2);
  expect(r.stdout, show(r)).toBe('');
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  expect(lines.length, show(r)).toBe(1);
  const line = lines[0]!;
  expect(line.startsWith('webrecon: '), line).toBe(true);
  expect(line, 'names the file or flag').toContain(names);
  expect(line).toMatch(problem);
  expect(line).not.toMatch(/internal error|Error:|\bat .*\.js:\d+/);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  // no output, no temporary file: the folder holds what it held before
  expect(readdirSync(out).sort()).toEqual([...before].sort());
  return r;
}

function recon(input: string | string[], out: string, ...extra: string[]): string[] {
  return ['tomo', 'recon', ...(Array.isArray(input) ? input : [input]), '--angles', ANGLES, ...extra, '-o', join(out, 'vol.tif')];
}

describe('bad input through the CLI: exit 2, one line naming the file and the problem, nothing written', () => {
  beforeAll(async () => {
    ensureBuilt();
    const d = new Float32Array(10 * 2 * 16);
    for (let i = 0; i < d.length; i++) d[i] = (i % 7) * 0.1;
    await writeTiff(stack, { data: d, shape: [10, 2, 16] });
  });

  it('a missing input file', async () => {
    const out = outDir();
    const missing = join(dir, 'no-such-file.tif');
    await expectBadInput(recon(missing, out), missing, /not found/, out);
  });

  it('an input that is not a TIFF', async () => {
    const out = outDir();
    const bad = join(dir, 'not-a-tiff.tif');
    writeFileSync(bad, 'this is text, not an image\n');
    await expectBadInput(recon(bad, out), bad, /not a TIFF/, out);
  });

  it('mixed image shapes in a list of TIFF files', async () => {
    const out = outDir();
    const a = join(dir, 'mix_1.tif');
    const b = join(dir, 'mix_2.tif');
    await writeTiff(a, { data: new Float32Array(2 * 16), shape: [2, 16] });
    await writeTiff(b, { data: new Float32Array(2 * 15), shape: [2, 15] });
    await expectBadInput(['tomo', 'recon', a, b, '--angles', '0:90:2', '-o', join(out, 'v.tif')], b, /mixed shapes/, out);
  });

  it('an angle count different from the projection count (range and file)', async () => {
    let out = outDir();
    await expectBadInput(['tomo', 'recon', stack, '--angles', '0:180:9', '-o', join(out, 'v.tif')], '--angles', /9 angles .*but 10 projections/, out);
    out = outDir();
    const file = join(dir, 'angles.txt');
    writeFileSync(file, Array.from({ length: 11 }, (_, i) => `${i * 18}`).join('\n'));
    await expectBadInput(['tomo', 'recon', stack, '--angles', file, '-o', join(out, 'v.tif')], file, /11 angles .*but 10 projections/, out);
  });

  it('NaN in a .npy input (file and index named)', async () => {
    const out = outDir();
    const npy = join(dir, 'nan.npy');
    const d = new Float32Array(10 * 2 * 16);
    d[3 * 32 + 16 + 5] = NaN; // projection 3, row 1, column 5
    await writeNpy(npy, { data: d, shape: [10, 2, 16] });
    await expectBadInput(recon(npy, out), npy, /NaN at \[3, 1, 5\]/, out);
  });

  it('an unsupported TIFF sample format (complex float)', async () => {
    const out = outDir();
    const cf = join(dir, 'complex.tif');
    await writeTiff(cf, { data: new Float32Array(2 * 16), shape: [2, 16] }, { imagej: false });
    const bytes = readFileSync(cf);
    const ifd = bytes.readUInt32LE(4);
    let patched = false;
    for (let k = 0; k < bytes.readUInt16LE(ifd); k++) {
      if (bytes.readUInt16LE(ifd + 2 + 12 * k) === 339) {
        bytes.writeUInt16LE(6, ifd + 2 + 12 * k + 8); // SampleFormat 6: complex float
        patched = true;
      }
    }
    expect(patched).toBe(true);
    writeFileSync(cf, bytes);
    await expectBadInput(['tomo', 'recon', cf, '--angles', '0:0:1', '-o', join(out, 'v.tif')], cf, /unsupported sample format/, out);
  });

  it('an unknown output extension (recon and simulate)', async () => {
    const out = outDir();
    const target = join(out, 'vol.xyz');
    await expectBadInput(['tomo', 'recon', stack, '--angles', ANGLES, '-o', target], target, /extension '\.xyz'.*\.tif/, out);
    await expectBadInput(['tomo', 'simulate', '--size', '8', '--angles', '0:90:3', '-o', join(out, 'tilt.tif'), '--truth', join(out, 'truth.png')], 'truth.png', /extension '\.png'/, out);
  });

  it('a bad --angles spec', async () => {
    const out = outDir();
    await expectBadInput(['tomo', 'recon', stack, '--angles', '0:180:ten', '-o', join(out, 'v.tif')], '--angles', /count 'ten' is not a positive integer/, out);
    await expectBadInput(['tomo', 'recon', stack, '--angles', '0:nan:10', '-o', join(out, 'v.tif')], '--angles', /stop 'nan' is not a finite number/, out);
    const missing = join(dir, 'no-angles.txt');
    await expectBadInput(['tomo', 'recon', stack, '--angles', missing, '-o', join(out, 'v.tif')], missing, /angle file not found/, out);
    const words = join(dir, 'words.tlt');
    writeFileSync(words, '0\n18\nthirty-six\n');
    await expectBadInput(['tomo', 'recon', stack, '--angles', words, '-o', join(out, 'v.tif')], words, /line 3: 'thirty-six' is not a number/, out);
  });

  it('bad --rows', async () => {
    const out = outDir();
    await expectBadInput(recon(stack, out, '--rows', '1:1'), '--rows', /empty/, out);
    await expectBadInput(recon(stack, out, '--rows', 'top'), '--rows', /expected start:stop/, out);
    await expectBadInput(recon(stack, out, '--rows', '0:5'), stack, /rows 0:5 are outside the 2 rows/, out);
  });

  it('an unknown --algorithm', async () => {
    const out = outDir();
    await expectBadInput(recon(stack, out, '--algorithm', 'mlem'), '--algorithm', /unknown algorithm 'mlem' \(known: art, sart, sirt, fbp\)/, out);
    await expectBadInput(['demo', '--algorithm', 'mlem', '-o', out], '--algorithm', /unknown algorithm 'mlem'/, out);
  });

  it('relaxation out of range, and other bad numbers', async () => {
    const out = outDir();
    await expectBadInput(recon(stack, out, '--algorithm', 'sirt', '--relaxation', '2.5'), '--relaxation', /\(0, 2\), got 2\.5/, out);
    await expectBadInput(recon(stack, out, '--algorithm', 'art', '--relaxation', '0'), '--relaxation', /\(0, 2\), got 0/, out);
    await expectBadInput(recon(stack, out, '--algorithm', 'art', '--relaxation', 'fast'), '--relaxation', /expected a number/, out);
    await expectBadInput(recon(stack, out, '--iterations', '0'), '--iterations', /positive integer/, out);
    await expectBadInput(recon(stack, out, '--center', 'left'), '--center', /expected a number/, out);
    await expectBadInput(recon(stack, out, '--algorithm', 'fbp', '--filter', 'gauss'), '--filter', /gauss/, out);
    await expectBadInput(['--backend', 'glide', 'info'], '--backend', /unknown backend 'glide'/, out);
    await expectBadInput(['--backend', 'glide', ...recon(stack, out)], '--backend', /unknown backend 'glide'/, out);
  });

  it('a volume that cannot fit in memory (tomo recon --size, demo --size)', async () => {
    const out = outDir();
    await expectBadInput(recon(stack, out, '--size', '200000'), '--size', /the volume \[2, 200000, 200000\].*reduce --size or --rows/, out);
    await expectBadInput(['demo', '--size', '5000', '-o', join(out, 'demo')], '--size', /5000³ volume has more voxels than one array can hold/, out);
  });

  it('tomo simulate: bad flags', async () => {
    const out = outDir();
    const sim = (...extra: string[]) => ['tomo', 'simulate', '--size', '16', '--angles', '0:90:4', '-o', join(out, 'tilt.tif'), ...extra];
    await expectBadInput(sim('--phantom', 'cube'), '--phantom', /unknown phantom 'cube'/, out);
    await expectBadInput(sim('--noise', '-5'), '--noise', /positive number, got -5/, out);
    await expectBadInput(sim('--rows', '0'), '--rows', /positive integer/, out);
    await expectBadInput(sim('--truth', join(out, 'tilt.tif')), 'tilt.tif', /same file/, out);
    await expectBadInput(['tomo', 'simulate', '--size', '16', '--angles', '0:90', '-o', join(out, 'tilt.tif')], '0:90', /angle file not found/, out);
  });

  it('an output path blocked by a file, or that is a folder', async () => {
    const out = outDir();
    writeFileSync(join(out, 'file'), 'x');
    await expectBadInput(['tomo', 'recon', stack, '--angles', ANGLES, '-o', join(out, 'file', 'vol.tif')], 'vol.tif', /is a file, not a folder/, out, ['file']);
    mkdirSync(join(out, 'dir.tif'));
    await expectBadInput(['tomo', 'recon', stack, '--angles', ANGLES, '-o', join(out, 'dir.tif')], 'dir.tif', /is a folder/, out, ['file', 'dir.tif']);
    await expectBadInput(recon(stack, out, '--preview', join(out, 'file', 'p.png')), 'p.png', /is a file, not a folder/, out, ['file', 'dir.tif']);
    await expectBadInput(['demo', '--size', '8', '-o', join(out, 'file')], 'volume.tif', /is a file, not a folder/, out, ['file', 'dir.tif']);
  });

  it('--debug adds the stack trace to the same message', async () => {
    const out = outDir();
    const missing = join(dir, 'debug-missing.tif');
    const r = await runCli(['--debug', ...recon(missing, out)]);
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`webrecon: ${missing}: file not found`);
    expect(r.stderr).toMatch(/^\s+at .*input\.js:\d+/m);
  });

  it('GPU trouble (an adapter name that does not exist) is exit 3, not bad input', async () => {
    const r = await runCli(['--json', '--adapter', 'no such gpu 42', 'info']);
    expect(r.code, show(r)).toBe(3);
    const e = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(e).toMatchObject({ type: 'error', kind: 'no-adapter', exitCode: 3 });
    expect(r.stderr).toMatch(/^webrecon: .*no such gpu 42/m);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('--json: the error is one JSON line on stdout (and a line on stderr), exit 2', async () => {
    const out = outDir();
    const missing = join(dir, 'gone.tif');
    const r = await runCli(['--json', ...recon(missing, out)]);
    expect(r.code, show(r)).toBe(2);
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines.length, show(r)).toBe(1);
    const e = JSON.parse(lines[0]!);
    expect(e).toMatchObject({ type: 'error', kind: 'input', exitCode: 2 });
    expect(e.message).toContain(missing);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(out)).toEqual([]);
  });

  it('an existing output survives runs that fail after reading (bad --initial shape, bad --truth shape)', async () => {
    const out = outDir();
    const target = join(out, 'vol.tif');
    const sentinel = 'SENTINEL: a previous good result\n';
    writeFileSync(target, sentinel);
    // right type, wrong shape: [2, 8, 8] where the reconstruction is [2, 16, 16]
    const initial = join(out, 'initial.npy');
    await writeNpy(initial, { data: new Float32Array(2 * 8 * 8), shape: [2, 8, 8] });
    await expectBadInput(['tomo', 'recon', stack, '--angles', ANGLES, '--algorithm', 'sirt', '--initial', initial, '-o', target], initial, /shape \[2, 8, 8\] but this reconstruction is \[2, 16, 16\]/, out, ['vol.tif', 'initial.npy']);
    expect(readFileSync(target, 'utf8')).toBe(sentinel);
    await expectBadInput(['tomo', 'recon', stack, '--angles', ANGLES, '--truth', initial, '-o', target], initial, /truth volume has shape \[2, 8, 8\]/, out, ['vol.tif', 'initial.npy']);
    expect(readFileSync(target, 'utf8')).toBe(sentinel);
    // and a good run replaces it
    const ok = await runCli(['tomo', 'recon', stack, '--angles', ANGLES, '--algorithm', 'fbp', '-o', target]);
    expect(ok.code, show(ok)).toBe(0);
    expect(readFileSync(target).subarray(0, 2).toString()).toBe('II');
    expect(readdirSync(out).sort()).toEqual(['initial.npy', 'vol.tif']);
  });
});
