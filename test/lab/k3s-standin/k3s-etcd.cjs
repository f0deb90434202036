/*
 * revue-pi LAB STAND-IN — the embedded etcd of the stand-in k3s. NOT etcd (no Raft, no bbolt).
 *
 * Assembled by server.ts before k3s.cjs, in the same scope: the functions here use that file's constants and helpers
 * (fs, path, crypto, log, writeAtomic, request, STANDIN…) only when called, never at load time. What it honours is the
 * "Day-two contract" in README.md: the datastore files, members as learner or voter, the Node annotations, label and
 * EtcdIsVoter condition, member removal when a Node is deleted, /db/info (`k3s etcd-snapshot` is k3s-snapshot.cjs), and — standing in for
 * Raft — a copy of the object store on every etcd server, pushed by the leader, with a majority rule for who leads.
 */
'use strict';
const ETCD_DB_DIR = '/var/lib/rancher/k3s/server/db';
const ETCD_DIR = `${ETCD_DB_DIR}/etcd`;
const SQLITE_FILE = `${ETCD_DB_DIR}/state.db`;
const SNAPSHOT_DIR = `${ETCD_DB_DIR}/snapshots`;
const LEARNER_PROMOTE_MS = Number(process.env.K3S_STANDIN_LEARNER_PROMOTE_MS || 3000);
/** A voter counts as up while its node posted status within this long (the leader's view, for quorum). */
const VOTER_ALIVE_MS = 8000;
/**
 * How long an existing member that restarts (an upgrade's new binary, a `systemctl restart`) takes before its etcd
 * answers a status request again (real: WAL replay and reconnecting to its peers). Meanwhile the leader's member
 * management reports it Unhealthy and its apiserver's /readyz fails its etcd check.
 */
const ETCD_START_MS = Number(process.env.K3S_STANDIN_ETCD_START_MS || 6000);
/** How many EtcdIsVoter transitions the store keeps (etcd.statusLog, for lab tests that check the order of events). */
const STATUS_LOG_MAX = 200;
const ETCD_NAME_ANNOTATION = 'etcd.k3s.cattle.io/node-name';
const ETCD_ADDRESS_ANNOTATION = 'etcd.k3s.cattle.io/node-address';
const ETCD_ROLE_LABEL = 'node-role.kubernetes.io/etcd';
const NO_QUORUM = 'etcdserver: request timed out';

/** etcd when the server starts a cluster (cluster-init) or joins one (server:), else SQLite (pkg/etcd, pkg/cluster). */
function datastoreOf(s) {
  return s['cluster-init'] || s.server ? 'etcd' : 'sqlite';
}

/** db/etcd/ (0700) with member/wal/, and db/etcd/name: this server's member name, `<node>-<8 hex>`, made once (setName). */
function ensureEtcdDirs(nodeName) {
  fs.mkdirSync(`${ETCD_DIR}/member/wal`, { recursive: true, mode: 0o700 });
  fs.chmodSync(ETCD_DIR, 0o700);
  let name = readOr(`${ETCD_DIR}/name`, '').trim();
  if (!name) {
    name = `${nodeName}-${crypto.randomBytes(4).toString('hex')}`;
    writeAtomic(`${ETCD_DIR}/name`, name, 0o600);
  }
  return name;
}

function ensureSqliteFile() {
  if (!fs.existsSync(SQLITE_FILE)) writeAtomic(SQLITE_FILE, `${STANDIN}: SQLite datastore placeholder (the objects are in standin-store.json)\n`, 0o600);
}

function newMember(name, node, address, isLearner) {
  return { ID: crypto.randomInt(1, 2 ** 47), name, node, address, isLearner, since: Date.now() };
}
const votersOf = (etcd) => etcd.members.filter((m) => !m.isLearner);
const quorumOf = (voters) => Math.floor(voters / 2) + 1;
const memberBase = (m) => `http://${m.address}:${API_PORT}`;

