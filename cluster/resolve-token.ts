/** The cluster token: from the state folder, recovered from the first server, or generated (0600, never logged). */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RevuePiError } from '../core/errors.js';
import { writePrivateFile } from '../core/state.js';
import { SERVER_TOKEN_PATH, TOKEN_FILE_PATH } from '../core/k3s-paths.js';
import { generateToken, readStateToken, tokenFileContent, tokenSecret } from './token.js';
import { type ClusterPhaseOptions, type ClusterPhaseResult, type Session } from './session.js';

export async function resolveToken(
  opts: ClusterPhaseOptions,
  first: Session,
): Promise<{ token: string | undefined; source: NonNullable<ClusterPhaseResult['token']> }> {
  const file = join(opts.stateDir, 'token');
  const stored = readStateToken(opts.stateDir);
  if (stored) return { token: stored, source: 'state' };

  const k3s = first.k3s;
  const mayHaveOne = k3s.installedVersion !== undefined || k3s.tokenFileSha256 !== undefined || k3s.serverTokenSha256 !== undefined;
  if (first.transport && mayHaveOne) {
    const fromFile = (await first.transport.readFile(TOKEN_FILE_PATH, { sudo: true }))?.toString('utf8').trim();
    const fromServer = fromFile ? undefined : (await first.transport.readFile(SERVER_TOKEN_PATH, { sudo: true }))?.toString('utf8').trim();
    const recovered = fromFile ? tokenSecret(fromFile) : fromServer ? tokenSecret(fromServer) : undefined;
    if (recovered) {
      opts.log.addSecret(recovered);
      const where = fromFile ? TOKEN_FILE_PATH : SERVER_TOKEN_PATH;
      if (opts.command === 'up') {
        mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
        writePrivateFile(file, tokenFileContent(recovered));
      }
      const msg = `The cluster token was missing from ${file}; recovered it from ${where} on first server ${first.node.name}${opts.command === 'up' ? ' and saved it there (mode 0600)' : ''}.`;
      opts.log.write(msg);
      opts.emit({ type: 'info', message: msg });
      return { token: recovered, source: 'recovered' };
    }
    if (k3s.installedVersion) {
      throw new RevuePiError(
        `K3s is installed on first server ${first.node.name} but neither ${TOKEN_FILE_PATH} nor ${SERVER_TOKEN_PATH} holds a token, and ${file} does not exist.`,
        {
          code: 'TOKEN_LOST',
          node: first.node.name,
          hint: `Put the cluster's token into ${file} (mode 0600), or uninstall K3s on the nodes (k3s-uninstall.sh) to start a new cluster.`,
        },
      );
    }
  }
  if (opts.command === 'plan') return { token: undefined, source: 'none-yet' };
  const token = generateToken(opts.random);
  mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
  writePrivateFile(file, tokenFileContent(token));
  opts.log.write(`generated a new cluster token in ${file} (mode 0600)`);
  return { token, source: 'generated' };
}
