import type { Inventory } from '../../core/inventory/schema.js';
import type { RunReport } from '../../core/report.js';
import { type K8sObject } from '../../workloads/render.js';
import { formatHostsLines, renderAccessInfo } from '../../workloads/access.js';
import { wrap } from './help.js';

/**
 * The text of `revue-pi plan`, written for someone who has not read the code: each node's changes under headings in
 * words, every change said once, the facts a plan --offline assumes marked as assumed, what the workloads will run
 * and where to reach it, what changes on this computer, and what to run next. Pure: the command passes what it knows.
 */

export interface PlanContext {
  /** The inventory file as the user gave it (for the commands suggested at the end). */
  inventoryFile: string;
  inventory: Inventory;
  /** What up would apply, rendered with Secrets as references. */
  objects: K8sObject[];
  /** Where up merges the kubeconfig. */
  kubeconfigPath: string;
  stateDir: string;
  /** The home folder, shown as ~ in paths. */
  home: string;
}

/** Step prefixes in words, by `phase/step`. */
const STEP_TITLES: Record<string, string> = {
  'prepare/boot-config': 'Boot configuration and hostname',
  'cluster/k3s': 'K3s',
  'cluster/kubeconfig': 'Kubeconfig',
  'workloads/labels': 'Node labels',
};

export function stepTitle(phase: string, step: string): string {
  return STEP_TITLES[`${phase}/${step}`] ?? `${phase[0]!.toUpperCase()}${phase.slice(1)}: ${step}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function quoteArg(p: string): string {
  return /^[A-Za-z0-9_./~:=@%+-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

export function formatPlan(report: RunReport, ctx: PlanContext): string {
  const out: string[] = [];
  const offline = report.offline === true;
  out.push(`Plan for cluster ${report.cluster}: what \`revue-pi up\` would do. Nothing has been changed.`);
  if (offline) {
    out.push(
      ...wrap(
        'Offline: no Pi was contacted. Each Pi is ASSUMED to be as Raspberry Pi Imager leaves it (facts marked "assumed" below); run plan without --offline to see the real ones.',
        '',
        '',
      ),
    );
  }
  for (const node of report.nodes) {
    out.push('');
    const changes = node.steps.reduce((n, s) => n + s.changes.length, 0);
    const state = node.status === 'failed' ? 'could not be planned' : changes === 0 ? 'nothing to change' : plural(changes, 'change');
    out.push(`${node.name} — K3s ${node.role} at ${node.host}: ${state}`);
    if (node.facts) {
      const f = node.facts;
      const facts = `${f.model || 'unknown model'}, ${f.os || 'unknown OS'}, ${f.arch}, ${(f.memoryBytes / 1024 ** 3).toFixed(1)} GiB, ${f.pageSize / 1024}K pages, memory cgroup ${f.memoryCgroup ? 'on' : 'off'}`;
      out.push(...wrap(`${offline ? 'assumed' : 'found'}: ${facts}`, '  ', '    '));
    }
    for (const step of node.steps) {
      if (step.changes.length === 0 && !step.error) continue;
      out.push(`  ${stepTitle(step.phase, step.step)}:`);
      for (const change of step.changes) out.push(...wrap(change, '    - ', '      '));
      if (step.error) out.push(...wrap(`could not be planned: ${step.error}`, '    ! ', '      '));
    }
    if (node.error && !node.steps.some((s) => s.error)) out.push(...wrap(node.error, '  ! ', '    '));
    for (const warning of node.warnings) out.push(...wrap(`warning: ${warning}`, '  ', '    '));
  }
  out.push('');
  out.push(...workloadsSection(report, ctx));
  out.push('');
  out.push('On this computer:');
  const tilde = (p: string) => (ctx.home && p.startsWith(`${ctx.home}/`) ? `~/${p.slice(ctx.home.length + 1)}` : p);
  out.push(
    ...wrap(
      `up merges the cluster's kubeconfig into ${tilde(ctx.kubeconfigPath)} as the context "${report.cluster}" (your other contexts are kept; nothing changes if it is already there).`,
      '  - ',
      '    ',
    ),
  );
  out.push(...wrap(`up keeps the cluster's state (its token, generated passwords, a log per run) in ${tilde(ctx.stateDir)}.`, '  - ', '    '));
  out.push('');
  const failed = report.nodes.filter((n) => n.status === 'failed').length;
  const changed = report.nodes.filter((n) => n.status === 'changed').length;
  const unchanged = report.nodes.filter((n) => n.status === 'unchanged').length;
  out.push(`${plural(changed, 'node')} to change, ${unchanged} unchanged${failed ? `, ${failed} could not be probed` : ''}.`);
  const file = quoteArg(ctx.inventoryFile);
  if (failed) out.push(...wrap(`Next: fix what is said above for the nodes that could not be probed, then run revue-pi plan -i ${file} again.`, '', '  '));
  else if (offline)
    out.push(...wrap(`Next: revue-pi plan -i ${file} to check the real Pis over SSH, then revue-pi up -i ${file} to make these changes.`, '', '  '));
  else if (changed > 0 || report.workloads?.changed) out.push(`Next: revue-pi up -i ${file} to make these changes.`);
  else out.push(`Next: nothing to do; revue-pi status -i ${file} shows how the cluster is doing.`);
  if (report.logFile) out.push(`Log: ${report.logFile}`);
  return out.join('\n');
}

