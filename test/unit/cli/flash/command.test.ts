import { createHash } from 'node:crypto';
import { chmodSync, cpSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runFlashCommand, type FlashCommandOptions, type FlashIo } from '../../../../cli/commands/flash.js';
import { addFlashCommand } from '../../../../cli/flash/cli.js';
import { renderMetaData, renderNetworkConfig, renderUserData } from '../../../../cli/flash/cloud-init.js';
import { renderFirstrun } from '../../../../cli/flash/firstrun.js';
import { parsePublicKey } from '../../../../cli/flash/keys.js';
import { tempDir } from '../../../fakes/temp-dir.js';

/**
 * runFlashCommand on copies of the fixture boot partitions in a temporary folder: what lands on disk, that a
 * second run writes nothing, and that refused input leaves every file (inside and outside) as it was.
 */

const FIXTURES = fileURLToPath(new URL('../../../fixtures/boot/', import.meta.url));
const PUB = readFileSync(path.join(FIXTURES, 'keys/operator_ed25519.pub'), 'utf8');
const parsed = parsePublicKey(PUB, 'k');
if (!parsed.ok) throw new Error(parsed.problem);
const key = parsed.key;
const FP = 'SHA256:XjPTcuxtcqxE1t825epoHDjXINJH9hQjNGaboPhr9cw';

const INVENTORY = `cluster:
  name: lab
ssh:
  user: pi
  keyPath: keys/operator_ed25519
nodes:
  - name: pi-1
    host: 192.168.1.101
    role: server
  - name: pi-2
    host: 192.168.1.102
    role: agent
    ssh:
      user: ops
workloads:
  revue: false
  monitoring: false
`;

let ws: string;
let out: string;
let err: string;
let io: FlashIo;

beforeEach(() => {
  ws = tempDir('flash');
  mkdirSync(path.join(ws, 'keys'));
  mkdirSync(path.join(ws, 'home'));
  // The inventory checks that the private key file exists; its content is never read by flash.
  writeFileSync(path.join(ws, 'keys/operator_ed25519'), 'placeholder for the private key (not read by flash)\n', { mode: 0o600 });
  writeFileSync(path.join(ws, 'keys/operator_ed25519.pub'), PUB);
  writeFileSync(path.join(ws, 'inventory.yaml'), INVENTORY);
  out = '';
  err = '';
  io = { out: (t) => void (out += t), err: (t) => void (err += t), homeDir: path.join(ws, 'home') };
});

afterEach(() => {
  rmSync(ws, { recursive: true, force: true });
});

function copyBoot(generation: 'bookworm' | 'trixie', name = 'boot'): string {
  const dir = path.join(ws, name);
  cpSync(path.join(FIXTURES, generation), dir, { recursive: true });
  return dir;
}

function flash(extra: Partial<FlashCommandOptions> & { boot: string }): Promise<number> {
  return runFlashCommand({ node: 'pi-1', inventory: path.join(ws, 'inventory.yaml'), ...extra }, io);
}

/** Every entry under `dir` (names, kinds, modes, link targets, contents) folded into one hash. */
function treeHash(dir: string): string {
  const hash = createHash('sha256');
  const walk = (rel: string) => {
    const full = path.join(dir, rel);
    const info = lstatSync(full);
    hash.update(`${rel}\0${info.mode}\0`);
    if (info.isSymbolicLink()) hash.update(`link:${readlinkSync(full)}\0`);
    else if (info.isDirectory()) for (const name of readdirSync(full).sort()) walk(path.join(rel, name));
    else hash.update(readFileSync(full));
  };
  walk('.');
  return hash.digest('hex');
}

const read = (dir: string, name: string) => readFileSync(path.join(dir, name), 'utf8');

