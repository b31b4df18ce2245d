import { defineConfig } from 'vitest/config';

// GPU tests share one software adapter on a two-core machine: run files one at a time
// so kernels do not fight for the same cores, and give lavapipe time to compile shaders.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