/** A member as /db/info prints it (etcdserverpb.Member's JSON: isLearner left out when false). */
function memberInfo(m) {
  return {
    ID: m.ID,
    name: m.name,
    peerURLs: [`https://${m.address}:2380`],
    clientURLs: [`https://${m.address}:2379`],
    ...(m.isLearner ? { isLearner: true } : {}),
  };
}

/** The etcd annotations and the EtcdIsVoter condition of a Node with the etcd role (manageLearners, member_controller). */
function etcdNodeDecoration(etcd, n) {
  if (!etcd || !n.labels[ETCD_ROLE_LABEL]) return { annotations: {}, conditions: [] };
  const m = etcd.members.find((x) => x.node === n.name);
  const at = new Date(m ? m.since : Date.now()).toISOString();
  const condition = (status, reason, message) => ({ type: 'EtcdIsVoter', status, reason, message, lastHeartbeatTime: at, lastTransitionTime: at });
  if (!m) return { annotations: {}, conditions: [condition('False', 'NotAMember', 'Node is not a member of the etcd cluster')] };
  const annotations = { [ETCD_NAME_ANNOTATION]: m.name, [ETCD_ADDRESS_ANNOTATION]: m.address };
  // The condition the leader's member management last set (etcdManage); before its first look, from the membership.
  if (m.condition) {
    const at2 = new Date(m.condition.since).toISOString();
    const c = m.condition;
    return {
      annotations,
      conditions: [{ type: 'EtcdIsVoter', status: c.status, reason: c.reason, message: c.message, lastHeartbeatTime: at2, lastTransitionTime: at2 }],
    };
  }
  return {
    annotations,
    conditions: [
      m.isLearner
        ? condition('False', 'MemberIsLearner', 'Node has not been promoted to voting member of the etcd cluster')
        : condition('True', 'MemberNotLearner', 'Node is a voting member of the etcd cluster'),
    ],
  };
}

/** A member still starting after a restart (its etcd does not answer status requests yet). */
function etcdStarting(m, now = Date.now()) {
  return !!m.startedAt && now - m.startedAt < ETCD_START_MS;
}

/**
 * The leader's member management (manageLearners in pkg/etcd/etcd.go, every 15 s there, every heartbeat here): each
 * member's EtcdIsVoter condition — learner, voter, or Unhealthy when its status cannot be read (node silent, or still
 * starting after a restart). A change is kept with its time, and logged in etcd.statusLog. True when something changed.
 */
function etcdManage(store, now = Date.now()) {
  const etcd = store.data.etcd;
  let changed = false;
  for (const m of etcd.members) {
    const node = store.data.nodes[m.node];
    const silent = !node || now - node.lastHeartbeat > VOTER_ALIVE_MS;
    const next = m.isLearner
      ? { status: 'False', reason: 'MemberIsLearner', message: 'Node has not been promoted to voting member of the etcd cluster' }
      : silent || etcdStarting(m, now)
        ? { status: 'False', reason: 'Unhealthy', message: 'failed to check etcd member status: context deadline exceeded' }
        : { status: 'True', reason: 'MemberNotLearner', message: 'Node is a voting member of the etcd cluster' };
    if (m.condition && m.condition.status === next.status && m.condition.reason === next.reason) continue;
    m.condition = { ...next, since: now };
    etcd.statusLog = [...(etcd.statusLog || []), { at: now, node: m.node, status: next.status, reason: next.reason }].slice(-STATUS_LOG_MAX);
    changed = true;
  }
  return changed;
}

/**
 * `k3s kubectl get --raw /readyz` on a server is answered by its own apiserver, whose etcd check asks the local member:
 * it fails while this server's etcd is still starting after a restart. Undefined for any other kubectl call.
 */
function etcdReadyz(state, args, startedAt, now = Date.now()) {
  if (!Array.isArray(args) || args[0] !== 'get' || !args.some((a) => a === '/readyz' || a === '--raw=/readyz')) return undefined;
  if (state.datastore === 'etcd' && startedAt && now - startedAt < ETCD_START_MS)
    return {
      code: 1,
      stdout: '',
      stderr:
        'Error from server (InternalError): an error on the server ("[+]ping ok\\n[+]log ok\\n[-]etcd failed: reason withheld\\n[-]etcd-readiness failed: reason withheld\\nreadyz check failed") has prevented the request from succeeding\n',
    };
  return { code: 0, stdout: 'ok', stderr: '' };
}

