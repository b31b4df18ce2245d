/** Temporary folders for I/O tests, under os.tmpdir(), removed after each test file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** A fresh temporary folder, deleted (recursively) when the test file finishes. */
export function tempDir(prefix = 'webrecon-io-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Absolute path of the shared real-data folder. */
export const DATA = new URL('../../../shared/data/', import.meta.url).pathname;
