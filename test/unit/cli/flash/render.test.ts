import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { instanceId, renderMetaData, renderNetworkConfig, renderUserData, type FirstBootSettings } from '../../../../cli/flash/cloud-init.js';
import { FIRSTRUN_CMDLINE_ARGS, foreignRunHook, isFirstrunToken, renderFirstrun } from '../../../../cli/flash/firstrun.js';
import { parsePublicKey } from '../../../../cli/flash/keys.js';
import { tempDir } from '../../../fakes/temp-dir.js';

const parsed = parsePublicKey(readFileSync(new URL('../../../fixtures/boot/keys/operator_ed25519.pub', import.meta.url), 'utf8'), 'k');
if (!parsed.ok) throw new Error(parsed.problem);
const key = parsed.key;
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcalDJsCzDpNW2CDQVzxBHpKk8qy9mLilFW5AIzQjcU operator@laptop';

const dhcp: FirstBootSettings = { node: 'pi-1', user: 'pi', key };
const fixed: FirstBootSettings = {
  node: 'pi-1',
  user: 'pi',
  key,
  network: { address: '192.168.1.101/24', gateway: '192.168.1.1', dns: ['192.168.1.1', '9.9.9.9'] },
};

describe('cloud-init files (Trixie)', () => {
  it('user-data: hostname, one user with the key, locked password, sudo without password, no password login', () => {
    expect(renderUserData(dhcp)).toBe(`#cloud-config
# Written by revue-pi flash for node pi-1. cloud-init applies it on the first boot of a
# Raspberry Pi OS Trixie image (NoCloud data source, read from the boot partition).
hostname: "pi-1"
manage_etc_hosts: true
# Raspberry Pi OS module: turn the SSH server on (as Raspberry Pi Imager does).
enable_ssh: true
# Key login only.
ssh_pwauth: false
users:
  - name: "pi"
    groups: users,adm,dialout,audio,netdev,video,plugdev,cdrom,games,input,gpio,spi,i2c,render,sudo
    shell: /bin/bash
    lock_passwd: true
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    ssh_authorized_keys:
      - "${KEY}"
`);
  });

  it('user-data parses as the structure cloud-init reads, with names that YAML 1.1 would misread kept as strings', () => {
    const text = renderUserData({ ...dhcp, node: 'yes', user: 'no' });
    expect(yaml.load(text)).toEqual({
      hostname: 'yes',
      manage_etc_hosts: true,
      enable_ssh: true,
      ssh_pwauth: false,
      users: [
        {
          name: 'no',
          groups: 'users,adm,dialout,audio,netdev,video,plugdev,cdrom,games,input,gpio,spi,i2c,render,sudo',
          shell: '/bin/bash',
          lock_passwd: true,
          sudo: 'ALL=(ALL) NOPASSWD:ALL',
          ssh_authorized_keys: [KEY],
        },
      ],
    });
    // PyYAML (YAML 1.1) reads a bare yes/no as a boolean: the values must be quoted.
    expect(text).toContain('hostname: "yes"\n');
    expect(text).toContain('  - name: "no"\n');
  });

  it('user-data: an sshd drop-in for the inventory port when it is not 22, nothing for 22', () => {
    const text = renderUserData({ ...dhcp, sshPort: 2222 });
    expect(text).toBe(
      renderUserData(dhcp) +
        [
          '# The inventory reaches this node on SSH port 2222.',
          'write_files:',
          '  - path: /etc/ssh/sshd_config.d/10-revue-pi-port.conf',
          '    content: "Port 2222\\n"',
          '    permissions: "0644"',
          '',
        ].join('\n'),
    );
    expect((yaml.load(text) as { write_files: unknown }).write_files).toEqual([
      { path: '/etc/ssh/sshd_config.d/10-revue-pi-port.conf', content: 'Port 2222\n', permissions: '0644' },
    ]);
    expect(renderUserData({ ...dhcp, sshPort: 22 })).toBe(renderUserData(dhcp));
  });

  it('network-config: DHCP on eth0 without a static address', () => {
    expect(renderNetworkConfig(dhcp)).toBe(`# Written by revue-pi flash for node pi-1: netplan v2, applied by cloud-init on the first boot only.
network:
  version: 2
  ethernets:
    eth0:
      dhcp4: true
      optional: true
`);
  });

  it('network-config: the static address, default route and DNS servers', () => {
    expect(renderNetworkConfig(fixed)).toBe(`# Written by revue-pi flash for node pi-1: netplan v2, applied by cloud-init on the first boot only.
network:
  version: 2
  ethernets:
    eth0:
      dhcp4: false
      addresses:
        - "192.168.1.101/24"
      routes:
        - to: 0.0.0.0/0
          via: "192.168.1.1"
      nameservers:
        addresses:
          - "192.168.1.1"
          - "9.9.9.9"
      optional: true
`);
    expect(yaml.load(renderNetworkConfig(fixed))).toEqual({
      network: {
        version: 2,
        ethernets: {
          eth0: {
            dhcp4: false,
            addresses: ['192.168.1.101/24'],
            routes: [{ to: '0.0.0.0/0', via: '192.168.1.1' }],
            nameservers: { addresses: ['192.168.1.1', '9.9.9.9'] },
            optional: true,
          },
        },
      },
    });
  });

  it('meta-data: an instance-id from the node name and the settings, the hostname, local mode', () => {
    const userData = renderUserData(dhcp);
    const network = renderNetworkConfig(dhcp);
    expect(renderMetaData(dhcp, userData, network)).toBe(`# Written by revue-pi flash for node pi-1 (cloud-init NoCloud meta-data).
# The instance-id changes only when user-data or network-config change; a new id makes cloud-init apply them again.
instance-id: "revue-pi-pi-1-c3e2f94abb0b"
local-hostname: "pi-1"
dsmode: local
`);
  });

  it('instance-id: same settings, same id; other settings or another node, another id', () => {
    const id = instanceId('pi-1', renderUserData(dhcp), renderNetworkConfig(dhcp));
    expect(id).toMatch(/^revue-pi-pi-1-[0-9a-f]{12}$/);
    expect(instanceId('pi-1', renderUserData(dhcp), renderNetworkConfig(dhcp))).toBe(id);
    expect(instanceId('pi-1', renderUserData(fixed), renderNetworkConfig(fixed))).not.toBe(id);
    const other = { ...dhcp, node: 'pi-2' };
    expect(instanceId('pi-2', renderUserData(other), renderNetworkConfig(other))).toMatch(/^revue-pi-pi-2-[0-9a-f]{12}$/);
  });
});

