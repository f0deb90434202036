import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { RevuePiError } from '../../core/errors.js';
import { loadInventoryForCommand } from '../../core/inventory/for-command.js';
import { EXIT_BAD_INPUT, EXIT_NODE_FAILED, EXIT_OK } from '../../core/report.js';
import { lockForCommand } from '../../core/lock.js';
import { ensurePrivateDir, stateDirFor } from '../../core/state.js';
import { renderToDirectory, SECRETS_FILE } from '../../workloads/output.js';
import { loadWorkloadSecrets, WORKLOAD_SECRETS_FILE } from '../../workloads/secrets-file.js';
import { renderWorkloads } from '../../workloads/render.js';

/**
 * `revue-pi render -i inventory.yaml -o DIR [--include-secrets]`: writes exactly what `up` would apply, one file per
 * apply phase, byte for byte the same on every run (GitOps-friendly). Without --include-secrets the Secrets are left
 * out (the workloads still reference them by name); with it they come from the cluster's state file (generated and
 * saved there, 0600, when absent — the same values `up` then uses) and go to DIR/secrets.yaml (0600).
 * Contacts no node. Returns the exit code: 2 for a bad inventory or a value it cannot render.
 */
export interface RenderCommandOptions {
  inventory: string;
  output: string;
  includeSecrets?: boolean;
  stateDir?: string;
  /** Seams for tests; default: the process's streams and environment, crypto.randomBytes. */
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  env?: NodeJS.ProcessEnv;
  random?: (bytes: number) => Buffer;
}

export async function runRenderCommand(opts: RenderCommandOptions): Promise<number> {
  const out = opts.stdout ?? ((t: string) => void process.stdout.write(t));
  const err = opts.stderr ?? ((t: string) => void process.stderr.write(t));
  const loaded = loadInventoryForCommand(opts.inventory, { out, err });
  if (!loaded) return EXIT_BAD_INPUT;
  const { inventory } = loaded;

  let objects;
  try {
    let secrets: Parameters<typeof renderWorkloads>[1]['secrets'] = 'references';
    if (opts.includeSecrets) {
      const dir = ensurePrivateDir(stateDirFor(inventory.cluster.name, opts.stateDir, opts.env ?? process.env));
      // It may generate and save the cluster's secrets: not while another run (an up) works on them.
      const lock = await lockForCommand(dir, inventory.cluster.name, 'render --include-secrets', { out, err });
      if (!lock) return EXIT_NODE_FAILED;
      try {
        secrets = loadWorkloadSecrets(join(dir, WORKLOAD_SECRETS_FILE), opts.random ?? randomBytes, true);
      } finally {
        lock.release();
      }
    }
    objects = renderWorkloads(inventory, { secrets });
  } catch (error) {
    if (error instanceof RevuePiError) {
      err(`${error.message}${error.hint ? ` ${error.hint}` : ''}\n`);
      return error.code === 'INVENTORY' ? EXIT_BAD_INPUT : EXIT_NODE_FAILED;
    }
    throw error;
  }

  let written: string[];
  try {
    written = await renderToDirectory(opts.output, objects);
  } catch (error) {
    err(
      `Could not write the rendered manifests to ${opts.output}: ${error instanceof Error ? error.message : String(error)}. Check that the folder is writable.\n`,
    );
    return EXIT_NODE_FAILED;
  }
  out(`${written.map((p) => `wrote ${p}${p.endsWith(SECRETS_FILE) ? ' (mode 0600: it holds the cluster secrets)' : ''}`).join('\n')}\n`);
  out(
    `${objects.length} objects.${opts.includeSecrets ? '' : ' Secrets are left out (the workloads reference them by name); pass --include-secrets to write them too.'}\n`,
  );
  return EXIT_OK;
}
