/**
 * Pure renderers for what a simulated Pi shows at boot: /proc/cmdline, the kernel it booted, the cgroup
 * controllers, /proc/meminfo, /proc/cpuinfo, os-release, and the stock Bookworm boot partition files.
 * No I/O here: lab.ts writes these into the node before each boot. Tested in boot.test.ts.
 */

export type LabOs = 'bookworm' | 'trixie';

export const PI5_MODEL = 'Raspberry Pi 5 Model B Rev 1.0';

/** The stock Raspberry Pi OS Bookworm boot files: one copy, shared with `plan --offline`'s fresh-node facts. */
export { STOCK_BOOKWORM_CMDLINE as STOCK_CMDLINE_TXT, STOCK_BOOKWORM_CONFIG as STOCK_CONFIG_TXT } from '../../provision/fresh.js';

/** Files (besides cmdline.txt/config.txt) that make the directory look like a Pi 5 boot partition. Contents are dummies. */
export const BOOT_PARTITION_DUMMIES = [
  'bcm2712-rpi-5-b.dtb',
  'bcm2712d0-rpi-5-b.dtb',
  'bcm2711-rpi-4-b.dtb',
  'kernel_2712.img',
  'kernel8.img',
  'initramfs_2712',
  'initramfs8',
  'start4.elf',
  'fixup4.dat',
  'bootcode.bin',
  'LICENCE.broadcom',
  'issue.txt',
  'overlays/README',
  'overlays/vc4-kms-v3d.dtbo',
  'overlays/vc4-kms-v3d-pi5.dtbo',
  'overlays/dwc2.dtbo',
];

export const KERNEL_VERSION = '6.12.47';
export const KERNEL_BUILD = '#1 SMP PREEMPT Debian 1:6.12.47-1+rpt1 (2025-09-16)';

/** What the firmware puts before cmdline.txt on a Pi 5 (it injects cgroup_disable=memory, as the real one does). */
export function firmwarePrefix(model: string): string {
  const pi5 = isPi5(model);
  return [
    'reboot=w',
    'coherent_pool=1M',
    '8250.nr_uarts=1',
    pi5 ? 'pci=pcie_bus_safe' : 'snd_bcm2835.enable_headphones=0',
    'cgroup_disable=memory',
    ...(pi5 ? ['numa_policy=interleave', 'nvme.max_host_mem_size_mb=0', 'numa=fake=8', 'system_heap.max_order=0'] : []),
    'smsc95xx.macaddr=2C:CF:67:00:00:01',
    'vc_mem.mem_base=0x3fc00000',
    'vc_mem.mem_size=0x40000000',
  ].join(' ');
}

export function isPi5(model: string): boolean {
  return /Raspberry Pi (5|500)\b|Compute Module 5/.test(model);
}

/**
 * /proc/cmdline for a boot: the firmware's additions, then the FIRST line of cmdline.txt (the firmware
 * ignores the rest) with `console=serial0` mapped to the Pi 5's UART as the firmware does.
 */
export function renderProcCmdline(cmdlineTxt: string, model: string): string {
  const first = (cmdlineTxt.split('\n')[0] ?? '').trim().replace(/\s+/g, ' ');
  const mapped = first.replace(/\bconsole=serial0\b/g, isPi5(model) ? 'console=ttyAMA10' : 'console=ttyS0');
  return `${firmwarePrefix(model)}  ${mapped}\n`;
}

/** The memory controller is enabled when the last cgroup_enable/cgroup_disable naming `memory` is an enable. */
export function memoryCgroupEnabled(procCmdline: string): boolean {
  let enabled = true;
  for (const tok of procCmdline.trim().split(/\s+/)) {
    const m = /^cgroup_(enable|disable)=(.*)$/.exec(tok);
    if (m && m[2]!.split(',').includes('memory')) enabled = m[1] === 'enable';
  }
  return enabled;
}

/** /sys/fs/cgroup/cgroup.controllers as a Pi OS 6.12 kernel shows it. */
export function renderCgroupControllers(memory: boolean): string {
  return ['cpuset', 'cpu', 'io', ...(memory ? ['memory'] : []), 'pids'].join(' ') + '\n';
}

export interface BootedKernel {
  image: string;
  release: string;
  pageSize: 4096 | 16384;
}

/**
 * Which kernel the firmware boots from config.txt: `kernel=` in a section that applies to this model
 * (top, [all], or the model's own [pi5]/[pi4]; [cm4]/[cm5]/[pi3]/[none]/[tryboot] do not) — last one wins.
 * Default: kernel_2712.img (16K pages) on a Pi 5, kernel8.img (4K) otherwise.
 */
