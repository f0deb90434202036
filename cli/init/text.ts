import { keyTypeLabel } from '../../core/remote/host-key-text.js';
import { displayAddress } from '../../core/remote/known-hosts.js';
import type { NodeFacts } from '../../provision/facts.js';
import { piGeneration, supportsArmV82 } from '../../provision/facts.js';
import type { NodeRole } from './answers.js';

/** What the wizard says, as pure functions of what it knows: tested on their exact text. */

const GIB = 1024 ** 3;

/** `Raspberry Pi 5 Model B Rev 1.0, Debian GNU/Linux 12 (bookworm), 7.9 GiB`. */
export function describeFacts(facts: Pick<NodeFacts, 'model' | 'os' | 'memoryBytes'>): string {
  const model = facts.model || 'unknown model';
  const os = facts.os.prettyName || [facts.os.id, facts.os.versionId].filter(Boolean).join(' ') || 'unknown OS';
  return `${model}, ${os}, ${(facts.memoryBytes / GIB).toFixed(1)} GiB`;
}

/** What about a probed node will get in the way, one sentence each; empty when it looks like a good Pi 5. */
export function factWarnings(facts: Pick<NodeFacts, 'model' | 'arch' | 'memoryBytes'>, role: NodeRole): string[] {
  const warnings: string[] = [];
  const generation = piGeneration(facts.model);
  if (generation === undefined) {
    warnings.push(
      facts.model
        ? `it does not report a Raspberry Pi model (${facts.model}); revue-pi is made for Raspberry Pi 5 boards.`
        : 'it reports no Raspberry Pi model; revue-pi is made for Raspberry Pi 5 boards.',
    );
  }
  if (facts.arch !== 'aarch64') {
    warnings.push(`it runs ${facts.arch || 'an unknown architecture'}, not aarch64 — install the 64-bit Raspberry Pi OS.`);
  } else if (!supportsArmV82(facts)) {
    warnings.push(
      `it cannot run MongoDB 5 or later (needs ARMv8.2-A, which a Raspberry Pi ${generation ?? '?'} lacks), so Revue's databases must run on Pi 5 nodes.`,
    );
  }
  const minimum = role === 'server' ? 2 * GIB : 0.5 * GIB;
  // Kernels report a little less than the RAM fitted (a 2 GB Pi shows about 1.9 GiB): allow 10 %.
  if (facts.memoryBytes > 0 && facts.memoryBytes < minimum * 0.9) {
    warnings.push(`it has ${(facts.memoryBytes / GIB).toFixed(1)} GiB of memory; a K3s ${role} needs at least ${role === 'server' ? '2 GB' : '512 MB'}.`);
  }
  return warnings;
}

/**
 * What `sudo -n true` on a node says about sudo: fine, it asks for a password (which revue-pi can give it from
 * an environment variable), or the user cannot use sudo at all (which only a fix on the node cures).
 */
export function parseSudoCheck(code: number, output: string): 'ok' | 'password' | { problem: string } {
  if (code === 0) return 'ok';
  if (/password is required|a terminal is required/i.test(output)) return 'password';
  const said = output.trim().split('\n').filter(Boolean).pop();
  return { problem: said ? said.replace(/\.$/, '') : `\`sudo -n true\` ended with exit ${code}` };
}

/** OpenSSH's first-contact notice, for a host key nothing has recorded yet. */
export function newHostKeyNotice(node: string, host: string, port: number, keyType: string, fingerprint: string): string {
  const address = port === 22 ? host : displayAddress(host, port);
  return `The authenticity of host '${node} (${address})' can't be established.\n${keyTypeLabel(keyType)} key fingerprint is ${fingerprint}.`;
}

/**
 * The closing lines: where the file is and what to run next. `file` is shown as the user gave it; `secretEnvs`
 * are the environment variables the inventory names for secrets, which must be exported first.
 */
export function nextSteps(file: string, ingress: string | undefined, domain: string, secretEnvs: string[] = []): string {
  const arg = /^[A-Za-z0-9_./~-]+$/.test(file) ? file : `'${file.replace(/'/g, `'\\''`)}'`;
  const lines = [`Wrote ${file}. Next:`];
  if (secretEnvs.length > 0) {
    lines.push(
      `  export ${secretEnvs.map((e) => `${e}=…`).join(' ')}    # the inventory names ${secretEnvs.length === 1 ? 'this variable' : 'these variables'}, never the secret${secretEnvs.length === 1 ? '' : 's'}`,
    );
  }
  lines.push(
    `  npx revue-pi plan -i ${arg}    # shows what would change on each node, changes nothing`,
    `  npx revue-pi up -i ${arg}      # prepares the Pis, installs K3s, MetalLB and the workloads`,
  );
  if (ingress !== undefined) {
    lines.push(
      `The web UIs will answer at <name>.${domain} on ${ingress}; up prints the /etc/hosts line to add (or point *.${domain} at ${ingress} in your DNS).`,
    );
  }
  return `${lines.join('\n')}\n`;
}
