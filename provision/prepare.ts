import type { Inventory, InventoryNode } from '../core/inventory/schema.js';
import { ConnectionError, RevuePiError } from '../core/errors.js';
import { joinShell, sh, type ShellScript } from '../core/remote/shell.js';
import type { FileToWrite, Transport } from '../core/remote/transport.js';
import {
  PROMISC_UNIT_NAME,
  cmdlineEnablesMemoryCgroup,
  ensureCmdlineCgroups,
  ensureConfigKernel,
  ensureHostsEntry,
  renderHostname,
  renderPromiscUnit,
} from './boot-config.js';
import { piGeneration, type NodeFacts } from './facts.js';
import { stripControlChars } from '../core/remote/remote-text.js';

/** One thing `up` would change on a node. Pure data: `plan` prints it, `apply` carries it out. */
export type PrepareChange =
  /** `backup`: the file as found, kept beside it as `<path>.revue-pi.bak` before it is replaced. */
  | { kind: 'write-file'; path: string; content: string; mode: number; backup?: string; reason: string; bootConfig: boolean }
  | { kind: 'set-hostname'; name: string; reason: string }
  | { kind: 'enable-unit'; unit: string; reason: string }
  | { kind: 'reboot'; reason: string };

export interface CheckResult {
  severity: 'error' | 'warning';
  message: string;
}

const GiB = 1024 ** 3;
/** K3s minimums (server 2 GB, agent 512 MB), less what the kernel and firmware keep from MemTotal. */
export const MIN_MEMORY_BYTES = { server: 1.75 * GiB, agent: 0.45 * GiB } as const;
export const PAGE_SIZE_4K = 4096;

export function checkNode(facts: NodeFacts, node: InventoryNode, opts: { strict: boolean }): CheckResult[] {
  const results: CheckResult[] = [];
  if (facts.arch !== 'aarch64') {
    results.push({
      severity: opts.strict ? 'error' : 'warning',
      message: `node ${node.name} runs ${facts.arch || 'an unknown architecture'}, not aarch64: install the 64-bit Raspberry Pi OS (Revue's images are arm64/amd64).`,
    });
  }
  const minimum = MIN_MEMORY_BYTES[node.role];
  if (facts.memoryBytes < minimum) {
    results.push({
      severity: 'error',
      message: `node ${node.name} has ${formatBytes(facts.memoryBytes)} of memory, below the K3s minimum for a ${node.role} (${node.role === 'server' ? '2 GB' : '512 MB'}): give it role "agent" or use a larger board.`,
    });
  }
  const generation = piGeneration(facts.model);
  if (generation !== undefined && generation < 5) {
    results.push({
      severity: 'warning',
      message: `node ${node.name} is a ${facts.model}: it lacks ARMv8.2, so MongoDB cannot run there; Revue's databases will be placed on other nodes.`,
    });
  } else if (generation === undefined) {
    results.push({ severity: 'warning', message: `node ${node.name} does not look like a Raspberry Pi (model "${facts.model || 'unknown'}"); continuing.` });
  }
  if (!facts.cmdlinePath) {
    results.push({
      severity: 'error',
      message: `node ${node.name} has neither /boot/firmware/cmdline.txt nor /boot/cmdline.txt: is the boot partition mounted?`,
    });
  }
  return results;
}

function formatBytes(bytes: number): string {
  return bytes >= GiB ? `${(bytes / GiB).toFixed(1)} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`;
}

