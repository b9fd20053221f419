import { defineConfig } from 'vitest/config';

// Slow tests are named *.slow.test.ts (`npm run test:quick` skips them); e2e tests live in test/e2e.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // 2-core machines: keep parallel files few so native kernels and onnxruntime get the cores.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
