import { createHash } from 'node:crypto';
import { readFile as readLocalFile } from 'node:fs/promises';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, ParsedKey } from 'ssh2';
import { RevuePiError } from '../errors.js';
import { expandHome, type KnownHosts } from './known-hosts.js';

/**
 * Who logs in and how: the secrets named in the settings, the private keys (parsed once per run), the
 * ssh-agent, and the order the methods are offered in — close to OpenSSH's.
 */

/** The SSH identity files OpenSSH tries when none is configured, in its order. */
export const DEFAULT_IDENTITY_FILES = ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa'];

export interface Credentials {
  username: string;
  methods: AnyAuthMethod[];
  /** Human names of the methods, for the auth failure message. */
  described: string[];
}

export interface Endpoint {
  label: string;
  host: string;
  port: number;
  credentials: Credentials;
  /** Where this endpoint's host key is checked, when not the transport's (a jump host with its own UserKnownHostsFile). */
  knownHosts?: KnownHosts;
}

/** Looks up the secret named by `field`; a named but unset variable is an error naming both. */
export function secretFromEnv(env: NodeJS.ProcessEnv, name: string | undefined, field: string, node: string): string | undefined {
  if (name === undefined) return undefined;
  const value = env[name];
  if (value === undefined || value === '') {
    throw new RevuePiError(`The environment variable ${name} is not set, but the inventory names it in ${field} for node ${node}.`, {
      code: 'SECRET_MISSING',
      node,
      hint: `Export ${name} before running revue-pi, or remove ${field} from the inventory.`,
    });
  }
  return value;
}

interface LoadedKey {
  path: string;
  key: ParsedKey;
}

/**
 * Decrypted keys by file and passphrase: an encrypted OpenSSH key costs a bcrypt KDF run (most of a second,
 * blocking), so it is done once per run, not once per node and attempt.
 */
const parsedKeys = new Map<string, ParsedKey | Error>();

function parseKeyOnce(path: string, data: Buffer, passphrase: string | undefined): ParsedKey | Error {
  const id = `${path}\0${createHash('sha256')
    .update(data)
    .update('\0')
    .update(passphrase ?? '')
    .digest('hex')}`;
  let parsed = parsedKeys.get(id);
  if (!parsed) {
    const result = ssh2.utils.parseKey(data, passphrase);
    parsed = Array.isArray(result) ? ((result[0] as ParsedKey | undefined) ?? new Error('no key in the file')) : result;
    parsedKeys.set(id, parsed);
  }
  return parsed;
}

/** Reads and checks a private key, so a missing file or wrong passphrase is a sentence, not an ssh2 error. */
async function loadKey(
  path: string,
  shown: string,
  field: string,
  passphrase: string | undefined,
  passphraseEnv: string | undefined,
  node: string,
  required: boolean,
): Promise<LoadedKey | undefined> {
  let data: Buffer;
  try {
    data = await readLocalFile(path);
  } catch (err) {
    if (!required) return undefined;
    throw new RevuePiError(`The SSH key file ${shown} (${field}) for node ${node} cannot be read: ${(err as Error).message}.`, {
      code: 'SSH_KEY',
      node,
      hint: `Fix ${field} in the inventory, or create the key with ssh-keygen and copy it to the node with ssh-copy-id.`,
      cause: err,
    });
  }
  const parsed = parseKeyOnce(path, data, passphrase);
  if (parsed instanceof Error) {
    if (!required) return undefined;
    const encrypted = /passphrase|encrypted|decrypt/i.test(parsed.message);
    const why = encrypted
      ? passphrase === undefined
        ? 'it is encrypted and no passphrase is configured: set ssh.keyPassphraseEnv to the name of an environment variable holding it'
        : `the passphrase in ${passphraseEnv} (ssh.keyPassphraseEnv) does not decrypt it`
      : `it is not a private key ssh2 can read (${parsed.message})`;
    throw new RevuePiError(`The SSH key file ${shown} (${field}) for node ${node} cannot be used: ${why}.`, { code: 'SSH_KEY', node });
  }
  if (!parsed.isPrivateKey()) {
    if (!required) return undefined;
    throw new RevuePiError(`The SSH key file ${shown} (${field}) for node ${node} holds no private key (is it the .pub file?).`, { code: 'SSH_KEY', node });
  }
  return { path: shown, key: parsed };
}

/** Who logs in and with what: the inventory's fields, or the config's IdentityFile / IdentitiesOnly lines. */
export interface LoginSettings {
  user: string;
  keyPath?: string;
  keyPassphraseEnv?: string;
  useAgent?: boolean;
  passwordEnv?: string;
  /** The ssh config's IdentityFile paths, tried instead of the default ~/.ssh/id_* files when keyPath is not set. */
  identityFiles?: string[];
  /** The ssh config's IdentitiesOnly: the agent offers only the keys of those identity files. */
  identitiesOnly?: boolean;
}

