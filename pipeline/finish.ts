import { nodeStatusFromSteps, type RunReport, EXIT_NODE_FAILED, EXIT_OK } from '../core/report.js';
import { updatePageSizeCache } from '../provision/page-size-cache.js';
import type { RunOptions } from './options.js';
import { errorMessage, type NodeSession } from './session.js';

function cpuMsSoFar(): number {
  const usage = process.cpuUsage();
  return Math.round((usage.user + usage.system) / 1000);
}

/** The run report: each node's status from its steps, its SSH counts, and the run's time, CPU and peak memory. */
export function finish(
  opts: RunOptions,
  sessions: NodeSession[],
  started: number,
  extra: Pick<RunReport, 'k3s' | 'workloads' | 'phases' | 'addressWarnings'> = {},
): RunReport {
  for (const s of sessions) {
    s.report.status = nodeStatusFromSteps(s.report.steps, s.report.error);
    s.report.sshConnections = s.transport?.connectionCount;
    s.report.sshCommands = s.transport?.commandCount;
    opts.emit({ type: 'node-done', node: s.node.name, status: s.report.status, error: s.report.error });
  }
  if (opts.command === 'up' && opts.openTransport) {
    // Lets the next probe of the same boot skip getconf; an optimisation, never a failure.
    try {
      updatePageSizeCache(
        opts.stateDir,
        sessions.filter((s) => s.transport && s.facts).map((s) => ({ name: s.node.name, facts: s.facts! })),
      );
    } catch (error) {
      opts.log.write(`could not update the page size cache: ${errorMessage(error)}`);
    }
  }
  const ok = sessions.every((s) => s.report.status !== 'failed') && extra.workloads?.ok !== false;
  return {
    ...extra,
    command: opts.command,
    cluster: opts.inventory.cluster.name,
    ok,
    exitCode: ok ? EXIT_OK : EXIT_NODE_FAILED,
    durationMs: Date.now() - started,
    cpuMs: cpuMsSoFar(),
    peakMemoryMiB: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
    offline: opts.openTransport ? undefined : true,
    logFile: opts.log.path,
    nodes: sessions.map((s) => s.report),
  };
}
