import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { readTextIfExists } from '../../core/state.js';
import { backupsFolder, listBackups } from './backup-run.js';
import { BACKUP_FILES, MANIFEST_FILE, parseManifest, type BackupManifest } from './backup.js';
import type { RestoreBackup } from './restore.js';

/** The backup `revue-pi restore` is given, found in the state directory and checked on this computer before any node is contacted. */
export interface LoadedBackup {
  manifest: BackupManifest;
  folder: string;
  backup: RestoreBackup;
}

/** A backup named as `backup --list` lists it, or the path of its folder; checked against its manifest's sha256. */
export function loadBackup(stateDir: string, nameOrPath: string): LoadedBackup | { error: string } {
  const byName = join(backupsFolder(stateDir), nameOrPath);
  const folder = nameOrPath.includes('/') || isAbsolute(nameOrPath) ? resolve(nameOrPath) : byName;
  const manifest = parseManifest(readTextIfExists(join(folder, MANIFEST_FILE)));
  if (!manifest) {
    const known = listBackups(stateDir).map((b) => b.name);
    return {
      error: `${existsSync(folder) ? `${folder} is not a backup revue-pi made (no valid ${MANIFEST_FILE})` : `there is no backup ${nameOrPath} in ${backupsFolder(stateDir)}`}. ${known.length ? `Backups there: ${known.join(', ')}.` : 'There are none there: run revue-pi backup first.'} (revue-pi backup --list shows them.)`,
    };
  }
  for (const f of BACKUP_FILES) {
    const meta = manifest.files[f.file];
    let data: Buffer;
    try {
      data = readFileSync(join(folder, f.file));
    } catch {
      return { error: `backup ${manifest.name} has no ${f.file} (${f.what}) in ${folder}: it cannot be restored.` };
    }
    if (!meta || createHash('sha256').update(data).digest('hex') !== meta.sha256)
      return {
        error: `${join(folder, f.file)} (${f.what}) does not match the sha256 in ${MANIFEST_FILE}: the backup is damaged or was edited, and is not restored.`,
      };
  }
  return {
    manifest,
    folder,
    backup: {
      name: manifest.name,
      cluster: manifest.cluster,
      node: manifest.node,
      createdAt: manifest.createdAt,
      ...(manifest.k3sVersion ? { k3sVersion: manifest.k3sVersion } : {}),
      snapshotSha256: manifest.files.snapshot!.sha256,
    },
  };
}
