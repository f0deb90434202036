/**
 * The lab: simulated Raspberry Pis that are real OpenSSH servers on 127.0.0.x, each in its own mount, UTS
 * and PID namespaces with its own /etc, /boot/firmware, /var/lib/rancher, /usr/local, /home, /root, /run,
 * /tmp and /var/log. SSH, sudo, file edits, reboots and parallelism are real; the kernel/firmware facts
 * (/proc/cmdline, cgroup controllers, page size, model) are rendered per boot from the node's own boot
 * files (boot.ts). See README.md for what is simulated and how.
 *
 * This process is the supervisor: each node is `setpriv --pdeathsig KILL unshare … --kill-child node/init.sh`,
 * so if this process dies, every node dies with it.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import {
  BOOT_PARTITION_DUMMIES,
  KERNEL_BUILD,
  PI5_MODEL,
  STOCK_CMDLINE_TXT,
  STOCK_CONFIG_TXT,
  addPiUser,
  bootedKernel,
  debianVersion,
  memoryCgroupEnabled,
  renderCgroupControllers,
  renderCpuinfo,
  renderEtcHosts,
  renderMeminfo,
  renderOsRelease,
  renderProcCmdline,
  renderRpiIssue,
  renderSshdConfig,
  type LabOs,
} from './boot.js';
import { renderLabInventory } from './inventory.js';

export interface LabNodeSpec {
  name: string;
  model?: string;
  memoryMiB?: number;
  arch?: 'aarch64' | 'x86_64';
  os?: 'bookworm' | 'trixie';
  sudoPassword?: string;
  sshPassword?: string;
  bootDelayMs?: number;
  wifi?: boolean /* adds a wlan0-ish marker the probe can see; optional */;
  /** The hostname the node boots with until revue-pi sets it (Raspberry Pi Imager's default is raspberrypi); default: name. */
  hostname?: string;
  /** sshd listens here instead of 22 (a Pi whose sshd was moved, or behind a port forward); the inventory says so per node. */
  sshPort?: number;
}
export interface LabOptions {
  subnet?: string /* '127.0.10.' */;
  rootDir?: string;
  /**
   * The folder the lab's own folder is made in, searched too for labs whose process is gone (default: /dev/shm when
   * it is a tmpfs with room, else the OS temp dir; those two are always searched). A test that leaves a lab behind
   * on purpose gives it a parent of its own, so the labs of lab files running beside it cannot remove it first.
   */
  parentDir?: string;
}
export interface LabNode {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly rootDir: string;
  path(nodePath: string): string;
  exec(script: string): Promise<{ code: number; stdout: string; stderr: string }>;
  rebootCount(): number;
  bootCount(): number;
  powerOff(): Promise<void>;
  powerOn(): Promise<void>;
  regenerateHostKeys(): Promise<void>;
  isUp(): boolean;
  /** Lab extra: resolves once sshd of the node accepts connections (e.g. after a reboot). */
  waitUntilUp(timeoutMs?: number): Promise<void>;
  /** Lab extra: the node's ed25519 host public key line ("ssh-ed25519 AAAA…"). */
  hostKey(): string;
  /** Lab extra: SSH logins accepted by the node since the lab started (from sshd's log), e.g. to count connections per run. */
  sshLogins(): number;
  /** Lab extra: sudo runs on the node so far (its /var/log/sudo.log, one line each). */
  sudoRuns(): number;
}
export interface Lab {
  readonly nodes: LabNode[];
  readonly user: string /* 'pi' */;
  readonly keyPath: string;
  readonly rootDir: string;
  node(name: string): LabNode;
  /** writes an inventory.yaml for these nodes (ssh user/keyPath/port, a known_hosts file inside the lab dir) merged with `extra` (deep-merged YAML object) and returns its path */
  writeInventory(extra?: Record<string, unknown>, fileName?: string): string;
  /** Lab extra: known_hosts lines trusting every node's current host key (the inventory's file starts absent). */
  knownHosts(): string;
  stop(): Promise<void>;
}