describe('revue-pi flash on a Trixie boot partition', () => {
  it('writes the cloud-init files, the cgroup flags and the 4K kernel, and says so', async () => {
    const boot = copyBoot('trixie');
    const fixture = path.join(FIXTURES, 'trixie');
    expect(await flash({ boot })).toBe(0);

    const settings = { node: 'pi-1', user: 'pi', key };
    const userData = renderUserData(settings);
    const networkConfig = renderNetworkConfig(settings);
    expect(read(boot, 'user-data')).toBe(userData);
    expect(read(boot, 'network-config')).toBe(networkConfig);
    expect(read(boot, 'meta-data')).toBe(renderMetaData(settings, userData, networkConfig));
    expect(read(boot, 'cmdline.txt')).toBe(
      'console=serial0,115200 console=tty1 root=PARTUUID=8a43e0b1-02 rootfstype=ext4 fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot cfg80211.ieee80211_regdom=GB cgroup_memory=1 cgroup_enable=memory\n',
    );
    expect(read(boot, 'config.txt')).toBe(
      `${read(fixture, 'config.txt')}# added by revue-pi: 4K-page kernel (MongoDB/jemalloc images need it)\nkernel=kernel8.img\n`,
    );

    // Nothing else changed, nothing was added (no temporary files left behind).
    expect(readdirSync(boot).sort()).toEqual(readdirSync(fixture).sort());
    for (const name of ['user-data', 'network-config', 'meta-data', 'cmdline.txt', 'config.txt']) rmSync(path.join(boot, name));
    for (const name of ['user-data', 'network-config', 'meta-data', 'cmdline.txt', 'config.txt']) cpSync(path.join(fixture, name), path.join(boot, name));
    expect(treeHash(boot)).toBe(treeHash(fixture));

    expect(out).toBe(
      [
        `Boot partition ${boot}, node pi-1: Raspberry Pi OS Trixie, first boot through cloud-init [detected: cloud-init files on the boot partition: user-data, meta-data, network-config]`,
        `  updated user-data      cloud-init: hostname pi-1, user pi with the ssh-ed25519 key ${FP}, sudo without password, password login off`,
        '  updated network-config cloud-init network: DHCP on eth0',
        '  updated meta-data      cloud-init NoCloud instance id for this node',
        '  updated cmdline.txt    kernel command line: memory cgroup flags (K3s needs them)',
        '  updated config.txt     kernel=kernel8.img: the 4K-page kernel (MongoDB and jemalloc images need it)',
        `Wrote 5 files. Eject the card safely, boot the Pi from it, then run: revue-pi up -i ${path.join(ws, 'inventory.yaml')}`,
        '',
      ].join('\n'),
    );
    expect(err).toBe('');
  });

  it('changes nothing on a second run, and says so', async () => {
    const boot = copyBoot('trixie');
    expect(await flash({ boot })).toBe(0);
    const before = treeHash(ws);
    const mtimes = readdirSync(boot).map((n) => statSync(path.join(boot, n)).mtimeMs);
    out = '';
    expect(await flash({ boot })).toBe(0);
    expect(treeHash(ws)).toBe(before);
    expect(readdirSync(boot).map((n) => statSync(path.join(boot, n)).mtimeMs)).toEqual(mtimes);
    expect(out).toBe(
      `Boot partition ${boot}, node pi-1: Raspberry Pi OS Trixie, first boot through cloud-init [detected: cloud-init files on the boot partition: user-data, meta-data, network-config]\n` +
        'Nothing to change: the first-boot config for pi-1 is already there.\n',
    );
  });

  it('rewrites only network-config and meta-data when a static address is added', async () => {
    const boot = copyBoot('trixie');
    expect(await flash({ boot })).toBe(0);
    out = '';
    expect(await flash({ boot, address: '192.168.1.101/24', gateway: '192.168.1.1', dns: ['1.1.1.1'] })).toBe(0);
    expect(out.split('\n').filter((l) => l.startsWith('  '))).toEqual([
      '  updated network-config cloud-init network: static 192.168.1.101/24 via 192.168.1.1, DNS 1.1.1.1 on eth0',
      '  updated meta-data      cloud-init NoCloud instance id for this node',
    ]);
    expect(read(boot, 'network-config')).toContain('        - "192.168.1.101/24"\n');
  });

  it('--dry-run lists the changes and writes nothing', async () => {
    const boot = copyBoot('trixie');
    const before = treeHash(ws);
    expect(await flash({ boot, dryRun: true })).toBe(0);
    expect(treeHash(ws)).toBe(before);
    expect(out).toContain('  would update user-data      cloud-init: hostname pi-1');
    expect(out).toContain('Dry run: nothing was written.\n');
  });
});

