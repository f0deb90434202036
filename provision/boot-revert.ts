import { sh } from '../core/remote/shell.js';
import { decodeFileSection, type ProbeSection } from '../core/remote/probe.js';
import { CGROUP_FLAGS, ensureConfigKernel, type Edit } from './boot-config.js';
import { backupPath } from './prepare.js';

/**
 * `revue-pi reset --boot`: undoing the boot config `up` set (boot-config.ts), as pure edits of the files' text. Only
 * what revue-pi adds is taken out — the cgroup flags in cmdline.txt (kept when the file as first found already had
 * them: its `.revue-pi.bak` copy says so) and the kernel= line behind revue-pi's marker in config.txt — so a user's own
 * settings stay. The change takes effect at the next boot; reset does not reboot.
 */

/**
 * cmdline.txt without the cgroup flags revue-pi added. `original` is the file as up first found it (its backup):
 * flags it had stay, and a `cgroup_disable=memory` that up dropped is put back at the end. Stays one line.
 */
export function revertCmdlineCgroups(current: string, original?: string): Edit {
  const originalTokens = new Set((original ?? '').split(/\s+/).filter(Boolean));
  const tokens = current.split(/\s+/).filter(Boolean);
  const kept = tokens.filter((t) => !(CGROUP_FLAGS as readonly string[]).includes(t) || originalTokens.has(t));
  if (originalTokens.has('cgroup_disable=memory') && !kept.includes('cgroup_disable=memory')) kept.push('cgroup_disable=memory');
  if (kept.length === tokens.length && kept.every((t, i) => t === tokens[i])) return { content: current, changed: false };
  const content = kept.join(' ') + '\n';
  return { content, changed: content !== current };
}

/** config.txt without the kernel= line revue-pi added (behind its marker); a kernel= line of the user's stays. */
export function revertConfigKernel(current: string): Edit {
  const edit = ensureConfigKernel(current, false);
  // ensureConfigKernel also ends the file with a newline: that alone is no revert, and the file stays as it is.
  const same = edit.content === current || edit.content === `${current}\n` || (current === '' && edit.content === '\n');
  return same ? { content: current, changed: false } : edit;
}

/** The boot files as found, in one probe: the folder (Bookworm's /boot/firmware first, as provision reads it), both files, cmdline's backup. */
export const BOOT_FILES_SECTIONS: ProbeSection[] = [
  { name: 'reset_boot_dir', script: sh`reset_boot=; for d in /boot/firmware /boot; do if [ -f $d/cmdline.txt ]; then reset_boot=$d; echo $d; break; fi; done` },
  { name: 'reset_cmdline', script: sh`[ -n "$reset_boot" ] && dump_file $reset_boot/cmdline.txt` },
  { name: 'reset_cmdline_bak', script: sh`[ -n "$reset_boot" ] && dump_file $reset_boot/cmdline.txt.revue-pi.bak` },
  { name: 'reset_config', script: sh`[ -n "$reset_boot" ] && dump_file $reset_boot/config.txt` },
];

export interface BootFiles {
  dir?: string;
  cmdline?: string;
  cmdlineBackup?: string;
  config?: string;
}

export function parseBootFiles(sections: Map<string, string>): BootFiles {
  const dir = sections.get('reset_boot_dir')?.trim() || undefined;
  const files: BootFiles = {};
  if (dir) files.dir = dir;
  const cmdline = decodeFileSection(sections, 'reset_cmdline');
  const backup = decodeFileSection(sections, 'reset_cmdline_bak');
  const config = decodeFileSection(sections, 'reset_config');
  if (cmdline !== undefined) files.cmdline = cmdline;
  if (backup !== undefined) files.cmdlineBackup = backup;
  if (config !== undefined) files.config = config;
  return files;
}

export interface BootRevert {
  /** Files to write (whole content), each with why. */
  writes: { path: string; content: string; reason: string }[];
  /** What of the boot config stays as it is, and why. */
  keeps: string[];
}

export function planBootRevert(files: BootFiles): BootRevert {
  const writes: BootRevert['writes'] = [];
  const keeps: string[] = [];
  if (!files.dir) return { writes, keeps: ['no /boot/firmware/cmdline.txt nor /boot/cmdline.txt found: no boot config to revert'] };
  const cmdlinePath = `${files.dir}/cmdline.txt`;
  if (files.cmdline !== undefined) {
    const edit = revertCmdlineCgroups(files.cmdline, files.cmdlineBackup);
    if (edit.changed) writes.push({ path: cmdlinePath, content: edit.content, reason: `take ${CGROUP_FLAGS.join(' ')} out of ${cmdlinePath}` });
    else keeps.push(`${cmdlinePath}: no cgroup flag of revue-pi's in it`);
    if (files.cmdlineBackup !== undefined) keeps.push(`${backupPath(cmdlinePath)} (the file as up first found it)`);
  }
  const configPath = `${files.dir}/config.txt`;
  if (files.config !== undefined) {
    const edit = revertConfigKernel(files.config);
    if (edit.changed) writes.push({ path: configPath, content: edit.content, reason: `take revue-pi's kernel=kernel8.img line out of ${configPath}` });
    else keeps.push(`${configPath}: no line of revue-pi's in it`);
  }
  return { writes, keeps };
}
