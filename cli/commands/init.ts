import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RevuePiError } from '../../core/errors.js';
import { packageRoot } from '../../workloads/render.js';
import { EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, type InitCommandOptions, type InitIo } from '../init/io.js';
import { outputProblem, writeAtomically } from '../init/output-file.js';
import { Wizard } from '../init/wizard.js';
import { isPromptExit, terminalPrompts, type Prompts } from '../ui/prompts.js';

/**
 * `revue-pi init`: the interactive wizard that writes a commented inventory.yaml, probing each node as it
 * is entered; `init --defaults` copies the packaged inventory.example.yaml instead. The answers become text
 * in the pure renderInventoryYaml (cli/init/render.ts); the wizard (cli/init/wizard.ts) does the talking,
 * the probing and the one write at the very end (temp file + rename), so Ctrl-C anywhere leaves no file behind.
 */

const defaultIo = (): InitIo => ({
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
  interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
});

export async function runInitCommand(opts: InitCommandOptions, deps: { io?: InitIo; prompts?: Prompts } = {}): Promise<number> {
  const io = deps.io ?? defaultIo();
  try {
    const problem = outputProblem(opts.output);
    if (problem) {
      io.err(`revue-pi init: ${problem}\nNothing was written.\n`);
      return EXIT_BAD_INPUT;
    }
    if (opts.defaults) return writeExample(opts, io);
    if (!io.interactive) {
      io.err(
        'revue-pi init asks its questions on a terminal, and this is not one (stdin or stdout is redirected).\n' +
          '  Write the inventory by hand instead: `revue-pi init --defaults` writes a commented example to edit,\n' +
          '  then run `revue-pi plan -i inventory.yaml` and `revue-pi up -i inventory.yaml`.\n',
      );
      return EXIT_BAD_INPUT;
    }
    return await new Wizard(opts, io, deps.prompts ?? terminalPrompts).run();
  } catch (error) {
    if (isPromptExit(error)) {
      io.err('\nStopped: nothing was written.\n');
      return EXIT_INTERRUPTED;
    }
    if (error instanceof RevuePiError) {
      io.err(`revue-pi init: ${error.message}\n${error.hint ? `  ${error.hint}\n` : ''}Nothing was written.\n`);
      return EXIT_FAILED;
    }
    throw error;
  }
}

/** `init --defaults`: the packaged, commented inventory.example.yaml, byte for byte. */
function writeExample(opts: InitCommandOptions, io: InitIo): number {
  const target = path.resolve(opts.output);
  if (existsSync(target) && !opts.force) {
    io.err(`revue-pi init: ${opts.output} already exists; nothing was written. Pass --force to replace it with the commented example.\n`);
    return EXIT_BAD_INPUT;
  }
  const example = readFileSync(path.join(packageRoot(), 'inventory.example.yaml'));
  writeAtomically(target, example);
  io.out(
    `Wrote ${opts.output}, the commented example. Change the cluster name, the nodes and the MetalLB pool, then:\n` +
      `  npx revue-pi plan -i ${opts.output}\n  npx revue-pi up -i ${opts.output}\n`,
  );
  return EXIT_OK;
}
