import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NodeSSH } from 'node-ssh';
import { loadInventory } from '../../core/inventory/parse.js';
import { startLab, type Lab } from './lab.js';
import { describeLab } from './skip.js';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** OpenSSH client as the operator would use it; known_hosts is the lab's own file so host keys are checked. */
function ssh(lab: Lab, node: string, command: string, opts: { input?: string; knownHosts?: string } = {}): Promise<Result> {
  const n = lab.node(node);
  const args = ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', '-i', lab.keyPath];
  if (opts.knownHosts) args.push('-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${opts.knownHosts}`);
  else args.push('-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null');
  args.push('-p', String(n.port), `${lab.user}@${n.address}`, '--', command);
  return new Promise((resolve) => {
    const child = execFile('ssh', args, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 255) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    child.stdin?.end(opts.input ?? '');
  });
}

function refuses(address: string, port = 22): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: address, port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

/**
 * Host processes (as "pid starttime cmdline") whose command line or root/cwd points into `dir`, or that
 * live in one of `pidNs`. The start time tells a leftover from a new process in a namespace whose id the
 * kernel has reused for someone else's lab.
 */
function processesOf(dir: string, pidNs: Set<string>): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const links = ['cwd', 'root'].map((l) => {
        try {
          return fs.readlinkSync(`/proc/${pid}/${l}`);
        } catch {
          return '';
        }
      });
      let ns = '';
      try {
        ns = fs.readlinkSync(`/proc/${pid}/ns/pid`);
      } catch {
        /* gone */
      }
      if (cmd.includes(dir) || links.some((l) => l.startsWith(dir)) || pidNs.has(ns)) found.push(`${pid} ${fields[19]} ${cmd}`);
    } catch {
      /* exited meanwhile */
    }
  }
  return found;
}