/** What `up` would change on this node; empty when the node is already prepared. */
export function planPreparation(facts: NodeFacts, node: InventoryNode, inventory: Inventory): PrepareChange[] {
  const changes: PrepareChange[] = [];
  const pi = inventory.pi;

  if (pi.cgroups && facts.cmdlinePath && facts.cmdline !== undefined) {
    const edit = ensureCmdlineCgroups(facts.cmdline);
    if (edit.changed) {
      changes.push({
        kind: 'write-file',
        path: facts.cmdlinePath,
        content: edit.content,
        mode: 0o644,
        backup: facts.cmdline,
        bootConfig: true,
        reason: 'enable the memory cgroup (cgroup_memory=1 cgroup_enable=memory)',
      });
    }
  }
  if (facts.configPath) {
    const edit = ensureConfigKernel(facts.config ?? '', pi.kernel4k);
    if (edit.changed) {
      changes.push({
        kind: 'write-file',
        path: facts.configPath,
        content: edit.content,
        mode: 0o644,
        ...(facts.config !== undefined ? { backup: facts.config } : {}),
        bootConfig: true,
        reason: pi.kernel4k ? 'boot the 4K-page kernel (kernel=kernel8.img)' : 'drop the 4K-page kernel line revue-pi added',
      });
    }
  }
  if (facts.hostname !== node.name) {
    changes.push({
      kind: 'write-file',
      path: '/etc/hostname',
      content: renderHostname(node.name),
      mode: 0o644,
      bootConfig: false,
      reason: `hostname ${stripControlChars(facts.hostname) || '(none)'} → ${node.name}`,
    });
    changes.push({ kind: 'set-hostname', name: node.name, reason: `apply hostname ${node.name} now` });
  }
  const hosts = ensureHostsEntry(facts.hosts, node.name);
  if (hosts.changed) {
    changes.push({
      kind: 'write-file',
      path: '/etc/hosts',
      content: hosts.content,
      mode: 0o644,
      backup: facts.hosts,
      bootConfig: false,
      reason: `map 127.0.1.1 to ${node.name}`,
    });
  }
  if (pi.wifiPromiscuous && node.wifiInterface) {
    const unit = renderPromiscUnit(node.wifiInterface);
    if (facts.promiscUnit !== unit) {
      changes.push({
        kind: 'write-file',
        path: `/etc/systemd/system/${PROMISC_UNIT_NAME}`,
        content: unit,
        mode: 0o644,
        bootConfig: false,
        reason: `keep ${node.wifiInterface} promiscuous across reboots (MetalLB L2 over Wi-Fi)`,
      });
      changes.push({ kind: 'enable-unit', unit: PROMISC_UNIT_NAME, reason: `enable ${PROMISC_UNIT_NAME}` });
    }
  }

  const reboot = rebootReason(facts, inventory, changes);
  if (reboot) changes.push({ kind: 'reboot', reason: reboot });
  return changes;
}

/**
 * A reboot is due when boot config changed, or when the files are right but the running kernel does not
 * reflect them yet (an earlier run changed them and its reboot did not happen).
 */
function rebootReason(facts: NodeFacts, inventory: Inventory, changes: PrepareChange[]): string | undefined {
  if (changes.some((c) => c.kind === 'write-file' && c.bootConfig)) return 'boot configuration changed';
  if (inventory.pi.cgroups && !facts.memoryCgroupActive && facts.cmdline !== undefined && cmdlineEnablesMemoryCgroup(facts.cmdline)) {
    return 'cmdline.txt enables the memory cgroup but the running kernel was booted without it';
  }
  if (inventory.pi.kernel4k && facts.pageSize !== PAGE_SIZE_4K && piGeneration(facts.model) === 5) {
    return `config.txt asks for the 4K-page kernel but the running kernel uses ${facts.pageSize}-byte pages`;
  }
  return undefined;
}

export function describeChange(change: PrepareChange): string {
  switch (change.kind) {
    case 'write-file':
      return `write ${change.path}: ${change.reason}`;
    case 'set-hostname':
    case 'enable-unit':
    case 'reboot':
      return change.kind === 'reboot' ? `reboot: ${change.reason}` : change.reason;
  }
}

/** Shell for the non-file changes. */
export function buildSetHostnameCommand(name: string): ShellScript {
  return sh`if command -v hostnamectl >/dev/null 2>&1 && hostnamectl set-hostname ${name} 2>/dev/null; then :; else hostname ${name}; fi`;
}

export function buildEnableUnitCommand(unit: string): ShellScript {
  return sh`systemctl daemon-reload && systemctl enable --now ${unit}`;
}

