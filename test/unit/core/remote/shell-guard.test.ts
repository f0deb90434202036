import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findUnsafeCommands } from './shell-guard.js';

/** The guard of shell-guard.ts over the product's source, and over the patterns it replaced. */

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SOURCE_DIRS = ['core', 'provision', 'cluster', 'workloads', 'pipeline', 'cli'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

describe('remote commands are built only by sh`…`', () => {
  it('no script in the source (core, stages, pipeline, cli) is pasted together, quoted by hand or cast', () => {
    const files = SOURCE_DIRS.flatMap((d) => sourceFiles(join(ROOT, d)));
    expect(files.length).toBeGreaterThan(50);
    const findings = files.flatMap((full) => findUnsafeCommands(relative(ROOT, full), readFileSync(full, 'utf8')));
    expect(findings).toEqual([]);
  });

  // The checker on the code this replaced (taken from the sources before sh`…`): each must be caught.
  it.each([
    [
      'cluster/nodes.ts',
      'export function buildJournalCommand(unit: K3sUnit, lines = 20): string {\n  return `journalctl -u ${unit} -n ${lines} --no-pager`;\n}',
    ],
    [
      'provision/prepare.ts',
      'const c = `if command -v hostnamectl >/dev/null 2>&1 && hostnamectl set-hostname ${name} 2>/dev/null; then :; else hostname ${name}; fi`;',
    ],
    ['provision/prepare.ts', 'const c = `systemctl daemon-reload && systemctl enable --now ${unit}`;'],
    ['cluster/nodes.ts', 'const l = [`out=$(k3s kubectl delete node ${name} 2>&1) || case "$out" in *NotFound*) ;; esac`];'],
    ['cluster/install.ts', 'const c = `curl -sfL ${shQuote(url)} | ${env}sh -s - ${role}`;'],
    ['provision/boot-config.ts', "const u = ['[Service]', `ExecStart=/usr/sbin/ip link set ${iface} promisc on`].join('\\n');"],
    ['core/remote/probe.ts', 'export function fileSection(name: string, path: string) {\n  return { name, script: `dump_file ${path}` };\n}'],
    ['workloads/apply.ts', "export const GET_MANAGED_SECRETS = 'k3s kubectl get secrets -A -o json';"],
    ['cluster/nodes.ts', "export const GET_NODES_COMMAND = String('k3s kubectl get nodes -o json');"],
    ['workloads/apply.ts', 'const c = "k3s kubectl apply -f " + path;'],
    ['cli/commands/init.ts', 'await transport.run(rawShell(`LC_ALL=C sudo -n true`));'],
    ['pipeline/pipeline.ts', 'await transport.run(text as unknown as ShellScript);'],
  ])('catches the old pattern in %s: %s', (file, code) => {
    expect(findUnsafeCommands(file, code)).not.toEqual([]);
  });

  it('lets sh`…` through, with templates inside it as quoted words, and messages that merely mention a command', () => {
    const ok = [
      'const c = sh`journalctl -u ${unit} -n ${lines} --no-pager`;',
      'const c = sh`k3s kubectl -n kube-system delete secret ${`${name}.node-password.k3s`}`;',
      'problems.push(`K3s is not running on node ${name}; see journalctl -u ${unit} there.`);',
      'export function buildJournalCommand(unit: K3sUnit): ShellScript {\n  return sh`journalctl -u ${unit}`;\n}',
      'export const GET_NODES_COMMAND = sh`k3s kubectl get nodes -o json`;',
      'export const GET_NODES_COMMAND = buildKubectlGetCommand(NODE_LIST_QUERY);',
    ];
    for (const code of ok) expect(findUnsafeCommands('cluster/nodes.ts', code)).toEqual([]);
  });
});
