/**
 * The demo's revue-pi command lines, built in one place: what the demo runs and what `--keep` prints for you to
 * try are the same arguments, each pointed at the demo's own inventory, state folder and kubeconfig, so nothing
 * lands in ~/.local/state or ~/.kube/config. Pure.
 */

export interface DemoPaths {
  /** The built CLI (dist/revue-pi.js). */
  cli: string;
  inventory: string;
  stateDir: string;
  kubeconfig: string;
}

export function demoArgs(command: 'up' | 'status' | 'plan' | 'kubeconfig', p: DemoPaths): string[] {
  const common = ['-i', p.inventory, '--state-dir', p.stateDir, '--kubeconfig', p.kubeconfig];
  return command === 'up' ? ['up', ...common, '--yes'] : [command, ...common];
}

/** POSIX shell quoting, only where needed. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** What `demo --keep` prints: commands to paste as they are, and kubectl on the demo's kubeconfig. */
export function keepInstructions(p: DemoPaths, cluster: string): string[] {
  const line = (args: string[]) => `  ${['node', p.cli, ...args].map(shellQuote).join(' ')}`;
  return [
    "The lab stays up. Try more commands on it (each uses the demo's own state folder and kubeconfig, so",
    'nothing is written to ~/.local/state or ~/.kube/config):',
    line(demoArgs('plan', p)),
    line(demoArgs('status', p)),
    line(demoArgs('up', p)),
    `  ${['kubectl', '--kubeconfig', p.kubeconfig, '--context', cluster, 'get', 'nodes'].map(shellQuote).join(' ')}`,
    'Press Ctrl-C to stop and remove it.',
  ];
}
