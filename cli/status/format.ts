import { formatHostsLines } from '../../workloads/access.js';
import type { StatusReport } from './report.js';

/**
 * The `status` table: pure text from a StatusReport, aligned, at most `width` columns (default 100). Long cells in
 * the last column are cut with "…"; sentences (problems, hints) wrap.
 */
export function formatStatus(report: StatusReport, width = 100): string {
  const out: string[] = [];
  const nodeCount = `${report.nodes.length} node${report.nodes.length === 1 ? '' : 's'}`;
  out.push(
    ...wrap(
      report.source.via === 'ssh'
        ? `Cluster ${report.cluster}: ${nodeCount}, read over SSH from ${report.source.server} (k3s kubectl).`
        : `Cluster ${report.cluster}: ${nodeCount}; the cluster itself could not be read (see the problems below).`,
      width,
      '',
    ),
  );

  out.push('', "Nodes (READY = the cluster's Ready condition; ? = unknown)");
  out.push(
    ...formatTable(
      ['NAME', 'ROLE', 'ADDRESS', 'K3S', 'READY', 'MEM CGROUP', 'PAGE', 'MODEL'],
      report.nodes.map((n) => [
        n.name,
        n.role,
        n.address,
        n.k3sVersion ?? (n.reachable ? 'none' : '-'),
        n.ready === 'NotRegistered' ? 'not joined' : (n.ready ?? '?'),
        n.memoryCgroup === null ? '-' : n.memoryCgroup ? 'on' : 'OFF',
        n.pageSize === null ? '-' : `${n.pageSize / 1024}K`,
        // "Raspberry Pi 5 Model B Rev 1.0" → "Pi 5 Model B Rev 1.0" (the JSON keeps the full name).
        n.reachable ? (n.model?.replace(/^Raspberry Pi /, 'Pi ') ?? 'unknown') : 'UNREACHABLE (see below)',
      ]),
      width,
    ),
  );

  out.push('', report.metallb.enabled ? 'MetalLB' : 'MetalLB (off in the inventory)');
  if (report.metallb.pools.length === 0) out.push('  no address pools');
  else
    out.push(
      ...formatTable(
        ['POOL', 'AUTO-ASSIGN', report.metallb.poolsFrom === 'cluster' ? 'ADDRESSES' : 'ADDRESSES (from the inventory)'],
        report.metallb.pools.map((p) => [p.name, p.autoAssign ? 'yes' : 'no', p.addresses.join(', ')]),
        width,
      ),
    );
  if (report.metallb.services.length === 0) out.push('  no LoadBalancer Services');
  else
    out.push(
      ...formatTable(
        ['SERVICE', 'ASKS FOR', 'HANDED OUT'],
        report.metallb.services.map((s) => [`${s.namespace}/${s.name}`, s.requested.join(', ') || 'any', s.assigned.join(', ') || 'NONE YET']),
        width,
      ),
    );

  const count = (state: string) => report.workloads.filter((w) => w.state === state).length;
  out.push('', `Workloads: ${count('ready')} ready, ${count('not-ready')} not ready, ${count('missing')} missing`);
  if (report.workloads.length === 0) out.push(report.source.via === 'ssh' ? '  none' : '  unknown (the cluster could not be read)');
  else
    out.push(
      ...formatTable(
        ['NAMESPACE', 'KIND', 'NAME', 'READY'],
        report.workloads.map((w) => [
          w.namespace,
          w.kind,
          w.name,
          w.state === 'missing' ? 'MISSING' : `${w.ready}/${w.desired}${w.state === 'ready' ? '' : '  NOT READY'}`,
        ]),
        width,
      ),
    );

  out.push('', "Helm charts (installed by K3s's helm-controller, one Job each)");
  if (report.charts.length === 0) out.push(report.source.via === 'none' ? '  unknown (the cluster could not be read)' : '  none');
  else
    out.push(
      ...formatTable(
        ['HELMCHART', 'RELEASE IN', 'INSTALL JOB', 'STATE'],
        report.charts.map((c) => [`${c.namespace}/${c.name}`, c.targetNamespace, c.job, chartState(c)]),
        width,
      ),
    );

  out.push('', 'Autoscalers (HPA): replicas now/wanted, CPU now/target (? = no reading yet)');
  if (report.hpas.length === 0) out.push('  none');
  else
    out.push(
      ...formatTable(
        ['NAMESPACE', 'NAME', 'TARGET', 'NOW/WANTED', 'MIN-MAX', 'CPU/TARGET'],
        report.hpas.map((h) => [
          h.namespace,
          h.name,
          h.target,
          `${h.currentReplicas ?? '?'}/${h.desiredReplicas ?? '?'}`,
          `${h.minReplicas}-${h.maxReplicas}`,
          `${percent(h.cpuCurrent)}/${percent(h.cpuTarget)}`,
        ]),
        width,
      ),
    );

  out.push('', 'Access');
  const traefik = report.metallb.services.find((s) => s.namespace === 'kube-system' && s.name === 'traefik');
  const ingress = report.access.ingressAddress;
  const how = !ingress ? '' : traefik?.assigned.includes(ingress) ? ' (handed out to Traefik)' : ' (fixed in the inventory; not handed out yet)';
  out.push(`  Ingress address: ${ingress ?? 'not known yet'}${how}`);
  out.push(
    ...formatTable(
      ['', ''],
      report.access.urls.map((u) => [u.name, u.url]),
      width,
    ).slice(1),
  );
  out.push(...wrap(report.access.hostsHint, width, '  '));
  // Unwrapped: each is a line to copy into /etc/hosts (formatHostsLines keeps them within the width).
  for (const line of formatHostsLines(report.access.hostsEntries, width - 4)) out.push(`    ${line}`);
  if (report.access.grafanaPassword) out.push(...wrap(report.access.grafanaPassword, width, '  '));
  if (report.access.revueLogins) out.push(...wrap(report.access.revueLogins, width, '  '));

  out.push('');
  if (report.problems.length === 0) out.push('All good: every node reachable and Ready, every workload ready.');
  else {
    out.push(`${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}:`);
    for (const p of report.problems) out.push(...wrap(p, width, '  - ', '    '));
  }
  for (const n of report.notes) out.push(...wrap(`Note: ${n}`, width, '', '  '));
  return out.join('\n');
}

