import { CommanderError } from 'commander';
import { buildCli, optionErrorJson, treatParseErrorsAsExceptions } from './program.js';

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
// Commander's own errors (unknown option, bad or missing value, missing required option) are bad input, for every
// subcommand: exit 2, and with --json one JSON object on stdout. Help and version are not errors.
treatParseErrorsAsExceptions(program);
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
    const args = process.argv.slice(2);
    if (process.exitCode === 2 && args.includes('--json')) process.stdout.write(optionErrorJson(error, program, args));
  } else {
    process.stderr.write(`revue-pi: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
