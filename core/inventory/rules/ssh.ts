import path from 'node:path';
import { formatPath, type PathSegment } from '../path.js';
import type { SshSettings } from '../schema.js';
import { error, fileStateOf, type InventoryRule, type RuleIssue } from './rule.js';

/** SSH: key and known_hosts files that can be read, *Env fields that hold a variable's name (set in this shell). */

/** Environment variable names as POSIX tools write them; a lowercase or mixed value is most likely the secret itself. */
const ENV_NAME_PATTERN = /^[A-Z_][A-Z0-9_]*$/;

export const keyFilesExist: InventoryRule = (inv, ctx) => {
  const issues: RuleIssue[] = [];
  const check = (segments: PathSegment[], keyPath: string | undefined) => {
    if (keyPath === undefined) return;
    const file = path.resolve(ctx.baseDir, keyPath);
    const state = fileStateOf(ctx, file);
    const field = formatPath(segments);
    if (state === 'missing')
      issues.push(error(segments, `SSH key ${file} not found — point ${field} at your private key file, or remove it to use the ssh-agent`));
    else if (state === 'folder')
      issues.push(error(segments, `${file} is a folder — point ${field} at the private key file inside it, e.g. ${path.join(file, 'id_ed25519')}`));
    else if (state === 'unreadable')
      issues.push(error(segments, `SSH key ${file} cannot be read (permission denied) — it must belong to you (chmod 600 is right for a key)`));
  };
  check(['ssh', 'keyPath'], inv.ssh.keyPath);
  check(['ssh', 'jump', 'keyPath'], inv.ssh.jump?.keyPath);
  inv.nodes.forEach((node, i) => check(['nodes', i, 'ssh', 'keyPath'], node.ssh?.keyPath));
  // The known_hosts file may not exist yet (it is created on first trust); a folder or an unreadable file there is wrong.
  const knownHosts = inv.ssh.knownHostsFile;
  if (knownHosts !== undefined) {
    const file = path.resolve(ctx.baseDir, knownHosts);
    const state = fileStateOf(ctx, file);
    const segments: PathSegment[] = ['ssh', 'knownHostsFile'];
    if (state === 'folder')
      issues.push(error(segments, `${file} is a folder — point ssh.knownHostsFile at a file, e.g. ${path.join(file, 'known_hosts')} (created on first use)`));
    else if (state === 'unreadable')
      issues.push(error(segments, `${file} cannot be read (permission denied) — check its owner and mode, or point ssh.knownHostsFile elsewhere`));
  }
  return issues;
};

const ENV_FIELDS = ['keyPassphraseEnv', 'passwordEnv', 'sudoPasswordEnv'] as const;
const ENV_EXAMPLES: Record<(typeof ENV_FIELDS)[number], string> = {
  keyPassphraseEnv: 'PI_KEY_PASSPHRASE',
  passwordEnv: 'PI_PASSWORD',
  sudoPasswordEnv: 'PI_SUDO_PASSWORD',
};

/** `passwordEnv: raspberry` passes the schema's name pattern but is a password, not a name. The value is never repeated. */
export const envFieldsHoldNames: InventoryRule = (inv) => {
  const issues: RuleIssue[] = [];
  const check = (prefix: PathSegment[], ssh: SshSettings | undefined) => {
    if (ssh === undefined) return;
    for (const field of ENV_FIELDS) {
      const value = ssh[field];
      if (value === undefined || ENV_NAME_PATTERN.test(value)) continue;
      const example = ENV_EXAMPLES[field];
      issues.push(
        error(
          [...prefix, field],
          `${field} must be the NAME of an environment variable in capitals, such as ${example}, never the secret itself — run export ${example}=… before revue-pi and write ${field}: ${example}`,
        ),
      );
    }
  };
  check(['ssh'], inv.ssh);
  inv.nodes.forEach((node, i) => check(['nodes', i, 'ssh'], node.ssh));
  return issues;
};

/** A *Env field names a variable: it must be set (not empty) where the command reads secrets, or the login fails later. */
export const envVariablesSet: InventoryRule = (inv, ctx) => {
  const env = ctx.env;
  if (env === undefined) return [];
  const issues: RuleIssue[] = [];
  const check = (prefix: PathSegment[], ssh: SshSettings | undefined) => {
    if (ssh === undefined) return;
    for (const field of ENV_FIELDS) {
      const name = ssh[field];
      if (name === undefined || !ENV_NAME_PATTERN.test(name)) continue;
      const value = env[name];
      if (value !== undefined && value !== '') continue;
      issues.push(
        error(
          [...prefix, field],
          `${field} names the environment variable ${name}, which is ${value === '' ? 'empty' : 'not set'} — run export ${name}=… in this shell before revue-pi, or remove ${field}`,
        ),
      );
    }
  };
  check(['ssh'], inv.ssh);
  inv.nodes.forEach((node, i) => check(['nodes', i, 'ssh'], node.ssh));
  return issues;
};
