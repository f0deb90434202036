import { buildCli } from './cli.js';

// The only place that decides the exit code; commands return theirs.
const program = buildCli((code) => {
  process.exitCode = code;
});
program.exitOverride((err) => {
  // Commander's own errors (unknown option, bad value) are bad input; help and version are not errors.
  process.exitCode = err.exitCode === 0 ? 0 : 2;
  throw err;
});
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof Error && 'code' in error && String((error as { code: unknown }).code).startsWith('commander.'))) {
    process.stderr.write(`revue-pi: unexpected error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