/**
 * A server joining (its `memberName` from db/etcd/name): added as a learner (MemberAddAsLearner). etcd takes one learner
 * at a time; a member of the same node under another name is a duplicate. Undefined when admitted (or already a member).
 */
function etcdAdmit(store, body) {
  const etcd = store.data.etcd;
  const existing = etcd.members.find((m) => m.name === body.memberName);
  if (existing) {
    // A member restarting ("Starting etcd for existing cluster member"): still a member (a voter stays a voter), its
    // etcd answering again only once it has started.
    if (body.restart) existing.startedAt = Date.now();
    return undefined;
  }
  if (etcd.members.some((m) => m.node === body.node))
    return { status: 409, json: { message: 'duplicate node name found, please use a unique name for this node' } };
  if (etcd.members.some((m) => m.isLearner)) return { status: 429, json: { message: 'etcdserver: too many learner members in cluster' } };
  etcd.members.push(newMember(body.memberName, body.node, body.address, true));
  log('info', `Adding member ${body.memberName}=https://${body.address}:2380 to etcd cluster as learner`);
  return undefined;
}

/** The leader's learner management: a learner whose node has posted status for LEARNER_PROMOTE_MS is promoted. */
function etcdPromote(store, now = Date.now()) {
  let changed = false;
  for (const m of store.data.etcd.members) {
    const node = store.data.nodes[m.node];
    if (!m.isLearner || !node || node.lastHeartbeat < m.since || now - m.since < LEARNER_PROMOTE_MS) continue;
    m.isLearner = false;
    m.since = now;
    changed = true;
    log('info', `Promoted learner ${m.name}`);
  }
  return changed;
}

/**
 * What deleting a Node does besides: its node-password secret goes (pkg/node/controller.go onRemove) and, for an etcd
 * node, the member its annotations name (member_controller.go onRemove → RemovePeer). Returns the removed member.
 */
function nodeRemoved(store, name) {
  const n = store.data.nodes[name];
  delete store.data.nodes[name];
  const secretType = BUILTIN_TYPES.find((t) => t.kind === 'Secret');
  store.remove(secretType, 'kube-system', `${name}.node-password.k3s`);
  const etcd = store.data.etcd;
  if (!etcd || !n || !n.labels[ETCD_ROLE_LABEL]) return undefined;
  const at = etcd.members.findIndex((m) => m.node === name && m.address === n.address);
  if (at < 0) return undefined;
  const [m] = etcd.members.splice(at, 1);
  log('info', `Removing name=${m.name} id=${m.ID} address=${m.address} from etcd`);
  return m;
}

/** The leader answers only while a majority of voters (itself included) posted status lately; else etcd times out. */
function etcdQuorumProblem(state, now = Date.now()) {
  const data = state.store.data;
  if (!data.etcd || now - state.leaderSince < VOTER_ALIVE_MS) return undefined;
  const voters = votersOf(data.etcd);
  if (voters.length <= 1) return undefined;
  const up = voters.filter((m) => m.name === state.memberName || (data.nodes[m.node] && now - data.nodes[m.node].lastHeartbeat <= VOTER_ALIVE_MS)).length;
  if (up >= quorumOf(voters.length)) return undefined;
  return `${NO_QUORUM} (${STANDIN}: ${up} of ${voters.length} voting etcd members answer, ${quorumOf(voters.length)} needed)`;
}

// ---- the store's copies and who leads --------------------------------------------------------------------

const localData = (state) => (state.store ? state.store.data : state.replica);

function readReplica() {
  try {
    return JSON.parse(readOr(STORE_FILE, 'null') || 'null') || undefined;
  } catch {
    return undefined;
  }
}

