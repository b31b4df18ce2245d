/**
 * bench/access-cost.ts at a small size: the load and store kernels do what they are timed doing
 * (their results are checked inside, against float64 sums and the expected stored values), and
 * the figures and the DM bounds derived from them are finite and positive.
 */
import { describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { DM_FLOWS, dmLowerBound, measureAccessCosts } from '../../bench/access-cost.js';

describe('access-cost bench', () => {
  it('measures checked loads and stores and derives the DM bounds', async () => {
    const ctx = await testContext();
    const costs = await measureAccessCosts(ctx, { K: 4, INVOCATIONS: 2 ** 12, POINTS: 2 ** 14 }, { K: 16, INVOCATIONS: 2 ** 10, POINTS: 2 ** 12 });
    for (const v of Object.values(costs)) expect(v > 0 && Number.isFinite(v)).toBe(true);
    const stages = dmLowerBound(costs, DM_FLOWS.stages);
    const fused = dmLowerBound(costs, DM_FLOWS.fused);
    expect(fused).toBeGreaterThan(0);
    expect(fused).toBeLessThan(stages);
  });

  it('rejects a streaming shape that does not cover its points once', async () => {
    const ctx = await testContext();
    await expect(measureAccessCosts(ctx, { K: 4, INVOCATIONS: 2 ** 10, POINTS: 2 ** 14 })).rejects.toThrow(/cover its points once/);
  });
});
