import { buildProbeScript, decodeFileSection, fileSection, type ProbeSection } from './probe.js';

/** What a node is, as read in the single probe round trip. */
export interface NodeFacts {
  model: string;
  arch: string;
  kernel: string;
  pageSize: number;
  os: { id: string; versionId: string; codename: string; prettyName: string };
  memoryBytes: number;
  cpuCores: number;
  memoryCgroupActive: boolean;
  bootedCmdline: string;
  bootId: string;
  /** `/boot/firmware/cmdline.txt` on Bookworm and later, `/boot/cmdline.txt` on older images. */
  cmdlinePath?: string;
  cmdline?: string;
  configPath?: string;
  config?: string;
  hostname: string;
  hosts: string;
  promiscUnit?: string;
}

export const FACT_SECTIONS: ProbeSection[] = [
  { name: 'model', script: "cat /proc/device-tree/model || cat /sys/firmware/devicetree/base/model" },
  { name: 'arch', script: 'uname -m' },
  { name: 'kernel', script: 'uname -r' },
  { name: 'pagesize', script: 'getconf PAGESIZE' },
  { name: 'os', script: 'cat /etc/os-release' },
  { name: 'meminfo', script: 'grep MemTotal /proc/meminfo' },
  { name: 'cpus', script: 'nproc' },
  { name: 'cgroup', script: 'cat /sys/fs/cgroup/cgroup.controllers' },
  { name: 'proc_cmdline', script: 'cat /proc/cmdline' },
  { name: 'boot_id', script: 'cat /proc/sys/kernel/random/boot_id' },
  // Bookworm keeps a stub /boot/cmdline.txt that says it moved: the firmware folder comes first.
  { name: 'boot_dir', script: 'for d in /boot/firmware /boot; do if [ -f $d/cmdline.txt ]; then echo $d; break; fi; done' },
  { name: 'cmdline', script: 'for d in /boot/firmware /boot; do if [ -f $d/cmdline.txt ]; then base64 -w0 $d/cmdline.txt; break; fi; done' },
  { name: 'config', script: 'for d in /boot/firmware /boot; do if [ -f $d/cmdline.txt ]; then [ -f $d/config.txt ] && base64 -w0 $d/config.txt; break; fi; done' },
  { name: 'hostname', script: 'cat /etc/hostname' },
  fileSection('hosts', '/etc/hosts'),
  fileSection('promisc_unit', '/etc/systemd/system/revue-pi-wifi-promisc.service'),
];

export function buildFactsScript(extra: ProbeSection[] = []): string {
  return buildProbeScript([...FACT_SECTIONS, ...extra]);
}

function osField(osRelease: string, key: string): string {
  const match = new RegExp(`^${key}=(.*)$`, 'm').exec(osRelease);
  return match ? match[1]!.replace(/^"(.*)"$/, '$1') : '';
}

export function parseFacts(sections: Map<string, string>): NodeFacts {
  const get = (name: string) => sections.get(name) ?? '';
  const osRelease = get('os');
  const memKb = /MemTotal:\s+(\d+)\s*kB/.exec(get('meminfo'));
  const bootDir = get('boot_dir').trim();
  return {
    model: get('model').replace(/\0/g, '').trim(),
    arch: get('arch').trim(),
    kernel: get('kernel').trim(),
    pageSize: Number.parseInt(get('pagesize').trim(), 10) || 0,
    os: {
      id: osField(osRelease, 'ID'),
      versionId: osField(osRelease, 'VERSION_ID'),
      codename: osField(osRelease, 'VERSION_CODENAME'),
      prettyName: osField(osRelease, 'PRETTY_NAME'),
    },
    memoryBytes: memKb ? Number(memKb[1]) * 1024 : 0,
    cpuCores: Number.parseInt(get('cpus').trim(), 10) || 0,
    memoryCgroupActive: get('cgroup').split(/\s+/).includes('memory'),
    bootedCmdline: get('proc_cmdline').trim(),
    bootId: get('boot_id').trim(),
    cmdlinePath: bootDir ? `${bootDir}/cmdline.txt` : undefined,
    cmdline: decodeFileSection(sections, 'cmdline'),
    configPath: bootDir ? `${bootDir}/config.txt` : undefined,
    config: decodeFileSection(sections, 'config'),
    hostname: get('hostname').trim(),
    hosts: decodeFileSection(sections, 'hosts') ?? '',
    promiscUnit: decodeFileSection(sections, 'promisc_unit'),
  };
}

/** Pi model family from the device-tree string; undefined when it is not a Raspberry Pi. */
export function piGeneration(model: string): number | undefined {
  const match = /Raspberry Pi (\d+)/.exec(model);
  if (match) return Number(match[1]);
  if (/Raspberry Pi Compute Module (\d+)/.test(model)) return Number(/Compute Module (\d+)/.exec(model)![1]);
  return undefined;
}

/** MongoDB ≥5 needs ARMv8.2-A: the Pi 5's Cortex-A76 has it, the Pi 4's A72 does not. */
export function supportsArmV82(facts: Pick<NodeFacts, 'model' | 'arch'>): boolean {
  if (facts.arch !== 'aarch64') return facts.arch === 'x86_64';
  const generation = piGeneration(facts.model);
  return generation === undefined ? false : generation >= 5;
}
