import { sshSettingsFor, type Inventory, type InventoryNode } from './inventory/schema.js';
import type { EmitEvent } from './events.js';
import type { RunLog } from './log.js';
import { describeTrustedKey, KnownHosts } from './transport/known-hosts.js';
import { connectNode } from './transport/ssh.js';
import type { Transport } from './transport/transport.js';

/**
 * Opens the one SSH connection a node gets for the whole run. One KnownHosts per inventory, so concurrent
 * first connections append to the same file in turn. A host key trusted on first use is told with its fingerprint:
 * as a node warning through `emit` (which logs it), or without one on stderr and in the run log.
 */
export function transportOpener(inventory: Inventory, opts: { log: RunLog; env?: NodeJS.ProcessEnv; emit?: EmitEvent }): (node: InventoryNode) => Promise<Transport> {
  const env = opts.env ?? process.env;
  const knownHosts = new KnownHosts({ file: inventory.ssh.knownHostsFile });
  // Whatever secrets the inventory names are masked in the log, even if an error message carries them.
  for (const name of [inventory.ssh.passwordEnv, inventory.ssh.sudoPasswordEnv, inventory.ssh.keyPassphraseEnv, ...inventory.nodes.flatMap((n) => [n.ssh?.passwordEnv, n.ssh?.sudoPasswordEnv, n.ssh?.keyPassphraseEnv])]) {
    if (name) opts.log.addSecret(env[name]);
  }
  return async (node) => {
    const settings = sshSettingsFor(inventory, node);
    const transport = await connectNode(settings, {
      nodeName: node.name,
      knownHosts,
      ...(node.hostKeyFingerprint ? { pinnedFingerprint: node.hostKeyFingerprint, pinField: `nodes[${inventory.nodes.indexOf(node)}].hostKeyFingerprint` } : {}),
      onHostKeyTrusted: (seen) => {
        const message = describeTrustedKey(seen);
        if (opts.emit) opts.emit({ type: 'node-warning', node: node.name, message });
        else {
          opts.log.write(`[${node.name}] ${message}`);
          process.stderr.write(`${message}\n`);
        }
      },
      connectTimeoutMs: settings.connectTimeoutSeconds * 1000,
      retries: settings.connectRetries,
      env,
    });
    opts.log.write(`[${node.name}] connected to ${settings.user}@${settings.host}:${settings.port}`);
    return transport;
  };
}
