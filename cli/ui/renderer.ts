import type { Ora } from 'ora';
import { formatHostsLines } from '../../workloads/access.js';
import { colorEnabled, spinnersWithColor, type SpinnerFactory } from './terminal.js';
import type { RunEvent } from '../../core/events.js';
import type { NodeReport, RunReport } from '../../core/report.js';
import { stripControlChars } from '../../core/remote/remote-text.js';

export type OutputMode = 'tty' | 'plain' | 'json';

/** ora, loaded only for a terminal (`spinnerFactory()`), so plain and --json runs start faster; colour as terminal.ts says. */
export type { SpinnerFactory };

export async function spinnerFactory(mode: OutputMode, stream: NodeJS.WriteStream = process.stderr, env = process.env): Promise<SpinnerFactory | undefined> {
  return mode === 'tty' ? spinnersWithColor((await import('ora')).default, colorEnabled(stream, env)) : undefined;
}

export function pickOutputMode(opts: { json?: boolean }, stream: NodeJS.WriteStream = process.stderr, env = process.env): OutputMode {
  if (opts.json) return 'json';
  // A terminal that says it has no columns (a pty nobody sized) would make ora clear lines without end.
  return stream.isTTY && env.CI !== 'true' && env.TERM !== 'dumb' && stream.columns !== 0 ? 'tty' : 'plain';
}

/**
 * Renders progress events: an ora spinner per phase with persisted per-node lines on a TTY, plain lines
 * otherwise, nothing with --json (the final report is the output). Progress goes to stderr.
 */
export class ProgressRenderer {
  private spinner?: Ora;
  /** Phases started and not ended, oldest first: prepare and cluster overlap (a node joins once it is prepared). */
  private readonly active: { phase: string; title: string }[] = [];
  private readonly lines: string[] = [];

  constructor(
    private readonly mode: OutputMode,
    private readonly verbose: boolean,
    private readonly err: NodeJS.WritableStream = process.stderr,
    private readonly ora?: SpinnerFactory,
  ) {}

  handle = (event: RunEvent): void => {
    if (this.mode === 'json') return;
    switch (event.type) {
      case 'phase-start':
        this.active.push({ phase: event.phase, title: event.title });
        if (this.mode === 'tty' && this.ora) {
          if (this.spinner) this.spinner.text = event.title;
          else this.spinner = this.ora({ text: event.title, stream: this.err }).start();
        } else {
          this.print(`==> ${event.title}`);
        }
        break;
      case 'phase-end': {
        const index = this.active.findIndex((a) => a.phase === event.phase);
        const ended = index >= 0 ? this.active.splice(index, 1)[0]! : { phase: event.phase, title: event.phase };
        if (this.spinner) {
          // The ended phase keeps its line (by its title, not the last node step shown); one still running gets the spinner.
          if (event.ok) this.spinner.succeed(ended.title);
          else this.spinner.fail(ended.title);
          const running = this.active[this.active.length - 1];
          this.spinner = running && this.ora ? this.ora({ text: running.title, stream: this.err }).start() : undefined;
        }
        break;
      }
      case 'node-step':
        if (event.status === 'running') {
          if (this.spinner) this.spinner.text = stripControlChars(`${event.node}: ${event.step}${event.detail ? ` — ${event.detail}` : ''}`);
          else if (this.verbose) this.print(`    ${event.node}: ${event.step}…`);
        } else if (event.status === 'done') {
          this.print(`    ${event.node}: ${event.detail ?? event.step}`);
        } else if (event.status === 'planned' && !this.verbose) {
          // The plan printed at the end lists every planned change; said once is enough.
          if (this.spinner) this.spinner.text = `${event.node}: ${event.step} planned`;
        } else {
          this.print(`    ${event.node}: ${event.step} ${event.status}${event.detail ? ` — ${event.detail}` : ''}`);
        }
        break;
      case 'node-warning':
        this.print(`  ! ${event.node}: ${event.message}`);
        break;
      case 'node-done':
        if (event.status === 'failed') this.print(`  ✖ ${event.node}: ${event.error ?? 'failed'}`);
        break;
      case 'info':
        this.print(event.message);
        break;
      case 'warning':
        this.print(`  ! ${event.message}`);
        break;
    }
  };