/** Where the file as found is kept before revue-pi replaces it. */
export function backupPath(path: string): string {
  return `${path}.revue-pi.bak`;
}

/** Reboot in the background so the command returns before the session drops. */
export const REBOOT_COMMAND = sh`nohup sh -c "sleep 1; systemctl reboot || reboot" >/dev/null 2>&1 &`;

/**
 * The whole preparation of a node as one round trip: the files to write (each backup first, as found), and the
 * script that runs once they are all in place — hostname, units, and the reboot last when one is planned.
 */
export function buildPreparation(changes: PrepareChange[]): { files: FileToWrite[]; script: ShellScript } {
  const files: FileToWrite[] = [];
  const steps: ShellScript[] = [];
  const orFail = (what: string) => sh`|| { rc=$?; echo ${`revue-pi: ${what} failed`} >&2; exit $rc; }`;
  for (const change of changes) {
    if (change.kind === 'write-file') {
      if (change.backup !== undefined) files.push({ path: backupPath(change.path), content: change.backup, mode: change.mode });
      files.push({ path: change.path, content: change.content, mode: change.mode });
    } else if (change.kind === 'set-hostname') {
      steps.push(sh`${buildSetHostnameCommand(change.name)} ${orFail('setting the hostname')}`);
    } else if (change.kind === 'enable-unit') {
      steps.push(sh`${buildEnableUnitCommand(change.unit)} ${orFail(`enabling ${change.unit}`)}`);
    }
  }
  if (changes.some((c) => c.kind === 'reboot')) steps.push(REBOOT_COMMAND);
  return { files, script: steps.length > 0 ? sh`${joinShell(steps)}\n` : sh`` };
}

export interface ApplyHooks {
  onChange?: (change: PrepareChange) => void;
}

/** Carries out the planned changes in one round trip, the reboot included (started in the background: the caller waits). */
export async function applyPreparation(transport: Transport, changes: PrepareChange[], hooks: ApplyHooks = {}): Promise<void> {
  const { files, script } = buildPreparation(changes);
  for (const change of changes) if (change.kind !== 'reboot') hooks.onChange?.(change);
  // A reboot may drop the session as the command ends: that is the reboot working, the caller checks the boot id.
  const rebooting = changes.some((c) => c.kind === 'reboot');
  const result = await transport.writeFilesThenRun(files, script, { sudo: true, timeoutMs: 60_000 }).catch((error: unknown) => {
    if (rebooting && error instanceof ConnectionError) return { code: 0, stdout: '', stderr: '' };
    throw error;
  });
  if (result.code !== 0) {
    throw new RevuePiError(
      `Preparing node ${transport.nodeName} failed (exit ${result.code}): ${(result.stderr || result.stdout).trim().split('\n').slice(-3).join(' ')}`,
      {
        code: 'REMOTE_COMMAND',
        node: transport.nodeName,
        hint: 'Nothing after the failing step was done; fix the cause on the node and run up again.',
      },
    );
  }
}

/** After the reboot: the memory cgroup must be active, else say which file and what was expected. */
export function verifyAfterReboot(facts: NodeFacts, node: InventoryNode, inventory: Inventory): string[] {
  const problems: string[] = [];
  if (inventory.pi.cgroups && !facts.memoryCgroupActive) {
    problems.push(
      `node ${node.name} rebooted but the memory cgroup is still inactive (/sys/fs/cgroup/cgroup.controllers lacks "memory"): ` +
        `${facts.cmdlinePath ?? 'cmdline.txt'} should end with "cgroup_memory=1 cgroup_enable=memory" on its single line; the kernel booted with: ${facts.bootedCmdline}`,
    );
  }
  if (inventory.pi.kernel4k && piGeneration(facts.model) === 5 && facts.pageSize !== PAGE_SIZE_4K) {
    problems.push(
      `node ${node.name} rebooted but still runs ${facts.pageSize}-byte pages (kernel ${facts.kernel}): ${facts.configPath ?? 'config.txt'} should contain "kernel=kernel8.img" in its [all] section.`,
    );
  }
  return problems;
}