function workloadsSection(report: RunReport, ctx: PlanContext): string[] {
  const w = report.workloads;
  const { inventory, objects } = ctx;
  const out = wrap(`Workloads (applied in the cluster once K3s is up): ${w ? w.summary : 'not planned'}`, '', '  ');
  if (w?.error) out.push(...wrap(`could not be planned: ${w.error}`, '  ! ', '    '));
  for (const warning of report.addressWarnings ?? []) out.push(...wrap(`warning: ${warning} up refuses this without --force.`, '  ! ', '    '));
  const named = (kind: string, ns?: string) =>
    objects.filter((o) => o.kind === kind && (ns === undefined || o.metadata?.namespace === ns)).map((o) => o.metadata?.name ?? '');
  const fixed = new Map<string, string>();
  for (const s of objects.filter((o) => o.kind === 'Service')) {
    const ips = (s.metadata as { annotations?: Record<string, string> } | undefined)?.annotations?.['metallb.io/loadBalancerIPs'];
    if (ips) fixed.set(s.metadata?.name ?? '', ips);
  }
  const at = (name: string) => (fixed.has(name) ? ` at ${fixed.get(name)}` : '');
  const access = renderAccessInfo(inventory, objects);
  if (inventory.network.metallb.enabled) {
    const pools = objects
      .filter((o) => o.kind === 'IPAddressPool')
      .map((o) => `${o.metadata?.name} ${((o.spec as { addresses?: string[] }).addresses ?? []).join(', ')}`);
    out.push(...wrap(`MetalLB (controller and a speaker on every node) hands out LAN addresses to services: pools ${pools.join('; ')}.`, '  - ', '    '));
  }
  out.push(
    ...wrap(
      `Traefik (K3s's own, configured by revue-pi) routes the web names below${access.ingressAddress ? ` at ${access.ingressAddress}` : ''}.`,
      '  - ',
      '    ',
    ),
  );
  const ns = inventory.workloads.namespace;
  const deployments = named('Deployment', ns).map((n) => n.replace(/^revue-/, ''));
  if (deployments.length > 0) {
    const dbs = deployments.filter((d) => d.endsWith('-db')).map((d) => d.slice(0, -3));
    const kafka = deployments.filter((d) => /^kafka-\d+$/.test(d));
    const zookeeper = deployments.filter((d) => /^zookeeper-\d+$/.test(d));
    const services = deployments.filter((d) => !d.endsWith('-db') && !/^(kafka|zookeeper)-\d+$/.test(d) && d !== 'kafka-ui' && d !== 'media-server');
    out.push(...wrap(`Revue (namespace ${ns}): the services ${services.join(', ')}.`, '  - ', '    '));
    if (dbs.length) out.push(...wrap(`MongoDB, one per service: ${dbs.join(', ')}.`, '  - ', '    '));
    if (kafka.length)
      out.push(
        ...wrap(
          `Kafka: ${kafka.map((k) => `${k}${at(`revue-${k}`)}`).join(', ')}, with ZooKeeper ${zookeeper.join(', ')}${deployments.includes('kafka-ui') ? ', and Kafka UI' : ''}.`,
          '  - ',
          '    ',
        ),
      );
    if (deployments.includes('media-server')) out.push(...wrap(`The media server (video streams)${at('revue-media-server')}.`, '  - ', '    '));
  }
  const charts = named('HelmChart');
  if (charts.length)
    out.push(
      ...wrap(
        `Monitoring (namespace monitoring): ${charts
          .map((c) => c[0]!.toUpperCase() + c.slice(1))
          .sort()
          .join(' and ')}.`,
        '  - ',
        '    ',
      ),
    );
  out.push('  Where to reach it once up is done:');
  for (const { name, url } of access.urls) out.push(`    ${name.padEnd(18)} ${url}`);
  out.push(...wrap(access.hostsHint, '    ', '      '));
  for (const line of formatHostsLines(access.hostsEntries, 94)) out.push(`      ${line}`);
  return out;
}