export function bootedKernel(configTxt: string, model: string): BootedKernel {
  const pi5 = isPi5(model);
  const pi4 = /Raspberry Pi (4|400)\b|Compute Module 4/.test(model);
  let active = true;
  let image = pi5 ? 'kernel_2712.img' : 'kernel8.img';
  for (const raw of configTxt.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const section = /^\[([^\]]*)\]$/.exec(line);
    if (section) {
      const f = section[1]!.trim().toLowerCase();
      if (f === 'all') active = true;
      else if (f === 'pi5') active = pi5;
      else if (f === 'pi4') active = pi4;
      else if (f === 'pi500') active = /Raspberry Pi 500\b/.test(model);
      else if (f === 'pi400') active = /Raspberry Pi 400\b/.test(model);
      else if (f === 'cm5') active = /Compute Module 5/.test(model);
      else if (f === 'cm4') active = /Compute Module 4/.test(model);
      else if (/^(pi0|pi0w|pi02|pi1|pi2|pi3|pi3\+|cm1|cm3|cm3\+|cm4s|none|tryboot)$/.test(f)) active = false;
      else active = true; // other conditional filters (edid, gpio, serial…): assume they match
      continue;
    }
    const kv = /^kernel\s*=\s*(\S+)$/.exec(line);
    if (active && kv) image = kv[1]!;
  }
  const is2712 = image === 'kernel_2712.img';
  return {
    image,
    release: `${KERNEL_VERSION}+rpt-rpi-${is2712 ? '2712' : 'v8'}`,
    pageSize: is2712 ? 16384 : 4096,
  };
}

/** MemTotal a Pi OS kernel reports for a board with `memoryMiB` of RAM (the firmware/CMA keep ~1.7%). */
export function memTotalKiB(memoryMiB: number): number {
  return Math.round(memoryMiB * 1024 * 0.983);
}

/** The host's /proc/meminfo with the totals replaced to match the simulated board. */
export function renderMeminfo(hostMeminfo: string, memoryMiB: number): string {
  const total = memTotalKiB(memoryMiB);
  const set: Record<string, number> = {
    MemTotal: total,
    MemFree: Math.round(total * 0.85),
    MemAvailable: Math.round(total * 0.9),
    SwapTotal: 524284,
    SwapFree: 524284,
  };
  const seen = new Set<string>();
  const lines = hostMeminfo
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const key = l.split(':')[0]!;
      if (!(key in set)) return l;
      seen.add(key);
      return `${`${key}:`.padEnd(16)}${String(set[key]).padStart(8)} kB`;
    });
  for (const key of Object.keys(set)) if (!seen.has(key)) lines.push(`${`${key}:`.padEnd(16)}${String(set[key]).padStart(8)} kB`);
  return lines.join('\n') + '\n';
}

/** /proc/cpuinfo of a 4-core Cortex-A76 (Pi 5) or Cortex-A72 (Pi 4). */
export function renderCpuinfo(model: string): string {
  const pi5 = isPi5(model);
  const core = (n: number) =>
    [
      `processor\t: ${n}`,
      `BogoMIPS\t: ${pi5 ? '108.00' : '108.00'}`,
      `Features\t: ${pi5 ? 'fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp' : 'fp asimd evtstrm crc32 cpuid'}`,
      'CPU implementer\t: 0x41',
      'CPU architecture: 8',
      `CPU variant\t: ${pi5 ? '0x4' : '0x0'}`,
      `CPU part\t: ${pi5 ? '0xd0b' : '0xd08'}`,
      `CPU revision\t: ${pi5 ? '1' : '3'}`,
      '',
    ].join('\n');
  return [0, 1, 2, 3].map(core).join('\n') + `\nRevision\t: ${pi5 ? 'd04170' : 'd03115'}\nSerial\t\t: 10000000c0ffee01\nModel\t\t: ${model}\n`;
}

export function renderOsRelease(os: LabOs): string {
  const [id, name, full] = os === 'trixie' ? ['13', 'trixie', '13.1'] : ['12', 'bookworm', '12.12'];
  return [
    `PRETTY_NAME="Debian GNU/Linux ${id} (${name})"`,
    'NAME="Debian GNU/Linux"',
    `VERSION_ID="${id}"`,
    `VERSION="${id} (${name})"`,
    `VERSION_CODENAME=${name}`,
    ...(os === 'trixie' ? [`DEBIAN_VERSION_FULL=${full}`] : []),
    'ID=debian',
    'HOME_URL="https://www.debian.org/"',
    'SUPPORT_URL="https://www.debian.org/support"',
    'BUG_REPORT_URL="https://bugs.debian.org/"',
    '',
  ].join('\n');
}

