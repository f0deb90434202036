import { posix } from 'node:path';
import { DEFAULT_K3S_VERSION, type Inventory, type InventoryNode } from '../core/inventory/schema.js';
import { joinShell, sh, shAssign, type ShellScript } from '../core/remote/shell.js';
import { AIRGAP_IMAGES_DIR, AIRGAP_INSTALL_SCRIPT_PATH, K3S_BINARY_PATH, type K3sRole, unitFor } from '../core/k3s-paths.js';

/**
 * The K3s installer command line (https://get.k3s.io contract). Settings are not passed here: the installer
 * and K3s read /etc/rancher/k3s/config.yaml, written beforehand. Only INSTALL_K3S_* variables appear, sorted,
 * values POSIX single-quoted when they need it — never the token (it is in a root-only file).
 */
export interface InstallOptions {
  role: K3sRole;
  /** INSTALL_K3S_FORCE_RESTART=true: restart the unit even when binary, unit and env are unchanged (an upgrade resumed). */
  forceRestart?: boolean;
}

/** The version `up` installs: the inventory's, else the pinned default; undefined when a channel is followed. */
export function wantedK3sVersion(inventory: Inventory): string | undefined {
  if (inventory.k3s.version) return inventory.k3s.version;
  if (inventory.k3s.channel) return undefined;
  return DEFAULT_K3S_VERSION;
}

export function installEnv(inventory: Inventory, opts: { forceRestart?: boolean } = {}): Record<string, string> {
  const env: Record<string, string> = {};
  if (opts.forceRestart) env.INSTALL_K3S_FORCE_RESTART = 'true';
  if (inventory.k3s.airgap) {
    env.INSTALL_K3S_SKIP_DOWNLOAD = 'true';
    return env;
  }
  const version = wantedK3sVersion(inventory);
  if (version) env.INSTALL_K3S_VERSION = version;
  else if (inventory.k3s.channel) env.INSTALL_K3S_CHANNEL = inventory.k3s.channel;
  return env;
}

function envPrefix(env: Record<string, string>): ShellScript {
  return joinShell(
    Object.keys(env)
      .sort()
      .map((k) => sh`${shAssign(k, env[k]!)} `),
    '',
  );
}

export function buildInstallCommand(inventory: Inventory, _node: InventoryNode, opts: InstallOptions): ShellScript {
  const env = envPrefix(installEnv(inventory, opts));
  if (inventory.k3s.airgap) return sh`${env}sh ${AIRGAP_INSTALL_SCRIPT_PATH} ${opts.role}`;
  return sh`curl -sfL ${inventory.k3s.installScriptUrl} | ${env}sh -s - ${opts.role}`;
}

/**
 * The script `up` runs (as root): the installer, then a check that it really installed the unit — with
 * `curl | sh` under dash a failed download feeds sh nothing and still exits 0.
 */
export function buildInstallScript(inventory: Inventory, node: InventoryNode, opts: InstallOptions): ShellScript {
  const unit = unitFor(opts.role);
  const from = inventory.k3s.airgap ? 'the uploaded script' : inventory.k3s.installScriptUrl;
  const notInstalled = `revue-pi: the K3s installer exited without installing ${unit}.service (did the download from ${from} fail?)`;
  return sh`${buildInstallCommand(inventory, node, opts)} || exit $?
if [ ! -f ${`/etc/systemd/system/${unit}.service`} ]; then echo ${notInstalled} >&2; exit 1; fi
`;
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
