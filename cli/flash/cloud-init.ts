import { createHash } from 'node:crypto';
import type { PublicKey } from './keys.js';
import type { StaticNetwork } from './network.js';

/**
 * cloud-init NoCloud files for Raspberry Pi OS Trixie. Its images configure cloud-init with
 * `datasource_list: [ NoCloud, None ]` and `seedfrom: file:///boot/firmware` (pi-gen
 * stage2/04-cloud-init/files/99_raspberry-pi.cfg), so `user-data`, `meta-data` and `network-config` on the
 * boot partition are read on the first boot. The keys follow what Raspberry Pi Imager writes
 * (rpi-imager src/customization_generator.cpp, generateCloudInitUserData / generateCloudInitNetworkConfig)
 * and the cloud-init NoCloud docs (https://docs.cloud-init.io/en/latest/reference/datasources/nocloud.html).
 *
 * Every value that comes from the user is written as a double-quoted YAML string (JSON string syntax is
 * valid YAML), so a node called `yes` or `0123` is never read by PyYAML as a boolean or a number.
 */

/** The groups Imager and pi-gen give the first user. */
export const FIRST_USER_GROUPS = 'users,adm,dialout,audio,netdev,video,plugdev,cdrom,games,input,gpio,spi,i2c,render,sudo';

/** The wired interface a Pi 5 names eth0. */
export const ETHERNET_INTERFACE = 'eth0';

export interface FirstBootSettings {
  /** The node name: becomes the hostname. */
  node: string;
  /** Login user (inventory ssh.user). */
  user: string;
  key: PublicKey;
  /** Static address; DHCP on eth0 when absent. */
  network?: StaticNetwork;
  /** SSH port from the inventory when it is not 22: sshd is set to listen there. */
  sshPort?: number;
}

/** The sshd drop-in revue-pi writes when the inventory's SSH port is not 22 (both generations). */
export const SSHD_PORT_DROP_IN = '/etc/ssh/sshd_config.d/10-revue-pi-port.conf';

function customPort(s: FirstBootSettings): number | undefined {
  return s.sshPort !== undefined && s.sshPort !== 22 ? s.sshPort : undefined;
}

const q = (value: string): string => JSON.stringify(value);

export function renderUserData(s: FirstBootSettings): string {
  return [
    '#cloud-config',
    `# Written by revue-pi flash for node ${s.node}. cloud-init applies it on the first boot of a`,
    '# Raspberry Pi OS Trixie image (NoCloud data source, read from the boot partition).',
    `hostname: ${q(s.node)}`,
    'manage_etc_hosts: true',
    '# Raspberry Pi OS module: turn the SSH server on (as Raspberry Pi Imager does).',
    'enable_ssh: true',
    '# Key login only.',
    'ssh_pwauth: false',
    'users:',
    `  - name: ${q(s.user)}`,
    `    groups: ${FIRST_USER_GROUPS}`,
    '    shell: /bin/bash',
    '    lock_passwd: true',
    `    sudo: ${q('ALL=(ALL) NOPASSWD:ALL')}`,
    '    ssh_authorized_keys:',
    `      - ${q(s.key.line)}`,
    ...portLines(s),
    '',
  ].join('\n');
}

/** cloud-init runs before the SSH server starts on first boot, so the drop-in is in place when sshd reads its config. */
function portLines(s: FirstBootSettings): string[] {
  const port = customPort(s);
  if (port === undefined) return [];
  return [
    `# The inventory reaches this node on SSH port ${port}.`,
    'write_files:',
    `  - path: ${SSHD_PORT_DROP_IN}`,
    `    content: ${q(`Port ${port}\n`)}`,
    `    permissions: "0644"`,
  ];
}

export function sshPortNote(s: FirstBootSettings): string {
  const port = customPort(s);
  return port === undefined ? '' : `, SSH on port ${port}`;
}

/** Netplan v2, as cloud-init expects in NoCloud's network-config (https://netplan.io/reference). */
export function renderNetworkConfig(s: FirstBootSettings): string {
  const header = [
    `# Written by revue-pi flash for node ${s.node}: netplan v2, applied by cloud-init on the first boot only.`,
    'network:',
    '  version: 2',
    '  ethernets:',
    `    ${ETHERNET_INTERFACE}:`,
  ];
  const n = s.network;
  const body = n
    ? [
        '      dhcp4: false',
        '      addresses:',
        `        - ${q(n.address)}`,
        '      routes:',
        // Not `to: default`: cloud-init's own v2 parser (22.x, Debian 12) rejects it ("Address default is not a
        // valid ip address"); 0.0.0.0/0 means the same to netplan and to every cloud-init version.
        '        - to: 0.0.0.0/0',
        `          via: ${q(n.gateway)}`,
        '      nameservers:',
        '        addresses:',
        ...n.dns.map((d) => `          - ${q(d)}`),
        '      optional: true',
      ]
    : ['      dhcp4: true', '      optional: true'];
  return [...header, ...body, ''].join('\n');
}

/**
 * NoCloud meta-data. The instance-id is derived from the node name and a digest of the other two files:
 * the same settings always give the same id (a second run changes nothing), and changed settings give a
 * new id, which is what makes cloud-init apply them again on a card that has already booted once.
 */
export function renderMetaData(s: FirstBootSettings, userData: string, networkConfig: string): string {
  return [
    `# Written by revue-pi flash for node ${s.node} (cloud-init NoCloud meta-data).`,
    '# The instance-id changes only when user-data or network-config change; a new id makes cloud-init apply them again.',
    `instance-id: ${q(instanceId(s.node, userData, networkConfig))}`,
    `local-hostname: ${q(s.node)}`,
    'dsmode: local',
    '',
  ].join('\n');
}

export function instanceId(node: string, userData: string, networkConfig: string): string {
  const digest = createHash('sha256').update(userData).update('\0').update(networkConfig).digest('hex').slice(0, 12);
  return `revue-pi-${node}-${digest}`;
}
