import { renderSystemdUnit } from './systemd-unit.js';

/**
 * Pure edits of the Pi's boot files. Each returns the new content and whether it differs, so the
 * step can write only what changed and a dry run can show it.
 */

export const CGROUP_FLAGS = ['cgroup_memory=1', 'cgroup_enable=memory'] as const;
export const KERNEL_4K_LINE = 'kernel=kernel8.img';
const MARKER = '# added by revue-pi: 4K-page kernel (MongoDB/jemalloc images need it)';

export interface Edit {
  content: string;
  changed: boolean;
}

/**
 * cmdline.txt must stay one line. Adds the cgroup flags exactly once, after everything else, and
 * drops a `cgroup_disable=memory` from the file (a later enable wins, but a disable after ours would not).
 */
export function ensureCmdlineCgroups(original: string): Edit {
  const tokens = original.split(/\s+/).filter((t) => t !== '');
  const kept: string[] = [];
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token === 'cgroup_disable=memory') continue;
    if ((CGROUP_FLAGS as readonly string[]).includes(token)) {
      if (seen.has(token)) continue;
      seen.add(token);
    }
    kept.push(token);
  }
  for (const flag of CGROUP_FLAGS) if (!seen.has(flag)) kept.push(flag);
  const content = kept.join(' ') + '\n';
  return { content, changed: content !== original };
}

/** Whether a kernel command line (booted or on disk) leaves the memory cgroup enabled. */
export function cmdlineEnablesMemoryCgroup(cmdline: string): boolean {
  let enabled = false;
  for (const token of cmdline.split(/\s+/)) {
    if (token === 'cgroup_enable=memory') enabled = true;
    if (token === 'cgroup_disable=memory') enabled = false;
  }
  return enabled;
}

function lines(text: string): string[] {
  const all = text.split('\n');
  if (all.length > 0 && all[all.length - 1] === '') all.pop();
  return all;
}

/**
 * config.txt: `kernel=kernel8.img` in the unconditional [all] part when wanted; when not wanted, only a
 * line this tool added is removed (a user's own kernel= line is theirs).
 */
export function ensureConfigKernel(original: string, want4k: boolean): Edit {
  const all = lines(original);
  let section = 'all';
  const kernelLineIndexes: number[] = [];
  all.forEach((line, i) => {
    const trimmed = line.trim();
    const header = /^\[(.+)\]$/.exec(trimmed);
    if (header) section = header[1]!.toLowerCase();
    else if (section === 'all' && /^kernel\s*=/.test(trimmed)) kernelLineIndexes.push(i);
  });

  let next = [...all];
  if (want4k) {
    const last = kernelLineIndexes[kernelLineIndexes.length - 1];
    if (last !== undefined) {
      // The last kernel= in [all] is the effective one: make it ours (a no-op when it already is).
      next[last] = KERNEL_4K_LINE;
    } else {
      if (section !== 'all') next.push('', '[all]');
      next.push(MARKER, KERNEL_4K_LINE);
    }
  } else {
    next = next.filter((line, i) => {
      if (line.trim() === MARKER) return false;
      const prev = next[i - 1];
      return !(line.trim() === KERNEL_4K_LINE && prev?.trim() === MARKER);
    });
  }
  const content = next.join('\n') + '\n';
  return { content, changed: content !== original };
}

/** /etc/hostname holds the name alone. */
export function renderHostname(name: string): string {
  return `${name}\n`;
}

/** Debian maps the machine's own name to 127.0.1.1; keep every other line as it is. */
export function ensureHostsEntry(original: string, name: string): Edit {
  const all = lines(original);
  const wanted = `127.0.1.1\t${name}`;
  const index = all.findIndex((l) => /^127\.0\.1\.1\s/.test(l));
  if (index >= 0) {
    const names = all[index]!.trim().split(/\s+/).slice(1);
    if (names[0] !== name) all[index] = wanted;
  } else {
    all.push(wanted);
  }
  const content = all.join('\n') + '\n';
  return { content, changed: content !== original };
}

export const PROMISC_UNIT_NAME = 'revue-pi-wifi-promisc.service';

/** A oneshot unit that reapplies promiscuous mode at boot (it does not survive a reboot by itself). */
export function renderPromiscUnit(iface: string): string {
  return renderSystemdUnit({
    comments: ['Written by revue-pi: MetalLB L2 addresses only answer ARP over Wi-Fi in promiscuous mode.'],
    sections: [
      {
        name: 'Unit',
        entries: [
          ['Description', `Promiscuous mode on ${iface} for MetalLB L2 (revue-pi)`],
          ['After', 'network-online.target'],
          ['Wants', 'network-online.target'],
        ],
      },
      {
        name: 'Service',
        entries: [
          ['Type', 'oneshot'],
          ['ExecStart', { exec: ['/usr/sbin/ip', 'link', 'set', iface, 'promisc', 'on'] }],
          ['RemainAfterExit', 'yes'],
        ],
      },
      { name: 'Install', entries: [['WantedBy', 'multi-user.target']] },
    ],
  });
}