function chartState(c: StatusReport['charts'][number]): string {
  const attempts = `${c.failedAttempts} failed attempt${c.failedAttempts === 1 ? '' : 's'}`;
  switch (c.state) {
    case 'installed':
      return 'installed';
    case 'installing':
      return 'INSTALLING';
    case 'outdated':
      return 'UPDATING: Job of an earlier spec';
    case 'retrying':
      return `RETRYING (${attempts})`;
    case 'failed':
      return `FAILED (${attempts})`;
    case 'missing':
      return 'NO JOB: never installed';
  }
}

function percent(n: number | undefined): string {
  return n === undefined ? '?' : `${n}%`;
}

/**
 * Rows aligned under their headers, two spaces apart, indented by two. When a line would pass `width`, the last
 * column is cut with "…" (the others are short by nature: names, addresses, versions).
 */
export function formatTable(headers: string[], rows: string[][], width = 100, indent = '  '): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => {
    const text = indent + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
    const trimmed = text.trimEnd();
    return trimmed.length <= width ? trimmed : `${trimmed.slice(0, width - 1)}…`;
  };
  return [line(headers), ...rows.map(line)];
}

/** Word-wraps a sentence to `width`: the first line starts with `first`, the others with `rest` (default: as wide, blank). */
export function wrap(text: string, width: number, first: string, rest = ' '.repeat(first.length)): string[] {
  const lines: string[] = [];
  let current = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && current.length + 1 + word.length > width) {
      lines.push(current);
      current = rest + word;
    } else {
      current += (empty ? '' : ' ') + word;
    }
    empty = false;
  }
  lines.push(current);
  return lines;
}
