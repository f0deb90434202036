import { homedir } from 'node:os';
import { formatIssue } from '../../core/errors.js';
import { DEFAULT_AGENT_BATCH, DEFAULT_DRAIN_TIMEOUT_SECONDS, type CommonOptions } from '../options.js';
import {
  consentFor,
  dataConsentFor,
  replaceNodeConsentFor,
  replaceNodeProblem,
  replaceNodeQuestion,
  typedConsent,
  upgradeOfferFor,
  upgradeOfferQuestion,
} from '../consent.js';
import { loadInventoryForCommand } from '../../core/inventory/for-command.js';
import { RunLog } from '../../core/log.js';
import { runPipeline, type PendingNode } from '../../pipeline/pipeline.js';
import { nodesAtOnce } from '../../core/runner.js';
import { lockForCommand } from '../../core/lock.js';
import { EXIT_BAD_INPUT, EXIT_NODE_FAILED, type RunReport } from '../../core/report.js';
import type { Inventory } from '../../core/inventory/schema.js';
import { renderWorkloads, type K8sObject } from '../../workloads/render.js';
import { resolveKubeconfigPath } from '../../cluster/kubeconfig.js';
import { formatPlan } from '../ui/plan-text.js';
import type { NodeReplacement } from '../../cluster/plan.js';
import { ensurePrivateDir, stateDirFor } from '../../core/state.js';
import { transportOpener } from '../../core/connect.js';
import { resolveSshOrReport } from '../../core/ssh-config/report.js';
import { formatSshOrigins } from '../../core/ssh-config/resolve.js';
import { ProgressRenderer, formatSummary, pickOutputMode, spinnerFactory } from '../ui/renderer.js';

/** `up` and `plan` share the pipeline; `plan` stops after deciding. Returns the exit code. */
export async function runUpCommand(
  command: 'up' | 'plan',
  opts: CommonOptions & { offline?: boolean; force?: boolean; reapply?: boolean; kubeconfig?: string; pruneData?: boolean; replaceNode?: string[] },
): Promise<number> {
  // A bad inventory stops here, before any connection is opened; so does a secret's variable left unset.
  const offline = command === 'plan' && opts.offline;
  const loaded = loadInventoryForCommand(opts.inventory, { json: opts.json, ...(offline ? {} : { env: process.env }) });
  if (!loaded) return EXIT_BAD_INPUT;
  const { warnings } = loaded;
  // So does an up that could not ask and was not told --yes.
  const terminal = Boolean(process.stdin.isTTY);
  const consent = command === 'up' ? consentFor(opts, terminal) : { kind: 'given' as const };
  if (consent.kind === 'refuse') {
    if (opts.json) process.stdout.write(JSON.stringify({ ok: false, exitCode: EXIT_BAD_INPUT, error: { message: consent.message } }, null, 2) + '\n');
    else process.stderr.write(`${consent.message}\n`);
    return EXIT_BAD_INPUT;
  }
  const dataConsent = dataConsentFor(opts, terminal);
  // --replace-node must name nodes of the inventory.
  const replaceProblem = replaceNodeProblem(
    opts.replaceNode,
    loaded.inventory.nodes.map((n) => n.name),
    opts.inventory,
  );
  if (replaceProblem) {
    if (opts.json) process.stdout.write(JSON.stringify({ ok: false, exitCode: EXIT_BAD_INPUT, error: { message: replaceProblem } }, null, 2) + '\n');
    else process.stderr.write(`${replaceProblem}\n`);
    return EXIT_BAD_INPUT;
  }
  // Node hosts may be ~/.ssh/config aliases: from here on each node's host is the address SSH reaches it at.
  const ssh = resolveSshOrReport(loaded.inventory, opts);
  if (!ssh) return EXIT_BAD_INPUT;
  const inventory = ssh.inventory;

  // plan --offline contacts nothing and writes nothing on this computer either: no state folder, no log.
  const stateDir = offline ? stateDirFor(inventory.cluster.name, opts.stateDir) : ensurePrivateDir(stateDirFor(inventory.cluster.name, opts.stateDir));
  // One run at a time per cluster: plan only reads, up takes the state directory's lock.
  const lock = command === 'up' ? await lockForCommand(stateDir, inventory.cluster.name, 'up', { json: opts.json }) : undefined;
  if (command === 'up' && !lock) return EXIT_NODE_FAILED;

  const mode = pickOutputMode(opts);
  const renderer = new ProgressRenderer(mode, Boolean(opts.verbose), process.stderr, await spinnerFactory(mode));
  // The inventory's and the ssh config's warnings: shown, written to the run log, and in the --json report.
  const inventoryWarnings = warnings.map((w) => formatIssue(opts.inventory, w).trim());
  for (const message of [...inventoryWarnings, ...ssh.warnings]) renderer.handle({ type: 'warning', message });

  const log = offline ? RunLog.none(command) : new RunLog(stateDir, command);
  log.write(`revue-pi ${command} -i ${opts.inventory} (${inventory.nodes.length} nodes, concurrency ${nodesAtOnce(inventory.nodes.length, opts.concurrency)})`);
  if (lock) log.write(`holding ${lock.file} (pid ${lock.holder.pid} on ${lock.holder.host})`);
  log.write(`ssh config: ${ssh.configFile ?? 'none read'}`);
  for (const warning of inventoryWarnings) log.write(`inventory warning: ${warning}`);
  for (const warning of ssh.warnings) log.write(`ssh config warning: ${warning}`);
  for (const resolved of ssh.nodes.values()) {
    const lines = formatSshOrigins(resolved);
    for (const line of lines) log.write(line);
    if (opts.verbose) renderer.handle({ type: 'info', message: lines.join('\n') });
  }
  let exitCode: number;
  let offer: { version: string; nodes: string[] } | undefined;
  try {
    const report = await runPipeline({
      command,
      inventory,
      stateDir,
      inventoryPath: opts.inventory,
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
            ssh: ssh.nodes,
            emit: (event) => {
              log.event(event);
              renderer.handle(event);
            },
          }),
      confirm: consent.kind === 'ask' ? (pending) => confirmChanges(pending, renderer, log) : undefined,
      pruneData: dataConsent === 'given',
      confirmDataRemoval: dataConsent === 'ask' ? (removals) => confirmDataRemoval(inventory.cluster.name, removals, renderer, log) : undefined,
      replaceNodes: opts.replaceNode,
      confirmNodeReplacement: (removal) =>
        replaceNodeConsentFor(removal.node, opts, terminal) === 'ask'
          ? oneQuestionAtATime(() => confirmNodeReplacement(inventory.cluster.name, removal, renderer, log))
          : Promise.resolve(false),
    });
    renderer.stop();
    if (warnings.length > 0) report.inventoryWarnings = warnings;
    if (ssh.warnings.length > 0) report.sshConfigWarnings = ssh.warnings;
    log.write(`finished: exit ${report.exitCode}`);
    if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    else if (command === 'plan') process.stdout.write(planText(report, inventory, opts.inventory, opts.kubeconfig, stateDir) + '\n');
    else process.stdout.write(formatSummary(report) + '\n');
    if (!opts.json) process.stdout.write(removeNodeCommands(report.k3s?.notInInventory ?? [], opts.inventory, opts.stateDir));
    offer = command === 'up' ? upgradeOfferFor(report, opts, terminal) : undefined;
    exitCode = report.exitCode;
  } finally {
    renderer.stop();
    lock?.release();
  }
  // Asked after up let go of the cluster's lock: the upgrade takes it itself.
  if (offer && (await offerUpgrade(offer, log))) {
    const { runUpgradeCommand } = await import('./upgrade.js');
    return runUpgradeCommand({
      inventory: opts.inventory,
      to: offer.version,
      drainTimeout: DEFAULT_DRAIN_TIMEOUT_SECONDS,
      agentBatch: DEFAULT_AGENT_BATCH,
      stateDir: opts.stateDir,
      kubeconfig: opts.kubeconfig,
    });
  }
  return exitCode;
}

