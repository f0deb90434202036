import { sh, type ShellScript } from '../core/remote/shell.js';
import { buildProbeScript, decodeFileSection, fileSection, type ProbeSection } from '../core/remote/probe.js';
import { stripControlChars } from '../core/remote/remote-text.js';
import { parseFibTrie } from './subnets.js';
import type { NodeFacts } from '../core/node-facts.js';

// The facts' shape and what follows from them are shared by every stage (core/node-facts.ts).
export { piGeneration, supportsArmV82, type NodeFacts } from '../core/node-facts.js';

/** A page size as read in one boot (the kernel fixes it until the next); page-size-cache.ts keeps one per node. */
export interface BootPageSize {
  bootId: string;
  pageSize: number;
}

export const FACT_SECTIONS: ProbeSection[] = [
  {
    name: 'model',
    script: sh`if [ -r /proc/device-tree/model ]; then dump_file /proc/device-tree/model; else dump_file /sys/firmware/devicetree/base/model; fi`,
  },
  // The release, then the machine, as `uname -r -m` prints them: read from /proc where the kernel has kernel.arch (5.x and
  // later, every Raspberry Pi OS of the Pi 5), so no program starts; uname otherwise.
  {
    name: 'uname',
    script: sh`if [ -r /proc/sys/kernel/arch ]; then IFS= read -r r < /proc/sys/kernel/osrelease; IFS= read -r m < /proc/sys/kernel/arch; echo "$r $m"; else uname -r -m; fi`,
  },
  pageSizeSection(),
  fileSection('os', '/etc/os-release'),
  // MemTotal is /proc/meminfo's first line; the loop stops there.
  { name: 'meminfo', script: sh`while IFS= read -r l; do case $l in MemTotal:*) printf '%s\\n' "$l"; break ;; esac; done < /proc/meminfo` },
  // The online CPUs as the kernel lists them ("0-3"): what nproc counts on a Pi, without starting it.
  fileSection('cpus_online', '/sys/devices/system/cpu/online'),
  fileSection('cgroup', '/sys/fs/cgroup/cgroup.controllers'),
  fileSection('proc_cmdline', '/proc/cmdline'),
  fileSection('boot_id', '/proc/sys/kernel/random/boot_id'),
  // Bookworm keeps a stub /boot/cmdline.txt that says it moved: the firmware folder comes first.
  { name: 'boot_dir', script: sh`boot_dir=; for d in /boot/firmware /boot; do if [ -f $d/cmdline.txt ]; then boot_dir=$d; echo $d; break; fi; done` },
  { name: 'cmdline', script: sh`[ -n "$boot_dir" ] && dump_file $boot_dir/cmdline.txt` },
  { name: 'config', script: sh`[ -n "$boot_dir" ] && dump_file $boot_dir/config.txt` },
  fileSection('hostname', '/etc/hostname'),
  fileSection('hosts', '/etc/hosts'),
  fileSection('promisc_unit', '/etc/systemd/system/revue-pi-wifi-promisc.service'),
  // The routing trie, read by the shell: the subnets MetalLB's addresses must lie in (subnets.ts).
  fileSection('fib_trie', '/proc/net/fib_trie'),
];

/**
 * The page size: `getconf PAGESIZE`, unless the node is still in the boot `known` was read in (its boot id, read by
 * the shell itself), whose page size cannot have changed — then no program starts for it.
 */
export function pageSizeSection(known?: BootPageSize): ProbeSection {
  if (!known) return { name: 'pagesize', script: sh`getconf PAGESIZE` };
  return {
    name: 'pagesize',
    script: sh`b=; IFS= read -r b < /proc/sys/kernel/random/boot_id; if [ "$b" = ${known.bootId} ]; then echo ${known.pageSize}; else getconf PAGESIZE; fi`,
  };
}

/** The node facts' sections; with the page size read in the node's boot last time, no getconf while that boot lasts. */
export function factSections(pageSizeOfBoot?: BootPageSize): ProbeSection[] {
  return pageSizeOfBoot ? FACT_SECTIONS.map((s) => (s.name === 'pagesize' ? pageSizeSection(pageSizeOfBoot) : s)) : FACT_SECTIONS;
}

export function buildFactsScript(extra: ProbeSection[] = [], opts: { pageSizeOfBoot?: BootPageSize } = {}): ShellScript {
  return buildProbeScript([...factSections(opts.pageSizeOfBoot), ...extra]);
}

function osField(osRelease: string, key: string): string {
  const match = new RegExp(`^${key}=(.*)$`, 'm').exec(osRelease);
  return match ? match[1]!.replace(/^"(.*)"$/, '$1') : '';
}

/** How many CPUs a kernel list like `0-3` or `0,2-3` names. */
export function countCpuList(list: string): number {
  let count = 0;
  for (const part of list.trim().split(',')) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (range) count += range[2] === undefined ? 1 : Number(range[2]) - Number(range[1]) + 1;
  }
  return count;
}

export function parseFacts(sections: Map<string, string>): NodeFacts {
  const get = (name: string) => sections.get(name) ?? '';
  const file = (name: string) => decodeFileSection(sections, name) ?? '';
  const osRelease = file('os');
  const memKb = /MemTotal:\s+(\d+)\s*kB/.exec(get('meminfo'));
  const bootDir = get('boot_dir').trim();
  const [kernel = '', arch = ''] = get('uname').trim().split(/\s+/);
  // What is only shown (model, OS, kernel) loses any control characters the node put in it.
  const shown = (text: string) => stripControlChars(text);
  return {
    model: shown(file('model').replace(/\0/g, '').trim()),
    arch: shown(arch),
    kernel: shown(kernel),
    pageSize: Number.parseInt(get('pagesize').trim(), 10) || 0,
    os: {
      id: shown(osField(osRelease, 'ID')),
      versionId: shown(osField(osRelease, 'VERSION_ID')),
      codename: shown(osField(osRelease, 'VERSION_CODENAME')),
      prettyName: shown(osField(osRelease, 'PRETTY_NAME')),
    },
    memoryBytes: memKb ? Number(memKb[1]) * 1024 : 0,
    cpuCores: countCpuList(file('cpus_online')),
    memoryCgroupActive: file('cgroup').split(/\s+/).includes('memory'),
    bootedCmdline: file('proc_cmdline').trim(),
    bootId: file('boot_id').trim(),
    cmdlinePath: bootDir ? `${bootDir}/cmdline.txt` : undefined,
    cmdline: decodeFileSection(sections, 'cmdline'),
    configPath: bootDir ? `${bootDir}/config.txt` : undefined,
    config: decodeFileSection(sections, 'config'),
    hostname: file('hostname').trim(),
    hosts: file('hosts'),
    promiscUnit: decodeFileSection(sections, 'promisc_unit'),
    ...(sections.has('fib_trie') ? { subnets: parseFibTrie(file('fib_trie')) } : {}),
  };
}
