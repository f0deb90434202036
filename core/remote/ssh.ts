import { homedir } from 'node:os';
import { RevuePiError } from '../errors.js';
import type { NodeSshSettings } from '../inventory/schema.js';
import { buildCredentials, secretFromEnv, type Endpoint } from './ssh-credentials.js';
import type { ConnectNodeOptions } from './ssh-login.js';
import { SshTransport } from './ssh-transport.js';

/**
 * The SSH layer's front door. Its parts, one seam each:
 *   ssh-credentials.ts  secrets, private keys, ssh-agent, the order login methods are offered in
 *   ssh-login.ts        one login (node-ssh connect) with the host key checked; dial errors as sentences
 *   ssh-dial.ts         one dial attempt, through the jump host when there is one
 *   ssh-exec.ts         one command on its own channel; how many channels at once
 *   ssh-sftp.ts         uploads over the connection's one SFTP session
 *   ssh-transport.ts    SshTransport: the node's one connection, reopened when dropped, shared by every step
 *
 * node-ssh does what it does: connect (NodeSSH.connect; its Config is ssh2's ConnectConfig, so our hostVerifier,
 * authHandler, algorithms, keepalive and the jump host's forwarded socket pass straight through), exec (every
 * command is one execCommand on its own channel of the node's one connection), the SFTP session (requestSFTP),
 * the jump host's forwarded channel (forwardOut) and closing (dispose). Raw ssh2 remains only where node-ssh
 * cannot serve — this is the one list of those places:
 *   - ssh-credentials.ts: ssh2.utils.parseKey. node-ssh takes one privateKey/privateKeyPath and lets ssh2 parse it
 *     on every connect; we offer several keys in OpenSSH's order through an authHandler, parse each once per run
 *     (an encrypted key costs a bcrypt KDF run per parse) and turn a bad file or passphrase into a sentence.
 *   - ssh-credentials.ts: a subclass of ssh2.OpenSSHAgent, to offer only the identity files' keys (IdentitiesOnly);
 *     node-ssh passes `agent` through and has no such filter.
 *   - ssh-dial.ts: the ssh2 Client's 'close' and 'error' events (NodeSSH.connection). node-ssh only answers
 *     isConnected() when asked; the transport must learn at once that a connection dropped (reboots, the bastion
 *     going away) and must listen for 'error' so a late one cannot crash the process.
 *   - ssh-exec.ts: the ssh2 channel from execCommand's onChannel, only to signal KILL and close it at a command's
 *     timeout; node-ssh has no timeout or kill. (The sudo password is written through execCommand's stdin stream.)
 *   - ssh-sftp.ts: writes through ssh2's SFTPWrapper that requestSFTP returns. node-ssh's putFile copies a local
 *     file; our bytes (tokens, kubeconfigs) live in memory, and writing them to a local temp file would put secrets
 *     on the laptop's disk; the remote file is created exclusively ('wx') with mode 0600, which putFile cannot ask.
 *   - cli/init/probe-node.ts (scanHostKey): an ssh2 Client that reads the host key a node presents and refuses the
 *     connection there, as ssh-keyscan does, so the wizard can show it before trusting; node-ssh always goes on to log in.
 *   - cli/init/ssh-keys.ts: ssh2.utils.parseKey, to offer only the files in ~/.ssh that are private keys and to say
 *     which are passphrase-protected; node-ssh has no key parsing of its own.
 * None of this costs a connection: the no-op re-run is still one SSH connection and one command per node.
 */

export { DEFAULT_IDENTITY_FILES, makeAuthHandler } from './ssh-credentials.js';
export { MAX_CHANNELS, Slots, TIMEOUT_EXIT } from './ssh-exec.js';
export { backoffDelay, type ConnectNodeOptions, describeDialError, isAuthFailure } from './ssh-login.js';
export { SshTransport } from './ssh-transport.js';

/**
 * Opens the one SSH connection a node's steps share. Secrets come from the environment variables named
 * in the settings; a named but unset variable fails here, before any connection.
 */
export async function connectNode(settings: NodeSshSettings, opts: ConnectNodeOptions): Promise<SshTransport> {
  const env = opts.env ?? process.env;
  const home = env.HOME || homedir();
  const node = opts.nodeName;
  const sudoPassword = secretFromEnv(env, settings.sudoPasswordEnv, 'ssh.sudoPasswordEnv', node);
  const credentials = await buildCredentials(settings, 'ssh.keyPath', node, env, home, true);
  if (credentials.methods.length === 0) {
    throw new RevuePiError(
      `There is no way to log in to node ${node}: no ssh.keyPath, no usable key in ~/.ssh, ${settings.useAgent ? 'SSH_AUTH_SOCK is not set' : 'ssh.useAgent is off'}, and no ssh.passwordEnv.`,
      {
        code: 'SSH_AUTH_CONFIG',
        node,
        hint: "Set ssh.keyPath (or start ssh-agent and ssh-add your key), or name the password's environment variable in ssh.passwordEnv.",
      },
    );
  }
  const secrets: string[] = [];
  for (const m of credentials.methods) if (m.type === 'password') secrets.push(m.password);
  const passphrase = settings.keyPassphraseEnv ? env[settings.keyPassphraseEnv] : undefined;
  if (passphrase) secrets.push(passphrase);
  if (sudoPassword !== undefined) secrets.push(sudoPassword);
  let jump: Endpoint | undefined;
  if (settings.jump) {
    const j = settings.jump;
    // The jump host logs in with its own key when the inventory or the ssh config names one, else with the node's.
    const ownKey = j.keyPath !== undefined || j.identityFiles !== undefined;
    const jumpCreds = await buildCredentials(
      {
        ...settings,
        user: j.user ?? settings.user,
        ...(ownKey ? { keyPath: j.keyPath, identityFiles: j.identityFiles, identitiesOnly: j.identitiesOnly } : {}),
      },
      j.keyPath ? 'ssh.jump.keyPath' : 'ssh.keyPath',
      node,
      env,
      home,
      false,
    );
    jump = { label: 'jump', host: j.host, port: j.port, credentials: jumpCreds, ...(opts.jumpKnownHosts ? { knownHosts: opts.jumpKnownHosts } : {}) };
  }
  const transport = new SshTransport(
    {
      nodeName: node,
      knownHosts: opts.knownHosts,
      connectTimeoutMs: opts.connectTimeoutMs ?? settings.connectTimeoutSeconds * 1000,
      retries: opts.retries ?? settings.connectRetries,
      retryDelayMs: opts.retryDelayMs ?? 500,
      hostKeys: opts.hostKeys ?? settings.hostKeys ?? 'accept-new',
      ...(opts.pinnedFingerprint !== undefined ? { pinnedFingerprint: opts.pinnedFingerprint } : {}),
      ...(opts.pinField !== undefined ? { pinField: opts.pinField } : {}),
      ...(opts.onHostKeyTrusted ? { onHostKeyTrusted: opts.onHostKeyTrusted } : {}),
    },
    { label: 'node', host: settings.host, port: settings.port, credentials },
    jump,
    sudoPassword,
    settings.sudoPasswordEnv,
    secrets,
  );
  await transport.open();
  return transport;
}
