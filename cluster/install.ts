import { posix } from 'node:path';
import { DEFAULT_K3S_VERSION, type Inventory, type InventoryNode } from '../provision/inventory/schema.js';
import { shQuote } from '../provision/transport/commands.js';
import { AIRGAP_IMAGES_DIR, AIRGAP_INSTALL_SCRIPT_PATH, K3S_BINARY_PATH, type K3sRole, unitFor } from './paths.js';

/**
 * The K3s installer command line (https://get.k3s.io contract). Settings are not passed here: the installer
 * and K3s read /etc/rancher/k3s/config.yaml, written beforehand. Only INSTALL_K3S_* variables appear, sorted,
 * values POSIX single-quoted when they need it — never the token (it is in a root-only file).
 */
export interface InstallOptions {
  role: K3sRole;
}

/** The version `up` installs: the inventory's, else the pinned default; undefined when a channel is followed. */
export function wantedK3sVersion(inventory: Inventory): string | undefined {
  if (inventory.k3s.version) return inventory.k3s.version;
  if (inventory.k3s.channel) return undefined;
  return DEFAULT_K3S_VERSION;
}

export function installEnv(inventory: Inventory): Record<string, string> {
  const env: Record<string, string> = {};
  if (inventory.k3s.airgap) {
    env.INSTALL_K3S_SKIP_DOWNLOAD = 'true';
    return env;
  }
  const version = wantedK3sVersion(inventory);
  if (version) env.INSTALL_K3S_VERSION = version;
  else if (inventory.k3s.channel) env.INSTALL_K3S_CHANNEL = inventory.k3s.channel;
  return env;
}

function envPrefix(env: Record<string, string>): string {
  return Object.keys(env)
    .sort()
    .map((k) => `${k}=${shQuote(env[k]!)} `)
    .join('');
}

export function buildInstallCommand(inventory: Inventory, _node: InventoryNode, opts: InstallOptions): string {
  const env = envPrefix(installEnv(inventory));
  if (inventory.k3s.airgap) return `${env}sh ${AIRGAP_INSTALL_SCRIPT_PATH} ${opts.role}`;
  return `curl -sfL ${shQuote(inventory.k3s.installScriptUrl)} | ${env}sh -s - ${opts.role}`;
}

/**
 * The script `up` runs (as root): the installer, then a check that it really installed the unit — with
 * `curl | sh` under dash a failed download feeds sh nothing and still exits 0.
 */
export function buildInstallScript(inventory: Inventory, node: InventoryNode, opts: InstallOptions): string {
  const unit = unitFor(opts.role);
  return [
    buildInstallCommand(inventory, node, opts) + ' || exit $?',
    `if [ ! -f /etc/systemd/system/${unit}.service ]; then echo 'revue-pi: the K3s installer exited without installing ${unit}.service (did the download from ${inventory.k3s.airgap ? 'the uploaded script' : inventory.k3s.installScriptUrl.replace(/'/g, '')} fail?)' >&2; exit 1; fi`,
    '',
  ].join('\n');
}

/** Files an air-gapped install uploads over SFTP before running the installer. */
export interface AirgapUpload {
  local: string;
  remote: string;
  mode: number;
}

export function airgapUploads(inventory: Inventory): AirgapUpload[] {
  const airgap = inventory.k3s.airgap;
  if (!airgap) return [];
  return [
    { local: airgap.binary, remote: K3S_BINARY_PATH, mode: 0o755 },
    { local: airgap.images, remote: posix.join(AIRGAP_IMAGES_DIR, posix.basename(airgap.images.replace(/\\/g, '/'))), mode: 0o644 },
    { local: airgap.installScript, remote: AIRGAP_INSTALL_SCRIPT_PATH, mode: 0o755 },
  ];
}
