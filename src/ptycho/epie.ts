/**
 * ePIE / rPIE (placeholder until the sequential engine lands).
 */
import type { GpuContext } from '../gpu/context.js';
import { InputError } from '../core/errors.js';
import type { ComplexArray } from '../core/array.js';
import type { PtychoDataset } from './dataset.js';
import type { ScanGeometry } from './scan.js';

/** Options of the ePIE engine. */
export interface EpieEngineOptions {
  /** Object step α (default 1). */
  alpha?: number;
  /** Probe step β (default 1). */
  probeStep?: number;
  /** rPIE regularisation (0 = ePIE, default). */
  rpie?: number;
  /** Seed of the random frame order. */
  seed?: number;
  modes?: number;
  subpixel?: boolean;
  margin?: number;
  scaleProbe?: boolean;
}

export class EpieEngine {
  readonly geometry!: ScanGeometry;
  static async create(_ctx: GpuContext, dataset: PtychoDataset, _o: EpieEngineOptions = {}): Promise<EpieEngine> {
    throw new InputError('ePIE is not available yet', dataset.source);
  }
  async iterate(_updateProbe: boolean): Promise<{ error: number }> {
    throw new Error('not implemented');
  }
  async readObject(): Promise<ComplexArray> {
    throw new Error('not implemented');
  }
  async readProbe(): Promise<ComplexArray> {
    throw new Error('not implemented');
  }
  destroy(): void {}
}
