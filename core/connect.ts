import { sshSettingsFor, type Inventory, type InventoryNode } from './inventory/schema.js';
import type { EmitEvent } from './events.js';
import type { RunLog } from './log.js';
import type { ResolvedNodeSsh } from './ssh-config/resolve.js';
import { describeTrustedKey } from './remote/host-key-text.js';
import { KnownHosts } from './remote/known-hosts.js';
import { connectNode } from './remote/ssh.js';
import type { Transport } from './remote/transport.js';

/**
 * Opens the one SSH connection a node gets for the whole run, with the settings resolved against the ssh config
 * (`ssh`, by node name) or, without them, the inventory's alone. One KnownHosts per set of files read, all writing
 * the same TOFU file in turn (appends are serialised per file). A host key trusted on first use is told with its
 * fingerprint: as a node warning through `emit` (which logs it), or without one on stderr and in the run log.
 */
export function transportOpener(
  inventory: Inventory,
  opts: { log: RunLog; env?: NodeJS.ProcessEnv; emit?: EmitEvent; ssh?: ReadonlyMap<string, ResolvedNodeSsh> },
): (node: InventoryNode) => Promise<Transport> {
  const env = opts.env ?? process.env;
  const knownHostsFor = new Map<string, KnownHosts>();
  const knownHosts = (userFiles: string[] | undefined): KnownHosts => {
    const key = userFiles ? JSON.stringify(userFiles) : '';
    let kh = knownHostsFor.get(key);
    if (!kh) {
      kh = new KnownHosts({ file: inventory.ssh.knownHostsFile, ...(userFiles ? { userFiles } : {}), env });
      knownHostsFor.set(key, kh);
    }
    return kh;
  };
  // Whatever secrets the inventory names are masked in the log, even if an error message carries them.
  for (const name of [
    inventory.ssh.passwordEnv,
    inventory.ssh.sudoPasswordEnv,
    inventory.ssh.keyPassphraseEnv,
    ...inventory.nodes.flatMap((n) => [n.ssh?.passwordEnv, n.ssh?.sudoPasswordEnv, n.ssh?.keyPassphraseEnv]),
  ]) {
    if (name) opts.log.addSecret(env[name]);
  }
  return async (node) => {
    const settings = opts.ssh?.get(node.name)?.settings ?? sshSettingsFor(inventory, node);
    const nodeKnownHosts = knownHosts(settings.userKnownHostsFiles);
    const jumpKnownHosts = settings.jump ? knownHosts(settings.jump.userKnownHostsFiles ?? settings.userKnownHostsFiles) : undefined;
    const transport = await connectNode(settings, {
      nodeName: node.name,
      knownHosts: nodeKnownHosts,
      ...(jumpKnownHosts && jumpKnownHosts !== nodeKnownHosts ? { jumpKnownHosts } : {}),
      ...(node.hostKeyFingerprint
        ? { pinnedFingerprint: node.hostKeyFingerprint, pinField: `nodes[${inventory.nodes.indexOf(node)}].hostKeyFingerprint` }
        : {}),
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
    const via = settings.jump ? ` through ${settings.jump.user ?? settings.user}@${settings.jump.host}:${settings.jump.port}` : '';
    opts.log.write(`[${node.name}] connected to ${settings.user}@${settings.host}:${settings.port}${via}`);
    return transport;
  };
}