describe('revue-pi flash on a Bookworm boot partition', () => {
  it('writes firstrun.sh and hooks it into cmdline.txt after the cgroup flags, with the static address', async () => {
    const boot = copyBoot('bookworm');
    expect(await flash({ boot, address: '192.168.1.101/24', gateway: '192.168.1.1' })).toBe(0);
    const network = { address: '192.168.1.101/24', gateway: '192.168.1.1', dns: ['192.168.1.1'] };
    expect(read(boot, 'firstrun.sh')).toBe(renderFirstrun({ node: 'pi-1', user: 'pi', key, network }));
    expect(statSync(path.join(boot, 'firstrun.sh')).mode & 0o777).toBe(0o755);
    expect(read(boot, 'cmdline.txt')).toBe(
      'console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot cgroup_memory=1 cgroup_enable=memory systemd.run=/boot/firmware/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target\n',
    );
    expect(readdirSync(boot).filter((n) => ['user-data', 'meta-data', 'network-config'].includes(n))).toEqual([]);
    expect(out.split('\n').filter((l) => l.startsWith('  '))).toEqual([
      `  created firstrun.sh    first-boot script (run once via systemd.run=): hostname pi-1, user pi with the ssh-ed25519 key ${FP}, sudo without password, password login off, static 192.168.1.101/24 via 192.168.1.1, DNS 192.168.1.1`,
      '  updated cmdline.txt    kernel command line: memory cgroup flags (K3s needs them) and the first-boot hook for firstrun.sh',
      '  updated config.txt     kernel=kernel8.img: the 4K-page kernel (MongoDB and jemalloc images need it)',
    ]);

    const before = treeHash(ws);
    out = '';
    expect(await flash({ boot, address: '192.168.1.101/24', gateway: '192.168.1.1' })).toBe(0);
    expect(treeHash(ws)).toBe(before);
    expect(out).toContain('Nothing to change');
  });

  it("uses the node's own ssh.user and the key given with --ssh-key", async () => {
    const boot = copyBoot('bookworm');
    const other = path.join(ws, 'other.pub');
    writeFileSync(other, readFileSync(path.join(FIXTURES, 'keys/operator_rsa.pub')));
    expect(await flash({ boot, node: 'pi-2', sshKey: other })).toBe(0);
    const script = read(boot, 'firstrun.sh');
    expect(script).toContain("   /usr/lib/userconf-pi/userconf ops ''\n");
    expect(script).toContain('set_hostname pi-2\n');
    expect(script).toContain("enable_ssh -k 'ssh-rsa AAAA");
    expect(out).toContain('user ops with the ssh-rsa key SHA256:3YM1m/qfDbjlbB9GWFWU0tDJ+yNPMvvoFKf2FzwCyIU');
  });

  it("makes sshd listen on the inventory's port, and warns that an SSH password will not be used", async () => {
    writeFileSync(
      path.join(ws, 'inventory.yaml'),
      INVENTORY.replace('    ssh:\n      user: ops\n', '    ssh:\n      user: ops\n      port: 2200\n      passwordEnv: PI2_PASSWORD\n'),
    );
    const boot = copyBoot('trixie');
    expect(await flash({ boot, node: 'pi-2' })).toBe(0);
    expect(read(boot, 'user-data')).toContain('    content: "Port 2200\\n"\n');
    expect(out).toContain('password login off, SSH on port 2200\n');
    expect(err).toBe(
      `warning: ${path.join(ws, 'inventory.yaml')} gives node pi-2 an SSH password (passwordEnv), but flash turns password login off: up will log in with the key ${FP}.\n`,
    );
  });

  it('falls back to ~/.ssh/id_ed25519.pub when the inventory names no key', async () => {
    writeFileSync(path.join(ws, 'inventory.yaml'), INVENTORY.replace('  keyPath: keys/operator_ed25519\n', ''));
    mkdirSync(path.join(ws, 'home/.ssh'));
    writeFileSync(path.join(ws, 'home/.ssh/id_ed25519.pub'), PUB);
    const boot = copyBoot('bookworm');
    expect(await flash({ boot })).toBe(0);
    expect(read(boot, 'firstrun.sh')).toContain(key.line);
  });

  it('works through a --boot path that is a symbolic link to the partition', async () => {
    const boot = copyBoot('bookworm');
    symlinkSync(boot, path.join(ws, 'bootfs-link'));
    expect(await flash({ boot: path.join(ws, 'bootfs-link') })).toBe(0);
    expect(out).toContain(
      `Boot partition ${boot}, node pi-1: Raspberry Pi OS Bookworm, first boot through firstrun.sh [detected: no cloud-init files on the boot partition]`,
    );
    expect(readdirSync(boot)).toContain('firstrun.sh');
  });

  it('removes a temporary file an interrupted run left behind', async () => {
    const boot = copyBoot('bookworm');
    writeFileSync(path.join(boot, '.cmdline.txt.revue-pi-tmp'), 'half a line');
    expect(await flash({ boot })).toBe(0);
    expect(readdirSync(boot).filter((n) => n.includes('revue-pi-tmp'))).toEqual([]);
  });
});

