import { buildCli } from './cli.js';

// A reader that goes away (`revue-pi --help | head -1`) is not an error: what is left to print is dropped, the
// command itself goes on to its end (an `up` is not cut short halfway), and its exit code stands.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
    throw error;
  });
}

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
