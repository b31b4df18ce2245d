/**
 * Writing and reading whole volumes [slices, rows, cols] in the formats users ask for, chosen by
 * the file extension:
 *
 * | extension            | format                                   | for                          |
 * |----------------------|------------------------------------------|------------------------------|
 * | `.tif`, `.tiff`      | multi-page float32 TIFF, one page/slice  | Fiji/ImageJ, tifffile        |
 * | `.mrc` (read: also `.map`, `.rec`, `.st`, `.ali`, `.mrcs`) | MRC2014 mode 2 (float32) | IMOD, Chimera(X) |
 * | `.vti`               | VTK XML ImageData, raw appended float32  | ParaView, VTK                |
 * | `.npy`               | NumPy float32 array, shape (z, y, x)     | Python                       |
 *
 * Every writer is atomic (temporary name + rename, src/io/atomic.ts): a failure never leaves a
 * half-written output file.
 */
import { extname } from 'node:path';
import { InputError } from '../core/errors.js';
import type { Volume } from '../core/array.js';
import { readTiff, writeTiff } from './tiff.js';
import { readMrc, writeMrc } from './mrc.js';
import { readVti, writeVti } from './vti.js';
import { readNpy, toFloat32, writeNpy } from './npy.js';

/** Output extensions {@link writeVolume} understands. */
export const VOLUME_WRITE_EXTENSIONS = ['.tif', '.tiff', '.mrc', '.vti', '.npy'] as const;

/** Input extensions {@link readVolume} understands. */
export const VOLUME_READ_EXTENSIONS = ['.tif', '.tiff', '.mrc', '.map', '.rec', '.st', '.ali', '.mrcs', '.vti', '.npy'] as const;

const MRC_READ = new Set(['.mrc', '.map', '.rec', '.st', '.ali', '.mrcs']);

/** Options of {@link writeVolume}. */
export interface WriteVolumeOptions {
  /**
   * Voxel edge length. MRC stores it in Å (its header's unit: CELLA = size × dimensions); VTI
   * as Spacing; TIFF as ImageJ `spacing=` and X/Y resolution (unit left as 'pixel'); .npy has
   * nowhere to keep it. Default 1.
   */
  voxelSize?: number;
  /** A short free text (e.g. the command that made the volume): an MRC label; TIFF, VTI and .npy ignore it. */
  description?: string;
}

/** The lower-case extension of `path`, '' when none. */
function extensionOf(path: string): string {
  return extname(path).toLowerCase();
}

/** True when {@link writeVolume} can write `path` (its extension is one of {@link VOLUME_WRITE_EXTENSIONS}). */
export function canWriteVolume(path: string): boolean {
  return (VOLUME_WRITE_EXTENSIONS as readonly string[]).includes(extensionOf(path));
}

function checkVolume(path: string, volume: Volume): void {
  const s = volume.shape;
  if (!Array.isArray(s) || s.length !== 3 || s.some((v) => !Number.isInteger(v) || v <= 0)) {
    throw new InputError(`cannot write: a volume needs a 3-D shape [slices, rows, cols], got (${Array.isArray(s) ? s.join(', ') : String(s)})`, path);
  }
  if (!(volume.data instanceof Float32Array)) throw new InputError('cannot write: volume data must be a Float32Array', path);
  const n = s[0] * s[1] * s[2];
  if (volume.data.length !== n) {
    throw new InputError(`cannot write: shape (${s.join(', ')}) needs ${n} values but the data hold ${volume.data.length}`, path);
  }
}

/**
 * Writes a float32 volume [slices, rows, cols] to `path`, the format chosen by the extension:
 * `.tif`/`.tiff` (multi-page float32 TIFF, one page per slice, ImageJ stack layout; BigTIFF
 * above 4 GiB), `.mrc` (MRC2014 mode 2), `.vti` (VTK XML ImageData, raw appended float32,
 * opens in ParaView) or `.npy` (float32, shape (slices, rows, cols)). The file is written
 * under a temporary name and renamed when complete; missing parent folders are created.
 *
 * @throws InputError for an unknown extension (listing the supported ones), a shape that does
 *   not match the data, or an output path that cannot be written.
 */
export async function writeVolume(path: string, volume: Volume, options: WriteVolumeOptions = {}): Promise<void> {
  const ext = extensionOf(path);
  if (!canWriteVolume(path)) {
    throw new InputError(
      `unknown output format '${ext || '(no extension)'}'; supported: .tif/.tiff (float32 TIFF stack), .mrc (MRC2014 mode 2), .vti (VTK ImageData), .npy (NumPy)`,
      path,
    );
  }
  checkVolume(path, volume);
  const vs = options.voxelSize;
  if (vs !== undefined && !(Number.isFinite(vs) && vs > 0)) throw new InputError(`the voxel size must be a positive number, got ${vs}`, path);
  switch (ext) {
    case '.tif':
    case '.tiff':
      await writeTiff(path, volume, vs !== undefined ? { voxel: { size: vs } } : {});
      return;
    case '.mrc': {
      const labels = ['webrecon ' + new Date().toISOString().replace('T', ' ').slice(0, 19)];
      if (options.description) {
        // MRC labels are 80 ASCII characters; split a long description over up to 9 labels
        const text = options.description.replace(/\s+/g, ' ').trim();
        for (let i = 0; i < text.length && labels.length < 10; i += 80) labels.push(text.slice(i, i + 80));
      }
      await writeMrc(path, volume, { voxelSize: vs ?? 1, labels });
      return;
    }
    case '.vti':
      await writeVti(path, volume, { spacing: vs ?? 1 });
      return;
    case '.npy':
      await writeNpy(path, { data: volume.data, shape: volume.shape });
      return;
  }
}

/**
 * Reads a volume written by {@link writeVolume} (or by other tools in the same formats) as
 * float32 [slices, rows, cols]: `.tif`/`.tiff` (pages = slices; 8/16/32-bit integer or float),
 * MRC (`.mrc`, `.map`, `.rec`, `.st`, `.ali`, `.mrcs`; modes 0, 1, 2, 6, 12), `.vti` (raw
 * appended Float32) or `.npy` (3-D, or 2-D as one slice; any real dtype, converted).
 * Used for `--initial` volumes and tests.
 *
 * @throws InputError naming the file for a missing file, an unknown extension, a file that is
 *   not what its extension says, a layout the reader does not handle, or a .npy that is not
 *   2-D/3-D real data.
 */
export async function readVolume(path: string): Promise<Volume> {
  const ext = extensionOf(path);
  if (ext === '.tif' || ext === '.tiff') return readTiff(path);
  if (MRC_READ.has(ext)) return (await readMrc(path)).volume;
  if (ext === '.vti') return (await readVti(path)).volume;
  if (ext === '.npy') {
    const a = await readNpy(path);
    if (a.complex) throw new InputError(`the array is complex (${a.dtype}); a volume must be real`, path);
    const shape = a.shape.length === 2 ? [1, a.shape[0]!, a.shape[1]!] : a.shape;
    if (shape.length !== 3 || shape.some((s) => s <= 0)) {
      throw new InputError(`a volume must be a 3-D array (slices, rows, cols) but this one has shape (${a.shape.join(', ')})`, path);
    }
    return { data: toFloat32(a).data, shape: shape as [number, number, number] };
  }
  throw new InputError(`unknown volume format '${ext || '(no extension)'}'; supported: ${VOLUME_READ_EXTENSIONS.join(', ')}`, path);
}