async function offerUpgrade(offer: { version: string; nodes: string[] }, log: RunLog): Promise<boolean> {
  const { upPrompts } = await import('../ui/prompts.js');
  const yes = await upPrompts.confirm(upgradeOfferQuestion(offer));
  log.write(`offered revue-pi upgrade to ${offer.version} for ${offer.nodes.join(', ')}: ${yes ? 'yes' : 'no'}`);
  return yes;
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

/** Re-imaged agents are joined in parallel: their questions wait for each other instead of sharing the terminal. */
let questionsAsked: Promise<unknown> = Promise.resolve();
function oneQuestionAtATime<T>(ask: () => Promise<T>): Promise<T> {
  const answer = questionsAsked.then(ask, ask);
  questionsAsked = answer.catch(() => undefined);
  return answer;
}

/** Asked on its own, right before the deletion: only the cluster name typed deletes what stops the node joining again. */
async function confirmNodeReplacement(cluster: string, removal: NodeReplacement, renderer: ProgressRenderer, log: RunLog): Promise<boolean> {
  renderer.stop();
  const question = replaceNodeQuestion(removal, cluster);
  process.stderr.write(question.text);
  const { upPrompts } = await import('../ui/prompts.js');
  const yes = typedConsent(await upPrompts.typed(question.prompt), cluster);
  log.write(
    `asked to delete the stale Node and ${removal.kind === 'node-password' ? 'node-password secret' : 'etcd member'} of ${removal.node}: ${yes ? 'the cluster name was typed' : 'kept'}`,
  );
  return yes;
}

/** The plan in words (ui/plan-text.ts); the short summary when the workloads cannot be rendered (that error is in the report). */
function planText(report: RunReport, inventory: Inventory, inventoryFile: string, kubeconfig: string | undefined, stateDir: string): string {
  let objects: K8sObject[];
  try {
    objects = renderWorkloads(inventory, { secrets: 'references' });
  } catch {
    return formatSummary(report);
  }
  return formatPlan(report, {
    inventory,
    inventoryFile,
    objects,
    kubeconfigPath: resolveKubeconfigPath(kubeconfig, process.env),
    stateDir,
    home: process.env.HOME || homedir(),
  });
}

/** The exact remove-node command for each node the cluster has and the inventory no longer lists (never run by up). */
export function removeNodeCommands(names: string[], inventoryFile: string, stateDir: string | undefined): string {
  if (names.length === 0) return '';
  const arg = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);
  const extra = stateDir ? ` --state-dir ${arg(stateDir)}` : '';
  return `Not in the inventory, left in the cluster; to remove (asks first):\n${names.map((n) => `  revue-pi remove-node ${n} -i ${arg(inventoryFile)}${extra}\n`).join('')}`;
}
