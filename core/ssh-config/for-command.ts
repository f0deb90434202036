import os from 'node:os';
import { RevuePiError } from '../errors.js';
import type { Inventory } from '../inventory/schema.js';
import { homeOf, loadSshConfig, sshConfigSource } from './load.js';
import { resolveInventorySsh, type LocalContext, type ResolvedInventorySsh } from './resolve.js';

/**
 * For a command that reaches the nodes: reads the ssh config the inventory points at (or ~/.ssh/config) and
 * resolves every node's SSH settings against it. A config that cannot be read or used throws a RevuePiError
 * (bad input, exit 2, nothing contacted); lines that are not followed come back as warnings.
 */
export function resolveSshForCommand(inventory: Inventory, env: NodeJS.ProcessEnv = process.env): ResolvedInventorySsh & { configFile?: string } {
  const home = homeOf(env);
  const source = sshConfigSource(inventory.ssh.configFile, env, home);
  const config = loadSshConfig(source, home);
  const resolved = resolveInventorySsh(inventory, config, localContext(env, home));
  if (resolved.errors.length > 0) {
    throw new RevuePiError(`The SSH config cannot be used for this inventory:\n${resolved.errors.map((e) => `  ${e}`).join('\n')}`, {
      code: 'SSH_CONFIG',
      hint: 'Fix those lines, set the field in the inventory (its values win over the file), or set ssh.configFile: none.',
    });
  }
  return { ...resolved, ...(config ? { configFile: config.file } : {}) };
}

function localContext(env: NodeJS.ProcessEnv, home: string): LocalContext {
  let user = env.USER ?? '';
  let uid = -1;
  try {
    const info = os.userInfo();
    user = info.username;
    uid = info.uid;
  } catch {
    /* no passwd entry (a container): USER, if set */
  }
  return { localUser: user, uid, localHostName: os.hostname(), home, env };
}
