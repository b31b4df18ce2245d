/**
 * The two kinds of failure a user meets, each with its own exit code, so the CLI can print a
 * message (not a stack trace) and scripts can tell bad input from GPU trouble.
 */

/** Base class of every error webrecon raises on purpose. */
export class WebreconError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;
  constructor(message: string, exitCode: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad input: names the file (when there is one) and what is wrong with it. Exit code 2. */
export class InputError extends WebreconError {
  /** The file or argument the problem is in, if any. */
  readonly file?: string;
  constructor(message: string, file?: string, options?: { cause?: unknown }) {
    super(file ? `${file}: ${message}` : message, 2, options);
    this.file = file;
  }
}

/** What went wrong on the GPU side. */
export type GpuErrorKind = 'no-adapter' | 'validation' | 'out-of-memory' | 'device-lost' | 'internal' | 'limits';

/** GPU trouble: no adapter, out of memory, device lost, a kernel the driver rejected. Exit code 3. */
export class GpuError extends WebreconError {
  readonly kind: GpuErrorKind;
  constructor(kind: GpuErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, 3, options);
    this.kind = kind;
  }
}

/** What to tell the user to do for each kind of GPU error. */
export function gpuAdvice(kind: GpuErrorKind): string {
  switch (kind) {
    case 'no-adapter':
      return 'No WebGPU adapter was found. Run `npm run setup` (installs Mesa lavapipe on Debian as root), or install a Vulkan driver for your GPU.';
    case 'out-of-memory':
      return 'The GPU ran out of memory. Reduce --size or --rows, or use a device with more memory.';
    case 'device-lost':
      return 'The GPU device was lost (driver reset or a kernel ran too long). Try again; on a desktop GPU, smaller work per submit may help.';
    case 'limits':
      return 'The adapter cannot satisfy a limit this job needs; try a smaller problem or another adapter (--adapter).';
    default:
      return 'This is a bug in webrecon or the driver; please report it with `webrecon info --json` output.';
  }
}