/**
 * An ssh-agent that offers only some of its keys (IdentitiesOnly): as OpenSSH, the agent still signs for a
 * configured identity it holds (an encrypted key unlocked there), and keeps the others to itself.
 */
class IdentitiesOnlyAgent extends ssh2.OpenSSHAgent {
  constructor(
    socket: string,
    private readonly allowed: ReadonlySet<string>,
  ) {
    super(socket);
  }
  override getIdentities(cb: Parameters<ssh2.OpenSSHAgent['getIdentities']>[0]): void {
    super.getIdentities((err, keys) =>
      cb(
        err,
        keys?.filter((k) => 'getPublicSSH' in k && this.allowed.has((k as ParsedKey).getPublicSSH().toString('base64'))),
      ),
    );
  }
}

/** The public half of an identity file, from the private key when it parsed, else from the .pub file beside it. */
async function publicKeyOf(path: string, loaded: ParsedKey | undefined): Promise<string | undefined> {
  if (loaded) return loaded.getPublicSSH().toString('base64');
  try {
    const parsed = ssh2.utils.parseKey(await readLocalFile(`${path}.pub`));
    return parsed instanceof Error ? undefined : (Array.isArray(parsed) ? parsed[0] : parsed)?.getPublicSSH().toString('base64');
  } catch {
    return undefined;
  }
}

/**
 * Login methods, close to OpenSSH's order: the configured key file first (as OpenSSH puts configured
 * identities first, and so an agent full of other keys cannot use up the server's MaxAuthTries before it),
 * then the ssh-agent's keys (only those of the identity files with IdentitiesOnly), then the ssh config's
 * identity files, or the default ~/.ssh identities when no key is configured, then keyboard-interactive and
 * password (both answered with the configured password).
 */
export async function buildCredentials(
  s: LoginSettings,
  keyField: string,
  node: string,
  env: NodeJS.ProcessEnv,
  home: string,
  allowPassword: boolean,
): Promise<Credentials> {
  const username = s.user;
  const methods: AnyAuthMethod[] = [];
  const described: string[] = [];
  const passphrase = secretFromEnv(env, s.keyPassphraseEnv, 'ssh.keyPassphraseEnv', node);
  const identities: { path: string; key: ParsedKey | undefined }[] = [];
  if (s.keyPath) {
    const key = await loadKey(expandHome(s.keyPath, home), s.keyPath, keyField, passphrase, s.keyPassphraseEnv, node, true);
    if (key) {
      methods.push({ type: 'publickey', username, key: key.key });
      described.push(`key ${key.path}`);
      identities.push({ path: expandHome(s.keyPath, home), key: key.key });
    }
  }
  // Files named by the ssh config (or the defaults) are tried after the agent, as OpenSSH does; a missing one is skipped.
  const files = s.keyPath ? [] : (s.identityFiles ?? DEFAULT_IDENTITY_FILES);
  const fileMethods: AnyAuthMethod[] = [];
  const fileDescribed: string[] = [];
  for (const file of files) {
    const path = expandHome(file, home);
    const key = await loadKey(path, file, s.identityFiles ? 'IdentityFile in the ssh config' : keyField, passphrase, s.keyPassphraseEnv, node, false);
    identities.push({ path, key: key?.key });
    if (key) {
      fileMethods.push({ type: 'publickey', username, key: key.key });
      fileDescribed.push(`key ${file}`);
    }
  }
  const agent = env.SSH_AUTH_SOCK;
  if (s.useAgent && agent) {
    if (s.identitiesOnly) {
      const allowed = new Set((await Promise.all(identities.map((i) => publicKeyOf(i.path, i.key)))).filter((k): k is string => k !== undefined));
      methods.push({ type: 'agent', username, agent: new IdentitiesOnlyAgent(agent, allowed) });
      described.push("ssh-agent (only the identity files' keys: IdentitiesOnly)");
    } else {
      methods.push({ type: 'agent', username, agent });
      described.push('ssh-agent');
    }
  }
  methods.push(...fileMethods);
  described.push(...fileDescribed);
  const password = allowPassword ? secretFromEnv(env, s.passwordEnv, 'ssh.passwordEnv', node) : undefined;
  if (password !== undefined) {
    methods.push({ type: 'keyboard-interactive', username, prompt: (_n, _i, _l, prompts, finish) => finish(prompts.map(() => password)) });
    methods.push({ type: 'password', username, password });
    described.push('password');
  }
  return { username, methods, described };
}

/** Offers the methods in order, skipping those the server does not accept (ssh-agent keys go as publickey). */
export function makeAuthHandler(methods: AnyAuthMethod[]) {
  let next = 0;
  return (authsLeft: AuthenticationType[] | null, _partial: boolean, cb: (m: AnyAuthMethod | false) => void) => {
    while (next < methods.length) {
      const m = methods[next++]!;
      const wire = m.type === 'agent' ? 'publickey' : m.type;
      if (!authsLeft || authsLeft.includes(wire)) return cb(m);
    }
    return cb(false);
  };
}
