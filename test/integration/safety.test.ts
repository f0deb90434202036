/**
 * Issue 14 on the lab, through the built CLI: up asks only where it can (a real terminal, via tmux) and refuses
 * where it cannot; two ups at once on one cluster; what up claims about Traefik's address; the new host key told.
 * The lab's K3s is the STAND-IN (test/lab/k3s-standin/): it hands out no MetalLB address.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { LockHolder } from '../../core/lock.js';
import type { RunReport } from '../../core/report.js';
import { fingerprintSha256 } from '../../core/remote/known-hosts.js';
import { describeLab } from '../lab/skip.js';
import { CLI, runCli } from './cli.js';
import { useLabCluster } from './lab-cluster.js';
import { hasTmux, ShellTerminal } from './terminal.js';

const terminals: ShellTerminal[] = [];
afterEach(() => {
  for (const t of terminals.splice(0)) t.stop();
});

describeLab('up asks first, one run at a time, and claims only what it read (issue 14)', () => {
  const suite = useLabCluster([{ name: 'pi-1' }], '127.0.14.', {
    network: { metallb: { pools: [{ name: 'lan', addresses: ['127.0.14.200-127.0.14.220'] }] }, addresses: { ingress: '127.0.14.200' } },
  });
  const args = () => ['up', '-i', suite.inventory, '--state-dir', suite.stateDir, '--kubeconfig', join(suite.stateDir, 'kubeconfig')];
  const cmdline = () => readFileSync(suite.lab.node('pi-1').path('/boot/firmware/cmdline.txt'), 'utf8');
  const logs = () => (existsSync(join(suite.stateDir, 'logs')) ? readdirSync(join(suite.stateDir, 'logs')) : []);

  it('with stdin piped and no --yes, up refuses with exit 2 and says why, before contacting anything', async () => {
    const before = cmdline();
    const piped = await runCli(args(), { input: 'y\n' });
    expect(piped.code).toBe(2);
    expect(piped.stderr).toContain(
      'revue-pi up changes the nodes and asks first, but its standard input is not a terminal, so it cannot ask: nothing was contacted.',
    );
    expect(piped.stderr).toContain('pass --yes to apply without asking');
    const json = await runCli([...args(), '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, exitCode: 2, error: { message: expect.stringContaining('not a terminal') } });
    // Nothing contacted: no host key recorded, no run log, the node as it was.
    expect(existsSync(join(suite.lab.rootDir, 'known_hosts'))).toBe(false);
    expect(logs()).toEqual([]);
    expect(cmdline()).toBe(before);
    expect(suite.lab.node('pi-1').rebootCount()).toBe(0);
  });

  it('at a terminal it asks even when its output goes through a pipe (2>&1 | tee); Enter answers No and nothing changes', async () => {
    expect(hasTmux, 'tmux gives up a real terminal: apt-get install -y tmux').toBe(true);
    const before = cmdline();
    const out = join(suite.stateDir, 'tee.out');
    const quoted = [process.execPath, CLI, ...args()].map((a) => `'${a}'`).join(' ');
    const t = ShellTerminal.start(`{ ${quoted}; echo $? >"$STATUS"; } 2>&1 | tee '${out}'`, { cwd: suite.stateDir, env: { HOME: suite.stateDir } });
    terminals.push(t);
    const screen = await t.waitFor(/Apply these changes\? \(y\/N\)/, 90_000);
    // The plan it asks about, and the host key it trusted on the way, with its fingerprint.
    expect(screen).toMatch(/^pi-1:$/m);
    expect(screen).toMatch(/^ {4}write \/boot\/firmware\/cmdline\.txt: /m);
    const fingerprint = fingerprintSha256(suite.lab.node('pi-1').hostKey().split(' ')[1]!);
    expect(screen).toContain(`Trusted the new SSH host key of node pi-1 (${suite.lab.node('pi-1').address}:22): ED25519 key fingerprint is ${fingerprint}`);
    t.press('Enter');
    expect(await t.status()).toBe(1);
    expect(readFileSync(out, 'utf8')).toContain('not applied: the operator declined');
    expect(cmdline()).toBe(before);
    expect(suite.lab.node('pi-1').rebootCount()).toBe(0);
    // The run log has the trusted key too.
    const log = readFileSync(
      join(
        suite.stateDir,
        'logs',
        logs().find((f) => f.startsWith('up-'))!,
      ),
      'utf8',
    );
    expect(log).toContain(`ED25519 key fingerprint is ${fingerprint}`);
    expect(log).toContain('asked to apply the changes: no');
  });

  it("a second up while the first runs is refused naming the first (pid, host, start time); K3s is installed once; Traefik's address is not claimed", async () => {
    // --force: one lab node is too small for the workloads' minimum requests.
    const first = runCli([...args(), '--yes', '--force'], { timeoutMs: 400_000 });
    const lockFile = join(suite.stateDir, 'lock');
    const deadline = Date.now() + 60_000;
    while (!existsSync(lockFile)) {
      if (Date.now() > deadline) throw new Error('the first up never took the lock');
      await new Promise((r) => setTimeout(r, 20));
    }
    const holder = JSON.parse(readFileSync(lockFile, 'utf8')) as LockHolder;
    const second = await runCli([...args(), '--yes']);
    const secondJson = await runCli([...args(), '--yes', '--json']);
    const done = await first;

    expect(second.code).toBe(1);
    expect(second.stderr).toContain(
      `Another revue-pi run is working on cluster lab: \`up\`, pid ${holder.pid} on host ${hostname()}, started ${holder.started} (`,
    );
    expect(second.stderr).toContain(
      `It holds ${lockFile}, so this run changed nothing. Wait for it to finish (or stop it: kill ${holder.pid}), then run again.`,
    );
    expect(JSON.parse(secondJson.stdout)).toMatchObject({ ok: false, exitCode: 1, error: { lockFile, holder: { pid: holder.pid, host: hostname() } } });

    expect(done.code, done.stderr + done.stdout).toBe(0);
    expect(existsSync(lockFile)).toBe(false); // released at the end
    expect(suite.installer.requests().filter((r) => r.path.endsWith('/install.sh'))).toHaveLength(1);
    expect(suite.lab.node('pi-1').rebootCount()).toBe(1);
    // The stand-in's MetalLB hands out no address: up says so, and what it asks for, instead of "answers on".
    expect(done.stdout).not.toMatch(/answers on/);
    expect(done.stdout).toContain(
      "Traefik's Service has no address from MetalLB yet; it asks for 127.0.14.200 (network.addresses.ingress), and the URLs below answer there once it has it (check with: kubectl --context lab -n kube-system get service traefik).",
    );

    // And the converged re-run (fast path) says the same, from what it read.
    const again = await runCli([...args(), '--yes', '--force', '--json']);
    expect(again.code, again.stderr).toBe(0);
    const report = JSON.parse(again.stdout) as RunReport;
    expect(report.workloads?.fastPath).toEqual({ taken: true });
    expect(report.workloads?.access).toMatchObject({ ingressAddress: '127.0.14.200', ingressSource: 'inventory' });
  });
});
