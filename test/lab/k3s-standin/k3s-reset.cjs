/*
 * revue-pi LAB STAND-IN — `k3s server --cluster-reset [--cluster-reset-restore-path=FILE]` of the stand-in k3s. NOT K3s:
 * the "etcd data" it resets is the server's copy of the object store (standin-store.json), and a snapshot is that store
 * as JSON after a header line (k3s-snapshot.cjs).
 *
 * Assembled by server.ts before k3s.cjs, in the same scope (with k3s-etcd.cjs, whose ETCD_DB_DIR, ETCD_DIR, newMember
 * and writeAtomic it uses when called). What it honours is "Cluster reset and restore" in README.md: pkg/cluster/managed.go
 * start(), pkg/etcd/etcd.go Reset() and Restore(), pkg/cluster/bootstrap.go.
 */
'use strict';
// Constants only (this file loads before k3s.cjs declares STANDIN and the rest: use those only when called).
const RESET_FLAG_FILE = '/var/lib/rancher/k3s/server/db/reset-flag';
const snapshotHeader = () => `${STANDIN} etcd snapshot`;
const RESET_DONE =
  'Managed etcd cluster membership has been reset, restart without --cluster-reset flag now. Backup and delete ${datadir}/server/db on each peer etcd server and rejoin the nodes';

/** What a snapshot carries of the token its bootstrap data is encrypted with (real: the data itself, encrypted). */
function bootstrapSeal(secret) {
  return { tokenSecretSha256: sha256(String(secret)) };
}

/**
 * managed.go start() with --cluster-reset: without a restore path a reset flag left by an earlier reset refuses; with
 * one (or without the flag) etcd.go Reset(): Restore() moves db/etcd to db/etcd-old-<unix> and restores the snapshot,
 * setName(true) gives the member a new name, the reset flag is written, etcd starts as a one-member cluster; once the
 * bootstrap data is read back with this server's token (bootstrap.go), it logs RESET_DONE and exits 0.
 * `secret` is the token this server runs with (config token/token-file, else the stored server token).
 */
function clusterReset(s, reg, secret, datastore) {
  const restorePath = s['cluster-reset-restore-path'] ? String(s['cluster-reset-restore-path']) : '';
  if (datastore !== 'etcd') fatal(`cluster-reset needs embedded etcd (${STANDIN}: not simulated for the SQLite datastore)`);
  if (!restorePath && fs.existsSync(RESET_FLAG_FILE))
    fatal(
      `starting kubernetes: preparing server: start managed database: cluster-reset was successfully performed, please remove the cluster-reset flag and start k3s normally, if you need to perform another cluster reset, you must first manually delete the ${RESET_FLAG_FILE} file`,
    );
  let data;
  if (restorePath) {
    let st;
    try {
      st = fs.statSync(restorePath);
    } catch {
      fatal(`starting kubernetes: preparing server: start managed database: etcd: snapshot path does not exist: ${restorePath}`);
    }
    if (st.isDirectory())
      fatal(`starting kubernetes: preparing server: start managed database: etcd: snapshot path must be a file, not a directory: ${restorePath}`);
    const text = fs.readFileSync(restorePath, 'utf8');
    const newline = text.indexOf('\n');
    try {
      if (text.slice(0, newline) !== snapshotHeader()) throw new Error('header');
      data = JSON.parse(text.slice(newline + 1));
    } catch {
      fatal(
        `starting kubernetes: preparing server: start managed database: snapshot file ${restorePath} is not an etcd snapshot (${STANDIN}: no "${snapshotHeader()}" line)`,
      );
    }
  } else {
    data = readReplica();
    if (!data || !data.etcd) fatal(`cluster-reset: no etcd data on this server to reset (${STANDIN})`);
  }
  // Restore(): the old data directory is kept beside the new one.
  if (restorePath && fs.existsSync(ETCD_DIR)) {
    const old = `${ETCD_DIR}-old-${Math.floor(Date.now() / 1000)}`;
    fs.renameSync(ETCD_DIR, old);
    log('info', `Pre-restore etcd database moved to ${old}`);
  }
  // setName(true): a new member name, and a one-member cluster of it (ForceNewCluster).
  fs.rmSync(`${ETCD_DIR}/name`, { force: true });
  const memberName = ensureEtcdDirs(reg.node);
  writeAtomic(RESET_FLAG_FILE, '', 0o600);
  log('info', 'Starting etcd for new cluster');
  const seal = data.standinBootstrap;
  delete data.standinBootstrap;
  const term = ((data.etcd && data.etcd.term) || 1) + 1;
  data.etcd = { members: [newMember(memberName, reg.node, reg.address, false)], leader: memberName, term };
  data.cluster = { ...(data.cluster || {}), firstServer: reg.node };
  writeAtomic(STORE_FILE, JSON.stringify(data, null, 1), 0o600);
  // rebootstrap → storageBootstrap(): the bootstrap data in the restored etcd is encrypted with the snapshot's token.
  if (seal && seal.tokenSecretSha256 !== bootstrapSeal(secret).tokenSecretSha256)
    fatal('starting kubernetes: preparing server: failed to bootstrap cluster data: bootstrap data already found and encrypted with different token');
  log('info', RESET_DONE);
  process.exit(0);
}

/**
 * managed.go start() without --cluster-reset: after a reset, the reset flag is removed and this node's node-password
 * secret deleted (deleteNodePasswdSecret; its registration makes a new one).
 */
function afterClusterReset(store, node) {
  if (!fs.existsSync(RESET_FLAG_FILE)) return;
  const secretType = BUILTIN_TYPES.find((t) => t.kind === 'Secret');
  store.remove(secretType, 'kube-system', `${node}.node-password.k3s`);
  fs.rmSync(RESET_FLAG_FILE, { force: true });
  log('info', `Removed ${RESET_FLAG_FILE} after a cluster reset (${STANDIN}: and the node-password secret of ${node})`);
}