/** The Bookworm script as it must come out, for the DHCP settings above. */
const FIRSTRUN_DHCP = [
  '#!/bin/sh',
  '# Written by revue-pi flash for node pi-1: first-boot setup for Raspberry Pi OS Bookworm.',
  '# Run once by systemd (systemd.run= on cmdline.txt); it removes itself and those arguments at the end.',
  '',
  'set +e',
  '',
  '# Hostname (as Raspberry Pi Imager does it).',
  'CURRENT_HOSTNAME=$(cat /etc/hostname | tr -d " \\t\\n\\r")',
  'if [ -f /usr/lib/raspberrypi-sys-mods/imager_custom ]; then',
  '   /usr/lib/raspberrypi-sys-mods/imager_custom set_hostname pi-1',
  'else',
  '   echo pi-1 >/etc/hostname',
  '   sed -i "s/127.0.1.1.*$CURRENT_HOSTNAME/127.0.1.1\\tpi-1/g" /etc/hosts',
  'fi',
  'FIRSTUSER=$(getent passwd 1000 | cut -d: -f1)',
  'FIRSTUSERHOME=$(getent passwd 1000 | cut -d: -f6)',
  '',
  "# SSH on, with the operator's public key for the first user.",
  'if [ -f /usr/lib/raspberrypi-sys-mods/imager_custom ]; then',
  `   /usr/lib/raspberrypi-sys-mods/imager_custom enable_ssh -k '${KEY}'`,
  'else',
  '   install -o "$FIRSTUSER" -m 700 -d "$FIRSTUSERHOME/.ssh"',
  `   cat > "$FIRSTUSERHOME/.ssh/authorized_keys" <<'EOF'`,
  KEY,
  'EOF',
  '   chown "$FIRSTUSER:$FIRSTUSER" "$FIRSTUSERHOME/.ssh/authorized_keys"',
  '   chmod 600 "$FIRSTUSERHOME/.ssh/authorized_keys"',
  '   systemctl enable ssh',
  'fi',
  '',
  '# The first user becomes pi (userconf also skips the first-boot user wizard).',
  'if [ -f /usr/lib/userconf-pi/userconf ]; then',
  "   /usr/lib/userconf-pi/userconf pi ''",
  'else',
  `   if [ "$FIRSTUSER" != pi ]; then`,
  `      usermod -l pi "$FIRSTUSER"`,
  '      usermod -m -d /home/pi pi',
  `      groupmod -n pi "$FIRSTUSER"`,
  '   fi',
  'fi',
  '',
  '# revue-pi: no password at all (key login only), sudo without one, password login off in sshd.',
  'passwd -l pi',
  "printf '%s\\n' 'pi ALL=(ALL) NOPASSWD:ALL' >/etc/sudoers.d/010_revue-pi-nopasswd",
  'chmod 0440 /etc/sudoers.d/010_revue-pi-nopasswd',
  'mkdir -p /etc/ssh/sshd_config.d',
  "printf '%s\\n' 'PasswordAuthentication no' 'KbdInteractiveAuthentication no' >/etc/ssh/sshd_config.d/10-revue-pi.conf",
  '',
  '# Run once: remove this script and the systemd.run arguments (everything after them on the line).',
  'rm -f /boot/firmware/firstrun.sh',
  "sed -i 's| systemd.run.*||g' /boot/firmware/cmdline.txt",
  'exit 0',
  '',
].join('\n');

