import { trimOutput } from '../../core/errors.js';
import { sh, type ShellScript } from '../../core/remote/shell.js';

/**
 * The commands `revue-pi remove-node` runs (remove-node-run.ts), and how it reads their output. Built with sh`…`
 * only; the order they run in is remove-node.ts's plan.
 */

export function buildDrainCommand(node: string, timeoutSeconds: number): ShellScript {
  return sh`k3s kubectl drain ${node} --ignore-daemonsets --delete-emptydir-data --timeout=${`${timeoutSeconds}s`}`;
}

/**
 * Why `kubectl drain` failed, from its output: its final "unable to drain" line and each distinct eviction refusal
 * (the PodDisruptionBudget's "Cannot evict pod …", which kubectl prints on every 5 s retry). Falls back to the last lines.
 */
export function drainFailureSummary(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const refusals = new Set<string>();
  for (const line of lines) {
    const m = /^error when evicting (pods\/"[^"]+" -n "[^"]+") \(will retry after \d+s\): (.+)$/.exec(line);
    if (m) refusals.add(`${m[1]} refused: ${m[2]}`);
  }
  const fatal = lines.find((l) => l.startsWith('error: unable to drain node')) ?? lines.find((l) => l.startsWith('error:'));
  const parts = [...(fatal ? [fatal.replace(/, continuing command\.\.\.$/, '')] : []), ...refusals];
  return parts.length > 0 ? parts.join('; ') : trimOutput(output);
}

export function buildUncordonCommand(node: string): ShellScript {
  return sh`k3s kubectl uncordon ${node}`;
}

export const STOP_SERVER_COMMAND = sh`systemctl stop k3s`;

export function buildDeleteNodeCommand(node: string): ShellScript {
  return sh`k3s kubectl delete node ${node} --ignore-not-found --request-timeout=30s`;
}

/** The API cannot answer just now (a leader election after a server stopped, or no quorum): worth a retry. */
export function isApiUnavailable(output: string): boolean {
  return /request timed out|connection .*refused|leader changed|ServiceUnavailable|Unable to connect to the server|the server is currently unable/i.test(
    output,
  );
}

/**
 * Runs the uninstall scripts the installer left: the agent's first (with a server unit also there it stops half-way,
 * "Additional k3s services installed"), then the server's; then checks that K3s is gone. Without either script and
 * without K3s, there is nothing to do (a re-run).
 */
export function buildUninstallScript(): ShellScript {
  return sh`ran=
for s in /usr/local/bin/k3s-agent-uninstall.sh /usr/local/bin/k3s-uninstall.sh; do
  [ -x "$s" ] || continue
  ran="$ran $s"
  out=$("$s" 2>&1) || { printf '%s\\n' "$out" | tail -n 15 >&2; echo "revue-pi: $s failed" >&2; exit 1; }
done
if [ -e /usr/local/bin/k3s ] || [ -e /etc/systemd/system/k3s.service ] || [ -e /etc/systemd/system/k3s-agent.service ]; then
  echo "revue-pi: K3s is still installed after\${ran:- no uninstall script (none found in /usr/local/bin)}" >&2; exit 1
fi
echo "uninstalled:\${ran:- nothing (K3s was not installed)}"
`;
}
