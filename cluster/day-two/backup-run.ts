import { sh } from '../../core/remote/shell.js';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RevuePiError, trimOutput } from '../../core/errors.js';
import type { Inventory, InventoryNode } from '../../core/inventory/schema.js';
import type { RunLog } from '../../core/log.js';
import { ensurePrivateDir, readTextIfExists } from '../../core/state.js';
import { buildProbeScript, parseProbeOutput } from '../../core/remote/probe.js';
import type { Transport } from '../../core/remote/transport.js';
import { tokenSecret } from '../token.js';
import {
  BACKUP_FILES,
  BACKUPS_FOLDER,
  MANIFEST_FILE,
  SNAPSHOT_LIST_COMMAND,
  backupsToPrune,
  buildChecksumCommand,
  buildSnapshotDeleteCommand,
  buildSnapshotSaveCommand,
  describeBackupPlan,
  nodeSnapshotsToPrune,
  parseChecksums,
  parseManifest,
  parseSavedSnapshot,
  parseSnapshotList,
  renderManifest,
  snapshotPath,
  snapshotTime,
  sqliteRefusal,
  type BackupManifest,
} from './backup.js';
import { buildDatastoreProbe, parseDatastore, type Datastore } from './etcd.js';
import { firstAnsweringServer } from './first-server.js';

/**
 * `revue-pi backup`, the doing half: finds a server that runs embedded etcd, has K3s take a snapshot there, copies it
 * with the server token and config.yaml into the state directory (checked by sha256), and applies the retention to
 * what revue-pi made, here and on that server. Every command comes from backup.ts; only this file touches the transport
 * and the disk.
 */
export interface BackupOptions {
  inventory: Inventory;
  stateDir: string;
  keep: number;
  dryRun: boolean;
  open: (node: InventoryNode) => Promise<Transport>;
  log: RunLog;
  /** One line of progress (the command front prints it on stderr). */
  progress: (line: string) => void;
}

export interface BackupResult {
  ok: boolean;
  exitCode: number;
  cluster: string;
  server?: string;
  datastore?: Datastore;
  /** The dry run's plan. */
  plan?: string[];
  backup?: { name: string; folder: string; node: string; createdAt: string; files: BackupManifest['files'] };
  pruned: { local: string[]; node: string[] };
  warnings: string[];
  error?: string;
}

export function backupsFolder(stateDir: string): string {
  return join(stateDir, BACKUPS_FOLDER);
}

/** The backups revue-pi made in the state directory (folders without a valid manifest are not its, and are left alone). */
export function listBackups(stateDir: string): BackupManifest[] {
  const folder = backupsFolder(stateDir);
  let entries: string[] = [];
  try {
    entries = readdirSync(folder);
  } catch {
    return [];
  }
  return entries
    .filter((e) => !e.startsWith('.'))
    .map((e) => parseManifest(readTextIfExists(join(folder, e, MANIFEST_FILE))))
    .filter((m): m is BackupManifest => m !== undefined && existsAsFolder(folder, m.name));
}

function existsAsFolder(folder: string, name: string): boolean {
  try {
    return readdirSync(join(folder, name)).includes(MANIFEST_FILE);
  } catch {
    return false;
  }
}

interface Candidate {
  node: InventoryNode;
  transport: Transport;
  datastore: Datastore;
  version?: string;
}

