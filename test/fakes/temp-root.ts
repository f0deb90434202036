// Shared by the helper (temp-dir.ts, in the test workers) and the run's check (test/temp-check.ts, in vitest's main
// process, which must not import vitest's test API).

/** Names the folder that holds every temporary folder of this run; set by test/temp-check.ts for the whole run. */
export const TEST_TEMP_ROOT_ENV = 'REVUE_PI_TEST_TMP';