describeLab('lab of simulated Pis', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await startLab(
      [
        { name: 'pi-a', bootDelayMs: 300 },
        { name: 'pi-b', sudoPassword: 'raspberry', sshPassword: 'raspberry', memoryMiB: 4096, wifi: true },
        { name: 'pi-c', model: 'Raspberry Pi 4 Model B Rev 1.5', os: 'trixie', bootDelayMs: 300 },
      ],
      { subnet: '127.0.250.' },
    );
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it('boots each node on its own loopback address, reachable as pi with the lab key', async () => {
    expect(lab.nodes.map((n) => n.address)).toEqual(['127.0.250.2', '127.0.250.3', '127.0.250.4']);
    expect(fs.statSync(lab.keyPath).mode & 0o777).toBe(0o600);
    const results = await Promise.all(lab.nodes.map((n) => ssh(lab, n.name, 'id -un; id -u; hostname; cat /etc/hostname')));
    results.forEach((r, i) => {
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`pi\n1000\n${lab.nodes[i]!.name}\n${lab.nodes[i]!.name}\n`);
    });
    expect(lab.nodes.every((n) => n.isUp() && n.bootCount() === 1 && n.rebootCount() === 0)).toBe(true);
    expect(lab.nodes.map((n) => n.sshLogins())).toEqual([1, 1, 1]);
  });

  it('checks host keys against known_hosts written from knownHosts()', async () => {
    const kh = `${lab.rootDir}/test_known_hosts`;
    fs.writeFileSync(kh, lab.knownHosts());
    expect((await ssh(lab, 'pi-a', 'true', { knownHosts: kh })).code).toBe(0);
    fs.writeFileSync(kh, lab.knownHosts().replace(/^127\.0\.250\.2 .*$/m, `127.0.250.2 ${lab.node('pi-b').hostKey()}`));
    const mitm = await ssh(lab, 'pi-a', 'true', { knownHosts: kh });
    expect(mitm.code).toBe(255);
    expect(mitm.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  });

  it('keeps /etc, /boot/firmware and /var/lib/rancher per node, visible from the host and not touching the host', async () => {
    const w = await ssh(
      lab,
      'pi-a',
      'echo lab-marker | sudo tee /etc/lab-marker >/dev/null && sudo mkdir -p /var/lib/rancher/k3s && echo x | sudo tee /var/lib/rancher/k3s/a >/dev/null',
    );
    expect(w.code).toBe(0);
    expect(fs.readFileSync(lab.node('pi-a').path('/etc/lab-marker'), 'utf8')).toBe('lab-marker\n');
    expect(fs.existsSync(lab.node('pi-a').path('/var/lib/rancher/k3s/a'))).toBe(true);
    expect(fs.existsSync('/etc/lab-marker')).toBe(false);
    expect(fs.existsSync('/var/lib/rancher/k3s')).toBe(false);
    const other = await ssh(lab, 'pi-b', 'cat /etc/lab-marker; ls /var/lib/rancher');
    expect(other.stdout).toBe('');
    expect(other.stderr).toContain('No such file');
    expect(fs.readFileSync(lab.node('pi-b').path('/boot/firmware/cmdline.txt'), 'utf8')).toMatch(/^console=serial0,115200 .*cfg80211\.ieee80211_regdom=GB\n$/);
    expect(fs.readFileSync('/etc/hostname', 'utf8')).not.toMatch(/^pi-[abc]$/m);
    // the nodes share the host's /usr: apt may not change it
    const apt = await lab
      .node('pi-a')
      .exec('apt-get update >/dev/null && apt-get install -y sudo | tail -n 1; apt-get install -y lab-no-such-package; echo rc=$?');
    expect(apt.stdout).toBe('0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\nrc=100\n');
    expect(apt.stderr).toContain('would change the host machine');
  });

  it('gives pi passwordless sudo by default and a password-protected sudo when sudoPassword is set', async () => {
    expect(await ssh(lab, 'pi-a', 'sudo -n id -u')).toEqual({ code: 0, stdout: '0\n', stderr: '' });
    const noPw = await ssh(lab, 'pi-b', 'sudo -n id -u');
    expect(noPw.code).toBe(1);
    expect(noPw.stderr).toContain('a password is required');
    expect(await ssh(lab, 'pi-b', "sudo -S -p '' id -u", { input: 'raspberry\n' })).toMatchObject({ code: 0, stdout: '0\n' });
    expect((await ssh(lab, 'pi-b', "sudo -S -p '' id -u", { input: 'wrong\n' })).code).toBe(1);
  });

  it('accepts password login only where sshPassword is set', async () => {
    const client = new NodeSSH();
    await client.connect({ host: lab.node('pi-b').address, username: 'pi', password: 'raspberry', readyTimeout: 5000 });
    expect((await client.execCommand('hostname')).stdout).toBe('pi-b');
    const local = `${lab.rootDir}/sftp-upload`;
    fs.writeFileSync(local, 'over sftp\n');
    await client.putFile(local, '/tmp/sftp-upload');
    expect(fs.readFileSync(lab.node('pi-b').path('/tmp/sftp-upload'), 'utf8')).toBe('over sftp\n');
    client.dispose();
    await expect(new NodeSSH().connect({ host: lab.node('pi-a').address, username: 'pi', password: 'raspberry', readyTimeout: 5000 })).rejects.toThrow(
      /authentication/i,
    );
  });

  it('looks like a Pi 5 on Bookworm: model, aarch64 16K kernel, memory cgroup off until cmdline.txt enables it', async () => {
    const r = await ssh(
      lab,
      'pi-a',
      "tr -d '\\0' < /proc/device-tree/model 2>/dev/null || tr -d '\\0' < /sys/firmware/devicetree/base/model; echo; uname -m; uname -r; getconf PAGESIZE; cat /sys/fs/cgroup/cgroup.controllers; . /etc/os-release; echo $VERSION_CODENAME; grep MemTotal /proc/meminfo",
    );
    expect(r.stdout).toBe('Raspberry Pi 5 Model B Rev 1.0\naarch64\n6.12.47+rpt-rpi-2712\n16384\ncpuset cpu io pids\nbookworm\nMemTotal:        8246002 kB\n');
    const c = await ssh(
      lab,
      'pi-c',
      "tr -d '\\0' < /sys/firmware/devicetree/base/model; echo; uname -r; getconf PAGESIZE; . /etc/os-release; echo $VERSION_CODENAME",
    );
    expect(c.stdout).toBe('Raspberry Pi 4 Model B Rev 1.5\n6.12.47+rpt-rpi-v8\n4096\ntrixie\n');
    const b = await ssh(
      lab,
      'pi-b',
      "grep MemTotal /proc/meminfo; test -d /sys/class/net/wlan0/wireless && echo wifi; ip -o link | grep -c 'wlan0:.*PROMISC'; sudo -S -p '' /usr/sbin/ip link set wlan0 promisc on && ip link show wlan0 | grep -o PROMISC",
      { input: 'raspberry\n' },
    );
    expect(b.stdout).toBe('MemTotal:        4123001 kB\nwifi\n0\nPROMISC\n');
    expect((await ssh(lab, 'pi-a', 'ip link show wlan0')).code).not.toBe(0); // no wifi marker on pi-a
  });

  it('reboots on sudo reboot: the session drops, the node comes back with the edited cmdline.txt and config.txt', async () => {
    const node = lab.node('pi-a');
    const before = await ssh(lab, 'pi-a', 'cat /proc/sys/kernel/random/boot_id');
    const edit = await ssh(
      lab,
      'pi-a',
      "sudo sed -i '1 s/$/ cgroup_memory=1 cgroup_enable=memory/' /boot/firmware/cmdline.txt && echo kernel=kernel8.img | sudo tee -a /boot/firmware/config.txt >/dev/null && sudo reboot",
    );
    expect(edit.code === 0 || edit.code === 255).toBe(true); // like a real Pi: returns, or the session just drops
    // cmdline.txt is read at boot only: nothing changes until the node is back
    await expect.poll(() => refuses(node.address), { timeout: 5000, interval: 50 }).toBe(true);
    await expect.poll(() => node.rebootCount(), { timeout: 5000, interval: 50 }).toBe(1);
    await node.waitUntilUp(15_000);
    const after = await ssh(
      lab,
      'pi-a',
      'cat /proc/cmdline; cat /sys/fs/cgroup/cgroup.controllers; grep -qw memory /sys/fs/cgroup/cgroup.controllers && echo memory-ok; uname -r; getconf PAGESIZE; cat /proc/sys/kernel/random/boot_id; cat /etc/lab-marker',
    );
    const lines = after.stdout.split('\n');
    expect(lines[0]).toMatch(/ cgroup_disable=memory .* cgroup_memory=1 cgroup_enable=memory$/);
    expect(lines.slice(1, 5)).toEqual(['cpuset cpu io memory pids', 'memory-ok', '6.12.47+rpt-rpi-v8', '4096']);
    expect(lines[5]).not.toBe(before.stdout.trim());
    expect(lines[6]).toBe('lab-marker'); // the SD card survives a reboot
    expect(fs.readFileSync(node.path('/proc/cmdline'), 'utf8')).toBe(`${lines[0]}\n`);
    expect(fs.readFileSync(node.path('/proc/device-tree/model'), 'utf8')).toBe('Raspberry Pi 5 Model B Rev 1.0\0');
    expect(() => node.path('/proc/self/status')).toThrow(/no host file/);

    expect(node.rebootCount()).toBe(1);
    expect(node.bootCount()).toBe(2);

    // only root may reboot; shutdown -r now is a reboot too
    const denied = await ssh(lab, 'pi-a', '/usr/sbin/reboot'); // not in a user's PATH on Debian
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('Interactive authentication required');
    const again = await ssh(lab, 'pi-a', 'sudo shutdown -r now');
    expect(again.code === 0 || again.code === 255).toBe(true);
    await expect.poll(() => node.rebootCount(), { timeout: 5000, interval: 50 }).toBe(2);
    await node.waitUntilUp(15_000);
    expect(node.bootCount()).toBe(3);
  });

  it('runs units from /etc/systemd/system through the systemctl and journalctl stand-ins, and starts enabled ones at boot', async () => {
    const unit =
      '[Unit]\nDescription=Lab demo\n[Service]\nExecStart=/bin/sh -c "echo hello from demo; exec sleep 600"\n[Install]\nWantedBy=multi-user.target\n';
    const r = await ssh(
      lab,
      'pi-c',
      'sudo tee /etc/systemd/system/demo.service >/dev/null && sudo systemctl daemon-reload && systemctl is-enabled demo; systemctl is-active demo; sudo systemctl enable --now demo 2>/dev/null; systemctl is-enabled demo; systemctl is-active demo; sleep 0.3; journalctl -u demo -n 1 --no-pager',
      { input: unit },
    );
    expect(r.stdout).toBe('disabled\ninactive\nenabled\nactive\nhello from demo\n');
    const n = lab.node('pi-c');
    expect(fs.readlinkSync(n.path('/etc/systemd/system/multi-user.target.wants/demo.service'))).toBe('/etc/systemd/system/demo.service');
    expect((await n.exec('pgrep -x sleep')).code).toBe(0);
    expect((await ssh(lab, 'pi-c', 'sudo systemctl stop demo; systemctl is-active demo; pgrep -x sleep')).stdout).toBe('inactive\n');
    const h = await ssh(
      lab,
      'pi-c',
      'sudo hostnamectl set-hostname pi-renamed && hostname && cat /etc/hostname && sudo hostnamectl set-hostname pi-c && hostnamectl hostname',
    );
    expect(h.stdout).toBe('pi-renamed\npi-renamed\npi-c\n');
    await ssh(lab, 'pi-c', 'sudo systemctl start demo; sudo systemctl reboot');
    await expect.poll(() => n.rebootCount(), { timeout: 5000, interval: 50 }).toBe(1);
    await n.waitUntilUp(15_000);
    await expect.poll(async () => (await n.exec('systemctl is-active demo')).stdout, { timeout: 5000, interval: 100 }).toBe('active\n');
  });

  it('runs a K3s-style unit: env files, quoted continued ExecStart, optional ExecStartPre, KillMode=process, failures', async () => {
    const n = lab.node('pi-c');
    fs.writeFileSync(n.path('/usr/local/bin/fake-k3s'), '#!/bin/sh\necho "args: $*"\necho "token=$K3S_TOKEN odd=$ODD"\nexec sleep 601\n', { mode: 0o755 });
    fs.writeFileSync(n.path('/etc/systemd/system/fake-k3s.service.env'), 'K3S_TOKEN=t0ken\n', { mode: 0o600 });
    fs.writeFileSync(
      n.path('/etc/systemd/system/fake-k3s.service'),
      [
        '[Unit]',
        'Description=Lightweight Kubernetes',
        '[Install]',
        'WantedBy=multi-user.target',
        '[Service]',
        'Type=notify',
        'EnvironmentFile=-/etc/default/%N',
        'EnvironmentFile=-/etc/systemd/system/%n.env',
        `Environment="ODD=it's fine"`,
        'KillMode=process',
        'Restart=always',
        'RestartSec=5s',
        "ExecStartPre=/bin/sh -xc '! /usr/bin/systemctl is-enabled --quiet nm-cloud-setup.service 2>/dev/null'",
        'ExecStartPre=-/sbin/modprobe br_netfilter',
        'ExecStart=/usr/local/bin/fake-k3s \\',
        '    server \\',
        "\t'--disable' \\",
        "\t'servicelb' \\",
        '',
      ].join('\n'),
    );
    const r = await n.exec(
      'systemctl enable --now fake-k3s 2>/dev/null; sleep 0.3; systemctl is-active fake-k3s; journalctl -u fake-k3s -n 2; systemctl show fake-k3s -p ActiveState -p UnitFileState --value',
    );
    expect(r.stdout).toBe("active\nargs: server --disable servicelb\ntoken=t0ken odd=it's fine\nactive\nenabled\n");
    const failing = await n.exec(
      "printf '[Service]\\nExecStartPre=/bin/false\\nExecStart=/bin/sleep 600\\n' > /etc/systemd/system/bad.service; systemctl start bad; echo rc=$?; systemctl is-active bad; systemctl is-failed bad",
    );
    expect(failing.stdout).toBe('rc=1\nfailed\nfailed\n');
    expect(failing.stderr).toContain('Job for bad.service failed');
    const crashing = await n.exec(
      "printf '[Service]\\nExecStart=/bin/sh -c \"echo crash; exit 3\"\\nRestart=always\\nRestartSec=2s\\n' > /etc/systemd/system/crashy.service; printf '[Service]\\nExecStart=/bin/false\\n' > /etc/systemd/system/once.service; systemctl start crashy once; sleep 0.5; systemctl is-active crashy once; systemctl show crashy -p SubState --value; systemctl stop crashy; systemctl is-active crashy; journalctl -u crashy -n 1",
    );
    expect(crashing.stdout).toBe('activating\nfailed\nauto-restart\ninactive\nlab systemd: crashy.service exited with status 3, restarting in 2s\n');
    expect((await n.exec("pgrep -fc '^sleep 601'; systemctl stop fake-k3s; systemctl is-active fake-k3s; pgrep -fc '^sleep 601'")).stdout).toBe(
      '1\ninactive\n0\n',
    );
  });

  it('powers a node off (nothing listens on its address) and on again', async () => {
    const n = lab.node('pi-b');
    await n.powerOff();
    expect(n.isUp()).toBe(false);
    expect(await refuses(n.address)).toBe(true);
    await expect(n.exec('true')).rejects.toThrow(/powered off/);
    // like an older image: boot files in /boot itself; the firmware reads them from there
    fs.writeFileSync(n.path('/boot/cmdline.txt'), 'console=tty1 root=PARTUUID=0-02 rootwait legacy-layout\n');
    fs.renameSync(n.path('/boot/firmware'), n.path('/boot/firmware.old'));
    await n.powerOn();
    expect((await n.exec('cat /proc/cmdline')).stdout).toMatch(/  console=tty1 root=PARTUUID=0-02 rootwait legacy-layout\n$/);
    expect(n.bootCount()).toBe(2);
    expect(n.rebootCount()).toBe(0);
    // promiscuous mode, like everything in /run and /tmp, does not survive losing power
    expect((await ssh(lab, 'pi-b', 'hostname; ip link show wlan0 | grep -c PROMISC; ls /tmp')).stdout).toBe('pi-b\n0\n');
  });

  it('offers new host keys after regenerateHostKeys()', async () => {
    const n = lab.node('pi-c');
    const old = n.hostKey();
    await n.regenerateHostKeys();
    expect(n.hostKey()).not.toBe(old);
    const scan = await new Promise<string>((resolve) => execFile('ssh-keyscan', ['-t', 'ed25519', n.address], (_e, out) => resolve(String(out))));
    expect(scan.trim()).toBe(`${n.address} ${n.hostKey()}`);
  });

  it('writes an inventory for the nodes that the real inventory parser accepts', () => {
    const file = lab.writeInventory({ nodes: [{ name: 'pi-c', omit: true }], cluster: { name: 'labtest' } });
    const { inventory } = loadInventory(file);
    expect(inventory.nodes.map((n) => [n.name, n.host, n.role])).toEqual([
      ['pi-a', '127.0.250.2', 'server'],
      ['pi-b', '127.0.250.3', 'agent'],
    ]);
    expect(inventory.ssh).toMatchObject({ user: 'pi', port: 22, keyPath: lab.keyPath, useAgent: false, knownHostsFile: `${lab.rootDir}/known_hosts` });
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toContain('name: labtest');
    expect(text).toContain(`keyPath: ${lab.keyPath}`);
    expect(text).toMatch(/- name: pi-a\n\s+host: 127\.0\.250\.2\n\s+role: server/);
    expect(text).toMatch(/- name: pi-b\n\s+host: 127\.0\.250\.3\n\s+role: agent/);
    expect(text).not.toContain('pi-c');
  });

  it('stop() leaves no process and no directory behind', async () => {
    const namespaces = new Set<string>();
    for (const n of lab.nodes) {
      const r = await n.exec('readlink /proc/self/ns/pid');
      namespaces.add(r.stdout.trim());
    }
    expect(namespaces.size).toBe(3);
    // keep an SSH session open while stopping, like a CLI in the middle of a run
    const hanging = ssh(lab, 'pi-a', 'sleep 300');
    await new Promise((r) => setTimeout(r, 300));
    const before = processesOf(lab.rootDir, namespaces);
    expect(before.length).toBeGreaterThan(6); // per node PID 1 and sshd, plus the session
    const root = lab.rootDir;
    const t0 = Date.now();
    await lab.stop();
    console.log(`lab: stop() of 3 nodes took ${Date.now() - t0} ms`);
    const after = processesOf(root, namespaces);
    expect(after.filter((p) => before.includes(p) || p.includes(root))).toEqual([]);
    expect(fs.existsSync(root)).toBe(false);
    expect((await hanging).code).toBe(255);
    for (const n of lab.nodes) expect(await refuses(n.address)).toBe(true);
  });
});