export function debianVersion(os: LabOs): string {
  return os === 'trixie' ? '13.1\n' : '12.12\n';
}

export function renderRpiIssue(os: LabOs): string {
  const date = os === 'trixie' ? '2025-10-01' : '2025-05-13';
  return `Raspberry Pi reference ${date}\nGenerated using pi-gen, https://github.com/RPi-Distro/pi-gen, ${os}, stage4\n`;
}

/** /etc/hosts as Raspberry Pi Imager leaves it for a hostname. */
export function renderEtcHosts(hostname: string): string {
  return `127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n\n127.0.1.1\t\t${hostname}\n`;
}

/** Groups the Pi OS first user belongs to (only those present in the node's /etc/group are used). */
export const PI_USER_GROUPS = [
  'adm',
  'dialout',
  'cdrom',
  'sudo',
  'audio',
  'video',
  'plugdev',
  'games',
  'users',
  'input',
  'render',
  'netdev',
  'gpio',
  'i2c',
  'spi',
];

/**
 * Adds user `pi` (uid/gid 1000) to passwd/shadow/group/gshadow contents, dropping whatever else had uid
 * or gid 1000 (or the name pi). `hash` is the shadow password field ('*' = no password, key login only).
 */
export function addPiUser(
  files: { passwd: string; shadow: string; group: string; gshadow: string },
  hash: string,
): { passwd: string; shadow: string; group: string; gshadow: string } {
  const lines = (s: string) => s.split('\n').filter((l) => l !== '');
  const passwdLines = lines(files.passwd);
  const dropUsers = new Set(['pi', ...passwdLines.filter((l) => l.split(':')[2] === '1000').map((l) => l.split(':')[0]!)]);
  const groupLines = lines(files.group);
  const dropGroups = new Set(['pi', ...groupLines.filter((l) => l.split(':')[2] === '1000').map((l) => l.split(':')[0]!)]);
  // group and gshadow both keep members in field 4
  const stripMembers = (l: string) => {
    const f = l.split(':');
    const members = (f[3] ?? '').split(',').filter((m) => m !== '' && !dropUsers.has(m));
    if (PI_USER_GROUPS.includes(f[0]!)) members.push('pi');
    f[3] = members.join(',');
    return f.join(':');
  };
  const days = 20000;
  return {
    passwd: [...passwdLines.filter((l) => !dropUsers.has(l.split(':')[0]!)), 'pi:x:1000:1000:,,,:/home/pi:/bin/bash'].join('\n') + '\n',
    shadow: [...lines(files.shadow).filter((l) => !dropUsers.has(l.split(':')[0]!)), `pi:${hash}:${days}:0:99999:7:::`].join('\n') + '\n',
    group: [...groupLines.filter((l) => !dropGroups.has(l.split(':')[0]!)).map(stripMembers), 'pi:x:1000:'].join('\n') + '\n',
    gshadow:
      [
        ...lines(files.gshadow)
          .filter((l) => !dropGroups.has(l.split(':')[0]!))
          .map(stripMembers),
        'pi:!::',
      ].join('\n') + '\n',
  };
}

/** sshd_config of a lab node: listens only on its own loopback address, host keys and pid file in its own /etc and /run. */
export function renderSshdConfig(o: { address: string; port: number; passwordLogin: boolean }): string {
  return [
    '# revue-pi lab node (see test/lab/README.md)',
    'Include /etc/ssh/sshd_config.d/*.conf',
    `ListenAddress ${o.address}:${o.port}`,
    'HostKey /etc/ssh/ssh_host_ed25519_key',
    'HostKey /etc/ssh/ssh_host_ecdsa_key',
    'PidFile /run/sshd.pid',
    // The console log then shows each session's command or subsystem (sftp), which tests count.
    'LogLevel VERBOSE',
    'UsePAM no',
    'PermitRootLogin no',
    'PubkeyAuthentication yes',
    `PasswordAuthentication ${o.passwordLogin ? 'yes' : 'no'}`,
    'KbdInteractiveAuthentication no',
    'PermitEmptyPasswords no',
    'UseDNS no',
    'PrintMotd no',
    'PrintLastLog no',
    'X11Forwarding no',
    'MaxStartups 200:30:400',
    'MaxSessions 64',
    'AcceptEnv LANG LC_*',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n');
}
