/**
 * The progress display on a terminal: run under a pseudo-terminal (util-linux `script`), the
 * bar is redrawn in place with '\r', every finished stage keeps its own line, and the summary
 * starts on a fresh line (stdout and stderr share the terminal there). The non-terminal case
 * (plain lines on stderr, summary on stdout) is covered in test/e2e/roundtrip.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeTiff } from '../../src/io/tiff.js';
import { CLI, DAWN_NOTICE, ensureBuilt, tempDir } from './cli.js';

const dir = tempDir('webrecon-tty-');
const haveScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

describe('progress bar on a terminal', () => {
  beforeAll(() => ensureBuilt());

  it.skipIf(!haveScript)('redraws the bar in place and ends each stage line before the next output (needs util-linux script)', async () => {
    const tilt = join(dir, 'tilt.tif');
    const d = new Float32Array(12 * 2 * 24);
    for (let i = 0; i < d.length; i++) d[i] = (i % 11) * 0.05;
    await writeTiff(tilt, { data: d, shape: [12, 2, 24] });
    const cmd = [process.execPath, CLI, 'tomo', 'recon', tilt, '--angles', '0:165:12', '--algorithm', 'sirt', '--iterations', '4', '--center', 'auto', '-o', join(dir, 'v.npy')]
      .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
      .join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 100_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const text = r.stdout.replace(/\r\n/g, '\n').replace(new RegExp(DAWN_NOTICE.source.replace('\\r?', ''), 'gm'), '');
    const lines = text.split('\n').map((l) => l.replace(/^\r/, '')).filter((l) => l.length > 0);
    // finished one-shot stages: one line each, nothing glued to them
    expect(lines).toContainEqual(expect.stringMatching(/^read\s+\d+\.\d s$/));
    expect(lines).toContainEqual(expect.stringMatching(/^center\s+\d+\.\d s center \d+(\.\d+)?$/));
    // the bar: redrawn with '\r' on one line, ending at 4/4
    const bar = lines.find((l) => l.startsWith('sirt'));
    expect(bar, text).toBeDefined();
    const frames = bar!.split('\r').filter(Boolean);
    expect(frames.length).toBe(4);
    frames.forEach((f, i) => expect(f).toMatch(new RegExp(`^sirt\\s+\\[[#.]{30}\\] ${i + 1}/4 residual \\S+ \\d+\\.\\d s\\s*$`)));
    // the summary starts on its own line
    expect(lines).toContainEqual(expect.stringMatching(/^wrote .*v\.npy \(2 x 24 x 24 float32\)$/));
  });
});
