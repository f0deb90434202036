/** What `revue-pi init` (cli/commands/init.ts) and its wizard (wizard.ts) share: the options, where text goes, exit codes. */

export interface InitCommandOptions {
  /** The inventory file to write. */
  output: string;
  /** Write the commented example without asking anything. */
  defaults?: boolean;
  /** Replace an existing file without asking. */
  force?: boolean;
}

export interface InitIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Whether questions can be asked (stdin and stdout are a terminal). */
  interactive: boolean;
  /** Where the spinner draws; default process.stderr. */
  spinnerStream?: NodeJS.WriteStream;
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;
/** As a shell reports a command stopped by Ctrl-C (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;
