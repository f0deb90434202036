import { formatIssue } from '../errors.js';
import type { CommonOptions } from '../cli.js';
import { consentFor, dataConsentFor, typedConsent } from '../consent.js';
import { loadInventoryForCommand } from '../inventory/for-command.js';
import { RunLog } from '../log.js';
import { runPipeline, type PendingNode } from '../pipeline.js';
import { lockForCommand } from '../lock.js';
import { EXIT_BAD_INPUT, EXIT_NODE_FAILED } from '../report.js';
import { ensurePrivateDir, stateDirFor } from '../state.js';
import { transportOpener } from '../connect.js';
import { ProgressRenderer, formatSummary, pickOutputMode, spinnerFactory } from '../ui/renderer.js';

/** `up` and `plan` share the pipeline; `plan` stops after deciding. Returns the exit code. */
export async function runUpCommand(
  command: 'up' | 'plan',
  opts: CommonOptions & { offline?: boolean; force?: boolean; reapply?: boolean; kubeconfig?: string; pruneData?: boolean },
): Promise<number> {
  // A bad inventory stops here, before any connection is opened; so does a secret's variable left unset.
  const offline = command === 'plan' && opts.offline;
  const loaded = loadInventoryForCommand(opts.inventory, { json: opts.json, ...(offline ? {} : { env: process.env }) });
  if (!loaded) return EXIT_BAD_INPUT;
  const { inventory, warnings } = loaded;
  // So does an up that could not ask and was not told --yes.
  const terminal = Boolean(process.stdin.isTTY);
  const consent = command === 'up' ? consentFor(opts, terminal) : { kind: 'given' as const };
  if (consent.kind === 'refuse') {
    if (opts.json) process.stdout.write(JSON.stringify({ ok: false, exitCode: EXIT_BAD_INPUT, error: { message: consent.message } }, null, 2) + '\n');
    else process.stderr.write(`${consent.message}\n`);
    return EXIT_BAD_INPUT;
  }
  const dataConsent = dataConsentFor(opts, terminal);

  const stateDir = ensurePrivateDir(stateDirFor(inventory.cluster.name, opts.stateDir));
  // One run at a time per cluster: plan only reads, up takes the state directory's lock.
  const lock = command === 'up' ? await lockForCommand(stateDir, inventory.cluster.name, 'up', { json: opts.json }) : undefined;
  if (command === 'up' && !lock) return EXIT_NODE_FAILED;

  const mode = pickOutputMode(opts);
  const renderer = new ProgressRenderer(mode, Boolean(opts.verbose), process.stderr, await spinnerFactory(mode));
  for (const warning of warnings) renderer.handle({ type: 'warning', message: formatIssue(opts.inventory, warning).trim() });
  const log = new RunLog(stateDir, command);
  log.write(`revue-pi ${command} -i ${opts.inventory} (${inventory.nodes.length} nodes, concurrency ${opts.concurrency})`);
  if (lock) log.write(`holding ${lock.file} (pid ${lock.holder.pid} on ${lock.holder.host})`);
  for (const warning of warnings) log.write(`inventory warning: ${formatIssue(opts.inventory, warning).trim()}`);
  try {
    const report = await runPipeline({
      command,
      inventory,
      stateDir,
      kubeconfigPath: opts.kubeconfig,
      force: opts.force,
      reapply: opts.reapply,
      concurrency: opts.concurrency,
      strict: Boolean(opts.strict),
      log,
      emit: (event) => {
        log.event(event);
        renderer.handle(event);
      },
      openTransport: offline
        ? undefined
        : transportOpener(inventory, {
            log,
            emit: (event) => {
              log.event(event);
              renderer.handle(event);
            },
          }),
      confirm: consent.kind === 'ask' ? (pending) => confirmChanges(pending, renderer, log) : undefined,
      pruneData: dataConsent === 'given',
      confirmDataRemoval: dataConsent === 'ask' ? (removals) => confirmDataRemoval(inventory.cluster.name, removals, renderer, log) : undefined,
    });
    renderer.stop();
    log.write(`finished: exit ${report.exitCode}`);
    if (opts.json) process.stdout.write(JSON.stringify({ ...report, inventoryWarnings: warnings }, null, 2) + '\n');
    else process.stdout.write(formatSummary(report) + '\n');
    return report.exitCode;
  } finally {
    renderer.stop();
    lock?.release();
  }
}

async function confirmChanges(pending: PendingNode[], renderer: ProgressRenderer, log: RunLog): Promise<boolean> {
  renderer.stop();
  for (const { node, changes } of pending) {
    process.stderr.write(`${node}:\n${changes.map((c) => `    ${c}`).join('\n')}\n`);
  }
  const { upPrompts } = await import('../ui/prompts.js');
  const yes = await upPrompts.confirm('Apply these changes?');
  log.write(`asked to apply the changes: ${yes ? 'yes' : 'no'}`);
  return yes;
}

/** Asked on its own, after everything else: only the cluster name typed deletes data. */
async function confirmDataRemoval(cluster: string, removals: string[], renderer: ProgressRenderer, log: RunLog): Promise<boolean> {
  renderer.stop();
  process.stderr.write(
    `The inventory no longer deploys these, and deleting them deletes data:\n${removals.map((r) => `    ${r}`).join('\n')}\n` +
      `Press Enter to keep them (up says how to delete them later).\n`,
  );
  const { upPrompts } = await import('../ui/prompts.js');
  const yes = typedConsent(await upPrompts.typed(`To delete them with their data, type the cluster name (${cluster}):`), cluster);
  log.write(`asked to delete data: ${yes ? 'the cluster name was typed' : 'kept'}`);
  return yes;
}