/** Where a follower sends API calls: the leader's address (its own copy says who leads), else the server it joined. */
function leaderBase(state) {
  const data = localData(state);
  const etcd = data && data.etcd;
  const leader = etcd && etcd.members.find((m) => m.name === etcd.leader);
  return leader ? memberBase(leader) : state.joinUrl;
}

/** This server holds the store (state.store set): it answers the API and, on etcd, pushes its copy after each change. */
function takeLead(state) {
  const store = state.store;
  if (store.data.etcd) {
    store.afterSave = () => pushReplica(state);
    store.onMemberRemoved = (m) => {
      state.removed = [...(state.removed || []), m];
    };
  }
  state.replica = undefined;
  state.api = makeApi(state);
  state.leaderSince = Date.now();
  store.save();
}

function becomeLeader(state, term) {
  state.store = new Store(STORE_FILE);
  state.store.data.etcd.leader = state.memberName;
  state.store.data.etcd.term = term;
  takeLead(state);
  log('info', `${STANDIN}: this server (${state.memberName}) leads the etcd cluster, term ${term}`);
}

function becomeFollower(state, data) {
  if (state.store) log('info', `${STANDIN}: ${data.etcd.leader} leads the etcd cluster now (term ${data.etcd.term}); following it`);
  state.store = undefined;
  state.api = undefined;
  state.replica = data;
  writeAtomic(STORE_FILE, JSON.stringify(data, null, 1), 0o600);
}

/** After each change the leader sends its copy to every other member (and to one just removed, so it learns it). */
function pushReplica(state) {
  const data = state.store.data;
  const targets = [...data.etcd.members.filter((m) => m.name !== state.memberName), ...(state.removed || [])];
  state.removed = [];
  const body = { term: data.etcd.term, data };
  for (const m of targets)
    request(memberBase(m), '/standin/etcd-replicate', { method: 'POST', auth: state.secret, body, timeoutMs: 5000 }).catch(() => undefined);
}

async function peerStatus(state, m) {
  try {
    const r = await request(memberBase(m), '/standin/etcd-status', { method: 'POST', auth: state.secret, body: {}, timeoutMs: 1500 });
    return r.status === 200 && r.json ? { ...r.json, member: m } : undefined;
  } catch {
    return undefined;
  }
}

async function fetchReplica(state, m) {
  const r = await request(memberBase(m), '/standin/etcd-replica', { method: 'POST', auth: state.secret, body: {}, timeoutMs: 5000 });
  if (r.status !== 200 || !r.json || !r.json.data) throw new Error(`${m.name} sent no copy of the store (HTTP ${r.status})`);
  return r.json.data;
}

/**
 * A server (re)starting with a copy that names other members: the newest copy among those that answer wins, and its
 * leader leads — this server itself if that copy says so. Alone, it keeps what its own copy says.
 */
async function settleLeadership(state, data) {
  const others = data.etcd.members.filter((m) => m.name !== state.memberName);
  const answers = (await Promise.all(others.map((m) => peerStatus(state, m)))).filter(Boolean);
  const best = answers.sort((a, b) => b.term - a.term || b.rv - a.rv)[0];
  let fresh = data;
  if (best && (best.term > data.etcd.term || (best.term === data.etcd.term && best.rv > data.rv))) fresh = await fetchReplica(state, best.member);
  // Its peers' cluster has no such member (reset since, or removed): etcd rejects it (cluster ID mismatch), it never serves.
  if (!fresh.etcd.members.some((m) => m.name === state.memberName))
    fatal(
      `etcd: this server's data (db/etcd, member ${state.memberName}) is not of its peers' etcd cluster any more (cluster ID mismatch: the cluster was reset or the member removed); move /var/lib/rancher/k3s/server/db aside to rejoin (${STANDIN} wording)`,
    );
  if (fresh.etcd.leader === state.memberName) {
    writeAtomic(STORE_FILE, JSON.stringify(fresh, null, 1), 0o600);
    becomeLeader(state, fresh.etcd.term);
  } else becomeFollower(state, fresh);
}

/**
 * The leader does not answer: ask the other voters. A majority (this server included) that answers elects the first
 * of them in member order, for a new term; someone already leading a newer term is followed. One election at a time.
 */
