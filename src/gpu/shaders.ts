/**
 * WGSL loading from `shaders/` with a small include mechanism, so shared helpers (complex
 * arithmetic, index helpers) are written once:
 *
 *     //#include "common/complex.wgsl"
 *
 * Paths are relative to `shaders/`. Each file is included at most once per module.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (the folder holding package.json and shaders/), from src/ or dist/src/. */
export const PACKAGE_ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'shaders'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('webrecon: cannot find the shaders/ folder next to package.json');
    dir = up;
  }
})();

export const SHADER_ROOT = join(PACKAGE_ROOT, 'shaders');

const cache = new Map<string, string>();
const INCLUDE = /^\s*\/\/#include\s+"([^"]+)"\s*$/gm;

/** Returns the WGSL source of `shaders/<path>` with its includes expanded. */
export function loadWgsl(path: string): string {
  const hit = cache.get(path);
  if (hit !== undefined) return hit;
  const seen = new Set<string>();
  const expand = (rel: string, from: string): string => {
    const file = resolve(SHADER_ROOT, rel);
    if (seen.has(file)) return `// (already included: ${rel})`;
    seen.add(file);
    if (!existsSync(file)) throw new Error(`WGSL include not found: ${rel} (from ${from})`);
    const text = readFileSync(file, 'utf8');
    return text.replace(INCLUDE, (_m, inc: string) => `// ---- begin ${inc}\n${expand(inc, rel)}\n// ---- end ${inc}`);
  };
  const source = expand(path, '(root)');
  cache.set(path, source);
  return source;
}
