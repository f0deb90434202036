import { CommanderError } from 'commander';
import { buildCli, optionErrorJson, treatParseErrorsAsExceptions } from './cli.js';

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
    process.stderr.write(`revue-pi: unexpected error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
