/**
 * The lab's K3s STAND-IN (test/lab/k3s-standin/): its installer and `k3s` honour the documented contract
 * (field notes, "The K3s installer contract" and "Server and agents"), driven over real SSH as revue-pi
 * will drive them.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../lab/lab.js';
import { describeLab } from '../lab/skip.js';
import { shQuote } from '../../core/remote/shell.js';
import {
  STANDIN_CHANNELS,
  failNextInstall,
  installScript,
  installerRuns,
  setHelmInstall,
  standinBinary,
  startInstallerServer,
  type InstallerServer,
} from '../lab/k3s-standin/server.js';
import { tempDir } from '../fakes/temp-dir.js';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const VERSION = 'v1.33.5+k3s1';
const SECRET = 'lab-cluster-secret-0123456789abcdef';

describe('k3s stand-in release server (server.ts, no lab needed)', () => {
  let srv: InstallerServer;
  const get = (p: string, node?: string) => fetch(`${srv.origin}${p}`, { redirect: 'manual', headers: node ? { 'x-lab-node': node } : {} });
  beforeAll(async () => {
    srv = await startInstallerServer({ delayMs: 300 });
  });
  afterAll(() => srv?.stop());

  it('serves the installer with its own origin, channels as redirects, and a binary matching its published hash', async () => {
    expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/install\.sh$/);
    const script = await (await get('/install.sh')).text();
    expect(script).toContain(`STANDIN_ORIGIN=\${STANDIN_ORIGIN:-'${srv.origin}'}`);
    expect(script).not.toContain('@@STANDIN_ORIGIN@@');
    const stable = await get('/v1-release/channels/stable');
    expect([stable.status, stable.headers.get('location')]).toEqual([302, `${srv.origin}/k3s-io/k3s/releases/tag/${STANDIN_CHANNELS.stable}`]);
    expect((await get('/v1-release/channels/nightly')).status).toBe(404);

    const base = `/k3s-io/k3s/releases/download/${VERSION}`;
    const sums = await (await get(`${base}/sha256sum-arm64.txt`)).text();
    const t0 = Date.now();
    const bin = Buffer.from(await (await get(`${base}/k3s-arm64`)).arrayBuffer());
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290); // delayMs applies to the binary only
    expect(sums).toContain(`${createHash('sha256').update(bin).digest('hex')}  k3s-arm64\n`);
    expect(bin.equals(standinBinary(VERSION))).toBe(true);
    expect((await get('/k3s-io/k3s/releases/download/latest/k3s-arm64')).status).toBe(404);

    // The assembled binary runs with nothing but sh and node, from where it lies, and writes nothing.
    const dir = tempDir('k3s-standin');
    const file = path.join(dir, 'k3s');
    fs.writeFileSync(file, bin, { mode: 0o755 });
    expect(execFileSync(file, ['--version'], { encoding: 'utf8', cwd: dir })).toBe(
      `k3s version ${VERSION} (revue-pi lab stand-in)\ngo version go1.24.0 (revue-pi lab stand-in)\n`,
    );
    expect(fs.readdirSync(dir)).toEqual(['k3s']);
    fs.rmSync(dir, { recursive: true });
  });

  it('fails the next downloads of one node only, and records each request with its node', async () => {
    srv.failNext('pi-x');
    const hash = `/k3s-io/k3s/releases/download/${VERSION}/sha256sum-arm64.txt`;
    expect((await get(hash, 'pi-y')).status).toBe(200);
    expect((await get(hash, 'pi-x')).status).toBe(500);
    expect((await get(hash, 'pi-x')).status).toBe(200);
    expect(
      srv
        .requests()
        .slice(-3)
        .map((r) => [r.node, r.status]),
    ).toEqual([
      ['pi-y', 200],
      ['pi-x', 500],
      ['pi-x', 200],
    ]);
  });

  it('binds to loopback only', async () => {
    await expect(startInstallerServer({ address: '0.0.0.0' })).rejects.toThrow('loopback only');
  });
});

describeLab('k3s stand-in (installer, server, agent, kubectl) on the lab', () => {
  let lab: Lab;
  let installer: InstallerServer;
  let server: string; // https://<first server>:6443

  /** OpenSSH client, as an operator would run it. */
  function ssh(node: string, command: string, input = ''): Promise<Result> {
    const n = lab.node(node);
    const args = [
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=5',
      '-o',
      'LogLevel=ERROR',
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
    ];
    args.push('-i', lab.keyPath, '-p', String(n.port), `${lab.user}@${n.address}`, '--', command);
    return new Promise((resolve) => {
      const child = execFile('ssh', args, { maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 255) : 0, stdout: String(stdout), stderr: String(stderr) });
      });
      child.stdin?.end(input);
    });
  }
  /** Writes a root-only file through stdin (secrets never go on a command line). */
  async function writeRootFile(node: string, file: string, content: string): Promise<void> {
    const r = await ssh(node, `sudo sh -c 'mkdir -p "$(dirname ${file})" && umask 077 && cat > ${file}'`, content);
    expect(r, r.stderr).toMatchObject({ code: 0 });
  }
  async function nodeConfig(node: string, lines: string[], token: string): Promise<void> {
    await writeRootFile(node, '/etc/rancher/k3s/revue-pi-token', `${token}\n`);
    await writeRootFile(node, '/etc/rancher/k3s/config.yaml', ['token-file: /etc/rancher/k3s/revue-pi-token', `node-name: ${node}`, ...lines, ''].join('\n'));
  }
  const install = (node: string, role: 'server' | 'agent', env = `INSTALL_K3S_VERSION=${VERSION}`) =>
    ssh(node, `curl -sfL ${installer.url} | ${env} sh -s - ${role}`);
  /** Checks run as root inside the node (nsenter): quicker than an SSH login, and not what is under test. */
  const onNode = (node: string, script: string): Promise<Result> => lab.node(node).exec(script);
  // Input goes over SSH (exec() has no stdin); the rest runs inside the node.
  const kubectl = (args: string, input?: string) =>
    input === undefined ? onNode('k3s-a', `k3s kubectl ${args}`) : ssh('k3s-a', `sudo k3s kubectl ${args}`, input);
  async function nodes(): Promise<Record<string, string>> {
    const r = await kubectl('get nodes -o json');
    expect(r, r.stderr).toMatchObject({ code: 0 });
    const list = JSON.parse(r.stdout) as { items: Array<{ metadata: { name: string }; status: { conditions: Array<{ type: string; status: string }> } }> };
    return Object.fromEntries(list.items.map((n) => [n.metadata.name, n.status.conditions.find((c) => c.type === 'Ready')?.status ?? '?']));
  }
  async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last = await probe();
    while (!ok(last)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
      await new Promise((r) => setTimeout(r, 250));
      last = await probe();
    }
    return last;
  }
  const unitState = async (node: string, unit: string) => (await onNode(node, `systemctl is-active ${unit}`)).stdout.trim();

  beforeAll(async () => {
    installer = await startInstallerServer();
    lab = await startLab(
      ['k3s-a', 'k3s-b', 'k3s-c', 'k3s-d', 'k3s-e', 'k3s-f'].map((name) => ({ name })),
      { subnet: '127.0.30.' },
    );
    // The first server answers every kubectl here: it calls a stopped agent NotReady after 8 s of silence (four missed
    // heartbeats) instead of the stand-in's 15 s, which only the wait for that agent pays.
    fs.writeFileSync(lab.node('k3s-a').path('/etc/default/k3s'), 'K3S_STANDIN_NOT_READY_AFTER_MS=8000\n');
    server = `https://${lab.node('k3s-a').address}:6443`;
  });
  afterAll(async () => {
    await lab?.stop();
    await installer?.stop();
  });

  it('installs a server from `curl -sfL URL | INSTALL_K3S_VERSION=… sh -s - server` with the documented files, units and token', async () => {
    const a = lab.node('k3s-a');
    await nodeConfig(
      'k3s-a',
      [`tls-san:\n  - ${a.address}\n  - k3s-a`, 'disable:\n  - servicelb', 'write-kubeconfig-mode: "0600"', 'node-label:\n  - revue-pi/role=server'],
      SECRET,
    );
    const r = await install('k3s-a', 'server');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`[INFO]  Using ${VERSION} as release`);
    expect(r.stdout).toContain('[INFO]  systemd: Starting k3s');

    expect((await ssh('k3s-a', 'k3s --version')).stdout.split('\n')[0]).toBe(`k3s version ${VERSION} (revue-pi lab stand-in)`);
    for (const cmd of ['kubectl', 'crictl', 'ctr']) {
      // Like the real installer: no symlink where the command already exists (this host may have a kubectl in /usr/bin, which the nodes share).
      if (fs.existsSync(`/usr/bin/${cmd}`))
        expect(r.stdout).toContain(`[INFO]  Skipping /usr/local/bin/${cmd} symlink to k3s, command exists in PATH at /usr/bin/${cmd}`);
      else expect(fs.readlinkSync(a.path(`/usr/local/bin/${cmd}`))).toBe('k3s');
    }
    for (const script of ['k3s-killall.sh', 'k3s-uninstall.sh']) expect(fs.statSync(a.path(`/usr/local/bin/${script}`)).mode & 0o777).toBe(0o755);
    expect(fs.existsSync(a.path('/usr/local/bin/k3s-agent-uninstall.sh'))).toBe(false);
    const unit = fs.readFileSync(a.path('/etc/systemd/system/k3s.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/local\/bin\/k3s \\\n {4}server \\\n\n/m);
    expect(unit).toContain('EnvironmentFile=-/etc/systemd/system/k3s.service.env');
    expect(fs.statSync(a.path('/etc/systemd/system/k3s.service.env')).mode & 0o777).toBe(0o600);
    expect(await unitState('k3s-a', 'k3s')).toBe('active');
    expect((await onNode('k3s-a', 'systemctl is-enabled k3s')).stdout.trim()).toBe('enabled');

    // Token K10<sha256 of the CA>::server:<the secret we gave>, node-token a symlink to it, both root-only.
    const token = fs.readFileSync(a.path('/var/lib/rancher/k3s/server/token'), 'utf8').trim();
    const ca = fs.readFileSync(a.path('/var/lib/rancher/k3s/server/tls/server-ca.crt'));
    expect(token).toBe(`K10${createHash('sha256').update(ca).digest('hex')}::server:${SECRET}`);
    expect(fs.readlinkSync(a.path('/var/lib/rancher/k3s/server/node-token'))).toBe('/var/lib/rancher/k3s/server/token');
    expect(fs.statSync(a.path('/var/lib/rancher/k3s/server/token')).mode & 0o777).toBe(0o600);
    const kubeconfig = fs.readFileSync(a.path('/etc/rancher/k3s/k3s.yaml'), 'utf8');
    expect(kubeconfig).toContain('server: https://127.0.0.1:6443');
    expect(fs.statSync(a.path('/etc/rancher/k3s/k3s.yaml')).mode & 0o777).toBe(0o600);
    // The secret never reached a command line, the installer log or the unit.
    expect(unit + fs.readFileSync(a.path('/var/lib/rancher/standin-installer.log'), 'utf8')).not.toContain(SECRET);

    // kubectl needs root (k3s.yaml is 0600), like the real one.
    const asPi = await ssh('k3s-a', 'k3s kubectl get nodes');
    expect(asPi.code).toBe(1);
    expect(asPi.stderr).toContain('error loading config file "/etc/rancher/k3s/k3s.yaml": open /etc/rancher/k3s/k3s.yaml: permission denied');

    const n = await nodes();
    expect(n).toEqual({ 'k3s-a': 'True' });
    const node = JSON.parse((await kubectl('get node k3s-a -o json')).stdout) as {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
    };
    expect(node.metadata.labels).toMatchObject({ 'revue-pi/role': 'server', 'node-role.kubernetes.io/control-plane': 'true' });
    expect(JSON.parse(node.metadata.annotations['k3s.io/node-args']!)).toEqual(expect.arrayContaining(['server', '--disable', 'servicelb', '--token-file']));

    expect(installerRuns(a)).toEqual([expect.objectContaining({ node: 'k3s-a', cmd: 'server', version: VERSION, result: 'started', exit: 0 })]);
    const paths = installer.requests().map((q) => `${q.node ?? '-'} ${q.path}`);
    expect(paths).toEqual([
      '- /install.sh',
      `k3s-a /k3s-io/k3s/releases/download/${VERSION}/sha256sum-arm64.txt`,
      `k3s-a /k3s-io/k3s/releases/download/${VERSION}/k3s-arm64`,
    ]);
  });

  it('re-running the same install changes nothing: "No change detected", no download, no restart', async () => {
    const a = lab.node('k3s-a');
    const pid = (await onNode('k3s-a', 'systemctl show -p MainPID --value k3s')).stdout.trim();
    const before = installer.requests().length;
    const r = await install('k3s-a', 'server');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('[INFO]  No change detected so skipping service start');
    expect(r.stdout).toContain('[INFO]  Skipping binary downloaded, installed k3s matches hash');
    expect((await onNode('k3s-a', 'systemctl show -p MainPID --value k3s')).stdout.trim()).toBe(pid);
    expect(
      installer
        .requests()
        .slice(before)
        .map((q) => q.path.split('/').pop()),
    ).toEqual(['install.sh', 'sha256sum-arm64.txt']);
    expect(installerRuns(a).map((x) => x.result)).toEqual(['started', 'unchanged']);
  });

  it('an agent with the right token joins and both nodes are Ready', async () => {
    const b = lab.node('k3s-b');
    await nodeConfig('k3s-b', [`server: ${server}`, 'node-label:\n  - revue-pi/role=agent', 'node-taint:\n  - dedicated=edge:NoSchedule'], SECRET);
    const r = await install('k3s-b', 'agent');
    expect(r.code, r.stderr).toBe(0);
    expect(fs.existsSync(b.path('/etc/systemd/system/k3s-agent.service'))).toBe(true);
    expect(fs.existsSync(b.path('/usr/local/bin/k3s-agent-uninstall.sh'))).toBe(true);
    expect(fs.existsSync(b.path('/usr/local/bin/k3s-uninstall.sh'))).toBe(false);
    expect(await unitState('k3s-b', 'k3s-agent')).toBe('active');
    expect(await nodes()).toEqual({ 'k3s-a': 'True', 'k3s-b': 'True' });

    const table = await kubectl('get nodes');
    expect(table.stdout).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\n/);
    expect(table.stdout).toMatch(new RegExp(`^k3s-a\\s+Ready\\s+control-plane,master\\s+\\S+\\s+${VERSION.replace('+', '\\+')}$`, 'm'));
    expect(table.stdout).toMatch(/^k3s-b\s+Ready\s+<none>\s/m);
    const node = JSON.parse((await kubectl('get node k3s-b -o json')).stdout) as { metadata: { labels: Record<string, string> }; spec: { taints: unknown[] } };
    expect(node.metadata.labels['revue-pi/role']).toBe('agent');
    expect(node.spec.taints).toEqual([{ key: 'dedicated', value: 'edge', effect: 'NoSchedule' }]);
    const secret = await kubectl('-n kube-system get secret k3s-b.node-password.k3s -o json');
    expect(secret.code, secret.stderr).toBe(0);
    expect(fs.statSync(b.path('/etc/rancher/node/password')).mode & 0o777).toBe(0o600);
    // The agent is the front script alone (HTTP over bash's /dev/tcp), no Node and no curl; no token on a command line.
    const processes = (await onNode('k3s-b', 'ps -eo args')).stdout;
    expect(processes).toMatch(/^\/bin\/bash \/usr\/local\/bin\/k3s agent/m);
    expect(processes).not.toMatch(/^(node|curl|sleep) /m);
    expect(processes).not.toContain(SECRET);
    // It ignores SIGPIPE: a server going down mid-request (status.test stops it) fails a write instead of killing it.
    const sigIgn = (await onNode('k3s-b', 'for p in $(pgrep -f "^/bin/bash /usr/local/bin/k3s agent"); do grep SigIgn /proc/$p/status; done')).stdout
      .trim()
      .split('\n');
    expect(sigIgn.length).toBeGreaterThan(0);
    for (const line of sigIgn) expect(BigInt(`0x${line.split(/\s+/)[1]}`) & (1n << 12n)).toBe(1n << 12n);

    // Like kubectl, one label command names several nodes; a missing one changes none.
    expect((await kubectl('label node k3s-a k3s-b revue-pi.io/armv82=true --overwrite')).stdout).toBe('node/k3s-a labeled\nnode/k3s-b labeled\n');
    const missing = await kubectl('label node k3s-a nope revue-pi.io/armv82=false --overwrite');
    expect(missing.code).toBe(1);
    const labels = (
      JSON.parse((await kubectl('get nodes -o json')).stdout) as { items: { metadata: { name: string; labels: Record<string, string> } }[] }
    ).items.map((n) => [n.metadata.name, n.metadata.labels['revue-pi.io/armv82']]);
    expect(labels).toEqual([
      ['k3s-a', 'true'],
      ['k3s-b', 'true'],
    ]);
  });

  it('refuses a wrong token with a k3s-like message, and the agent unit is failed', async () => {
    await nodeConfig('k3s-c', [`server: ${server}`], 'not-the-cluster-secret');
    const r = await install('k3s-c', 'agent');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Job for k3s-agent.service failed because the control process exited with error code.');
    expect(await unitState('k3s-c', 'k3s-agent')).toBe('failed');
    const journal = (await onNode('k3s-c', 'journalctl -u k3s-agent -n 5')).stdout;
    expect(journal).toMatch(/level=fatal msg=".*401 Unauthorized/);
    expect(Object.keys(await nodes())).toEqual(['k3s-a', 'k3s-b']);
    expect(installerRuns(lab.node('k3s-c')).at(-1)).toMatchObject({ cmd: 'agent', result: 'failed', exit: 1 });
  });

  it('a failure injected on one node fails only its next installer run', async () => {
    installer.failNext('k3s-c');
    const failed = await install('k3s-c', 'agent');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('[ERROR]  Download failed');
    failNextInstall(lab.node('k3s-c'));
    const failedAgain = await install('k3s-c', 'agent');
    expect(failedAgain.code).toBe(1);
    expect(failedAgain.stderr).toContain('injected installer failure');
    await nodeConfig('k3s-c', [`server: ${server}`], SECRET);
    const healed = await install('k3s-c', 'agent', `INSTALL_K3S_VERSION=${VERSION} INSTALL_K3S_FORCE_RESTART=true`);
    expect(healed.code, healed.stderr).toBe(0);
    expect(await nodes()).toEqual({ 'k3s-a': 'True', 'k3s-b': 'True', 'k3s-c': 'True' });
    expect(installerRuns(lab.node('k3s-c')).map((x) => x.result)).toEqual(['failed', 'failed', 'failed', 'started']);
  });

  it('a re-imaged agent is rejected with "Node password rejected" until its Node (and with it the password secret) is deleted', async () => {
    // Re-image: k3s and the node password are gone; the server still has the node and its password secret.
    expect((await ssh('k3s-b', 'sudo systemctl stop k3s-agent && sudo rm -rf /etc/rancher/node /var/lib/rancher/k3s')).code).toBe(0);
    expect((await ssh('k3s-b', 'sudo systemctl restart k3s-agent')).code).toBe(0);
    await until(
      'the re-imaged agent to fail',
      () => unitState('k3s-b', 'k3s-agent'),
      (s) => s === 'failed',
    );
    expect((await onNode('k3s-b', 'journalctl -u k3s-agent -n 3')).stdout).toMatch(
      /level=fatal msg=".*Node password rejected, duplicate hostname or contents of '\/etc\/rancher\/node\/password' may not match server node-passwd entry/,
    );

    // The password secret is what K3s checks, and deleting the Node deletes it too (K3s's node controller, onRemove).
    expect((await kubectl('-n kube-system get secret k3s-b.node-password.k3s -o name')).stdout).toBe('secret/k3s-b.node-password.k3s\n');
    expect((await kubectl('delete node k3s-b')).stdout).toBe('node "k3s-b" deleted\n');
    expect((await kubectl('-n kube-system delete secret k3s-b.node-password.k3s')).stderr).toContain(
      'Error from server (NotFound): secrets "k3s-b.node-password.k3s" not found',
    );

    await ssh('k3s-b', 'sudo systemctl restart k3s-agent');
    await until('k3s-b to be Ready again', nodes, (n) => n['k3s-b'] === 'True');
    expect(await unitState('k3s-b', 'k3s-agent')).toBe('active');
  });

  it('kubectl apply records objects and says created / unchanged / configured; CRs need their CRD', async () => {
    const doc = (value: string) =>
      `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: revue\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: revue\ndata:\n  mode: ${value}\n`;
    expect((await kubectl('apply -f -', doc('a'))).stdout).toBe('namespace/revue created\nconfigmap/settings created\n');
    expect((await kubectl('apply -f -', doc('a'))).stdout).toBe('namespace/revue unchanged\nconfigmap/settings unchanged\n');
    expect((await kubectl('apply -f -', doc('b'))).stdout).toBe('namespace/revue unchanged\nconfigmap/settings configured\n');
    const cms = JSON.parse((await kubectl('get configmaps -A -o json')).stdout) as {
      items: Array<{ metadata: { name: string; namespace: string }; data: Record<string, string> }>;
    };
    expect(cms.items.map((c) => [c.metadata.namespace, c.metadata.name, c.data.mode])).toEqual([['revue', 'settings', 'b']]);

    const pool =
      'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: lab\n  namespace: metallb-system\nspec:\n  addresses: ["192.0.2.10-192.0.2.20"]\n';
    const noCrd = await kubectl('apply -f -', pool);
    expect(noCrd.code).toBe(1);
    expect(noCrd.stderr).toContain('no matches for kind "IPAddressPool" in version "metallb.io/v1beta1"\nensure CRDs are installed first');
    const noNs = await kubectl('apply -f -', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: nowhere\n');
    expect(noNs.stderr).toContain('namespaces "nowhere" not found');

    // Servicelb is disabled in config.yaml; the bundled Traefik is not, so its HelmChart is there.
    const charts = JSON.parse((await kubectl('get helmcharts.helm.cattle.io -A -o json')).stdout) as { items: Array<{ metadata: { name: string } }> };
    expect(charts.items.map((c) => c.metadata.name)).toEqual(['traefik', 'traefik-crd']);
    expect((await kubectl('delete -f -', doc('b'))).stdout).toBe('namespace "revue" deleted\nconfigmap "settings" deleted from revue namespace\n');
  });

  it("HelmCharts: the helm-controller's install Job (spec it installs, replaced on a new spec), the release's workloads, and the knob", async () => {
    type Job = {
      metadata: { uid: string; labels: Record<string, string> };
      spec: {
        backoffLimit: number;
        template: { metadata: { annotations: Record<string, string> }; spec: { containers: { name: string; env: { name: string; value: string }[] }[] } };
      };
      status: Record<string, unknown>;
    };
    const chart = (version: string) =>
      `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: monitoring\n---\napiVersion: helm.cattle.io/v1\nkind: HelmChart\nmetadata:\n  name: grafana\n  namespace: kube-system\nspec:\n  chart: grafana\n  repo: https://grafana-community.github.io/helm-charts\n  version: ${version}\n  targetNamespace: monitoring\n  valuesContent: |\n    replicas: 1\n`;
    const job = async () => JSON.parse((await kubectl('-n kube-system get jobs.batch helm-install-grafana -o json')).stdout) as Job;
    const grafana = async () => {
      const r = await kubectl('-n monitoring get deployments.apps grafana -o json');
      return r.code === 0
        ? (JSON.parse(r.stdout) as { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; status: { readyReplicas: number } })
        : undefined;
    };
    expect((await kubectl('apply -f -', chart('12.3.1'))).stdout).toBe('namespace/monitoring created\nhelmchart.helm.cattle.io/grafana created\n');
    const first = await job();
    expect(first.metadata.labels).toEqual({ 'helmcharts.helm.cattle.io/chart': 'grafana' });
    expect(first.spec.backoffLimit).toBe(1000);
    expect(first.spec.template.metadata.annotations['helmcharts.helm.cattle.io/configHash']).toMatch(/^SHA256=[0-9A-F]{64}$/);
    const env = Object.fromEntries(first.spec.template.spec.containers.find((c) => c.name === 'helm')!.env.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      NAME: 'grafana',
      CHART: 'grafana/grafana',
      VERSION: '12.3.1',
      REPO: 'https://grafana-community.github.io/helm-charts',
      TARGET_NAMESPACE: 'monitoring',
      CHART_NAMESPACE: 'kube-system',
    });
    expect(first.status).toMatchObject({ succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] });
    // The release's workloads, as the monitoring contract names them, with Helm's labels, ready.
    const deployed = await grafana();
    expect(deployed?.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/instance': 'grafana' });
    expect(deployed?.metadata.annotations).toEqual({ 'meta.helm.sh/release-name': 'grafana', 'meta.helm.sh/release-namespace': 'monitoring' });
    expect(deployed?.status.readyReplicas).toBe(1);
    expect((JSON.parse((await kubectl('-n kube-system get helmchart grafana -o json')).stdout) as { status: { jobName: string } }).status.jobName).toBe(
      'helm-install-grafana',
    );

    // Applied again unchanged: the same Job. A new version: the Job is replaced, and installs it.
    expect((await kubectl('apply -f -', chart('12.3.1'))).stdout).toContain('helmchart.helm.cattle.io/grafana unchanged');
    expect((await job()).metadata.uid).toBe(first.metadata.uid);
    await kubectl('apply -f -', chart('12.4.0'));
    const second = await job();
    expect(second.metadata.uid).not.toBe(first.metadata.uid);
    expect(second.spec.template.spec.containers[0]!.env).toContainEqual({ name: 'VERSION', value: '12.4.0' });

    // The knob: an install that gives up; deleting the chart uninstalls the release.
    setHelmInstall(lab.node('k3s-a'), 'kube-system/grafana', { outcome: 'fail' });
    expect((await kubectl('-n kube-system delete helmchart grafana')).code).toBe(0);
    expect(await grafana()).toBeUndefined();
    expect((await kubectl('-n kube-system get jobs.batch helm-install-grafana')).code).toBe(1);
    await kubectl('apply -f -', chart('12.4.0'));
    expect((await job()).status).toMatchObject({
      failed: 1001,
      conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }],
    });
    expect(await grafana()).toBeUndefined();
    const failed = JSON.parse((await kubectl('-n kube-system get helmchart grafana -o json')).stdout) as {
      status: { conditions: { type: string; status: string }[] };
    };
    expect(failed.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Failed', status: 'True', message: 'Job has reached configured number of retries without succeeding' }),
    );

    // Slow pods: the release's workloads exist, not ready, then ready; the Job had finished before.
    setHelmInstall(lab.node('k3s-a'), 'kube-system/grafana', { readyMs: 1500 });
    await kubectl('-n kube-system delete helmchart grafana');
    await kubectl('apply -f -', chart('12.4.0'));
    expect((await job()).status).toMatchObject({ succeeded: 1 });
    expect((await grafana())?.status.readyReplicas).toBe(0);
    await until('grafana to be ready', grafana, (d) => d?.status.readyReplicas === 1);
    setHelmInstall(lab.node('k3s-a'), 'kube-system/grafana', undefined);
    expect((await kubectl('delete -f -', chart('12.4.0'))).code).toBe(0);
    expect((await kubectl('get jobs.batch,deployments.apps -A -o name')).stdout).not.toMatch(/grafana/);
  });

  it('`k3s kubectl` answers alike through the front (/dev/tcp and cat, no node, no curl) and the Node client', async () => {
    // KUBECONFIG set → the front hands over to the Node client; a PATH with only cat proves the front's own path.
    await onNode('k3s-a', 'mkdir -p /run/cat-only && ln -sf /usr/bin/cat /run/cat-only/cat');
    const odd = `it's "odd" \\ 100% $HOME *`;
    // (Nothing that changes between two calls: nodes post a heartbeat every 2 s, and tables show ages.)
    for (const args of [
      'get namespaces -o json',
      'get nodes -o name',
      'get node nope',
      `get namespace ${shQuote(odd)}`,
      'get namespaces,services -A -o name',
      'frobnicate',
    ]) {
      const front = await onNode('k3s-a', `env PATH=/run/cat-only /usr/local/bin/k3s kubectl ${args}`);
      const node = await onNode('k3s-a', `KUBECONFIG=/etc/rancher/k3s/k3s.yaml k3s kubectl ${args}`);
      expect(front, args).toEqual(node);
    }
    const missing = await onNode('k3s-a', `env PATH=/run/cat-only /usr/local/bin/k3s kubectl get namespace ${shQuote(odd)}`);
    expect(missing).toEqual({ code: 1, stdout: '', stderr: `Error from server (NotFound): namespaces "${odd}" not found\n` });
    // Nothing listening at the kubeconfig's address: the same refusal from both.
    await onNode(
      'k3s-a',
      "cp -p /etc/rancher/k3s/k3s.yaml /run/k3s.yaml.keep && sed -i 's|https://127.0.0.1:6443|https://127.0.0.1:1|' /etc/rancher/k3s/k3s.yaml",
    );
    try {
      const refused = { code: 1, stdout: '', stderr: 'The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?\n' };
      expect(await onNode('k3s-a', 'env PATH=/run/cat-only /usr/local/bin/k3s kubectl get nodes')).toEqual(refused);
      expect(await onNode('k3s-a', 'KUBECONFIG=/etc/rancher/k3s/k3s.yaml k3s kubectl get nodes')).toEqual(refused);
    } finally {
      await onNode('k3s-a', 'mv /run/k3s.yaml.keep /etc/rancher/k3s/k3s.yaml');
    }
    // As a user who cannot read k3s.yaml, the Node client answers (permission denied), as before.
    expect((await ssh('k3s-a', 'k3s kubectl get nodes')).stderr).toContain('/etc/rancher/k3s/k3s.yaml: permission denied');
  });

  it('a stopped agent turns NotReady, and Ready again when it runs; auto-deploy manifests are applied', async () => {
    expect((await ssh('k3s-c', 'sudo systemctl stop k3s-agent')).code).toBe(0);
    await until('k3s-c NotReady', nodes, (n) => n['k3s-c'] === 'Unknown', 30_000);
    expect((await kubectl('get nodes')).stdout).toMatch(/^k3s-c\s+NotReady\s/m);
    expect((await ssh('k3s-c', 'sudo systemctl start k3s-agent')).code).toBe(0);
    await until('k3s-c Ready', nodes, (n) => n['k3s-c'] === 'True');

    const manifest =
      'apiVersion: helm.cattle.io/v1\nkind: HelmChartConfig\nmetadata:\n  name: traefik\n  namespace: kube-system\nspec:\n  valuesContent: |-\n    service:\n      annotations:\n        metallb.io/loadBalancerIPs: 192.0.2.10\n';
    await writeRootFile('k3s-a', '/var/lib/rancher/k3s/server/manifests/traefik-config.yaml', manifest);
    const r = await until(
      'the manifest to be applied',
      () => kubectl('-n kube-system get helmchartconfig traefik -o json'),
      (x) => x.code === 0,
    );
    expect((JSON.parse(r.stdout) as { spec: { valuesContent: string } }).spec.valuesContent).toContain('metallb.io/loadBalancerIPs: 192.0.2.10');
  });

  it('HA: a server joins only a cluster-init first server with identical critical settings', async () => {
    await nodeConfig('k3s-d', [`server: ${server}`, 'disable:\n  - servicelb'], SECRET);
    const sqlite = await install('k3s-d', 'server');
    expect(sqlite.code).toBe(1);
    expect((await onNode('k3s-d', 'journalctl -u k3s -n 3')).stdout).toContain(
      'cannot be joined by another server; start the first server with cluster-init: true',
    );

    // On SQLite there is no etcd to snapshot: the request falls through to the apiserver (404).
    expect((await onNode('k3s-a', 'ls /var/lib/rancher/k3s/server/db')).stdout).toBe('state.db\n');
    const noEtcd = await onNode('k3s-a', 'k3s etcd-snapshot save');
    expect([noEtcd.code, noEtcd.stderr]).toEqual([
      1,
      expect.stringContaining('level=fatal msg="Error: see server log for details: https://127.0.0.1:6443/db/snapshot: 404 Not Found"'),
    ]);

    // The first server becomes cluster-init (config.yaml changed, so the installer alone would not restart it).
    await nodeConfig(
      'k3s-a',
      [`tls-san:\n  - ${lab.node('k3s-a').address}`, 'disable:\n  - servicelb', 'write-kubeconfig-mode: "0600"', 'cluster-init: true'],
      SECRET,
    );
    expect((await ssh('k3s-a', 'sudo systemctl restart k3s')).code).toBe(0);
    await until(
      'the first server to answer again',
      () => kubectl('get nodes'),
      (r) => r.code === 0,
    );

    const joined = await install('k3s-d', 'server', `INSTALL_K3S_VERSION=${VERSION} INSTALL_K3S_FORCE_RESTART=true`);
    expect(joined.code, joined.stderr).toBe(0);
    await nodeConfig('k3s-e', [`server: ${server}`, 'disable:\n  - servicelb\n  - traefik'], SECRET);
    const mismatch = await install('k3s-e', 'server');
    expect(mismatch.code).toBe(1);
    expect((await onNode('k3s-e', 'journalctl -u k3s -n 3')).stdout).toContain(
      'critical configuration value mismatch between servers (revue-pi lab stand-in: disable differ)',
    );
    await nodeConfig('k3s-e', [`server: ${server}`, 'disable: [servicelb]'], SECRET);
    const third = await install('k3s-e', 'server', `INSTALL_K3S_VERSION=${VERSION} INSTALL_K3S_FORCE_RESTART=true`);
    expect(third.code, third.stderr).toBe(0);

    // kubectl on a joined server reaches the same objects; its token is the cluster's.
    const viaD = await ssh('k3s-d', 'sudo k3s kubectl get nodes -o json');
    expect(viaD.code, viaD.stderr).toBe(0);
    const items = (JSON.parse(viaD.stdout) as { items: Array<{ metadata: { name: string; labels: Record<string, string> } }> }).items;
    expect(items.map((n) => n.metadata.name)).toEqual(['k3s-a', 'k3s-b', 'k3s-c', 'k3s-d', 'k3s-e']);
    expect(items.find((n) => n.metadata.name === 'k3s-d')!.metadata.labels['node-role.kubernetes.io/etcd']).toBe('true');
    expect(fs.readFileSync(lab.node('k3s-d').path('/var/lib/rancher/k3s/server/token'), 'utf8')).toBe(
      fs.readFileSync(lab.node('k3s-a').path('/var/lib/rancher/k3s/server/token'), 'utf8'),
    );
    await until('all five nodes Ready', nodes, (n) => Object.values(n).length === 5 && Object.values(n).every((v) => v === 'True'));
    expect((await onNode('k3s-a', 'ls /var/lib/rancher/k3s/server/db')).stdout).toBe('etcd\nstate.db.migrated\n');
  });

  it('day two: etcd members (voters once promoted) on the Nodes and /db/info; etcd-snapshot save, ls, delete', async () => {
    type NodeDoc = {
      metadata: { name: string; annotations: Record<string, string> };
      status: { conditions: Array<{ type: string; status: string; reason: string }> };
    };
    const members = async () =>
      (JSON.parse((await kubectl('get --raw /db/info')).stdout) as { members: Array<{ name: string; peerURLs: string[]; isLearner?: boolean }> }).members;
    const names = Object.fromEntries(
      await Promise.all(
        ['k3s-a', 'k3s-d', 'k3s-e'].map(async (n) => [n, fs.readFileSync(lab.node(n).path('/var/lib/rancher/k3s/server/db/etcd/name'), 'utf8')]),
      ),
    );
    for (const name of Object.values(names)) expect(name).toMatch(/^k3s-[ade]-[0-9a-f]{8}$/);
    const voters = await until('every member a voter', members, (m) => m.length === 3 && m.every((x) => !x.isLearner));
    expect(voters.map((m) => [m.name, m.peerURLs])).toEqual(['k3s-a', 'k3s-d', 'k3s-e'].map((n) => [names[n], [`https://${lab.node(n).address}:2380`]]));
    const d = JSON.parse((await kubectl('get node k3s-d -o json')).stdout) as NodeDoc;
    expect(d.metadata.annotations['etcd.k3s.cattle.io/node-name']).toBe(names['k3s-d']);
    expect(d.metadata.annotations['etcd.k3s.cattle.io/node-address']).toBe(lab.node('k3s-d').address);
    expect(d.status.conditions.find((c) => c.type === 'EtcdIsVoter')).toMatchObject({ status: 'True', reason: 'MemberNotLearner' });

    const saved = await onNode('k3s-d', 'k3s etcd-snapshot save --name lab');
    const name = /msg="Snapshot (lab-k3s-d-\d+) saved\."/.exec(saved.stderr)?.[1];
    expect([saved.code, saved.stdout, name]).toEqual([0, '', expect.stringMatching(/^lab-k3s-d-\d{10}$/)]);
    const file = lab.node('k3s-d').path(`/var/lib/rancher/k3s/server/db/snapshots/${name}`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(fs.readFileSync(file, 'utf8')).toContain('"k3s-b.node-password.k3s"');
    const ls = (await onNode('k3s-d', 'k3s etcd-snapshot ls')).stdout.split('\n');
    expect(ls[0]).toMatch(/^Name {2,}Location {2,}Size +Created$/);
    expect(ls[1]).toMatch(new RegExp(`^${name} file:///var/lib/rancher/k3s/server/db/snapshots/${name} \\d+ +\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`));
    const del = await onNode('k3s-d', `k3s etcd-snapshot delete ${name} nope`);
    expect(del.stderr).toContain(`msg="Snapshot ${name} deleted."`);
    expect(del.stderr).toContain('level=warning msg="Snapshot nope not found."');
    expect(fs.existsSync(file)).toBe(false);
  });

  it('day two: etcd needs a majority of its voters — with two of three servers stopped the API times out; back, it answers', async () => {
    expect((await ssh('k3s-d', 'sudo systemctl stop k3s')).code).toBe(0);
    expect((await ssh('k3s-e', 'sudo systemctl stop k3s')).code).toBe(0);
    const lost = await until(
      'the leader to see no quorum',
      () => kubectl('get nodes -o name'),
      (r) => r.code !== 0,
      30_000,
    );
    expect(lost.stderr).toMatch(/^Error from server: etcdserver: request timed out \(revue-pi lab stand-in: 1 of 3 voting etcd members answer, 2 needed\)\n$/);
    expect((await ssh('k3s-d', 'sudo systemctl start k3s')).code).toBe(0);
    expect((await ssh('k3s-e', 'sudo systemctl start k3s')).code).toBe(0);
    await until(
      'the API to answer again',
      () => kubectl('get nodes -o name'),
      (r) => r.code === 0,
      30_000,
    );
    expect((await onNode('k3s-d', 'journalctl -u k3s')).stdout).toContain('Starting k3s');
    await until('all five nodes Ready', nodes, (n) => Object.values(n).length === 5 && Object.values(n).every((v) => v === 'True'));
  });

  it('day two: drain evicts pods while their PodDisruptionBudget allows it, and refuses unmanaged pods without --force', async () => {
    const pod = (name: string, node: string, owner = true) =>
      `---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  namespace: d2\n  labels: {app: web}\n${owner ? '  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1234, uid: u1, controller: true}]\n' : ''}spec:\n  nodeName: ${node}\n  containers: [{name: web, image: nginx}]\n`;
    const pdb = (min: number) =>
      `---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\n  namespace: d2\nspec:\n  minAvailable: ${min}\n  selector: {matchLabels: {app: web}}\n`;
    expect(
      (await kubectl('apply -f -', `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: d2\n${pod('web-1', 'k3s-c')}${pod('web-2', 'k3s-b')}${pdb(2)}`)).code,
    ).toBe(0);
    const started = Date.now();
    const blocked = await kubectl('drain k3s-c --ignore-daemonsets --delete-emptydir-data --timeout=1s');
    expect(blocked.code).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(5000); // one 5 s retry, then the timeout
    expect(blocked.stdout).toBe('node/k3s-c cordoned\nevicting pod d2/web-1\nevicting pod d2/web-1\n');
    expect(blocked.stderr).toContain(
      `error when evicting pods/"web-1" -n "d2" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.`,
    );
    expect(blocked.stderr).toContain(
      'error: unable to drain node "k3s-c" due to error: error when evicting pods/"web-1" -n "d2": global timeout reached: 1s, continuing command...',
    );
    expect((await kubectl('get nodes')).stdout).toMatch(/^k3s-c\s+Ready,SchedulingDisabled\s/m);
    expect((await kubectl('-n d2 get pods -o name')).stdout).toBe('pod/web-1\npod/web-2\n');

    expect((await kubectl('apply -f -', pdb(1))).code).toBe(0);
    const drained = await kubectl('drain k3s-c --ignore-daemonsets --timeout=30s');
    expect([drained.code, drained.stdout]).toEqual([0, 'node/k3s-c already cordoned\nevicting pod d2/web-1\npod/web-1 evicted\nnode/k3s-c drained\n']);
    expect((await kubectl('-n d2 get pods -o name')).stdout).toBe('pod/web-2\n');

    expect((await kubectl('apply -f -', pod('lone', 'k3s-b', false))).code).toBe(0);
    const unmanaged = await kubectl('drain k3s-b --ignore-daemonsets');
    expect(unmanaged.code).toBe(1);
    expect(unmanaged.stderr).toContain('cannot delete Pods declare no controller (use --force to override): d2/lone');
    expect((await kubectl('uncordon k3s-b k3s-c')).stdout).toBe('node/k3s-b uncordoned\nnode/k3s-c uncordoned\n');
    expect((await kubectl('delete namespace d2')).code).toBe(0);
  });

  it('installer contract: agent defaulting, https-only K3S_URL, channels, INSTALL_K3S_EXEC + args, skip flags, env file', async () => {
    const f = lab.node('k3s-f');
    const noToken = await ssh('k3s-f', `curl -sfL ${installer.url} | K3S_URL=${server} sh -`);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain(
      "[ERROR]  Defaulted k3s exec command to 'agent' because K3S_URL is defined, but K3S_TOKEN or K3S_TOKEN_FILE is not defined.",
    );
    const http = await ssh('k3s-f', `curl -sfL ${installer.url} | K3S_URL=http://127.0.30.2:6443 K3S_TOKEN_FILE=/nowhere sh -`);
    expect(http.stderr).toContain('[ERROR]  Only https:// URLs are supported for K3S_URL (have http://127.0.30.2:6443)');

    const r = await ssh(
      'k3s-f',
      `curl -sfL ${installer.url} | INSTALL_K3S_CHANNEL=latest INSTALL_K3S_SKIP_START=true INSTALL_K3S_EXEC="--disable=traefik --kubelet-arg 'max-pods 50'" K3S_KUBECONFIG_MODE=644 sh -s - --node-name f-node`,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('[INFO]  Finding release for channel latest');
    expect(r.stdout).toContain('[INFO]  Using v1.34.1+k3s1 as release');
    const unit = fs.readFileSync(f.path('/etc/systemd/system/k3s.service'), 'utf8');
    expect(unit).toContain(
      "ExecStart=/usr/local/bin/k3s \\\n    server \\\n\t'--disable=traefik' \\\n\t'--kubelet-arg' \\\n\t'max-pods 50' \\\n\t'--node-name' \\\n\t'f-node' \\\n\n",
    );
    expect(fs.readFileSync(f.path('/etc/systemd/system/k3s.service.env'), 'utf8')).toBe("K3S_KUBECONFIG_MODE='644'\n");
    expect((await onNode('k3s-f', 'systemctl is-enabled k3s')).stdout.trim()).toBe('enabled');
    expect(await unitState('k3s-f', 'k3s')).toBe('inactive');
    expect(installerRuns(f).at(-1)).toMatchObject({ cmd: 'server', version: 'v1.34.1+k3s1', result: 'skip-start', exit: 0 });

    const noEnable = await ssh(
      'k3s-f',
      `curl -sfL ${installer.url} | INSTALL_K3S_VERSION=${VERSION} INSTALL_K3S_SKIP_ENABLE=true sh -s - agent --server ${server}`,
    );
    expect(noEnable.code, noEnable.stderr).toBe(0);
    expect((await onNode('k3s-f', 'systemctl is-enabled k3s-agent')).stdout.trim()).toBe('disabled');
    expect(installerRuns(f).at(-1)).toMatchObject({ cmd: 'agent', result: 'skip-enable' });
    expect((await ssh('k3s-f', 'sudo /usr/local/bin/k3s-agent-uninstall.sh && sudo /usr/local/bin/k3s-uninstall.sh')).code).toBe(0);
    expect(fs.existsSync(f.path('/usr/local/bin/k3s'))).toBe(false);
    expect(fs.existsSync(f.path('/etc/systemd/system/k3s.service'))).toBe(false);
  });

  it('air-gapped: INSTALL_K3S_SKIP_DOWNLOAD uses the uploaded binary and script; a server refuses a changed token', async () => {
    const f = lab.node('k3s-f');
    fs.writeFileSync(f.path('/tmp/install.sh'), installScript());
    const missing = await ssh('k3s-f', 'INSTALL_K3S_SKIP_DOWNLOAD=true sh /tmp/install.sh');
    expect(missing.stderr).toContain('[ERROR]  Executable k3s binary not found at /usr/local/bin/k3s');

    fs.writeFileSync(f.path('/usr/local/bin/k3s'), standinBinary('v1.32.9+k3s1'), { mode: 0o755 });
    fs.mkdirSync(f.path('/var/lib/rancher/k3s/agent/images'), { recursive: true });
    fs.writeFileSync(f.path('/var/lib/rancher/k3s/agent/images/k3s-airgap-images-arm64.tar.zst'), 'stand-in images');
    await nodeConfig('k3s-f', ['write-kubeconfig-mode: "0640"'], 'airgap-secret');
    const before = installer.requests().length;
    const r = await ssh('k3s-f', 'INSTALL_K3S_SKIP_DOWNLOAD=true sh /tmp/install.sh');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('[INFO]  Skipping k3s download and verify');
    expect(installer.requests().length).toBe(before);
    expect(installerRuns(f).at(-1)).toMatchObject({ version: 'v1.32.9+k3s1', result: 'started' });
    expect(fs.statSync(f.path('/etc/rancher/k3s/k3s.yaml')).mode & 0o777).toBe(0o640);
    expect((await onNode('k3s-f', 'journalctl -u k3s')).stdout).toContain(
      'Imported images from /var/lib/rancher/k3s/agent/images/k3s-airgap-images-arm64.tar.zst',
    );

    await nodeConfig('k3s-f', [], 'another-secret');
    await ssh('k3s-f', 'sudo systemctl restart k3s');
    await until(
      'k3s to fail on the changed token',
      () => unitState('k3s-f', 'k3s'),
      (st) => st === 'failed',
    );
    expect((await onNode('k3s-f', 'journalctl -u k3s -n 2')).stdout).toContain('bootstrap data already found and encrypted with different token');
  });
});
