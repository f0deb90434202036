import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePublicKey } from '../../../../cli/flash/keys.js';
import { planFlash } from '../../../../cli/flash/plan.js';
import { tempDir } from '../../../fakes/temp-dir.js';

/**
 * Runs the firstrun.sh that flash writes for Bookworm, for real, with /bin/sh, in a private mount and PID
 * namespace where /etc, /home, /boot, /var/mail and /run are bind mounts of a scratch copy: the fallback
 * branches (no imager_custom, no userconf on this Debian) rename the first user, install the key, lock the
 * password, write sudoers/sshd/NetworkManager files and then remove the hook from cmdline.txt. The host's
 * files are compared before and after. Needs root and unshare(1): without them it skips loudly, and under
 * CI=true it fails instead.
 */

const FIXTURES = fileURLToPath(new URL('../../../fixtures/boot/', import.meta.url));

function sandboxSupport(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: 'needs Linux namespaces' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'needs root (bind mounts in a private mount namespace)' };
  const probe = spawnSync('unshare', ['--mount', '--pid', '--fork', '--mount-proc', '--propagation', 'private', 'true'], { stdio: 'pipe' });
  if (probe.status !== 0) return { ok: false, reason: `unshare does not work here: ${String(probe.stderr ?? probe.error)}` };
  return { ok: true };
}

function describeSandbox(name: string, fn: () => void): void {
  const support = sandboxSupport();
  if (support.ok) {
    describe(name, fn);
    return;
  }
  if (process.env.CI === 'true') throw new Error(`"${name}" cannot run and CI=true forbids skipping it: ${support.reason}`);
  const line = '!'.repeat(100);
  console.warn(`\n${line}\n!! SKIPPED "${name}": ${support.reason}\n${line}\n`);
  describe.skip(name, fn);
}