export async function runBackup(opts: BackupOptions): Promise<BackupResult> {
  const { inventory, log } = opts;
  const result: BackupResult = { ok: false, exitCode: 1, cluster: inventory.cluster.name, pruned: { local: [], node: [] }, warnings: [] };
  const fail = (text: string): BackupResult => {
    log.write(`backup failed: ${text}`);
    return { ...result, error: text };
  };
  const found = await findServer(opts);
  if ('error' in found) return fail(found.error);
  const { node, transport, datastore } = found;
  result.server = node.name;
  result.datastore = datastore;
  try {
    if (datastore === 'sqlite') return fail(sqliteRefusal(inventory.cluster.name, node.name));
    const folder = backupsFolder(opts.stateDir);
    const existing = listBackups(opts.stateDir);
    if (opts.dryRun) {
      const plan = describeBackupPlan({
        cluster: inventory.cluster.name,
        server: node.name,
        host: node.host,
        folder,
        keep: opts.keep,
        existing: existing.length,
        pruneLocal: backupsToPrune(existing, opts.keep - 1)
          .map((b) => b.name)
          .sort(),
      });
      return { ...result, ok: true, exitCode: 0, plan };
    }

    opts.progress(`${node.name}: ${buildSnapshotSaveCommand()}`);
    const saved = await transport.run(buildSnapshotSaveCommand(), { sudo: true, timeoutMs: 180_000 });
    const output = `${saved.stderr}\n${saved.stdout}`;
    if (saved.code !== 0) return fail(`k3s etcd-snapshot save failed on server ${node.name} (exit ${saved.code}): ${trimOutput(output)}`);
    const name = parseSavedSnapshot(output);
    if (!name) {
      return fail(
        `k3s etcd-snapshot save on server ${node.name} reported no snapshot (output: ${trimOutput(output, 3)}). K3s takes none on a server that is still an etcd learner: ` +
          `wait until \`kubectl get node ${node.name}\` shows EtcdIsVoter=True, then run revue-pi backup again.`,
      );
    }

    opts.progress(`${node.name}: copying ${name}, the server token and config.yaml`);
    const sums = await transport.run(buildChecksumCommand(name), { sudo: true, timeoutMs: 120_000 });
    const remote = parseChecksums(sums.stdout);
    const files: BackupManifest['files'] = {};
    const contents = new Map<string, Buffer>();
    for (const f of BACKUP_FILES) {
      const from = 'remote' in f ? f.remote : snapshotPath(name);
      const data = await transport.readFile(from, { sudo: true });
      if (!data) return fail(`server ${node.name} has no ${from} (${f.what}); nothing was saved.`);
      if (f.file === 'token') {
        log.addSecret(data.toString('utf8').trim());
        log.addSecret(tokenSecret(data.toString('utf8')));
      }
      const sha256 = createHash('sha256').update(data).digest('hex');
      if (remote.get(from) !== sha256)
        return fail(
          `the copy of ${from} from server ${node.name} does not match the file there (sha256 ${remote.get(from) ?? 'unknown'} there, ${sha256} here); nothing was saved. Run revue-pi backup again.`,
        );
      files[f.file] = { size: data.length, sha256, from };
      contents.set(f.file, data);
    }
    const manifest: BackupManifest = {
      createdBy: 'revue-pi',
      cluster: inventory.cluster.name,
      name,
      node: node.name,
      createdAt: new Date(snapshotTime(name) * 1000).toISOString().replace(/\.000Z$/, 'Z'),
      ...(found.version ? { k3sVersion: found.version } : {}),
      files,
    };
    const target = writeBackupFolder(folder, manifest, contents);
    log.write(`backup ${name} of ${node.name} written to ${target}`);
    result.backup = { name, folder: target, node: node.name, createdAt: manifest.createdAt, files };

    // Retention: only revue-pi's backups (a manifest) here, only its snapshots (revue-pi-<node>-…) on the server.
    for (const old of backupsToPrune(listBackups(opts.stateDir), opts.keep)) {
      rmSync(join(folder, old.name), { recursive: true, force: true });
      result.pruned.local.push(old.name);
    }
    result.pruned.local.sort();
    const listed = await transport.run(SNAPSHOT_LIST_COMMAND, { sudo: true, timeoutMs: 60_000 });
    const onNode = listed.code === 0 ? nodeSnapshotsToPrune(parseSnapshotList(listed.stdout), node.name, opts.keep) : [];
    if (listed.code !== 0)
      result.warnings.push(
        `could not list the snapshots on ${node.name} to prune them (${SNAPSHOT_LIST_COMMAND}: ${trimOutput(`${listed.stderr}\n${listed.stdout}`, 2)})`,
      );
    if (onNode.length > 0) {
      const deleted = await transport.run(buildSnapshotDeleteCommand(onNode), { sudo: true, timeoutMs: 60_000 });
      if (deleted.code === 0) result.pruned.node = onNode;
      else
        result.warnings.push(`could not delete old snapshots on ${node.name} (${onNode.join(', ')}): ${trimOutput(`${deleted.stderr}\n${deleted.stdout}`, 2)}`);
    }
    return { ...result, ok: true, exitCode: 0 };
  } catch (error) {
    return fail(error instanceof RevuePiError && error.hint ? `${error.message} ${error.hint}` : error instanceof Error ? error.message : String(error));
  } finally {
    await transport.close().catch(() => undefined);
  }
}

/** The first inventory server (in order) that answers and has K3s: its datastore decides what backup can do. */
async function findServer(opts: BackupOptions): Promise<Candidate | { error: string }> {
  const servers = opts.inventory.nodes.filter((n) => n.role === 'server');
  const answered = await firstAnsweringServer(servers, opts.open, async (transport) => {
    const probe = await transport.run(
      buildProbeScript([
        { name: 'datastore', script: buildDatastoreProbe() },
        { name: 'version', script: sh`/usr/local/bin/k3s --version` },
      ]),
      { sudo: true, timeoutMs: 60_000 },
    );
    const sections = parseProbeOutput(probe.stdout);
    const datastore = parseDatastore(sections.get('datastore') ?? '');
    if (datastore === 'none') throw new Error('no K3s server data there');
    const version = /k3s version (v\S+)/.exec(sections.get('version') ?? '')?.[1];
    return { datastore, ...(version ? { version } : {}) };
  });
  if ('found' in answered) return { node: answered.node, transport: answered.transport, ...answered.found };
  if (servers.length === 0) return { error: 'the inventory has no node with role: server.' };
  return {
    error: `no server of cluster ${opts.inventory.cluster.name} could be backed up: ${answered.tried.join('; ')}. Run revue-pi up (or revue-pi status) to see why.`,
  };
}

/** Files 0600 in a 0700 folder, written under a temporary name and renamed whole: a half-copied backup is never listed. */
function writeBackupFolder(folder: string, manifest: BackupManifest, contents: Map<string, Buffer>): string {
  ensurePrivateDir(folder);
  const temp = join(folder, `.${manifest.name}.partial-${process.pid}`);
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp, { mode: 0o700 });
  chmodSync(temp, 0o700);
  const write = (file: string, data: string | Buffer) => {
    writeFileSync(join(temp, file), data, { mode: 0o600 });
    chmodSync(join(temp, file), 0o600);
  };
  for (const [file, data] of contents) write(file, data);
  write(MANIFEST_FILE, renderManifest(manifest));
  const target = join(folder, manifest.name);
  rmSync(target, { recursive: true, force: true });
  renameSync(temp, target);
  return target;
}
