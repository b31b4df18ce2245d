/** Options every command shares, and how they map onto the API. */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import type { BackendName, GpuOptions } from '../gpu/context.js';

/** Global flags (on the program, before or after the subcommand). */
export interface GlobalOptions {
  json?: boolean;
  debug?: boolean;
  quiet?: boolean;
  backend?: string;
  adapter?: string;
}

const BACKENDS = ['auto', 'vulkan', 'opengles', 'opengl', 'metal', 'd3d12', 'd3d11'];

/** GPU selection from the global flags. */
export function gpuOptionsFrom(g: GlobalOptions): GpuOptions {
  const backend = (g.backend ?? 'auto') as BackendName;
  if (!BACKENDS.includes(backend)) throw new InputError(`unknown backend '${g.backend}' (expected one of ${BACKENDS.join(', ')})`, '--backend');
  return { backend, adapter: g.adapter };
}

/** Parses a positive integer option or throws an InputError naming the flag. */
export function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InputError(`expected a positive integer, got '${value}'`, flag);
  return n;
}

/** Parses a finite number option or throws an InputError naming the flag. */
export function finiteNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InputError(`expected a number, got '${value}'`, flag);
  return n;
}

/**
 * Fails early (before any long work) when `path` cannot become an output file: it is a folder,
 * or a file stands where one of its parent folders would be. Missing folders are fine (the
 * writers create them).
 */
export function checkOutputPath(path: string): void {
  const abs = resolve(path);
  const kind = (p: string): 'file' | 'dir' | 'none' => {
    try {
      return statSync(p).isDirectory() ? 'dir' : 'file';
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return 'none';
      throw new InputError(`cannot write here (${code ?? String(e)})`, path, { cause: e });
    }
  };
  if (kind(abs) === 'dir') throw new InputError('is a folder; give a file name for the output', path);
  for (let dir = dirname(abs); ; dir = dirname(dir)) {
    const k = kind(dir);
    if (k === 'file') throw new InputError(`cannot write: ${dir} is a file, not a folder`, path);
    if (k === 'dir' || dirname(dir) === dir) return;
  }
}