function electLeader(state) {
  if (state.electing) return state.electing;
  state.electing = (async () => {
    const etcd = localData(state).etcd;
    const dead = etcd.leader;
    const voters = votersOf(etcd);
    const answers = (await Promise.all(voters.filter((m) => m.name !== state.memberName && m.name !== dead).map((m) => peerStatus(state, m)))).filter(Boolean);
    const newer = answers.filter((a) => a.isLeader && a.term > etcd.term).sort((a, b) => b.term - a.term)[0];
    if (newer) {
      becomeFollower(state, await fetchReplica(state, newer.member));
      return true;
    }
    const up = new Set(answers.map((a) => a.name));
    if (voters.some((m) => m.name === state.memberName)) up.add(state.memberName);
    if (up.size < quorumOf(voters.length)) {
      log(
        'error',
        `${NO_QUORUM}: etcd leader ${dead} does not answer and only ${up.size} of ${voters.length} voting members do (${quorumOf(voters.length)} needed) (${STANDIN})`,
      );
      return false;
    }
    const next = voters.find((m) => m.name !== dead && up.has(m.name));
    const term = Math.max(etcd.term, ...answers.map((a) => a.term)) + 1;
    log('info', `${STANDIN}: etcd leader ${dead} does not answer; ${next.name} leads term ${term} (${up.size} of ${voters.length} voting members answer)`);
    if (next.name === state.memberName) becomeLeader(state, term);
    else {
      const r = await request(memberBase(next), '/standin/etcd-lead', { method: 'POST', auth: state.secret, body: { term }, timeoutMs: 5000 });
      if (r.status !== 200) return false;
      becomeFollower(state, { ...localData(state), etcd: { ...etcd, leader: next.name, term } });
    }
    return true;
  })().finally(() => {
    state.electing = undefined;
  });
  return state.electing;
}

/**
 * The requests one etcd server answers itself (never forwarded): its copy's status, its copy, a copy pushed by the
 * leader, a call to lead, and `k3s etcd-snapshot`. Undefined for every other path. `tokenOk` checks the cluster token.
 */
function etcdLocalRequest(state, urlPath, body, auth, tokenOk) {
  const paths = ['/standin/etcd-status', '/standin/etcd-replica', '/standin/etcd-replicate', '/standin/etcd-lead', '/standin/db-snapshot'];
  if (!paths.includes(urlPath)) return undefined;
  if (urlPath === '/standin/db-snapshot' && state.datastore !== 'etcd') return { status: 404, text: '404 page not found\n' };
  if (!tokenOk(auth)) return { status: 401, json: { message: 'Unauthorized' } };
  if (state.datastore !== 'etcd' || !localData(state)) return { status: 404, json: { message: 'not an etcd server' } };
  const data = localData(state);
  switch (urlPath) {
    case '/standin/etcd-status':
      return { status: 200, json: { name: state.memberName, leader: data.etcd.leader, term: data.etcd.term, rv: data.rv, isLeader: !!state.store } };
    case '/standin/etcd-replica':
      return { status: 200, json: { data } };
    case '/standin/etcd-lead':
      if (!state.store) becomeLeader(state, Number(body.term) || data.etcd.term + 1);
      return { status: 200, json: {} };
    case '/standin/etcd-replicate': {
      const incoming = body.data;
      const newer = body.term > data.etcd.term || (body.term === data.etcd.term && incoming.rv >= data.rv);
      if (!newer || (state.store && body.term <= data.etcd.term)) return { status: 409, json: { message: 'stale copy' } };
      const wasMember = data.etcd.members.some((m) => m.name === state.memberName);
      becomeFollower(state, incoming);
      if (wasMember && !incoming.etcd.members.some((m) => m.name === state.memberName)) {
        setTimeout(() => fatal('etcd member removed: the member has been permanently removed from the cluster'), 100);
      }
      return { status: 200, json: {} };
    }
    default:
      return snapshotRequest(state, data, body);
  }
}