const NODE_FILES = fileURLToPath(new URL('./node/', import.meta.url));
const LAB_USER = 'pi';
const SSH_PORT = 22;
const DEFAULT_SUBNET = '127.0.10.';
const DEFAULT_BOOT_DELAY_MS = 2000;
const BOOT_TIMEOUT_MS = 20_000;
const NODE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Node paths that are per-node directories (node path → directory under the node's rootDir). */
const NODE_DIRS = ['/etc', '/boot', '/home', '/root', '/run', '/tmp', '/usr/local', '/var/lib/rancher', '/var/lib/sudo', '/var/log', '/var/tmp'];
/** Node files rendered per boot → their file under <node>/lab/boot/. */
const BOOT_FILES: Array<[string, string]> = [
  ['/proc/cmdline', 'cmdline'],
  ['/proc/meminfo', 'meminfo'],
  ['/proc/cpuinfo', 'cpuinfo'],
  ['/proc/version', 'version'],
  ['/proc/sys/kernel/osrelease', 'osrelease'],
  ['/proc/sys/kernel/random/boot_id', 'boot_id'],
  ['/proc/device-tree', 'firmware/devicetree/base'],
  ['/sys/firmware', 'firmware'],
  ['/sys/fs/cgroup', 'cgroup'],
  ['/sys/class/net', 'net'],
];
const TOOLS = ['/usr/sbin/sshd', 'perl', 'unshare', 'nsenter', 'setpriv', 'ssh-keygen', 'sudo', 'openssl', 'cp'];

// ---------------------------------------------------------------------------------------------------------
// support check

let support: ReturnType<typeof labSupport> | undefined;

export function labSupport(): { ok: true } | { ok: false; reason: string } {
  if (support) return support;
  support = checkSupport();
  return support;
}

function checkSupport(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: `the lab needs Linux namespaces; this is ${process.platform}.` };
  if (process.getuid?.() !== 0)
    return { ok: false, reason: 'the lab needs root (it creates mount/PID namespaces and runs sshd); run the tests as root, e.g. via .ci/run.' };
  for (const tool of TOOLS) {
    const found = tool.startsWith('/') ? fs.existsSync(tool) : spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
    if (!found)
      return {
        ok: false,
        reason: `${tool} is missing; install it with: apt-get install -y --no-install-recommends openssh-server sudo util-linux openssl (see .ci/run).`,
      };
  }
  const r = spawnSync(
    'unshare',
    ['--mount', '--uts', '--pid', '--fork', '--kill-child', '--mount-proc', 'sh', '-c', 'mount -t tmpfs lab /mnt && hostname lab-check'],
    { encoding: 'utf8', timeout: 10_000 },
  );
  if (r.status !== 0) return { ok: false, reason: `unshare cannot create mount/UTS/PID namespaces here: ${(r.stderr || r.error?.message || '').trim()}` };
  return { ok: true };
}

// ---------------------------------------------------------------------------------------------------------
// small helpers

