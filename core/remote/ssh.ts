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
