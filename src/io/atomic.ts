/**
 * Atomic file output: every writer in src/io goes through {@link writeFileAtomic}, so a crash,
 * a full disk or a thrown error never leaves a half-written output and never replaces an existing
 * good file with a broken one.
 *
 * Method: write to a hidden temporary name in the SAME folder (so the final rename stays on one
 * filesystem and is atomic on POSIX), fsync the data, rename over the target, then fsync the
 * folder (best effort). On any failure the temporary file is removed and the error re-thrown.
 */
import { open, rename, unlink, mkdir } from 'node:fs/promises';
import { dirname, basename, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InputError } from '../core/errors.js';

/** One piece of output: raw bytes or any typed-array view (written in memory order, i.e. host = little endian). */
export type ByteChunk = ArrayBufferView;

/** What {@link writeFileAtomic} accepts: one buffer, or a (possibly asynchronous) sequence of chunks written in order. */
export type AtomicContent = ByteChunk | Iterable<ByteChunk> | AsyncIterable<ByteChunk>;

/** Options of {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /**
   * Create the parent folder (recursively) when it does not exist. Default true: an output path
   * like `out/run1/volume.tif` just works. With false a missing folder is an InputError.
   */
  makeParents?: boolean;
  /** File mode of the new file (default 0o644, before umask). */
  mode?: number;
}

/** Largest slice handed to one `write` call (fs.write rejects lengths of 2 GiB and more). */
const MAX_WRITE = 1 << 30;

function isView(x: unknown): x is ArrayBufferView {
  return ArrayBuffer.isView(x);
}

function asBytes(chunk: ByteChunk): Uint8Array {
  return chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

async function* chunksOf(content: AtomicContent): AsyncGenerator<ByteChunk> {
  if (isView(content)) {
    yield content;
    return;
  }
  if (Symbol.asyncIterator in (content as object)) {
    for await (const c of content as AsyncIterable<ByteChunk>) yield c;
    return;
  }
  for (const c of content as Iterable<ByteChunk>) yield c;
}

/** The temporary name used for `target`: hidden, in the same folder, unique per call. */
export function temporaryNameFor(target: string): string {
  const dir = dirname(target);
  return join(dir, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Writes `content` to `path` atomically: readers see either the old file (or none) or the
 * complete new one, never a partial file.
 *
 * The parent folder is created when missing unless `options.makeParents` is false.
 * `content` may be one buffer or a (async) iterable of chunks, so very large files (BigTIFF
 * volumes) stream out without one giant buffer; if the iterable throws midway, the temporary
 * file is removed, the previous file at `path` (if any) is left untouched, and the error is
 * re-thrown unchanged.
 *
 * @returns the number of bytes written.
 */
export async function writeFileAtomic(path: string, content: AtomicContent, options: AtomicWriteOptions = {}): Promise<number> {
  const target = resolve(path);
  const dir = dirname(target);
  if (options.makeParents ?? true) await makeOutputFolder(dir, path);
  const tmp = temporaryNameFor(target);
  let handle;
  try {
    handle = await open(tmp, 'wx', options.mode ?? 0o644);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`cannot write: the folder ${dir} does not exist`, path, { cause: e });
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
      throw new InputError(`cannot write: no permission to create files in ${dir}`, path, { cause: e });
    throw e;
  }
  let written = 0;
  try {
    for await (const chunk of chunksOf(content)) {
      const bytes = asBytes(chunk);
      for (let off = 0; off < bytes.byteLength; ) {
        const len = Math.min(MAX_WRITE, bytes.byteLength - off);
        const { bytesWritten } = await handle.write(bytes, off, len);
        off += bytesWritten;
        written += bytesWritten;
      }
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, target);
  } catch (e) {
    if (handle) await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC') throw new InputError('cannot write: no space left on the device', path, { cause: e });
    if (code === 'EISDIR') throw new InputError('cannot write: the output path is a folder', path, { cause: e });
    throw e;
  }
  await syncFolder(dir);
  return written;
}

/**
 * Creates the folder `dir` an output `path` goes into (and its parents); a file in the way or a
 * folder without permission is an InputError naming `path`.
 */
export async function makeOutputFolder(dir: string, path: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // a file where a folder of the path should be: EEXIST (the parent) or ENOTDIR (further up)
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new InputError(`cannot write: ${(e as NodeJS.ErrnoException).path ?? dir} is a file, not a folder`, path, { cause: e });
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new InputError(`cannot write: no permission to create the folder ${dir}`, path, { cause: e });
    throw e;
  }
}

/** fsync a folder so the rename itself is durable (ignored where the platform does not allow it). */
export async function syncFolder(dir: string): Promise<void> {
  try {
    const h = await open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    /* not supported on every platform / filesystem: durability is best effort */
  }
}
