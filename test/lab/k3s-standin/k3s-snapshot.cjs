/*
 * revue-pi LAB STAND-IN — `k3s etcd-snapshot` of the stand-in k3s. NOT K3s: the "snapshot" is the server's copy of the
 * object store as JSON, not an etcd database.
 *
 * Assembled by server.ts before k3s.cjs, in the same scope (with k3s-etcd.cjs, whose SNAPSHOT_DIR and state it uses when
 * called). The CLI asks the running local server (etcdSnapshotCli), which answers from its own copy (snapshotRequest,
 * reached through etcdLocalRequest). See README.md, "Day-two contract".
 */
'use strict';

/** The server's half of `k3s etcd-snapshot` (snapshot_handler.go): save, list, delete, on this node's files. */
function snapshotRequest(state, data, body) {
  const self = data.etcd.members.find((m) => m.name === state.memberName);
  const files = () => {
    try {
      return fs.readdirSync(SNAPSHOT_DIR).filter((f) => fs.statSync(path.join(SNAPSHOT_DIR, f)).isFile());
    } catch {
      return [];
    }
  };
  switch (body.operation) {
    case 'save': {
      if (!self || self.isLearner) {
        log('warning', 'Unable to take snapshot: not supported for learner');
        return { status: 200, json: {} };
      }
      const name = `${(body.name && body.name[0]) || 'on-demand'}-${state.node}-${Math.round(Date.now() / 1000)}`;
      fs.mkdirSync(SNAPSHOT_DIR, { recursive: true, mode: 0o700 });
      const file = path.join(SNAPSHOT_DIR, name);
      log('info', `Saving etcd snapshot to ${file}`);
      writeAtomic(file, `${snapshotHeader()}\n${JSON.stringify({ ...data, standinBootstrap: bootstrapSeal(state.secret) })}\n`, 0o600);
      return { status: 200, json: { created: [name] } };
    }
    case 'list': {
      const items = files().map((name) => {
        const st = fs.statSync(path.join(SNAPSHOT_DIR, name));
        const ts = Number(name.slice(name.lastIndexOf('-') + 1));
        return {
          name,
          location: `file://${path.join(SNAPSHOT_DIR, name)}`,
          size: st.size,
          created: new Date(Number.isInteger(ts) && ts > 0 ? ts * 1000 : st.mtimeMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        };
      });
      items.sort((a, b) => a.created.localeCompare(b.created) || a.name.localeCompare(b.name));
      return { status: 200, json: { items } };
    }
    case 'delete': {
      const names = body.name || [];
      if (names.some((n) => path.basename(n) !== n)) return { status: 400, json: { message: 'invalid snapshot name: path traversal not allowed' } };
      const present = new Set(files());
      const deleted = names.filter((n) => present.has(n));
      for (const n of deleted) fs.rmSync(path.join(SNAPSHOT_DIR, n));
      return { status: 200, json: { deleted } };
    }
    default:
      return { status: 400, json: { message: `invalid snapshot operation (${STANDIN}: save, list, delete)` } };
  }
}

/** `k3s etcd-snapshot save|ls|delete` (pkg/cli/etcdsnapshot): asks the running local server, logs on stderr. */
async function etcdSnapshotCli(argv) {
  const [sub, ...rest] = argv;
  const stderrLog = (level, msg) => process.stderr.write(`${logLine(level, msg)}\n`);
  const op = { save: 'save', ls: 'list', list: 'list', l: 'list', delete: 'delete' }[sub];
  if (!op) {
    process.stderr.write(`k3s etcd-snapshot (${STANDIN}): save [--name N] | ls | delete NAME… (prune is not simulated)\n`);
    return 1;
  }
  let name = 'on-demand';
  const args = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--name') name = rest[++i];
    else if (a.startsWith('--name=')) name = a.slice(7);
    else if (a.startsWith('-')) {
      if (!a.includes('=') && ['--node-name', '--data-dir', '-d', '--token', '-t', '--server', '-s', '--config', '-c'].includes(a)) i++;
    } else args.push(a);
  }
  if (op === 'save' && args.length > 0) {
    stderrLog('fatal', 'Error: this command does not take any arguments');
    return 1;
  }
  const tokenFile = `${SERVER_DIR}/token`;
  let token;
  try {
    token = fs.readFileSync(tokenFile, 'utf8').trim();
  } catch (e) {
    stderrLog('fatal', `Error: open ${tokenFile}: ${e.code === 'EACCES' ? 'permission denied' : 'no such file or directory'}`);
    return 1;
  }
  const url = 'https://127.0.0.1:6443/db/snapshot';
  let r;
  try {
    r = await request(`http://${nodeAddress()}:${API_PORT}`, '/standin/db-snapshot', {
      method: 'POST',
      auth: token,
      body: { operation: op, name: op === 'save' ? [name] : args },
      timeoutMs: 120_000,
    });
  } catch (e) {
    stderrLog(
      'fatal',
      `Error: see server log for details: Post "${url}": ${e.code === 'ECONNREFUSED' ? 'dial tcp 127.0.0.1:6443: connect: connection refused' : e.message}`,
    );
    return 1;
  }
  if (r.status === 404) {
    stderrLog('fatal', `Error: see server log for details: ${url}: 404 Not Found`);
    return 1;
  }
  if (r.status !== 200 || !r.json) {
    stderrLog('fatal', `Error: see server log for details: ${url}: ${r.status} ${(r.json && r.json.message) || r.text}`);
    return 1;
  }
  if (op === 'save') for (const n of r.json.created || []) stderrLog('info', `Snapshot ${n} saved.`);
  if (op === 'delete') {
    for (const n of r.json.deleted) stderrLog('info', `Snapshot ${n} deleted.`);
    for (const n of args) if (!r.json.deleted.includes(n)) stderrLog('warning', `Snapshot ${n} not found.`);
  }
  if (op === 'list')
    process.stdout.write(tabwrite([['Name', 'Location', 'Size', 'Created'], ...r.json.items.map((s) => [s.name, s.location, String(s.size), s.created])]));
  return 0;
}

/** Go's text/tabwriter with minwidth 0, tabwidth 0, padding 1, ' ': each cell but the last padded to its column + 1. */
function tabwrite(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 1))).join('')).join('\n') + '\n';
}
