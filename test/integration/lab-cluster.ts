import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startInstallerServer, type InstallerServer } from '../lab/k3s-standin/server.js';
import { startLab, type Lab, type LabNode, type LabNodeSpec } from '../lab/lab.js';
import { DEFAULT_K3S_VERSION } from '../../core/inventory/schema.js';
import { runCli, type CliResult } from './cli.js';
import { tempDir } from '../fakes/temp-dir.js';

/** The cluster alone: no workloads, no MetalLB (lab tests of the provision and cluster phases). */
export const CLUSTER_ONLY = {
  workloads: { revue: false, monitoring: false, kafkaUi: false },
  network: { metallb: { enabled: false, pools: [] }, addresses: {} },
};

export interface LabCluster {
  readonly lab: Lab;
  readonly installer: InstallerServer;
  readonly inventory: string;
  readonly stateDir: string;
  /** `revue-pi up -i <inventory> --yes --json` (no terminal here: up needs --yes) with this suite's state dir and kubeconfig, plus `args`. */
  up(...args: string[]): Promise<CliResult>;
}

/**
 * For a lab suite: before it, a lab of `nodes` on `subnet`, the lab's STAND-IN K3s installer on 127.0.0.1 (no node ever
 * reaches get.k3s.io), an inventory for them (`inventory` merged in) and a state dir; after it, lab and installer stop.
 */
export function useLabCluster(nodes: LabNodeSpec[], subnet: string, inventory: Record<string, unknown>): LabCluster {
  const suite = {} as { -readonly [K in keyof LabCluster]: LabCluster[K] };
  beforeAll(async () => {
    suite.installer = await startInstallerServer();
    suite.lab = await startLab(nodes, { subnet });
    suite.inventory = suite.lab.writeInventory({ ...inventory, k3s: { installScriptUrl: suite.installer.url, ...(inventory.k3s as object | undefined) } });
    suite.stateDir = tempDir('state');
  });
  afterAll(async () => {
    await suite.lab?.stop();
    await suite.installer?.stop();
  });
  suite.up = (...args: string[]) =>
    runCli(['up', '-i', suite.inventory, '--yes', '--json', '--state-dir', suite.stateDir, '--kubeconfig', join(suite.stateDir, 'kubeconfig'), ...args]);
  return suite;
}

/**
 * Turns a single server that `up` made (cluster-init, embedded etcd) into what revue-pi made before issue 16: the same
 * config.yaml without cluster-init, on a server re-installed with fresh data, so K3s keeps its state in SQLite
 * (db/state.db). The token file is kept, so the cluster token stays the state directory's.
 */
export async function remakeAsSqliteServer(node: LabNode, installerUrl: string, version: string = DEFAULT_K3S_VERSION): Promise<void> {
  const r = await node.exec(
    `set -e; cp /etc/rancher/k3s/config.yaml /etc/rancher/k3s/revue-pi-token /root/; /usr/local/bin/k3s-uninstall.sh >/dev/null
mkdir -p /etc/rancher/k3s; grep -v '^cluster-init' /root/config.yaml > /etc/rancher/k3s/config.yaml; cp /root/revue-pi-token /etc/rancher/k3s/
chmod 600 /etc/rancher/k3s/config.yaml /etc/rancher/k3s/revue-pi-token
curl -sfL ${installerUrl} | INSTALL_K3S_VERSION=${version} sh -s - server >/dev/null
[ -f /var/lib/rancher/k3s/server/db/state.db ]`,
  );
  if (r.code !== 0) throw new Error(`could not re-make ${node.name} as a SQLite server: ${r.stderr}${r.stdout}`);
}