const NM_BLOCK = [
  '',
  '# Static address on eth0 (NetworkManager keyfile; NM reads it when it starts after the reboot).',
  'mkdir -p /etc/NetworkManager/system-connections',
  'install -m 600 /dev/null /etc/NetworkManager/system-connections/revue-pi-eth0.nmconnection',
  "cat >/etc/NetworkManager/system-connections/revue-pi-eth0.nmconnection <<'EOF'",
  '[connection]',
  'id=revue-pi-eth0',
  'type=ethernet',
  'interface-name=eth0',
  'autoconnect=true',
  'autoconnect-priority=100',
  '',
  '[ipv4]',
  'method=manual',
  'address1=192.168.1.101/24,192.168.1.1',
  'dns=192.168.1.1;9.9.9.9;',
  'ignore-auto-dns=true',
  '',
  '[ipv6]',
  'method=auto',
  'EOF',
].join('\n');

describe('firstrun.sh (Bookworm)', () => {
  it("is Imager's first-boot script for this node plus the revue-pi lock-down, removing itself at the end", () => {
    expect(renderFirstrun(dhcp)).toBe(FIRSTRUN_DHCP);
  });

  it('adds a static address as a NetworkManager profile before the cleanup, and nothing about the network for DHCP', () => {
    const cleanup = '\n\n# Run once:';
    const expected = FIRSTRUN_DHCP.replace(cleanup, `\n${NM_BLOCK}${cleanup}`);
    expect(expected).not.toBe(FIRSTRUN_DHCP);
    expect(renderFirstrun(fixed)).toBe(expected);
    expect(renderFirstrun(dhcp)).not.toContain('NetworkManager');
  });

  it('sets the sshd port right after the password settings when the inventory port is not 22', () => {
    const line = "printf '%s\\n' 'Port 2222' >/etc/ssh/sshd_config.d/10-revue-pi-port.conf";
    const sshd = "printf '%s\\n' 'PasswordAuthentication no' 'KbdInteractiveAuthentication no' >/etc/ssh/sshd_config.d/10-revue-pi.conf";
    expect(renderFirstrun({ ...dhcp, sshPort: 2222 })).toBe(FIRSTRUN_DHCP.replace(`${sshd}\n`, `${sshd}\n${line}\n`));
    expect(renderFirstrun({ ...dhcp, sshPort: 22 })).toBe(FIRSTRUN_DHCP);
  });

  it.each([
    ['DHCP', dhcp],
    ['static', fixed],
    ['another SSH port', { ...fixed, sshPort: 2200 }],
    ['a key comment with a quote', { ...dhcp, key: { ...key, line: `${key.type} ${key.blob} it's mine` } }],
  ])('is valid POSIX shell for /bin/sh (%s)', (_label, settings) => {
    const dir = tempDir('firstrun');
    try {
      const file = path.join(dir, 'firstrun.sh');
      writeFileSync(file, renderFirstrun(settings));
      // -n: parse only, run nothing.
      expect(() => execFileSync('/bin/sh', ['-n', file], { stdio: 'pipe' })).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('quotes every value for POSIX sh: a key comment with quotes, $(…) and backticks stays one word', () => {
    const comment = "a 'b' $(touch /tmp/x) `x`";
    const script = renderFirstrun({ ...dhcp, key: { ...key, line: `${key.type} ${key.blob} ${comment}` } });
    expect(script).toContain(`enable_ssh -k '${key.type} ${key.blob} a '\\''b'\\'' $(touch /tmp/x) \`x\`'\n`);
    // The key as the here-document carries it to authorized_keys: data, taken as it is.
    expect(script).toContain(`<<'EOF'\n${key.type} ${key.blob} ${comment}\nEOF\n`);
  });

  it('cmdline hook: the three arguments Imager adds, recognised among others', () => {
    expect([...FIRSTRUN_CMDLINE_ARGS]).toEqual([
      'systemd.run=/boot/firmware/firstrun.sh',
      'systemd.run_success_action=reboot',
      'systemd.unit=kernel-command-line.target',
    ]);
    const tokens = [
      'rootwait',
      'systemd.run=/x.sh',
      'systemd.run_failure_action=none',
      'systemd.unit=kernel-command-line.target',
      'systemd.unit=multi-user.target',
    ];
    expect(tokens.map(isFirstrunToken)).toEqual([false, true, true, true, false]);
  });

  it('tells a hook of another tool from a firstrun.sh one', () => {
    expect(foreignRunHook('quiet systemd.run=/boot/firmware/firstrun.sh systemd.run_success_action=reboot')).toBeUndefined();
    expect(foreignRunHook('quiet systemd.run=/boot/firstrun.sh')).toBeUndefined();
    expect(foreignRunHook('quiet systemd.run=/boot/firmware/other.sh')).toBe('/boot/firmware/other.sh');
    expect(foreignRunHook('quiet rootwait')).toBeUndefined();
  });
});