function run(cmd: string, args: string[], opts: { input?: string; cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { cwd: opts.cwd, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`lab: ${cmd} ${args.join(' ')} failed: ${String(stderr).trim() || err.message}`, { cause: err }));
      else resolve(String(stdout));
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** LAB_DEBUG=1 prints where startLab spends its time. */
function debug(msg: string): void {
  if (process.env.LAB_DEBUG) console.error(`lab: ${msg}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Whether something listens on address:port, from /proc/net/tcp (the nodes share the host's network
 * namespace). Cheaper than connecting: every connection makes sshd fork and re-exec itself.
 */
function isListening(address: string, port: number): boolean {
  const octets = address.split('.').map(Number);
  if (os.endianness() === 'LE') octets.reverse();
  const want = `${Buffer.from(octets).toString('hex').toUpperCase()}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const table = fs.readFileSync('/proc/net/tcp', 'utf8');
  return table.split('\n').some((l) => {
    const f = l.trim().split(/\s+/);
    return f[1] === want && f[3] === '0A';
  });
}

function childPids(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function pidAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function hashPassword(password: string): Promise<string> {
  return (await run('openssl', ['passwd', '-6', '-stdin'], { input: `${password}\n` })).trim();
}

/** Labs whose supervising process is gone (killed test run) leave directories behind: remove them. */
function removeStaleLabs(extraParent?: string): void {
  for (const tmp of new Set([os.tmpdir(), SHM, ...(extraParent ? [extraParent] : [])]))
    for (const entry of safeReaddir(tmp)) {
      if (!entry.startsWith('revue-pi-lab-')) continue;
      const dir = path.join(tmp, entry);
      try {
        const owner = Number(fs.readFileSync(path.join(dir, 'lab.pid'), 'utf8'));
        if (owner > 0 && !pidAlive(owner)) fs.rmSync(dir, { recursive: true, force: true });
      } catch {
        /* not ours or being created */
      }
    }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

const SHM = '/dev/shm';
const TMPFS_MAGIC = 0x01021994;

/**
 * Where labs live by default: /dev/shm when it is a tmpfs with room (node files are many and small, and a
 * disk-backed /tmp makes creating ten nodes several times slower), else the OS temp dir. Nodes cannot see
 * it either way: each gets its own /tmp and /dev/shm.
 */
function defaultParent(): string {
  try {
    const st = fs.statfsSync(SHM);
    if (st.type === TMPFS_MAGIC && st.bavail * st.bsize >= 2 * 1024 ** 3) return SHM;
  } catch {
    /* no /dev/shm */
  }
  return os.tmpdir();
}

// ---------------------------------------------------------------------------------------------------------
// nodes

type NodeState = 'down' | 'booting' | 'up' | 'rebooting';

class SimNode implements LabNode {
  readonly port: number;
  private state: NodeState = 'down';
  private proc?: ChildProcess;
  private initPid?: number;
  private exited?: Promise<void>;
  private rebootTimer?: NodeJS.Timeout;
  private boots = 0;
  private reboots = 0;
  private intentionalStop = false;
  private upWaiters: Array<() => void> = [];
  private readonly model: string;
  private readonly arch: 'aarch64' | 'x86_64';
  private readonly bootDelayMs: number;

  constructor(
    readonly name: string,
    readonly address: string,
    readonly rootDir: string,
    private readonly spec: LabNodeSpec,
    private readonly hostMeminfo: string,
  ) {
    this.port = spec.sshPort ?? SSH_PORT;
    this.arch = spec.arch ?? 'aarch64';
    this.model = spec.model ?? (this.arch === 'aarch64' ? PI5_MODEL : '');
    this.bootDelayMs = spec.bootDelayMs ?? DEFAULT_BOOT_DELAY_MS;
  }

  path(nodePath: string): string {
    if (!nodePath.startsWith('/')) throw new Error(`lab: node.path() needs an absolute node path, got "${nodePath}".`);
    const norm = path.posix.normalize(nodePath);
    for (const d of NODE_DIRS) {
      if (norm === d || norm.startsWith(`${d}/`)) return path.join(this.rootDir, norm.slice(1));
    }
    // what this boot's kernel and firmware show (rendered by boot(); read-only in spirit)
    for (const [nodeFile, labFile] of BOOT_FILES) {
      if (norm === nodeFile || norm.startsWith(`${nodeFile}/`)) return this.labPath('boot', labFile + norm.slice(nodeFile.length));
    }
    if (/^\/(proc|sys|dev)(\/|$)/.test(norm)) throw new Error(`lab: ${norm} of node ${this.name} has no host file; read it with node.exec().`);
    return norm; // shared with the host (e.g. /usr/bin)
  }

  isUp(): boolean {
    return this.state === 'up';
  }

  bootCount(): number {
    return this.boots;
  }

  rebootCount(): number {
    return this.reboots;
  }

  hostKey(): string {
    const [type, key] = fs.readFileSync(this.path('/etc/ssh/ssh_host_ed25519_key.pub'), 'utf8').trim().split(/\s+/);
    return `${type} ${key}`;
  }

  sudoRuns(): number {
    try {
      return fs
        .readFileSync(this.path('/var/log/sudo.log'), 'utf8')
        .split('\n')
        .filter((l) => / : pi : /.test(l)).length;
    } catch {
      return 0;
    }
  }

  sshLogins(): number {
    try {
      return fs.readFileSync(this.labPath('console.log'), 'utf8').match(/^Accepted \S+ for /gm)?.length ?? 0;
    } catch {
      return 0;
    }
  }

  async exec(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const pid = this.initPid;
    if (pid === undefined || this.state !== 'up') {
      throw new Error(`lab: node ${this.name} is ${this.state === 'down' ? 'powered off' : this.state}; exec() needs it up (await node.waitUntilUp()).`);
    }
    return new Promise((resolve, reject) => {
      const child = spawn('nsenter', ['-t', String(pid), '-m', '-u', '-p', '--', '/bin/sh', '-c', script], {
        cwd: '/',
        env: { PATH: NODE_PATH, HOME: '/root', LANG: 'C.UTF-8', USER: 'root', LOGNAME: 'root' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    });
  }

  async powerOn(): Promise<void> {
    if (this.state === 'up') return;
    if (this.state === 'booting' || this.state === 'rebooting') return this.waitUntilUp();
    await this.boot();
  }

  async powerOff(): Promise<void> {
    clearTimeout(this.rebootTimer);
    this.rebootTimer = undefined;
    this.intentionalStop = true;
    if (this.proc) {
      const exited = this.exited;
      // SIGKILL to the node's PID 1 from the parent namespace: the kernel kills every process of the node,
      // and unshare exits only once the namespace is empty (so nothing listens on the address any more).
      let killed = false;
      if (this.initPid !== undefined) {
        try {
          process.kill(this.initPid, 'SIGKILL');
          killed = true;
        } catch {
          /* already gone */
        }
      }
      if (!killed) this.proc.kill('SIGKILL');
      const timer = setTimeout(() => this.proc?.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    this.state = 'down';
    this.intentionalStop = false;
  }

  waitUntilUp(timeoutMs = BOOT_TIMEOUT_MS + 10_000): Promise<void> {
    if (this.state === 'up') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`lab: node ${this.name} did not come up within ${timeoutMs} ms (state ${this.state}); see ${this.labPath('console.log')}.`)),
        timeoutMs,
      );
      this.upWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  async regenerateHostKeys(): Promise<void> {
    await generateHostKeys(this.path('/etc/ssh'), this.name);
    // sshd re-reads its host keys when it re-executes itself on SIGHUP.
    if (this.state === 'up') {
      await this.exec('kill -HUP "$(cat /run/sshd.pid)"');
      await sleep(100);
      await this.waitListening(Date.now() + BOOT_TIMEOUT_MS);
    }
  }

  labPath(...p: string[]): string {
    return path.join(this.rootDir, 'lab', ...p);
  }

  /**
   * Shell commands that give the node its /etc (a copy of the lab's base) and its own host keys. startLab
   * runs those of all nodes in one shell: each process spawned from a big Node process costs tens of ms.
   */
  copyEtcScript(baseEtc: string): string {
    const etc = path.join(this.rootDir, 'etc');
    const keys = ['ed25519', 'ecdsa'].map((t) => `ssh-keygen -q -t ${t} -N '' -C ${shq(`root@${this.name}`)} -f ${shq(`${etc}/ssh/ssh_host_${t}_key`)}`);
    return [`mkdir -p ${shq(this.rootDir)}`, `cp -a ${shq(baseEtc)} ${shq(etc)}`, ...keys].join(' && ');
  }

  /** Lays out the rest of the node's SD card and boot partition (once, at lab start, after copyEtcScript). */
  async create(authorizedKey: string): Promise<void> {
    const r = this.rootDir;
    for (const d of ['boot/firmware/overlays', 'home', 'root', 'run', 'tmp', 'var/lib/rancher', 'var/lib/sudo/lectured', 'var/log/apt', 'lab/boot'])
      fs.mkdirSync(path.join(r, d), { recursive: true });
    for (const d of ['var/lib/sudo', 'var/lib/sudo/lectured']) fs.chmodSync(path.join(r, d), 0o700);
    for (const d of ['bin', 'sbin', 'lib', 'share', 'include', 'src', 'etc', 'games']) fs.mkdirSync(path.join(r, 'usr/local', d), { recursive: true });
    fs.chmodSync(path.join(r, 'root'), 0o700);
    fs.mkdirSync(path.join(r, 'var/tmp'), { recursive: true });
    for (const d of ['tmp', 'var/tmp']) fs.chmodSync(path.join(r, d), 0o1777);

    // /etc: identity, OS, users, sudo, sshd
    const etc = (p: string) => path.join(r, 'etc', p);
    const os: LabOs = this.spec.os ?? 'bookworm';
    const hostname = this.spec.hostname ?? this.name;
    fs.writeFileSync(etc('hostname'), `${hostname}\n`);
    fs.writeFileSync(etc('hosts'), renderEtcHosts(hostname));
    fs.rmSync(etc('os-release'), { force: true });
    fs.writeFileSync(etc('os-release'), renderOsRelease(os));
    fs.writeFileSync(etc('debian_version'), debianVersion(os));
    fs.writeFileSync(etc('rpi-issue'), renderRpiIssue(os));
    fs.writeFileSync(etc('machine-id'), `${randomBytes(16).toString('hex')}\n`);
    const { sshPassword, sudoPassword } = this.spec;
    if (sshPassword !== undefined && sudoPassword !== undefined && sshPassword !== sudoPassword) {
      throw new Error(`lab: node ${this.name} has different sshPassword and sudoPassword, but pi has one password; give the same value or only one.`);
    }
    const password = sshPassword ?? sudoPassword;
    const users = addPiUser(
      {
        passwd: fs.readFileSync(etc('passwd'), 'utf8'),
        shadow: fs.readFileSync(etc('shadow'), 'utf8'),
        group: fs.readFileSync(etc('group'), 'utf8'),
        gshadow: fs.readFileSync(etc('gshadow'), 'utf8'),
      },
      password === undefined ? '*' : await hashPassword(password),
    );
    fs.writeFileSync(etc('passwd'), users.passwd);
    fs.writeFileSync(etc('shadow'), users.shadow, { mode: 0o640 });
    fs.writeFileSync(etc('group'), users.group);
    fs.writeFileSync(etc('gshadow'), users.gshadow, { mode: 0o640 });
    if (sudoPassword === undefined) fs.writeFileSync(etc('sudoers.d/010_pi-nopasswd'), 'pi ALL=(ALL) NOPASSWD: ALL\n', { mode: 0o440 });
    // One line per sudo run in the node's own /var/log, so tests can count them (sudoRuns()).
    fs.writeFileSync(etc('sudoers.d/000_lab-log'), 'Defaults logfile=/var/log/sudo.log, loglinelen=0\n', { mode: 0o440 });
    fs.writeFileSync(etc('ssh/sshd_config'), renderSshdConfig({ address: this.address, port: this.port, passwordLogin: sshPassword !== undefined }));

    // /home/pi with the lab's key
    const home = path.join(r, 'home/pi');
    fs.mkdirSync(home, { recursive: true });
    if (fs.existsSync('/etc/skel')) fs.cpSync('/etc/skel', home, { recursive: true });
    fs.mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(home, '.ssh/authorized_keys'), authorizedKey, { mode: 0o600 });
    chownTree(home, 1000, 1000);
    fs.chmodSync(home, 0o750);

    // /usr/local: lab stand-ins (README.md)
    const bin = path.join(r, 'usr/local/bin');
    const sbin = path.join(r, 'usr/local/sbin');
    const shims = [
      'systemctl',
      'journalctl',
      'hostnamectl',
      ...(this.arch === 'aarch64' ? ['uname', 'arch', 'getconf'] : []),
      ...(this.spec.wifi ? ['ip'] : []),
    ];
    for (const s of shims) fs.copyFileSync(path.join(NODE_FILES, s), path.join(bin, s));
    for (const s of shims) fs.chmodSync(path.join(bin, s), 0o755);
    for (const s of ['systemctl', 'reboot', 'shutdown', 'poweroff', 'halt']) fs.symlinkSync('../bin/systemctl', path.join(sbin, s));
    if (this.spec.wifi) fs.symlinkSync('../bin/ip', path.join(sbin, 'ip'));

    // /boot/firmware
    const fw = path.join(r, 'boot/firmware');
    fs.writeFileSync(path.join(fw, 'cmdline.txt'), STOCK_CMDLINE_TXT);
    fs.writeFileSync(path.join(fw, 'config.txt'), STOCK_CONFIG_TXT);
    for (const f of BOOT_PARTITION_DUMMIES) fs.writeFileSync(path.join(fw, f), `lab stand-in for ${f}\n`);
    fs.writeFileSync(path.join(r, 'lab/boots'), '0\n');
  }

  /** Renders this boot's kernel/firmware view from the boot partition, then starts the node and waits for sshd. */
  async boot(): Promise<void> {
    if (this.proc) throw new Error(`lab: node ${this.name} is already running.`);
    this.state = 'booting';
    // The firmware reads the boot partition: /boot/firmware on Bookworm and later, /boot on older images.
    const fw = (f: string) => {
      for (const dir of ['/boot/firmware', '/boot']) {
        try {
          return fs.readFileSync(this.path(`${dir}/${f}`), 'utf8');
        } catch {
          /* next */
        }
      }
      return '';
    };
    const b = (...p: string[]) => this.labPath('boot', ...p);
    fs.rmSync(this.labPath('boot'), { recursive: true, force: true });
    fs.mkdirSync(b('cgroup'), { recursive: true });
    const cmdline = renderProcCmdline(fw('cmdline.txt'), this.model || PI5_MODEL);
    const kernel = bootedKernel(fw('config.txt'), this.model || PI5_MODEL);
    fs.writeFileSync(b('cmdline'), cmdline);
    fs.writeFileSync(b('meminfo'), renderMeminfo(this.hostMeminfo, this.spec.memoryMiB ?? 8192));
    fs.writeFileSync(b('boot_id'), `${randomUUID()}\n`);
    fs.writeFileSync(b('cgroup/cgroup.controllers'), renderCgroupControllers(memoryCgroupEnabled(cmdline)));
    fs.writeFileSync(b('cgroup/cgroup.subtree_control'), '');
    if (this.model) {
      fs.mkdirSync(b('firmware/devicetree/base'), { recursive: true });
      fs.writeFileSync(b('firmware/devicetree/base/model'), `${this.model}\0`);
      fs.writeFileSync(
        b('firmware/devicetree/base/compatible'),
        /Raspberry Pi 5/.test(this.model) ? 'raspberrypi,5-model-b\0brcm,bcm2712\0' : 'raspberrypi,4-model-b\0brcm,bcm2711\0',
      );
    }
    if (this.arch === 'aarch64') {
      fs.writeFileSync(b('cpuinfo'), renderCpuinfo(this.model));
      fs.writeFileSync(
        b('version'),
        `Linux version ${kernel.release} (serge@raspberrypi.com) (aarch64-linux-gnu-gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) ${KERNEL_BUILD}\n`,
      );
      fs.writeFileSync(b('osrelease'), `${kernel.release}\n`);
      fs.writeFileSync(b('arch'), 'aarch64\n');
    }
    if (this.spec.wifi) {
      // The host's interfaces as they are, plus a wlan0 with the `wireless/` directory a Wi-Fi interface has.
      fs.mkdirSync(b('net'));
      for (const iface of fs.readdirSync('/sys/class/net'))
        fs.symlinkSync(fs.readlinkSync(`/sys/class/net/${iface}`).replace(/^(\.\.\/)+/, '/sys/'), b('net', iface));
      fs.mkdirSync(b('net/wlan0/wireless'), { recursive: true });
      fs.writeFileSync(b('net/wlan0/operstate'), 'up\n');
      fs.writeFileSync(b('net/wlan0/address'), '2c:cf:67:00:00:02\n');
      fs.writeFileSync(b('net/wlan0/type'), '1\n');
      fs.writeFileSync(b('net/wlan0/flags'), '0x1003\n');
    }
    // /run and /tmp start empty at every boot (Debian's tmpfiles.d cleans /tmp); lab facts for the stand-ins
    for (const e of fs.readdirSync(this.path('/tmp'))) fs.rmSync(path.join(this.path('/tmp'), e), { recursive: true, force: true });
    fs.rmSync(this.path('/run'), { recursive: true, force: true });
    fs.mkdirSync(this.path('/run/lab'), { recursive: true });
    fs.writeFileSync(this.path('/run/lab/kernel-release'), `${kernel.release}\n`);
    fs.writeFileSync(this.path('/run/lab/kernel-version'), `${KERNEL_BUILD}\n`);
    fs.writeFileSync(this.path('/run/lab/page-size'), this.arch === 'aarch64' ? `${kernel.pageSize}\n` : '4096\n');

    this.boots += 1;
    fs.writeFileSync(this.labPath('boots'), `${this.boots}\n`);
    const log = fs.openSync(this.labPath('console.log'), 'a');
    fs.writeSync(log, `--- lab: boot ${this.boots} of ${this.name} (${kernel.image}) at ${new Date().toISOString()}\n`);
    const tSpawn = Date.now();
    const proc = spawn(
      'setpriv',
      [
        '--pdeathsig',
        'KILL',
        '--',
        'unshare',
        '--mount',
        '--uts',
        '--pid',
        '--fork',
        '--kill-child',
        '--mount-proc',
        '/usr/bin/perl',
        path.join(NODE_FILES, 'init.pl'),
      ],
      { cwd: '/', env: { PATH: NODE_PATH, LAB_NODE_ROOT: this.rootDir, LAB_NODE_FILES: NODE_FILES, LANG: 'C.UTF-8' }, stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    proc.once('exit', () => this.onExit(proc));
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    while (this.initPid === undefined && this.proc === proc && Date.now() < deadline) {
      const [init] = childPids(proc.pid!);
      if (init !== undefined) this.initPid = init;
      else await sleep(10);
    }
    const tInit = Date.now();
    await this.waitListening(deadline);
    debug(`${this.name}: boot ${this.boots} init after ${tInit - tSpawn} ms, sshd listening after ${Date.now() - tSpawn} ms`);
    this.state = 'up';
    for (const w of this.upWaiters.splice(0)) w();
  }

  private async waitListening(deadline: number): Promise<void> {
    const proc = this.proc;
    while (Date.now() < deadline) {
      if (!proc || this.proc !== proc)
        throw new Error(
          `lab: node ${this.name} stopped while booting; its console log ${this.labPath('console.log')} ends with:\n${tail(this.labPath('console.log'))}`,
        );
      if (isListening(this.address, this.port)) return;
      await sleep(20);
    }
    throw new Error(
      `lab: sshd of node ${this.name} did not listen on ${this.address}:${this.port} within ${BOOT_TIMEOUT_MS} ms; console log:\n${tail(this.labPath('console.log'))}`,
    );
  }

  private onExit(proc: ChildProcess): void {
    if (this.proc !== proc) return;
    this.proc = undefined;
    this.initPid = undefined;
    let request = '';
    try {
      request = fs.readFileSync(this.path('/run/lab/power-request'), 'utf8').trim();
    } catch {
      /* none: power cut or crash */
    }
    if (!this.intentionalStop && request === 'reboot') {
      this.reboots += 1;
      this.state = 'rebooting';
      this.rebootTimer = setTimeout(() => {
        this.rebootTimer = undefined;
        this.boot().catch((err: unknown) => {
          this.state = 'down';
          try {
            fs.appendFileSync(this.labPath('console.log'), `--- lab: reboot failed: ${String(err)}\n`);
          } catch {
            /* lab being removed */
          }
        });
      }, this.bootDelayMs);
      return;
    }
    this.state = 'down';
  }
}

function chownTree(p: string, uid: number, gid: number): void {
  fs.lchownSync(p, uid, gid);
  if (fs.lstatSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chownTree(path.join(p, e), uid, gid);
}

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** POSIX single-quoting. */
function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Runs shell command lines in parallel in one shell; fails with the first failure's output. */
async function runAll(lines: string[]): Promise<void> {
  const script = [
    'fail=0',
    ...lines.map((l, i) => `( ${l} ) > "$TMPDIR_LAB/${i}.log" 2>&1 & p${i}=$!`),
    ...lines.map((_, i) => `wait $p${i} || { fail=1; cat "$TMPDIR_LAB/${i}.log" >&2; }`),
    'exit $fail',
  ].join('\n');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'revue-pi-lab-run-'));
  try {
    await new Promise<void>((resolve, reject) => {
      execFile('sh', ['-c', script], { env: { ...process.env, TMPDIR_LAB: dir } }, (err, _out, stderr) => {
        if (err) reject(new Error(`lab: preparing the nodes failed: ${String(stderr).trim() || err.message}`, { cause: err }));
        else resolve();
      });
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function generateHostKeys(sshDir: string, name: string): Promise<void> {
  for (const type of ['ed25519', 'ecdsa']) {
    const file = path.join(sshDir, `ssh_host_${type}_key`);
    fs.rmSync(file, { force: true });
    fs.rmSync(`${file}.pub`, { force: true });
    await run('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', `root@${name}`, '-f', file]);
  }
}

// ---------------------------------------------------------------------------------------------------------
// the lab

const live = new Set<SimNode>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Normal exit without stop(): nothing may stay behind (abnormal deaths are covered by --pdeathsig).
  process.once('exit', () => {
    for (const n of live) {
      try {
        (n as unknown as { proc?: ChildProcess }).proc?.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
}

export async function startLab(nodes: LabNodeSpec[], opts: LabOptions = {}): Promise<Lab> {
  const sup = labSupport();
  if (!sup.ok) throw new Error(`lab: cannot start: ${sup.reason}`);
  if (nodes.length === 0) throw new Error('lab: startLab needs at least one node spec.');
  const subnet = opts.subnet ?? DEFAULT_SUBNET;
  if (!/^127\.\d{1,3}\.\d{1,3}\.$/.test(subnet)) throw new Error(`lab: subnet "${subnet}" must look like "127.0.10." (loopback only).`);
  if (nodes.length > 250) throw new Error('lab: at most 250 nodes per subnet.');
  const names = new Set<string>();
  for (const n of nodes) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n.name) || n.name.length > 63)
      throw new Error(`lab: node name "${n.name}" must be a hostname (lowercase letters, digits, "-").`);
    if (names.has(n.name)) throw new Error(`lab: node name "${n.name}" is used twice.`);
    names.add(n.name);
  }

  const t0 = Date.now();
  removeStaleLabs(opts.parentDir);
  let rootDir: string;
  if (opts.rootDir) {
    rootDir = path.resolve(opts.rootDir);
    if (fs.existsSync(rootDir) && fs.readdirSync(rootDir).length > 0)
      throw new Error(`lab: rootDir ${rootDir} must be empty or absent; the lab deletes it on stop().`);
    fs.mkdirSync(rootDir, { recursive: true });
  } else {
    rootDir = fs.mkdtempSync(path.join(opts.parentDir ?? defaultParent(), 'revue-pi-lab-'));
  }
  fs.chmodSync(rootDir, 0o755);
  fs.writeFileSync(path.join(rootDir, 'lab.pid'), String(process.pid));
  // Mount points the nodes bind their own directories onto (empty directories on the host).
  for (const d of ['/boot', '/var/lib/rancher', '/var/lib/sudo']) fs.mkdirSync(d, { recursive: true });

  const simNodes: SimNode[] = [];
  installExitHook();
  try {
    const baseEtc = path.join(rootDir, 'base-etc');
    await run('cp', ['-a', '/etc', baseEtc]);
    for (const f of fs.readdirSync(path.join(baseEtc, 'ssh'))) if (f.startsWith('ssh_host_')) fs.rmSync(path.join(baseEtc, 'ssh', f));
    ensureSecurePath(path.join(baseEtc, 'sudoers'));
    // The host's drop-ins (cloud images add NOPASSWD rules and sshd settings) would change what the nodes
    // do; a Pi OS image ships none besides these READMEs.
    for (const dir of ['sudoers.d', 'ssh/sshd_config.d']) {
      for (const f of safeReaddir(path.join(baseEtc, dir))) if (f !== 'README') fs.rmSync(path.join(baseEtc, dir, f), { recursive: true, force: true });
    }
    const keyPath = path.join(rootDir, 'id_ed25519');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'revue-pi-lab', '-f', keyPath]);
    fs.chmodSync(keyPath, 0o600);
    const authorizedKey = fs.readFileSync(`${keyPath}.pub`, 'utf8');
    const hostMeminfo = fs.readFileSync('/proc/meminfo', 'utf8');

    nodes.forEach((spec, i) => {
      const address = `${subnet}${i + 2}`;
      const port = spec.sshPort ?? SSH_PORT;
      if (isListening(address, port) || isListening('0.0.0.0', port)) {
        throw new Error(
          `lab: ${address}:${port} is already taken (another lab on subnet "${subnet}", or an sshd on every address); give this lab another subnet.`,
        );
      }
      const node = new SimNode(spec.name, address, path.join(rootDir, 'nodes', spec.name), spec, hostMeminfo);
      simNodes.push(node);
      live.add(node);
    });
    debug(`prepared the lab in ${Date.now() - t0} ms`);
    await runAll(simNodes.map((n) => n.copyEtcScript(baseEtc)));
    await Promise.all(simNodes.map((n) => n.create(authorizedKey)));
    fs.rmSync(baseEtc, { recursive: true, force: true });
    debug(`created ${simNodes.length} node(s) at ${Date.now() - t0} ms`);
    await Promise.all(simNodes.map((n) => n.boot()));
    debug(`booted ${simNodes.length} node(s) at ${Date.now() - t0} ms`);

    const lab: Lab = {
      nodes: simNodes,
      user: LAB_USER,
      keyPath,
      rootDir,
      node(name: string): LabNode {
        const n = simNodes.find((x) => x.name === name);
        if (!n) throw new Error(`lab: no node named "${name}" (nodes: ${simNodes.map((x) => x.name).join(', ')}).`);
        return n;
      },
      writeInventory(extra: Record<string, unknown> = {}, fileName = 'inventory.yaml'): string {
        const doc = renderLabInventory(
          simNodes.map((n) => ({ name: n.name, address: n.address, ...(n.port !== SSH_PORT ? { port: n.port } : {}) })),
          { user: LAB_USER, port: SSH_PORT, keyPath, knownHostsFile: path.join(rootDir, 'known_hosts'), poolAddresses: [`${subnet}200-${subnet}220`] },
          extra,
        );
        const file = path.resolve(rootDir, fileName);
        fs.writeFileSync(file, yaml.dump(doc, { lineWidth: -1, noRefs: true }));
        return file;
      },
      knownHosts(): string {
        return simNodes.map((n) => `${n.port === SSH_PORT ? n.address : `[${n.address}]:${n.port}`} ${n.hostKey()}\n`).join('');
      },
      async stop(): Promise<void> {
        await Promise.all(simNodes.map((n) => n.powerOff()));
        for (const n of simNodes) live.delete(n);
        fs.rmSync(rootDir, { recursive: true, force: true });
      },
    };
    return lab;
  } catch (err) {
    await Promise.all(simNodes.map((n) => n.powerOff().catch(() => undefined)));
    for (const n of simNodes) live.delete(n);
    fs.rmSync(rootDir, { recursive: true, force: true });
    throw err;
  }
}

/** sudo must find the lab stand-ins first (as on Pi OS, whose sudoers has /usr/local/sbin first in secure_path). */
function ensureSecurePath(sudoers: string): void {
  const want = 'Defaults\tsecure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"';
  const text = fs.readFileSync(sudoers, 'utf8');
  const lines = text.split('\n');
  const i = lines.findIndex((l) => /^Defaults\s+secure_path\s*=/.test(l));
  if (i >= 0 && /secure_path\s*=\s*"?\/usr\/local\/sbin:\/usr\/local\/bin:/.test(lines[i]!)) return;
  if (i >= 0) lines[i] = want;
  else lines.splice(1, 0, want);
  fs.writeFileSync(sudoers, lines.join('\n'), { mode: 0o440 });
}