const read = readFileSync;
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describeSandbox('firstrun.sh run by /bin/sh in a sandboxed copy of the system', () => {
  const parsed = parsePublicKey(read(path.join(FIXTURES, 'keys/operator_ed25519.pub'), 'utf8'), 'k');
  if (!parsed.ok) throw new Error(parsed.problem);
  const key = parsed.key;
  const fixture = path.join(FIXTURES, 'bookworm');
  const bootFiles = Object.fromEntries(
    readdirSync(fixture).map((n) => [n, ['config.txt', 'cmdline.txt'].includes(n) ? read(path.join(fixture, n), 'utf8') : null]),
  );
  const plan = planFlash(bootFiles, {
    node: 'pi-1',
    user: 'ops',
    key,
    network: { address: '192.168.1.101/24', gateway: '192.168.1.1', dns: ['192.168.1.1', '9.9.9.9'] },
    sshPort: 2200,
    cgroups: true,
    kernel4k: true,
  });
  const written = (name: string) => plan.find((c) => c.path === name)!.content;

  let t: string;
  let result: ReturnType<typeof spawnSync>;
  const hostFiles = ['/etc/hostname', '/etc/hosts', '/etc/passwd', '/etc/group', '/etc/shadow'];
  const hostBefore = new Map<string, string>();
  const mustStayAbsent = [
    '/etc/sudoers.d/010_revue-pi-nopasswd',
    '/etc/ssh/sshd_config.d/10-revue-pi-port.conf',
    '/etc/ssh/sshd_config.d/10-revue-pi.conf',
    '/home/ops',
  ];
  let absentBefore: boolean[] = [];
  let hostSystemdBefore: string[] = [];

  beforeAll(() => {
    for (const f of hostFiles) if (existsSync(f)) hostBefore.set(f, sha(f));
    absentBefore = mustStayAbsent.map((f) => !existsSync(f));
    hostSystemdBefore = existsSync('/etc/systemd/system') ? readdirSync('/etc/systemd/system', { recursive: true }).map(String).sort() : [];

    t = tempDir('firstrun-sandbox');
    // /etc: a copy, with the account files and names of a fresh Raspberry Pi OS (first user "rpi", uid 1000).
    // Secrets stay out of the copy: host keys and the shadow files (the sandbox gets its own below).
    const secret = /^(ssh_host_.*_key|g?shadow-?|.*\.pem|.*\.key)$/;
    cpSync('/etc', path.join(t, 'etc'), { recursive: true, dereference: false, verbatimSymlinks: true, filter: (src) => !secret.test(path.basename(src)) });
    const etc = (name: string, content: string, mode = 0o644) => writeFileSync(path.join(t, 'etc', name), content, { mode });
    etc('passwd', 'root:x:0:0:root:/root:/bin/bash\nrpi:x:1000:1000:,,,:/home/rpi:/bin/bash\n');
    etc('group', 'root:x:0:\nsudo:x:27:rpi\nrpi:x:1000:\n');
    etc('shadow', 'root:*:19000:0:99999:7:::\nrpi:$6$fixture$notarealhash:19000:0:99999:7:::\n', 0o640);
    etc('gshadow', 'root:*::\nsudo:*::rpi\nrpi:!::\n', 0o640);
    etc('hostname', 'raspberrypi\n');
    etc('hosts', '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n\n127.0.1.1\t\traspberrypi\n');
    rmSync(path.join(t, 'etc/sudoers.d/010_revue-pi-nopasswd'), { force: true });
    const token = randomBytes(16).toString('hex');
    etc('revue-pi-sandbox', token);

    mkdirSync(path.join(t, 'home/rpi'), { recursive: true });
    writeFileSync(path.join(t, 'home/rpi/.bashrc'), '# fixture\n');
    chownSync(path.join(t, 'home/rpi'), 1000, 1000);
    chownSync(path.join(t, 'home/rpi/.bashrc'), 1000, 1000);
    mkdirSync(path.join(t, 'mail'));
    mkdirSync(path.join(t, 'boot/firmware'), { recursive: true });
    writeFileSync(path.join(t, 'boot/firmware/firstrun.sh'), written('firstrun.sh'), { mode: 0o755 });
    writeFileSync(path.join(t, 'boot/firmware/cmdline.txt'), written('cmdline.txt'));

    // The script only runs once every bind mount is in place and /etc is the copy (the token matches).
    writeFileSync(
      path.join(t, 'run.sh'),
      [
        'set -eu',
        'mount --bind "$T/etc" /etc',
        'mount --bind "$T/home" /home',
        'mount --bind "$T/boot" /boot',
        'mount --bind "$T/mail" /var/mail',
        'mount -t tmpfs tmpfs /run',
        '[ "$(cat /etc/revue-pi-sandbox)" = "$TOKEN" ] || { echo "sandbox not in place" >&2; exit 99; }',
        'SYSTEMD_OFFLINE=1 /bin/sh /boot/firmware/firstrun.sh',
        '',
      ].join('\n'),
    );
    result = spawnSync('unshare', ['--mount', '--pid', '--fork', '--mount-proc', '--propagation', 'private', '/bin/sh', path.join(t, 'run.sh')], {
      env: { ...process.env, T: t, TOKEN: token },
      stdio: 'pipe',
      timeout: 60_000,
    });
  });

  afterAll(() => {
    if (t) rmSync(t, { recursive: true, force: true });
  });

  const sandbox = (p: string) => path.join(t, p);
  const text = (p: string) => readFileSync(sandbox(p), 'utf8');

  it('runs to the end with no command failing (the script runs with set +e, so stderr tells)', () => {
    expect(result.status).toBe(0);
    // systemctl's note about the SysV script is the only thing expected on stderr.
    const unexpected = String(result.stderr)
      .split('\n')
      .filter((l) => l.trim() !== '' && !/^(Synchronizing state of ssh\.service|Executing: \/lib\/systemd\/systemd-sysv-install enable ssh)/.test(l));
    expect(unexpected).toEqual([]);
    expect(String(result.stdout)).toBe('passwd: password changed.\n');
  });

  it('sets the hostname the way Imager does', () => {
    expect(text('etc/hostname')).toBe('pi-1\n');
    expect(text('etc/hosts')).toContain('\n127.0.1.1\tpi-1\n');
  });

  it('renames the first user to the inventory user, home moved, key installed for it only', () => {
    expect(text('etc/passwd')).toBe('root:x:0:0:root:/root:/bin/bash\nops:x:1000:1000:,,,:/home/ops:/bin/bash\n');
    expect(text('etc/group')).toBe('root:x:0:\nsudo:x:27:ops\nops:x:1000:\n');
    expect(existsSync(sandbox('home/rpi'))).toBe(false);
    expect(text('home/ops/.ssh/authorized_keys')).toBe(`${key.line}\n`);
    const info = statSync(sandbox('home/ops/.ssh/authorized_keys'));
    expect([info.mode & 0o777, info.uid]).toEqual([0o600, 1000]);
    expect(statSync(sandbox('home/ops/.ssh')).mode & 0o777).toBe(0o700);
  });

  it('locks the password', () => {
    expect(text('etc/shadow').split('\n')[1]).toBe('ops:!$6$fixture$notarealhash:19000:0:99999:7:::');
  });

  it('gives sudo without a password, in a file visudo accepts', () => {
    expect(text('etc/sudoers.d/010_revue-pi-nopasswd')).toBe('ops ALL=(ALL) NOPASSWD:ALL\n');
    expect(statSync(sandbox('etc/sudoers.d/010_revue-pi-nopasswd')).mode & 0o777).toBe(0o440);
    expect(() => execFileSync('visudo', ['-c', '-f', sandbox('etc/sudoers.d/010_revue-pi-nopasswd')], { stdio: 'pipe' })).not.toThrow();
  });

  it('turns SSH on, password login off, on the inventory port', () => {
    expect(text('etc/ssh/sshd_config.d/10-revue-pi.conf')).toBe('PasswordAuthentication no\nKbdInteractiveAuthentication no\n');
    expect(text('etc/ssh/sshd_config.d/10-revue-pi-port.conf')).toBe('Port 2200\n');
    expect(existsSync(sandbox('etc/systemd/system/multi-user.target.wants/ssh.service'))).toBe(true);
  });

  it('writes the static address as a NetworkManager profile only root can read', () => {
    const profile = 'etc/NetworkManager/system-connections/revue-pi-eth0.nmconnection';
    expect(text(profile)).toBe(
      '[connection]\nid=revue-pi-eth0\ntype=ethernet\ninterface-name=eth0\nautoconnect=true\nautoconnect-priority=100\n\n' +
        '[ipv4]\nmethod=manual\naddress1=192.168.1.101/24,192.168.1.1\ndns=192.168.1.1;9.9.9.9;\nignore-auto-dns=true\n\n[ipv6]\nmethod=auto\n',
    );
    expect(statSync(sandbox(profile)).mode & 0o777).toBe(0o600);
  });

  it('removes itself and its hook from cmdline.txt, keeping the cgroup flags', () => {
    expect(existsSync(sandbox('boot/firmware/firstrun.sh'))).toBe(false);
    expect(text('boot/firmware/cmdline.txt')).toBe(`${read(path.join(fixture, 'cmdline.txt'), 'utf8').trimEnd()} cgroup_memory=1 cgroup_enable=memory\n`);
  });

  it("left the host's own files alone", () => {
    for (const [f, before] of hostBefore) expect(sha(f), f).toBe(before);
    const after = existsSync('/etc/systemd/system') ? readdirSync('/etc/systemd/system', { recursive: true }).map(String).sort() : [];
    expect(after).toEqual(hostSystemdBefore);
    expect(mustStayAbsent.map((f) => !existsSync(f))).toEqual(absentBefore);
  });
});
