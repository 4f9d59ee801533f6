import { defineConfig } from 'vitest/config';

/** Tests that hold flowstate to an outside answer: the kernel, Zeek, tshark, real captures. */
const ORACLE = [
  'test/kernel-lab.test.ts',
  'test/kernel-lab-live.test.ts',
  'test/zeek-lab.test.ts',
  'test/capture-conformance.test.ts',
  'test/reader-conformance.test.ts',
  'test/impaired-captures.test.ts',
  'test/findings.test.ts',
  'test/scan-findings.test.ts',
  'test/tunnels.test.ts',
];
/** Tests that drive a browser (Chromium). */
const BROWSER = ['test/html-report.test.ts'];

// `npm test` runs every project, as CI does; `npm run test:unit` (beside the code, no build) is the
// inner loop, `test:e2e` the commands, `test:oracle` the outside answers, `test:browser` the page.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          exclude: [...ORACLE, ...BROWSER],
          globalSetup: ['test/helpers/fresh-dist.ts'],
        },
      },
      { extends: true, test: { name: 'oracle', include: ORACLE, globalSetup: ['test/helpers/fresh-dist.ts'] } },
      { extends: true, test: { name: 'browser', include: BROWSER, globalSetup: ['test/helpers/fresh-dist.ts'] } },
    ],
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      exclude: ['src/**/*.test.ts'],
      reporter: ['text-summary', 'json-summary'],
      // The command line and the reports are what users touch; their tests run in process.
      thresholds: {
        'src/cli/**': { lines: 85 },
        'src/report/**': { lines: 85 },
      },
    },
  },
});
