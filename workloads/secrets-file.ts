/** The workload secrets' state file: read, completed and saved (0600); values never printed. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RevuePiError } from '../core/errors.js';
import { readTextIfExists, writePrivateFile } from '../core/state.js';
import { reconcileWorkloadSecrets, type WorkloadSecrets } from './secrets.js';

export const WORKLOAD_SECRETS_FILE = 'workload-secrets.json';

/**
 * The cluster's workload secrets: kept in the state file (0600), missing ones generated (and saved when `save`).
 * `fromCluster` (secrets read back from the cluster) stands in for the file when it does not exist.
 */
export function loadWorkloadSecrets(file: string, random: (bytes: number) => Buffer, save: boolean, fromCluster?: Record<string, unknown>): WorkloadSecrets {
  const text = readTextIfExists(file);
  let stored: unknown = text === undefined ? fromCluster : undefined;
  if (text !== undefined) {
    try {
      stored = JSON.parse(text);
    } catch {
      throw new RevuePiError(`The workload secrets file ${file} is not valid JSON.`, {
        code: 'STATE',
        hint: `Restore ${file} from a backup; deleting it makes new passwords, which the existing MongoDB volumes will not accept.`,
      });
    }
  }
  const { secrets, changed } = reconcileWorkloadSecrets(stored, random, file);
  if ((changed || text === undefined) && save) {
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    writePrivateFile(file, JSON.stringify(secrets, null, 2) + '\n');
  }
  return secrets;
}
