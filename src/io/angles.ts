/**
 * Projection angles from the command line or a text file.
 *
 * Two spellings, both in degrees:
 * - `start:stop:count`: `count` evenly spaced angles from `start` to `stop` INCLUSIVE (numpy's
 *   `linspace(start, stop, count)`), e.g. `-73:73:74` or `0:179:180`. `count` 1 gives `start`.
 * - a text file: one angle per line; blank lines and comments (`#` to the end of the line) are
 *   ignored; surrounding spaces and a trailing `,` or `;` are tolerated. IMOD's `.tlt` and
 *   `.rawtlt` tilt files are this format (one tilt angle per line).
 */
import { readFile, stat } from 'node:fs/promises';
import { InputError } from '../core/errors.js';

/** A `start:stop:count` spec: two numbers and a positive integer, separated by colons. */
const RANGE = /^\s*([^:]+):([^:]+):([^:]+)\s*$/;

/** Number spellings accepted: decimal or scientific, plus inf/infinity/nan (rejected later as non-finite). */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity|nan)$/i;

/** True for text the numeric parser accepts as a (possibly non-finite) number spelling. */
function looksNumeric(text: string): boolean {
  return NUMBER.test(text.trim());
}

/** Parses a plain decimal or scientific number; NaN for anything else ('', '0x10', '1,5', 'deg'). */
function parseNumber(text: string): number {
  const t = text.trim();
  if (!NUMBER.test(t) || /nan/i.test(t)) return NaN;
  if (/inf/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  return Number(t);
}

/**
 * Evenly spaced angles `start .. stop` inclusive (numpy linspace), in float64.
 * @throws InputError (naming `source`) for a count that is not a positive integer, non-finite
 *   ends, or count 1 with start ≠ stop.
 */
export function linspaceAngles(start: number, stop: number, count: number, source = '--angles'): Float64Array {
  if (!Number.isFinite(start) || !Number.isFinite(stop)) {
    throw new InputError(`the angle range must have finite ends, got ${start}:${stop}`, source);
  }
  if (!Number.isInteger(count) || count < 1) {
    throw new InputError(`the angle count must be a positive integer, got ${count}`, source);
  }
  if (count === 1 && start !== stop) {
    throw new InputError(`one angle cannot span ${start} to ${stop}; use ${start}:${start}:1`, source);
  }
  const out = new Float64Array(count);
  const step = count > 1 ? (stop - start) / (count - 1) : 0;
  for (let i = 0; i < count; i++) out[i] = start + i * step;
  if (count > 1) out[count - 1] = stop; // exact end, as numpy does
  return out;
}

/**
 * Parses `start:stop:count` (degrees, inclusive stop). Returns undefined when `spec` does not
 * have the a:b:n shape at all (so the caller can treat it as a file name).
 * @throws InputError naming the argument when it has the shape but a bad part.
 */
export function parseAngleRange(spec: string, source = '--angles'): Float64Array | undefined {
  const m = RANGE.exec(spec);
  if (!m) return undefined;
  const [a, b, n] = [m[1]!, m[2]!, m[3]!];
  const start = parseNumber(a);
  const stop = parseNumber(b);
  const count = parseNumber(n);
  const example = 'expected start:stop:count in degrees, e.g. -73:73:74 or 0:179:180';
  if (!Number.isFinite(start)) throw new InputError(`'${spec}': the start '${a.trim()}' is not a finite number (${example})`, source);
  if (!Number.isFinite(stop)) throw new InputError(`'${spec}': the stop '${b.trim()}' is not a finite number (${example})`, source);
  if (!Number.isInteger(count) || count < 1) {
    throw new InputError(`'${spec}': the count '${n.trim()}' is not a positive integer (${example})`, source);
  }
  return linspaceAngles(start, stop, count, source);
}

/**
 * Parses the text of an angle file (one angle per line, blank lines and `#` comments ignored).
 * @param file the file name used in error messages
 * @throws InputError naming the file and the 1-based line of a non-numeric or non-finite
 *   value, or when the file holds no angle at all.
 */
export function parseAngleText(text: string, file: string): Float64Array {
  const values: number[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const hash = lines[i]!.indexOf('#');
    const body = (hash >= 0 ? lines[i]!.slice(0, hash) : lines[i]!).trim().replace(/[,;]$/, '').trim();
    if (body === '') continue;
    if (!looksNumeric(body)) {
      const shown = body.length > 40 ? `${body.slice(0, 40)}...` : body;
      throw new InputError(`line ${i + 1}: '${shown}' is not a number (expected one angle in degrees per line)`, file);
    }
    const v = parseNumber(body);
    if (!Number.isFinite(v)) throw new InputError(`line ${i + 1}: the angle '${body}' is not a finite number`, file);
    values.push(v);
  }
  if (values.length === 0) throw new InputError('no angles found (expected one angle in degrees per line)', file);
  return Float64Array.from(values);
}

/**
 * Reads projection angles in degrees from `spec`: either `start:stop:count` (inclusive stop,
 * like numpy's linspace) or the path of a text file with one angle per line (blank lines and
 * `#` comments ignored; IMOD `.tlt`/`.rawtlt` files are this format).
 *
 * A spec of the a:b:n shape is taken as a range unless a file of that exact name exists.
 *
 * @param spec          `start:stop:count` or a file path
 * @param expectedCount when given, the number of projections the angles must match
 * @returns the angles in degrees, in the order given
 * @throws InputError naming the file or the `--angles` argument for: a missing file, a
 *   non-numeric line (with its line number), non-finite values, a malformed `a:b:n`, an empty
 *   file, or a count different from `expectedCount` ("N angles in F but M projections").
 */
export async function readAngles(spec: string, expectedCount?: number): Promise<Float64Array> {
  if (typeof spec !== 'string' || spec.trim() === '') throw new InputError('no angles given (expected start:stop:count or a file)', '--angles');
  let angles: Float64Array | undefined;
  let source = spec;
  let isFile = false;
  try {
    isFile = (await stat(spec)).isFile();
  } catch {
    isFile = false;
  }
  if (!isFile) {
    angles = parseAngleRange(spec, '--angles');
    if (angles) source = `--angles ${spec}`;
  }
  if (!angles) {
    let text: string;
    try {
      text = await readFile(spec, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw new InputError('angle file not found (give a file with one angle per line, or start:stop:count)', spec, { cause: e });
      }
      if (code === 'EISDIR') throw new InputError('is a folder, not an angle file', spec, { cause: e });
      throw new InputError(`cannot read the angle file (${code ?? String(e)})`, spec, { cause: e });
    }
    angles = parseAngleText(text, spec);
  }
  if (expectedCount !== undefined && angles.length !== expectedCount) {
    const message = `${angles.length} angles in ${source} but ${expectedCount} projections`;
    const err = new InputError(message, isFile || source === spec ? spec : '--angles');
    err.message = message; // the message already names the file; no 'file: ' prefix twice
    throw err;
  }
  return angles;
}
