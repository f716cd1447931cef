import { defineConfig } from 'vitest/config';

// Unit tests sit beside their source as *.test.ts; suites that need processes, sockets
// or several modules live in test/. Black-box suites spawn the compiled server, so the
// global setup builds dist/ once per run.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