describe('revue-pi flash refuses, touching nothing', () => {
  async function refused(opts: Partial<FlashCommandOptions> & { boot: string }): Promise<string> {
    const before = treeHash(ws);
    expect(await flash(opts)).toBe(2);
    expect(treeHash(ws)).toBe(before);
    expect(out).toBe('');
    return err;
  }

  it('a folder that is not a boot partition, naming the folder and what is missing', async () => {
    const dir = path.join(ws, 'Documents');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'config.txt'), 'my notes\n');
    expect(await refused({ boot: dir })).toBe(
      `revue-pi flash: ${dir} does not look like a Raspberry Pi boot partition: cmdline.txt, firmware files (start*.elf or bcm2712*.dtb) missing.\n` +
        "  Pass the folder where the SD card's boot partition (bootfs) is mounted, e.g. /media/$USER/bootfs.\n" +
        'Nothing was written.\n',
    );
  });

  it('an inventory with an error, naming the file, line and field', async () => {
    const inventory = path.join(ws, 'inventory.yaml');
    writeFileSync(inventory, INVENTORY.replace('role: server', 'role: master'));
    const message = await refused({ boot: copyBoot('trixie') });
    expect(message).toContain(`${inventory}:`);
    expect(message).toMatch(/role/);
  });

  it('a folder that does not exist', async () => {
    expect(await refused({ boot: path.join(ws, 'nope') })).toContain(`The folder ${path.join(ws, 'nope')} (--boot) does not exist.`);
  });

  it('a boot file that is a symbolic link out of the partition', async () => {
    const boot = copyBoot('trixie');
    mkdirSync(path.join(ws, 'outside'));
    writeFileSync(path.join(ws, 'outside/cmdline.txt'), 'root=/dev/sda2 rootwait\n');
    rmSync(path.join(boot, 'cmdline.txt'));
    symlinkSync('../outside/cmdline.txt', path.join(boot, 'cmdline.txt'));
    expect(await refused({ boot })).toBe(
      `revue-pi flash: ${path.join(boot, 'cmdline.txt')} is a symbolic link to ${path.join(ws, 'outside/cmdline.txt')}, outside ${boot}; flash only reads and writes regular files inside the boot partition.\n` +
        '  A real boot partition (FAT) has no links: check that --boot is the mounted SD card.\n' +
        'Nothing was written.\n',
    );
    expect(read(ws, 'outside/cmdline.txt')).toBe('root=/dev/sda2 rootwait\n');
  });

  it('a cloud-init file that is a symbolic link, even inside the partition', async () => {
    const boot = copyBoot('trixie');
    rmSync(path.join(boot, 'user-data'));
    symlinkSync('issue.txt', path.join(boot, 'user-data'));
    expect(await refused({ boot })).toContain(`${path.join(boot, 'user-data')} is a symbolic link to ${path.join(boot, 'issue.txt')}; flash only`);
  });

  it('a folder where a file must go', async () => {
    const boot = copyBoot('trixie');
    rmSync(path.join(boot, 'meta-data'));
    mkdirSync(path.join(boot, 'meta-data'));
    expect(await refused({ boot })).toContain(`${path.join(boot, 'meta-data')} is not a regular file`);
  });

  it('a node that is not in the inventory', async () => {
    const boot = copyBoot('trixie');
    expect(await refused({ boot, node: 'pi-9' })).toBe(
      `revue-pi flash: There is no node "pi-9" in ${path.join(ws, 'inventory.yaml')}; its nodes are: pi-1, pi-2.\n` +
        '  Pass one of those names with --node, or add the node to the inventory first.\n' +
        'Nothing was written.\n',
    );
  });

  it('a private key given as --ssh-key, without printing any of it', async () => {
    const boot = copyBoot('trixie');
    const secret = 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW';
    const file = path.join(ws, 'keys/id_ed25519');
    writeFileSync(file, `-----BEGIN OPENSSH PRIVATE KEY-----\n${secret}\n-----END OPENSSH PRIVATE KEY-----\n`, { mode: 0o600 });
    const message = await refused({ boot, sshKey: file });
    expect(message).toContain(`${file} is a PRIVATE key; flash needs the public half`);
    expect(message).not.toContain(secret);
  });

  it('no public key anywhere', async () => {
    writeFileSync(path.join(ws, 'inventory.yaml'), INVENTORY.replace('  keyPath: keys/operator_ed25519\n', ''));
    const boot = copyBoot('trixie');
    expect(await refused({ boot })).toContain('No public key found: ');
  });

  it('an unreadable --ssh-key', async () => {
    const boot = copyBoot('trixie');
    expect(await refused({ boot, sshKey: path.join(ws, 'missing.pub') })).toContain(`Cannot read the public key ${path.join(ws, 'missing.pub')} (--ssh-key)`);
  });

  it('a static address that is not the inventory host', async () => {
    const boot = copyBoot('bookworm');
    expect(await refused({ boot, address: '192.168.1.77/24', gateway: '192.168.1.1' })).toBe(
      'revue-pi flash: --address 192.168.1.77/24 is not the address the inventory gives node pi-1 (host: 192.168.1.101); revue-pi connects to host, so make them the same.\n' +
        'Nothing was written.\n',
    );
  });

  it('an unknown --image', async () => {
    const boot = copyBoot('bookworm');
    expect(await refused({ boot, image: 'buster' })).toContain('--image "buster" is not known; use bookworm or trixie');
  });

  it('a broken inventory, with its file and line', async () => {
    writeFileSync(path.join(ws, 'inventory.yaml'), 'cluster:\n  name: lab\nnodes: []\n');
    const boot = copyBoot('bookworm');
    const message = await refused({ boot });
    expect(message).toContain(`The inventory ${path.join(ws, 'inventory.yaml')} is not valid:`);
    expect(message).toContain('nodes');
  });

  it("another tool's first-boot script on the command line", async () => {
    const boot = copyBoot('bookworm');
    writeFileSync(path.join(boot, 'cmdline.txt'), 'console=tty1 root=PARTUUID=4e639091-02 rootwait systemd.run=/boot/firmware/setup.sh\n');
    expect(await refused({ boot })).toContain('cmdline.txt already runs /boot/firmware/setup.sh at first boot');
  });
});

