import { homedir } from 'node:os';
import { formatIssue } from '../errors.js';
import type { CommonOptions } from '../cli.js';
import { loadInventoryForCommand } from '../inventory/for-command.js';
import { RunLog } from '../log.js';
import { runPipeline, type PendingNode } from '../pipeline.js';
import { EXIT_BAD_INPUT, type RunReport } from '../report.js';
import type { Inventory } from '../inventory/schema.js';
import { renderWorkloads, type K8sObject } from '../../workloads/render.js';
import { resolveKubeconfigPath } from '../../cluster/kubeconfig.js';
import { formatPlan } from '../ui/plan-text.js';
import { ensurePrivateDir, stateDirFor } from '../state.js';
import { transportOpener } from '../connect.js';
import { resolveSshOrReport } from '../ssh-config/report.js';
import { formatSshOrigins } from '../ssh-config/resolve.js';
import { ProgressRenderer, formatSummary, pickOutputMode, spinnerFactory } from '../ui/renderer.js';

/** `up` and `plan` share the pipeline; `plan` stops after deciding. Returns the exit code. */
export async function runUpCommand(command: 'up' | 'plan', opts: CommonOptions & { offline?: boolean; force?: boolean; reapply?: boolean; kubeconfig?: string }): Promise<number> {
  // A bad inventory stops here, before any connection is opened.
  const loaded = loadInventoryForCommand(opts.inventory, { json: opts.json });
  if (!loaded) return EXIT_BAD_INPUT;
  const { warnings } = loaded;
  // Node hosts may be ~/.ssh/config aliases: from here on each node's host is the address SSH reaches it at.
  const ssh = resolveSshOrReport(loaded.inventory, opts);
  if (!ssh) return EXIT_BAD_INPUT;
  const inventory = ssh.inventory;
  const mode = pickOutputMode(opts);
  const renderer = new ProgressRenderer(mode, Boolean(opts.verbose), process.stderr, await spinnerFactory(mode));
  // The inventory's and the ssh config's warnings: shown, written to the run log, and in the --json report.
  const inventoryWarnings = [...warnings.map((w) => formatIssue(opts.inventory, w).trim()), ...ssh.warnings];
  for (const message of inventoryWarnings) renderer.handle({ type: 'warning', message });

  // plan --offline contacts nothing and writes nothing on this computer either: no state folder, no log.
  const offline = command === 'plan' && Boolean(opts.offline);
  const stateDir = offline ? stateDirFor(inventory.cluster.name, opts.stateDir) : ensurePrivateDir(stateDirFor(inventory.cluster.name, opts.stateDir));
  const log = offline ? RunLog.none(command) : new RunLog(stateDir, command);
  log.write(`revue-pi ${command} -i ${opts.inventory} (${inventory.nodes.length} nodes, concurrency ${opts.concurrency})`);
  log.write(`ssh config: ${ssh.configFile ?? 'none read'}`);
  for (const warning of inventoryWarnings) log.write(`warning: ${warning}`);
  for (const resolved of ssh.nodes.values()) {
    const lines = formatSshOrigins(resolved);
    for (const line of lines) log.write(line);
    if (opts.verbose) renderer.handle({ type: 'info', message: lines.join('\n') });
  }

  const interactive = mode === 'tty' && command === 'up' && !opts.yes && process.stdin.isTTY;
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
      openTransport: offline ? undefined : transportOpener(inventory, { log, ssh: ssh.nodes }),
      confirm: interactive ? (pending) => confirmChanges(pending, renderer) : undefined,
    });
    renderer.stop();
    if (inventoryWarnings.length > 0) report.inventoryWarnings = inventoryWarnings;
    log.write(`finished: exit ${report.exitCode}`);
    if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    else if (command === 'plan') process.stdout.write(planText(report, inventory, opts.inventory, opts.kubeconfig, stateDir) + '\n');
    else process.stdout.write(formatSummary(report) + '\n');
    return report.exitCode;
  } finally {
    renderer.stop();
  }
}

async function confirmChanges(pending: PendingNode[], renderer: ProgressRenderer): Promise<boolean> {
  renderer.stop();
  for (const { node, changes } of pending) {
    process.stderr.write(`${node}:\n${changes.map((c) => `    ${c}`).join('\n')}\n`);
  }
  const { confirm } = await import('@inquirer/prompts');
  return confirm({ message: 'Apply these changes?', default: true });
}

/** The plan in words (ui/plan-text.ts); the short summary when the workloads cannot be rendered (that error is in the report). */
function planText(report: RunReport, inventory: Inventory, inventoryFile: string, kubeconfig: string | undefined, stateDir: string): string {
  let objects: K8sObject[];
  try {
    objects = renderWorkloads(inventory, { secrets: 'references' });
  } catch {
    return formatSummary(report);
  }
  return formatPlan(report, { inventory, inventoryFile, objects, kubeconfigPath: resolveKubeconfigPath(kubeconfig, process.env), stateDir, home: process.env.HOME || homedir() });
}
