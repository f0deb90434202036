import { describe, expect, it } from 'vitest';
import { demoArgs, keepInstructions, shellQuote } from '../../../scripts/demo-commands.js';

const paths = {
  cli: 'dist/revue-pi.js',
  inventory: '/dev/shm/revue-pi-lab-x/inventory.yaml',
  stateDir: '/tmp/revue-pi-demo-y/state',
  kubeconfig: '/tmp/revue-pi-demo-y/kubeconfig',
};

describe("the demo's commands", () => {
  it("up and status run with the demo's own state folder and kubeconfig", () => {
    expect(demoArgs('up', paths)).toEqual(['up', '-i', paths.inventory, '--state-dir', paths.stateDir, '--kubeconfig', paths.kubeconfig, '--yes']);
    expect(demoArgs('status', paths)).toEqual(['status', '-i', paths.inventory, '--state-dir', paths.stateDir, '--kubeconfig', paths.kubeconfig]);
  });

  it('demo --keep prints the exact commands to paste, none of them writing to ~/.local/state or ~/.kube/config', () => {
    expect(keepInstructions(paths, 'demo')).toEqual([
      "The lab stays up. Try more commands on it (each uses the demo's own state folder and kubeconfig, so",
      'nothing is written to ~/.local/state or ~/.kube/config):',
      '  node dist/revue-pi.js plan -i /dev/shm/revue-pi-lab-x/inventory.yaml --state-dir /tmp/revue-pi-demo-y/state --kubeconfig /tmp/revue-pi-demo-y/kubeconfig',
      '  node dist/revue-pi.js status -i /dev/shm/revue-pi-lab-x/inventory.yaml --state-dir /tmp/revue-pi-demo-y/state --kubeconfig /tmp/revue-pi-demo-y/kubeconfig',
      '  node dist/revue-pi.js up -i /dev/shm/revue-pi-lab-x/inventory.yaml --state-dir /tmp/revue-pi-demo-y/state --kubeconfig /tmp/revue-pi-demo-y/kubeconfig --yes',
      '  kubectl --kubeconfig /tmp/revue-pi-demo-y/kubeconfig --context demo get nodes',
      'Press Ctrl-C to stop and remove it.',
    ]);
  });

  it('quotes a path a shell would split', () => {
    expect(shellQuote("/tmp/my demo/it's")).toBe(`'/tmp/my demo/it'\\''s'`);
    expect(shellQuote('/tmp/plain-path_1.yaml')).toBe('/tmp/plain-path_1.yaml');
  });
});
