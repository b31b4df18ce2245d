/**
 * Input checks shared by every reader: the file exists and is a file, the data are finite, the
 * shapes agree, the job fits in memory. Each failure is an {@link InputError} that names the file
 * (or argument) and the problem in words a user can act on.
 */
import { stat } from 'node:fs/promises';
import { freemem, totalmem } from 'node:os';
import { InputError } from '../core/errors.js';

/** Any numeric typed array the readers hand out. */
export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

/**
 * Checks that `path` names an existing regular file and returns its size in bytes.
 * @throws InputError 'file not found' / 'is a folder, not a file' / 'cannot read'.
 */
export async function requireFile(path: string): Promise<number> {
  let s;
  try {
    s = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new InputError('file not found', path, { cause: e });
    if (code === 'EACCES') throw new InputError('permission denied', path, { cause: e });
    throw new InputError(`cannot read (${code ?? String(e)})`, path, { cause: e });
  }
  if (s.isDirectory()) throw new InputError('is a folder, not a file', path);
  if (!s.isFile()) throw new InputError('is not a regular file', path);
  return s.size;
}

/** Formats a byte count as GiB with one decimal ('16.0 GiB'), or MiB below 1 GiB. */
export function formatBytes(bytes: number): string {
  const gib = bytes / 2 ** 30;
  if (gib >= 1) return `${gib.toFixed(1)} GiB`;
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** Where the memory figures in {@link assertFitsInMemory} come from (overridable for tests). */
export interface MemoryInfo {
  /** Free (available) memory in bytes. */
  free: number;
  /** Total memory in bytes. */
  total: number;
}

/**
 * Throws an InputError when `bytes` of host memory cannot be had: more than the machine's total
 * memory, or more than the free memory (with a headroom factor of 1, i.e. the figures as the
 * OS reports them). The message reads e.g.
 * 'a volume of 16.0 GiB cannot fit in 12.3 GiB of free memory; use --rows or --size'.
 *
 * @param bytes  the allocation about to be made
 * @param what   what it is, e.g. 'a volume' or 'the projections of big.h5'
 * @param hint   the advice appended (default 'use --rows or --size')
 * @param memory the memory figures (default: os.freemem()/os.totalmem())
 */
export function assertFitsInMemory(
  bytes: number,
  what: string,
  hint = 'use --rows or --size',
  memory: MemoryInfo = { free: freemem(), total: totalmem() },
): void {
  if (!Number.isFinite(bytes) || bytes < 0) throw new InputError(`${what} has an invalid size (${bytes} bytes)`);
  if (bytes > memory.total) {
    throw new InputError(`${what} of ${formatBytes(bytes)} cannot fit in the ${formatBytes(memory.total)} of memory this machine has; ${hint}`);
  }
  if (bytes > memory.free) {
    throw new InputError(`${what} of ${formatBytes(bytes)} cannot fit in ${formatBytes(memory.free)} of free memory; ${hint}`);
  }
}

/** Multi-index [i, j, k, ...] of flat C-order index `flat` in `shape`. */
export function unravelIndex(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  let r = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    idx[d] = n > 0 ? r % n : 0;
    r = n > 0 ? Math.floor(r / n) : 0;
  }
  return idx;
}

/**
 * Throws an InputError when `array.data` holds a NaN or ±Inf, naming `file` and the first bad
 * element as a C-order multi-index ('NaN at [3, 17, 42]'). For complex data (interleaved pairs,
 * `complex: true`) the index is that of the complex element, with '(real part)'/'(imaginary part)'.
 */
export function assertFinite(array: { data: ArrayLike<number>; shape?: readonly number[]; complex?: boolean }, file: string): void {
  const d = array.data;
  const n = d.length;
  for (let i = 0; i < n; i++) {
    const v = d[i]!;
    if (v - v !== 0) {
      const kind = Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
      const element = array.complex ? Math.floor(i / 2) : i;
      const shape = array.shape ?? [array.complex ? n / 2 : n];
      const where = `[${unravelIndex(element, shape).join(', ')}]`;
      const part = array.complex ? (i % 2 === 0 ? ' (real part)' : ' (imaginary part)') : '';
      throw new InputError(`the data contain ${kind} at ${where}${part}; clean the data or mask it before reconstructing`, file);
    }
  }
}

/** Throws unless `shape` has exactly `rank` positive integer dimensions; `what` names the array in the message. */
export function assertRank(shape: readonly number[], rank: number, what: string, file?: string): void {
  if (shape.length !== rank) {
    throw new InputError(`${what} must be ${rank}-D but has shape (${shape.join(', ')})`, file);
  }
  for (const s of shape) {
    if (!Number.isInteger(s) || s <= 0) throw new InputError(`${what} has an empty or invalid shape (${shape.join(', ')})`, file);
  }
}

/** Throws unless two shapes are equal, naming both (e.g. a flat field that does not match the projections). */
export function assertSameShape(a: readonly number[], b: readonly number[], whatA: string, whatB: string, file?: string): void {
  if (a.length !== b.length || a.some((v, i) => v !== b[i])) {
    throw new InputError(`${whatA} has shape (${a.join(', ')}) but ${whatB} has shape (${b.join(', ')})`, file);
  }
}
