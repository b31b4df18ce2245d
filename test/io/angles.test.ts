import { describe, it, expect } from 'vitest';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readAngles, parseAngleRange, parseAngleText, linspaceAngles } from '../../src/io/angles.js';
import { InputError } from '../../src/core/errors.js';
import { tempDir, DATA } from './tmp.js';

const dir = tempDir('webrecon-angles-');

async function inputError(p: Promise<unknown>): Promise<InputError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

describe('angles', () => {
  it('parses start:stop:count like numpy linspace (inclusive stop)', async () => {
    const a = await readAngles('-73:73:74');
    expect(a.length).toBe(74);
    expect(a[0]).toBe(-73);
    expect(a[73]).toBe(73);
    expect(a[1]! - a[0]!).toBeCloseTo(146 / 73, 12);
    expect(Array.from(await readAngles('0:180:5'))).toEqual([0, 45, 90, 135, 180]);
    expect(Array.from(await readAngles(' 10 : 10 : 1 '))).toEqual([10]);
    expect(Array.from(linspaceAngles(0, 1, 3))).toEqual([0, 0.5, 1]);
    expect(Array.from(await readAngles('1e1:-1e1:3'))).toEqual([10, 0, -10]);
    expect((await readAngles('0:179:180', 180)).length).toBe(180);
    expect(parseAngleRange('angles.txt')).toBeUndefined();
  });

  it('rejects bad a:b:n specs with InputErrors naming --angles', async () => {
    for (const [spec, re] of [
      ['0:180:0', /count '0' is not a positive integer/],
      ['0:180:2.5', /count '2.5' is not a positive integer/],
      ['0:x:10', /stop 'x' is not a finite number/],
      ['inf:1:3', /start 'inf' is not a finite number/],
      ['0:1e400:3', /stop '1e400' is not a finite number/],
      ['0:10:1', /one angle cannot span 0 to 10/],
    ] as const) {
      const e = await inputError(readAngles(spec));
      expect(e.file).toBe('--angles');
      expect(e.message).toMatch(re);
    }
    const e = await inputError(readAngles('0:180:10', 11));
    expect(e.message).toBe('10 angles in --angles 0:180:10 but 11 projections');
  });

  it('reads text files: comments, blank lines, CRLF, .tlt/.rawtlt', async () => {
    const p = join(dir, 'a.txt');
    writeFileSync(p, '# angles of scan 12\n\n-60.5\n  0  # middle\r\n+60.5\n1e1\n');
    expect(Array.from(await readAngles(p))).toEqual([-60.5, 0, 60.5, 10]);
    const t = join(dir, 'series.tlt');
    writeFileSync(t, '  -60.00\n  -58.00\n   0.00\n  58.00\n  60.00\n');
    expect(Array.from(await readAngles(t, 5))).toEqual([-60, -58, 0, 58, 60]);
    const r = join(dir, 'series.rawtlt');
    writeFileSync(r, '-3\n3\n');
    expect(Array.from(await readAngles(r))).toEqual([-3, 3]);
    // a file whose name looks like a range is read as a file
    const weird = join(dir, 'x:y:z');
    writeFileSync(weird, '1\n2\n');
    expect(Array.from(await readAngles(weird))).toEqual([1, 2]);
  });

  it('reads the real I13 angle file (91 angles, -88.2 .. 91.8 in 2-degree steps)', async () => {
    const a = await readAngles(join(DATA, 'tomo/i13-24737/projection_angles_deg.txt'), 91);
    expect(a.length).toBe(91);
    expect(a[0]).toBeCloseTo(-88.2, 6);
    expect(a[90]).toBeCloseTo(91.8, 3);
    for (let i = 1; i < 91; i++) expect(a[i]! - a[i - 1]!).toBeCloseTo(2, 3);
  });

  it('gives InputErrors naming the file: missing, non-numeric line, non-finite, empty, count mismatch, folder', async () => {
    const missing = join(dir, 'absent.tlt');
    let e = await inputError(readAngles(missing));
    expect(e.file).toBe(missing);
    expect(e.message).toMatch(/angle file not found/);

    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, '0\n1\n\n# c\ntwo\n3\n');
    e = await inputError(readAngles(bad));
    expect(e.message).toBe(`${bad}: line 5: 'two' is not a number (expected one angle in degrees per line)`);

    const pair = join(dir, 'pair.txt');
    writeFileSync(pair, '0 1\n');
    expect((await inputError(readAngles(pair))).message).toMatch(/line 1: '0 1' is not a number/);

    const nan = join(dir, 'nan.txt');
    writeFileSync(nan, '0\nnan\n');
    e = await inputError(readAngles(nan));
    expect(e.file).toBe(nan);
    expect(e.message).toMatch(/line 2: the angle 'nan' is not a finite number/);
    writeFileSync(nan, '0\n-Infinity\n');
    expect((await inputError(readAngles(nan))).message).toMatch(/line 2: the angle '-Infinity' is not a finite number/);

    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '# nothing\n\n');
    expect((await inputError(readAngles(empty))).message).toMatch(/no angles found/);

    const three = join(dir, 'three.txt');
    writeFileSync(three, '0\n1\n2\n');
    e = await inputError(readAngles(three, 4));
    expect(e.file).toBe(three);
    expect(e.message).toBe(`3 angles in ${three} but 4 projections`);

    const folder = join(dir, 'folder');
    mkdirSync(folder);
    expect((await inputError(readAngles(folder))).message).toMatch(/is a folder/);
    expect((await inputError(readAngles(''))).file).toBe('--angles');
    expect(() => parseAngleText('1\n2,\n3;\n', 'f')).not.toThrow();
  });
});