describe('revue-pi flash when a write fails', () => {
  it('exits 1 naming the file, after the files already written', async () => {
    if (process.getuid?.() === 0) {
      // root writes into a read-only folder anyway: make the write fail another way (a folder where the temp file goes).
      const boot = copyBoot('bookworm');
      mkdirSync(path.join(boot, '.cmdline.txt.revue-pi-tmp'));
      writeFileSync(path.join(boot, '.cmdline.txt.revue-pi-tmp/x'), 'x');
      expect(await flash({ boot })).toBe(1);
      expect(err).toContain(`Writing ${path.join(boot, 'cmdline.txt')} failed:`);
      expect(out).toContain('  created firstrun.sh');
      expect(read(boot, 'cmdline.txt')).toBe(read(path.join(FIXTURES, 'bookworm'), 'cmdline.txt'));
    } else {
      const boot = copyBoot('bookworm');
      chmodSync(boot, 0o555);
      try {
        expect(await flash({ boot })).toBe(1);
        expect(err).toContain(`Writing ${path.join(boot, 'firstrun.sh')} failed:`);
      } finally {
        chmodSync(boot, 0o755);
      }
    }
  });
});

describe('the flash command line (addFlashCommand)', () => {
  /** Parses argv with the real option definitions and runs the real command, output captured. */
  async function cli(args: string[]): Promise<number | undefined> {
    let code: number | undefined;
    const program = new Command('revue-pi').exitOverride().configureOutput({ writeErr: (t) => void (err += t), writeOut: (t) => void (out += t) });
    addFlashCommand(
      program,
      (c) => void (code = c),
      (opts) => runFlashCommand(opts, io),
    );
    await program.parseAsync(['node', 'revue-pi', ...args]);
    return code;
  }

  it('maps every option onto the command: repeated and comma-separated --dns, --ssh-key, --image, -i', async () => {
    const boot = copyBoot('trixie');
    const pub = path.join(ws, 'keys/operator_ed25519.pub');
    const code = await cli([
      'flash',
      '--boot',
      boot,
      '--node',
      'pi-1',
      '-i',
      path.join(ws, 'inventory.yaml'),
      '--image',
      'trixie',
      '--ssh-key',
      pub,
      '--address',
      '192.168.1.101/24',
      '--gateway',
      '192.168.1.1',
      '--dns',
      '1.1.1.1,9.9.9.9',
      '--dns',
      '8.8.8.8',
    ]);
    expect(code).toBe(0);
    expect(read(boot, 'network-config')).toContain('          - "1.1.1.1"\n          - "9.9.9.9"\n          - "8.8.8.8"\n');
    expect(out).toContain('[--image trixie]');
  });

  it('--dry-run reaches the command', async () => {
    const boot = copyBoot('bookworm');
    const before = treeHash(ws);
    expect(await cli(['flash', '--boot', boot, '--node', 'pi-1', '-i', path.join(ws, 'inventory.yaml'), '--dry-run'])).toBe(0);
    expect(treeHash(ws)).toBe(before);
    expect(out).toContain('  would create firstrun.sh');
  });

  it('refuses a missing --node and an unknown --image before running anything', async () => {
    const boot = copyBoot('bookworm');
    const before = treeHash(ws);
    await expect(cli(['flash', '--boot', boot])).rejects.toThrow(/required option '--node <name>' not specified/);
    await expect(cli(['flash', '--boot', boot, '--node', 'pi-1', '--image', 'buster'])).rejects.toThrow(/Allowed choices are bookworm, trixie, auto/);
    expect(treeHash(ws)).toBe(before);
  });
});