  /** Lines persist above the spinner rather than being overwritten by it. Text from nodes is in them: no control characters. */
  private print(text: string): void {
    const line = stripControlChars(text);
    if (this.spinner) {
      this.spinner.clear();
      this.err.write(line + '\n');
      this.spinner.render();
    } else {
      this.err.write(line + '\n');
    }
  }

  /** Always leave the terminal clean, even when the run throws. */
  stop(): void {
    this.spinner?.stop();
    this.spinner = undefined;
  }
}

const SYMBOL: Record<NodeReport['status'], string> = { changed: '~', unchanged: '=', failed: '✖', skipped: '-' };

/**
 * What up says of Traefik's address: a fact only when it was read from the Service's status.loadBalancer.ingress;
 * otherwise what is asked for, and how to check. Pure.
 */
export function describeIngress(cluster: string, access: NonNullable<NonNullable<RunReport['workloads']>['access']>): string {
  const check = `check with: kubectl --context ${cluster} -n kube-system get service traefik`;
  if (access.ingressSource === 'cluster') return `Traefik's Service has the address ${access.ingressAddress} (handed out by MetalLB, read from the cluster).`;
  if (access.ingressAddress) {
    return `Traefik's Service has no address from MetalLB yet; it asks for ${access.ingressAddress} (network.addresses.ingress), and the URLs below answer there once it has it (${check}).`;
  }
  return `Traefik's Service has no address from MetalLB yet (${check}).`;
}

/** The human summary printed at the end of `up` and as the body of `plan`. Pure. */
export function formatSummary(report: RunReport): string {
  const out: string[] = [];
  const planning = report.command === 'plan';
  out.push(planning ? `Plan for cluster ${report.cluster}${report.offline ? ' (offline: nodes assumed fresh)' : ''}:` : `Cluster ${report.cluster}:`);
  for (const node of report.nodes) {
    const label = planning && node.status === 'changed' ? 'will change' : node.status;
    out.push(`${SYMBOL[node.status]} ${node.name} (${node.role}, ${node.host}): ${label}`);
    for (const step of node.steps) {
      for (const change of step.changes) out.push(`    ${step.phase}/${step.step}: ${change}`);
      if (step.error) out.push(`    ${step.phase}/${step.step}: failed — ${step.error}`);
    }
    if (node.error && !node.steps.some((s) => s.error)) out.push(`    ${node.error}`);
    for (const warning of node.warnings) out.push(`    warning: ${warning}`);
  }
  const failed = report.nodes.filter((n) => n.status === 'failed').length;
  const changed = report.nodes.filter((n) => n.status === 'changed').length;
  const unchanged = report.nodes.filter((n) => n.status === 'unchanged').length;
  out.push(
    planning
      ? `${changed} node(s) to change, ${unchanged} unchanged${failed ? `, ${failed} could not be probed` : ''}.`
      : `${changed} changed, ${unchanged} unchanged, ${failed} failed.`,
  );
  if (report.k3s?.kubeconfigPath) out.push(`Kubeconfig: context ${report.cluster} merged into ${report.k3s.kubeconfigPath}`);
  const workloads = report.workloads;
  if (workloads) {
    out.push(`Workloads: ${workloads.summary}`);
    if (workloads.error) out.push(`  failed — ${workloads.error}`);
    const access = workloads.access;
    if (workloads.keptData && workloads.keptData.length > 0 && !planning) {
      out.push(`Kept (holds data, no longer deployed): ${workloads.keptData.join(', ')}. To delete with its data: up --prune-data, or`);
      for (const c of workloads.deleteDataCommands ?? []) out.push(`  ${c}`);
    }
    if (access && workloads.ok && !planning) {
      out.push(describeIngress(report.cluster, access));
      for (const { name, url } of access.urls) out.push(`  ${name.padEnd(18)} ${url}`);
      out.push(`  ${access.hostsHint}`);
      for (const line of formatHostsLines(access.hostsEntries)) out.push(`    ${line}`);
      if (access.grafanaPassword) out.push(`  Grafana password: ${access.grafanaPassword}`);
      if (access.revueLogins) out.push(`  ${access.revueLogins}`);
    }
  }
  if (report.logFile) out.push(`Log: ${report.logFile}`);
  // Node output is in the report (errors, journal tails): no control sequence of it reaches the terminal.
  return stripControlChars(out.join('\n'));
}
