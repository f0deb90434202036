/*
 * revue-pi LAB STAND-IN for the `k3s` binary. This is NOT K3s: no containers, no kubelet, no TLS.
 *
 * The lab (test/lab/) cannot run K3s, so the stand-in installer (install.sh) drops this Node.js program, behind
 * the bash front k3s-front.sh, at /usr/local/bin/k3s. It honours the parts of K3s that revue-pi relies on (see README.md next to it):
 *   k3s --version                 "k3s version <v> (revue-pi lab stand-in)"
 *   k3s server | agent [flags]    reads /etc/rancher/k3s/config.yaml (+ config.yaml.d/), flags and K3S_* env;
 *                                 servers keep a small object store and answer on <node address>:6443 over
 *                                 PLAIN HTTP (the real one speaks TLS); agents join with token + node password
 *                                 (an agent is the bash front alone; a server resolves and joins for it: agentStart).
 *   k3s kubectl …                 a subset of kubectl against that store (get/delete/apply/version).
 *
 * It is assembled by server.ts (standinBinary()): the assembler prepends the shebang, the version constant
 * K3S_STANDIN_VERSION and `jsyaml` (the project's js-yaml, inlined), so the result needs nothing but Node.
 */
/* global K3S_STANDIN_VERSION, jsyaml, helmController */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const http = require('node:http');
const crypto = require('node:crypto');
const os = require('node:os');

const STANDIN = 'revue-pi lab stand-in';
const VERSION = K3S_STANDIN_VERSION;
const DATA_DIR = '/var/lib/rancher/k3s';
const SERVER_DIR = `${DATA_DIR}/server`;
const AGENT_DIR = `${DATA_DIR}/agent`;
const STORE_FILE = `${SERVER_DIR}/standin-store.json`;
const MANIFESTS_DIR = `${SERVER_DIR}/manifests`;
const NODE_PASSWORD_FILE = '/etc/rancher/node/password';
const KUBECONFIG_FILE = '/etc/rancher/k3s/k3s.yaml';
const DEFAULT_CONFIG = '/etc/rancher/k3s/config.yaml';
const RUN_DIR = '/run/k3s-standin';
const API_PORT = 6443;
const HEARTBEAT_MS = 2000;
// Generous: a loaded lab host must not make nodes flap (real grace period: 40 s). A test that only needs to see a node
// turn NotReady may shorten it on the server that answers it.
const NOT_READY_AFTER_MS = Number(process.env.K3S_STANDIN_NOT_READY_AFTER_MS || 15_000);
const JOIN_TIMEOUT_MS = Number(process.env.K3S_STANDIN_JOIN_TIMEOUT_MS || 15_000);
const NODE_PASSWORD_REJECTED =
  "Node password rejected, duplicate hostname or contents of '/etc/rancher/node/password' may not match server node-passwd entry, try enabling a unique node name with the --with-node-id flag";

// ---------------------------------------------------------------------------------------------------------
// small helpers

/** One K3s-style log line (no newline). */
function logLine(level, msg) {
  return `time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(msg)}`;
}
function log(level, msg) {
  process.stdout.write(`${logLine(level, msg)}\n`);
}
/** What fatal() throws instead of exiting while this process resolves the settings of an sh agent (agentStart). */
class StandinFatal extends Error {}
let fatalThrows = false;
function fatal(msg) {
  if (fatalThrows) throw new StandinFatal(msg);
  log('fatal', msg);
  process.exit(1);
}
const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const readOr = (file, fallback) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
};
function writeAtomic(file, text, mode) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text, { mode });
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, file);
}
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .filter((k) => v[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}
/** This node's own address: sshd's ListenAddress (the lab gives every node one loopback address). */
function nodeAddress() {
  const m = /^ListenAddress\s+([0-9.]+)/m.exec(readOr('/etc/ssh/sshd_config', ''));
  return m ? m[1] : '127.0.0.1';
}
/** https://host:port (what K3s takes) → the stand-in's plain-HTTP URL for the same host:port. */
function apiUrl(serverUrl) {
  const m = /^https:\/\/([^/:]+|\[[^\]]+\])(?::(\d+))?\/?$/.exec(serverUrl || '');
  if (!m) return undefined;
  return `http://${m[1]}:${m[2] || API_PORT}`;
}

function request(base, urlPath, { method = 'GET', auth, body, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(`${base}${urlPath}`, {
      method,
      timeout: timeoutMs,
      headers: { ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}) },
    });
    req.on('timeout', () => req.destroy(new Error(`Client.Timeout exceeded while awaiting headers (${base}${urlPath})`)));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, text, json });
      });
    });
    req.end(data);
  });
}

// ---------------------------------------------------------------------------------------------------------
// settings: K3S_* env < config.yaml (+ config.yaml.d/*.yaml) < command-line flags, as K3s resolves them

const LIST_FLAGS = new Set([
  'node-label',
  'node-taint',
  'tls-san',
  'disable',
  'node-ip',
  'node-external-ip',
  'kubelet-arg',
  'kube-apiserver-arg',
  'kube-controller-manager-arg',
  'kube-scheduler-arg',
  'kube-proxy-arg',
  'etcd-arg',
]);
const BOOL_FLAGS = new Set([
  'cluster-init',
  'cluster-reset',
  'secrets-encryption',
  'with-node-id',
  'debug',
  'disable-network-policy',
  'disable-helm-controller',
  'disable-cloud-controller',
  'disable-kube-proxy',
  'disable-scheduler',
  'disable-apiserver',
  'disable-etcd',
  'disable-controller-manager',
  'protect-kernel-defaults',
  'selinux',
  'rootless',
  'prefer-bundled-bin',
  'embedded-registry',
  'disable-default-registry-endpoint',
]);
const SHORT = { c: 'config', t: 'token', s: 'server', v: 'v' };
const ENV_FLAGS = {
  K3S_TOKEN: 'token',
  K3S_TOKEN_FILE: 'token-file',
  K3S_URL: 'server',
  K3S_NODE_NAME: 'node-name',
  K3S_KUBECONFIG_MODE: 'write-kubeconfig-mode',
  K3S_CLUSTER_INIT: 'cluster-init',
  K3S_CLUSTER_RESET: 'cluster-reset',
  K3S_CONFIG_FILE: 'config',
  K3S_DATA_DIR: 'data-dir',
};
/** Settings that must be identical on every server (K3s refuses a joining server otherwise). */
const CRITICAL = ['disable', 'cluster-cidr', 'service-cidr', 'cluster-dns', 'cluster-domain', 'flannel-backend', 'secrets-encryption', 'egress-selector-mode'];

function parseFlags(argv) {
  const flags = {};
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-') || a === '-') {
      rest.push(a);
      continue;
    }
    let name = a.replace(/^--?/, '');
    let value;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    name = SHORT[name] || name;
    if (value === undefined) value = BOOL_FLAGS.has(name) ? true : argv[++i];
    if (value === undefined) fatal(`flag needs an argument: --${name}`);
    if (LIST_FLAGS.has(name)) (flags[name] = flags[name] || []).push(value);
    else flags[name] = value;
  }
  return { flags, rest };
}

/** Where settings come from: this node (LOCAL_IO), or what an sh agent sent (agentStart). */
const LOCAL_IO = {
  env: process.env,
  readFile: (f) => readOr(f, undefined),
  listDir: (d) => {
    try {
      return fs.readdirSync(d);
    } catch {
      return [];
    }
  },
  hostname: () => os.hostname(),
  address: () => nodeAddress(),
};

function loadConfigFile(file, io = LOCAL_IO) {
  const out = {};
  const merge = (f) => {
    const text = io.readFile(f);
    if (text === undefined) return;
    let doc;
    try {
      doc = jsyaml.load(text);
    } catch (e) {
      fatal(`failed to parse ${f}: ${String(e.message).split('\n')[0]}`);
    }
    if (doc == null) return;
    if (typeof doc !== 'object' || Array.isArray(doc)) fatal(`${f}: config file must be a YAML mapping of flag names to values`);
    for (const [k, v] of Object.entries(doc)) {
      if (k.endsWith('+')) {
        const base = k.slice(0, -1);
        out[base] = [...[].concat(out[base] ?? []), ...[].concat(v ?? [])];
      } else out[k] = v;
    }
  };
  merge(file);
  const dropIns = io
    .listDir(`${file}.d`)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  for (const f of dropIns) merge(path.join(`${file}.d`, f));
  return out;
}

function resolveSettings(argv, io = LOCAL_IO) {
  const { flags, rest } = parseFlags(argv);
  const env = {};
  for (const [k, flag] of Object.entries(ENV_FLAGS)) if (io.env[k]) env[flag] = io.env[k];
  const configFile = flags.config || env.config || DEFAULT_CONFIG;
  const config = loadConfigFile(configFile, io);
  const s = {};
  for (const key of new Set([...Object.keys(env), ...Object.keys(config), ...Object.keys(flags)])) {
    if (LIST_FLAGS.has(key)) {
      const fromArgs = [...[].concat(config[key] ?? []), ...[].concat(flags[key] ?? [])].map(String);
      const list = fromArgs.length ? fromArgs : [].concat(env[key] ?? []).map(String);
      s[key] =
        key === 'disable'
          ? list
              .flatMap((x) => x.split(','))
              .map((x) => x.trim())
              .filter(Boolean)
          : list;
    } else {
      s[key] = flags[key] ?? config[key] ?? env[key];
    }
  }
  for (const b of BOOL_FLAGS) if (b in s) s[b] = s[b] === true || s[b] === 'true' || s[b] === 1;
  if (s['token-file'] && !s.token) {
    const t = io.readFile(String(s['token-file']));
    if (t === undefined) fatal(`Error: failed to read token file ${s['token-file']}: open ${s['token-file']}: no such file or directory`);
    s.token = t.trim();
  }
  s['node-name'] = String(s['node-name'] || io.hostname()).toLowerCase();
  s.address = (s['node-ip'] && s['node-ip'][0]) || io.address();
  s.configFile = configFile;
  s.rest = rest;
  return s;
}

/** What K3s records in the node's k3s.io/node-args annotation (secrets masked). */
function nodeArgs(role, s) {
  const out = [role];
  const skip = new Set(['address', 'configFile', 'rest']);
  for (const key of Object.keys(s).sort()) {
    if (skip.has(key) || s[key] === undefined || s[key] === false) continue;
    for (const v of [].concat(s[key])) {
      out.push(`--${key}`);
      if (v !== true) out.push(key === 'token' || key === 'agent-token' ? '********' : String(v));
    }
  }
  return out;
}

function parseTaint(t) {
  const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(t);
  if (!m) fatal(`Error: failed to parse taint "${t}": taint must be key[=value]:Effect`);
  return { key: m[1], ...(m[2] !== undefined ? { value: m[2] } : {}), effect: m[3] };
}
function parseLabels(list) {
  const labels = {};
  for (const l of list || []) {
    const i = l.indexOf('=');
    labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
  }
  const bad = Object.keys(labels).filter((k) => k.startsWith('node-role.kubernetes.io/'));
  if (bad.length) fatal(`Error: failed to run Kubelet: unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: [${bad.join(' ')}]`);
  return labels;
}

function ensureNodePassword() {
  let pw = readOr(NODE_PASSWORD_FILE, '').trim();
  if (!pw) {
    pw = crypto.randomBytes(16).toString('hex');
    writeAtomic(NODE_PASSWORD_FILE, `${pw}\n`, 0o600);
  }
  return pw;
}

function registration(role, s, password = ensureNodePassword()) {
  return {
    role,
    node: s['node-name'],
    address: s.address,
    password,
    labels: parseLabels(s['node-label']),
    taints: (s['node-taint'] || []).map(parseTaint),
    nodeArgs: nodeArgs(role, s),
    version: VERSION,
    arch: os.arch() === 'x64' ? 'amd64' : 'arm64',
    etcd: role === 'server' && (s['cluster-init'] === true || !!s.server),
  };
}

/** Air-gapped installs put image tarballs here; K3s imports them at start (the stand-in only says so). */
function importImages() {
  const dir = `${AGENT_DIR}/images`;
  let files = [];
  try {
    files = fs
      .readdirSync(dir)
      .filter((f) => /\.(tar|tar\.gz|tgz|tar\.zst|tar\.lz4|tar\.bz2)$/.test(f))
      .sort();
  } catch {
    return;
  }
  for (const f of files) log('info', `Imported images from ${dir}/${f} (${STANDIN}: recorded, nothing loaded)`);
}

function markReady(role) {
  fs.mkdirSync(RUN_DIR, { recursive: true });
  fs.writeFileSync(`${RUN_DIR}/ready-${role}`, `${process.pid}\n`);
  // sd_notify(READY=1) as K3s does, on the lab systemctl's FIFO; nobody listening (no installer waiting) is fine.
  if (process.env.LAB_NOTIFY) {
    try {
      const fd = fs.openSync(process.env.LAB_NOTIFY, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      fs.writeSync(fd, 'READY=1\n');
      fs.closeSync(fd);
    } catch {
      /* no FIFO, or no reader */
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// the object store (first server only) and the API it answers

const CORE_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
// kind, group, plural, namespaced, short names
const BUILTIN_TYPES = [
  ['Node', '', 'nodes', false, ['no']],
  ['Namespace', '', 'namespaces', false, ['ns']],
  ['Secret', '', 'secrets', true, []],
  ['ConfigMap', '', 'configmaps', true, ['cm']],
  ['Service', '', 'services', true, ['svc']],
  ['ServiceAccount', '', 'serviceaccounts', true, ['sa']],
  ['Pod', '', 'pods', true, ['po']],
  ['PersistentVolumeClaim', '', 'persistentvolumeclaims', true, ['pvc']],
  ['PersistentVolume', '', 'persistentvolumes', false, ['pv']],
  ['LimitRange', '', 'limitranges', true, ['limits']],
  ['ResourceQuota', '', 'resourcequotas', true, ['quota']],
  ['Endpoints', '', 'endpoints', true, ['ep']],
  ['Deployment', 'apps', 'deployments', true, ['deploy']],
  ['StatefulSet', 'apps', 'statefulsets', true, ['sts']],
  ['DaemonSet', 'apps', 'daemonsets', true, ['ds']],
  ['ReplicaSet', 'apps', 'replicasets', true, ['rs']],
  ['Job', 'batch', 'jobs', true, []],
  ['CronJob', 'batch', 'cronjobs', true, ['cj']],
  ['Ingress', 'networking.k8s.io', 'ingresses', true, ['ing']],
  ['IngressClass', 'networking.k8s.io', 'ingressclasses', false, []],
  ['NetworkPolicy', 'networking.k8s.io', 'networkpolicies', true, ['netpol']],
  ['Role', 'rbac.authorization.k8s.io', 'roles', true, []],
  ['RoleBinding', 'rbac.authorization.k8s.io', 'rolebindings', true, []],
  ['ClusterRole', 'rbac.authorization.k8s.io', 'clusterroles', false, []],
  ['ClusterRoleBinding', 'rbac.authorization.k8s.io', 'clusterrolebindings', false, []],
  ['CustomResourceDefinition', 'apiextensions.k8s.io', 'customresourcedefinitions', false, ['crd', 'crds']],
  ['ValidatingWebhookConfiguration', 'admissionregistration.k8s.io', 'validatingwebhookconfigurations', false, []],
  ['MutatingWebhookConfiguration', 'admissionregistration.k8s.io', 'mutatingwebhookconfigurations', false, []],
  ['StorageClass', 'storage.k8s.io', 'storageclasses', false, ['sc']],
  ['PriorityClass', 'scheduling.k8s.io', 'priorityclasses', false, ['pc']],
  ['PodDisruptionBudget', 'policy', 'poddisruptionbudgets', true, ['pdb']],
  ['HorizontalPodAutoscaler', 'autoscaling', 'horizontalpodautoscalers', true, ['hpa']],
  ['Lease', 'coordination.k8s.io', 'leases', true, []],
  ['APIService', 'apiregistration.k8s.io', 'apiservices', false, []],
  ['HelmChart', 'helm.cattle.io', 'helmcharts', true, []],
  ['HelmChartConfig', 'helm.cattle.io', 'helmchartconfigs', true, []],
  ['Addon', 'k3s.cattle.io', 'addons', true, []],
  ['Event', '', 'events', true, ['ev']],
].map(([kind, group, plural, namespaced, short]) => ({ kind, group, plural, namespaced, short, versions: undefined }));
const TRAEFIK_KINDS = [
  'IngressRoute',
  'IngressRouteTCP',
  'IngressRouteUDP',
  'Middleware',
  'MiddlewareTCP',
  'TLSOption',
  'TLSStore',
  'TraefikService',
  'ServersTransport',
  'ServersTransportTCP',
];

class Store {
  constructor(file) {
    this.file = file;
    const saved = JSON.parse(readOr(file, 'null') || 'null');
    this.data = saved || { nodes: {}, objects: {}, applied: {}, addons: {}, cluster: {}, rv: 1 };
  }
  save() {
    // Every save is a new revision: the copies the leader pushes to the other etcd servers are ordered by it.
    this.data.rv += 1;
    writeAtomic(this.file, JSON.stringify(this.data, null, 1), 0o600);
    if (this.afterSave) this.afterSave();
  }
  nextRv() {
    this.data.rv += 1;
    return String(this.data.rv);
  }
  types() {
    const types = [...BUILTIN_TYPES];
    for (const o of Object.values(this.data.objects)) {
      if (o.kind !== 'CustomResourceDefinition' || !o.spec || !o.spec.names) continue;
      types.push({
        kind: o.spec.names.kind,
        group: o.spec.group,
        plural: o.spec.names.plural,
        namespaced: o.spec.scope !== 'Cluster',
        short: [...(o.spec.names.shortNames || []), o.spec.names.singular].filter(Boolean),
        versions: (o.spec.versions || []).map((v) => v.name),
      });
    }
    return types;
  }
  key(type, ns, name) {
    return `${type.group}/${type.kind}/${type.namespaced ? ns : ''}/${name}`;
  }
  namespaceExists(ns) {
    return CORE_NAMESPACES.includes(ns) || !!this.data.objects[`/Namespace//${ns}`];
  }
  put(type, obj, appliedJson) {
    const ns = type.namespaced ? obj.metadata.namespace : undefined;
    const key = this.key(type, ns, obj.metadata.name);
    const old = this.data.objects[key];
    const stored = JSON.parse(JSON.stringify(obj));
    stored.metadata = {
      ...stored.metadata,
      uid: old ? old.metadata.uid : crypto.randomUUID(),
      creationTimestamp: old ? old.metadata.creationTimestamp : new Date().toISOString(),
      resourceVersion: this.nextRv(),
    };
    if (!type.namespaced) delete stored.metadata.namespace;
    if (stored.kind === 'Secret' && stored.stringData) {
      stored.data = { ...(stored.data || {}) };
      for (const [k, v] of Object.entries(stored.stringData)) stored.data[k] = Buffer.from(String(v)).toString('base64');
      delete stored.stringData;
    }
    this.simulateStatus(stored, old);
    this.data.objects[key] = stored;
    if (appliedJson !== undefined) this.data.applied[key] = appliedJson;
    // K3s's helm-controller (helm-controller.cjs): a stored chart, or a HelmChartConfig of one, is synced.
    if (stored.kind === 'HelmChart') helmController.sync(this, stored);
    if (stored.kind === 'HelmChartConfig')
      helmController.sync(this, this.data.objects[`helm.cattle.io/HelmChart/${stored.metadata.namespace}/${stored.metadata.name}`]);
    return old ? 'configured' : 'created';
  }
  /**
   * No controllers run here: a workload is Available/ready as soon as it is stored (generation bumped on every
   * change, status observed at once), and a Job has succeeded. Tests of "not ready" use the unit-test double.
   */
  simulateStatus(stored, old) {
    if (stored.kind === 'Pod' && !stored.status) {
      stored.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }] };
      return;
    }
    const kinds = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'];
    if (!kinds.includes(stored.kind)) return;
    const generation = old ? (old.metadata.generation || 1) + (canonical(old.spec) === canonical(stored.spec) ? 0 : 1) : 1;
    stored.metadata.generation = generation;
    const replicas = stored.spec && stored.spec.replicas !== undefined ? stored.spec.replicas : 1;
    const now = new Date().toISOString();
    if (stored.kind === 'Deployment')
      stored.status = {
        observedGeneration: generation,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        conditions: [
          {
            type: 'Available',
            status: 'True',
            reason: 'MinimumReplicasAvailable',
            message: `Deployment has minimum availability (${STANDIN}: at once).`,
            lastTransitionTime: now,
          },
        ],
      };
    else if (stored.kind === 'StatefulSet')
      stored.status = {
        observedGeneration: generation,
        replicas,
        readyReplicas: replicas,
        currentReplicas: replicas,
        updatedReplicas: replicas,
        availableReplicas: replicas,
      };
    else if (stored.kind === 'DaemonSet') {
      const n = Object.keys(this.data.nodes).length;
      stored.status = {
        observedGeneration: generation,
        desiredNumberScheduled: n,
        currentNumberScheduled: n,
        updatedNumberScheduled: n,
        numberReady: n,
        numberAvailable: n,
        numberMisscheduled: 0,
      };
    } else stored.status = { succeeded: 1, completionTime: now, conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: now }] };
  }
  remove(type, ns, name) {
    const key = this.key(type, ns, name);
    if (!this.data.objects[key]) return false;
    if (type.kind === 'HelmChart') helmController.uninstall(this, ns, name);
    delete this.data.objects[key];
    delete this.data.applied[key];
    return true;
  }
  /** Objects of deleted namespaces go once the command is done (a namespace terminates asynchronously). */
  purgeNamespaces() {
    for (const k of Object.keys(this.data.objects)) {
      const ns = this.data.objects[k].metadata.namespace;
      if (ns && !this.namespaceExists(ns)) {
        delete this.data.objects[k];
        delete this.data.applied[k];
      }
    }
  }
  secret(ns, name) {
    return this.data.objects[`/Secret/${ns}/${name}`];
  }
  /** Bundled add-ons a fresh K3s server deploys (unless listed in `disable`), so they show in `get … -A`. */
  seedAddons(disable) {
    const has = (c) => !disable.includes(c);
    const put = (apiVersion, kind, ns, name, extra = {}) => {
      const type = this.types().find((t) => t.kind === kind && t.group === (apiVersion.includes('/') ? apiVersion.split('/')[0] : ''));
      if (!this.data.objects[this.key(type, ns, name)])
        this.put(type, { apiVersion, kind, metadata: { name, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'k3s-standin' } }, ...extra });
    };
    if (has('coredns')) put('apps/v1', 'Deployment', 'kube-system', 'coredns', { spec: { replicas: 1 } });
    if (has('local-storage')) put('apps/v1', 'Deployment', 'kube-system', 'local-path-provisioner', { spec: { replicas: 1 } });
    if (has('metrics-server')) put('apps/v1', 'Deployment', 'kube-system', 'metrics-server', { spec: { replicas: 1 } });
    if (has('traefik')) {
      put('helm.cattle.io/v1', 'HelmChart', 'kube-system', 'traefik-crd', { spec: { chart: 'https://%{KUBERNETES_API}%/static/charts/traefik-crd.tgz' } });
      put('helm.cattle.io/v1', 'HelmChart', 'kube-system', 'traefik', {
        spec: { chart: 'https://%{KUBERNETES_API}%/static/charts/traefik.tgz', targetNamespace: 'kube-system' },
      });
      for (const kind of TRAEFIK_KINDS) {
        const plural = `${kind.toLowerCase()}s`;
        put('apiextensions.k8s.io/v1', 'CustomResourceDefinition', '', `${plural}.traefik.io`, {
          spec: {
            group: 'traefik.io',
            names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
            scope: 'Namespaced',
            versions: [{ name: 'v1alpha1', served: true, storage: true }],
          },
        });
      }
    }
  }
}

function nodeObject(n, etcd) {
  const age = Date.now() - n.lastHeartbeat;
  const ready = age <= NOT_READY_AFTER_MS;
  const member = etcdNodeDecoration(etcd, n);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      uid: n.uid,
      creationTimestamp: n.created,
      labels: n.labels,
      annotations: {
        'k3s.io/hostname': n.name,
        'k3s.io/internal-ip': n.address,
        'k3s.io/node-args': JSON.stringify(n.nodeArgs),
        'revue-pi.lab/stand-in': 'true',
        ...(n.annotations || {}),
        ...member.annotations,
      },
    },
    spec: { podCIDR: n.podCIDR, ...(n.taints.length ? { taints: n.taints } : {}), ...(n.unschedulable ? { unschedulable: true } : {}) },
    status: {
      addresses: [
        { type: 'InternalIP', address: n.address },
        { type: 'Hostname', address: n.name },
      ],
      conditions: [
        ready
          ? {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: 'kubelet is posting ready status (revue-pi lab stand-in)',
              lastHeartbeatTime: new Date(n.lastHeartbeat).toISOString(),
            }
          : {
              type: 'Ready',
              status: 'Unknown',
              reason: 'NodeStatusUnknown',
              message: 'Kubelet stopped posting node status.',
              lastHeartbeatTime: new Date(n.lastHeartbeat).toISOString(),
            },
        ...member.conditions,
      ],
      nodeInfo: {
        kubeletVersion: n.version,
        kubeProxyVersion: n.version,
        architecture: n.arch,
        operatingSystem: 'linux',
        osImage: 'Debian GNU/Linux (revue-pi lab stand-in)',
        containerRuntimeVersion: 'containerd://stand-in',
      },
    },
  };
}

/** The cluster token (full `K10<ca hash>::server:<secret>` or the bare secret) as a bearer. */
function tokenMatches(state, auth) {
  if (!auth) return false;
  const m = /^K10([0-9a-f]{64})::[^:]+:(.+)$/.exec(auth);
  if (m) return m[1] === state.caHash && m[2] === state.secret;
  return auth === state.secret;
}

/** Handles one API request on the store's leader (the only server that holds it; see k3s-etcd.cjs). Returns { status, json }. */
function makeApi(state) {
  const { store } = state;
  const tokenOk = (auth) => tokenMatches(state, auth);
  const register = (b) => {
    const pwKey = `${b.node}.node-password.k3s`;
    const secret = store.secret('kube-system', pwKey);
    const hash = sha256(b.password);
    if (secret && Buffer.from(secret.data.hash, 'base64').toString() !== hash) return { status: 403, json: { message: NODE_PASSWORD_REJECTED } };
    if (!secret) {
      const type = BUILTIN_TYPES.find((t) => t.kind === 'Secret');
      store.put(type, {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'k3s.cattle.io/node-password',
        metadata: { name: pwKey, namespace: 'kube-system', labels: { 'revue-pi.lab/stand-in': 'true' } },
        data: { hash: Buffer.from(hash).toString('base64') },
      });
    }
    upsertNode(b, true);
    store.save();
    return undefined;
  };
  const upsertNode = (b, registering) => {
    const n = store.data.nodes[b.node];
    if (n) {
      Object.assign(n, { address: b.address, version: b.version, arch: b.arch, nodeArgs: b.nodeArgs, lastHeartbeat: Date.now() });
      return;
    }
    const roles =
      b.role === 'server'
        ? {
            'node-role.kubernetes.io/control-plane': 'true',
            'node-role.kubernetes.io/master': 'true',
            ...(b.etcd ? { 'node-role.kubernetes.io/etcd': 'true' } : {}),
          }
        : {};
    store.data.nodes[b.node] = {
      name: b.node,
      uid: crypto.randomUUID(),
      created: new Date().toISOString(),
      role: b.role,
      address: b.address,
      labels: {
        'beta.kubernetes.io/arch': b.arch,
        'beta.kubernetes.io/instance-type': 'k3s',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': b.arch,
        'kubernetes.io/hostname': b.node,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': 'k3s',
        ...roles,
        ...b.labels,
      },
      taints: b.taints,
      nodeArgs: b.nodeArgs,
      version: b.version,
      arch: b.arch,
      podCIDR: `10.42.${Object.keys(store.data.nodes).length}.0/24`,
      lastHeartbeat: Date.now(),
      registeredBy: registering ? 'join' : 'heartbeat',
    };
    if (registering) log('info', `Node ${b.node} registered (${b.role}, ${b.address})`);
  };
  return function api(urlPath, body, auth) {
    if (urlPath === '/cacerts') return { status: 200, text: state.ca };
    if (urlPath === '/standin/join') {
      if (!tokenOk(auth)) return { status: 401, json: { message: 'Unauthorized' } };
      if (body.role === 'server' && body.node !== store.data.cluster.firstServer) {
        if (!store.data.cluster.clusterInit)
          return {
            status: 409,
            json: {
              message: `failed to get join info: this server uses the embedded SQLite datastore and cannot be joined by another server; start the first server with cluster-init: true (${STANDIN} wording)`,
            },
          };
        const diff = CRITICAL.filter((k) => canonical(body.critical[k]) !== canonical(store.data.cluster.critical[k]));
        if (diff.length)
          return {
            status: 412,
            json: {
              message: `failed to validate server configuration: critical configuration value mismatch between servers (${STANDIN}: ${diff.join(', ')} differ)`,
            },
          };
      }
      // Adding a member takes a quorum; a member restarting only reconnects (and its heartbeats restore the quorum).
      if (body.role === 'server' && store.data.etcd && !store.data.etcd.members.some((m) => m.name === body.memberName)) {
        const problem = etcdQuorumProblem(state);
        if (problem) return { status: 503, json: { message: problem } };
      }
      const rejected = register(body);
      if (rejected) return rejected;
      if (body.role === 'server' && store.data.etcd && body.memberName) {
        const refused = etcdAdmit(store, body);
        if (refused) return refused;
        store.save();
      }
      if (body.role !== 'server') return { status: 200, json: { ca: state.ca } };
      return { status: 200, json: { ca: state.ca, secret: state.secret, adminKey: state.adminKey, ...(store.data.etcd ? { replica: store.data } : {}) } };
    }
    if (urlPath === '/standin/heartbeat') {
      if (!tokenOk(auth)) return { status: 401, json: { message: 'Unauthorized' } };
      const secret = store.secret('kube-system', `${body.node}.node-password.k3s`);
      if (secret && Buffer.from(secret.data.hash, 'base64').toString() !== sha256(body.password))
        return { status: 403, json: { message: NODE_PASSWORD_REJECTED } };
      // The kubelet registers once: a Node deleted while it runs stays deleted (its status updates fail).
      if (!store.data.nodes[body.node]) return { status: 404, json: { message: `nodes "${body.node}" not found` } };
      upsertNode(body, false); // a heartbeat only moves lastHeartbeat, which need not survive a restart
      // The servers' addresses, for the agents' load balancer (K3s agents learn every apiserver address).
      const servers = Object.values(store.data.nodes)
        .filter((n) => n.role === 'server')
        .map((n) => `${n.address}:${API_PORT}`)
        .sort();
      return { status: 200, json: { servers: servers.join(' ') } };
    }
    if (urlPath === '/standin/kubectl') {
      if (auth !== state.adminKey) return { status: 401, json: { message: 'Unauthorized' } };
      const problem = store.data.etcd && etcdQuorumProblem(state);
      if (problem) return { status: 503, json: { message: problem } };
      helmController.advance(store);
      const r = kubectl(store, body.args || [], body.files || []);
      store.purgeNamespaces();
      store.save();
      return { status: 200, json: r };
    }
    return { status: 404, json: { message: 'not found' } };
  };
}

// ---------------------------------------------------------------------------------------------------------
// kubectl subset (runs on the store owner)

function kubectl(store, args, files) {
  const out = [];
  const err = [];
  let code = 0;
  const o = { ns: undefined, all: false, output: undefined, files: [], ignoreNotFound: false, selector: undefined };
  const pos = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = () => (inline !== undefined ? inline : args[++i]);
    if (flag === '-n' || flag === '--namespace') o.ns = val();
    else if (flag === '-A' || flag === '--all-namespaces') o.all = true;
    else if (flag === '-o' || flag === '--output') o.output = val();
    else if (flag.startsWith('-o') && flag.length > 2) o.output = flag.slice(2);
    else if (flag === '-f' || flag === '--filename') o.files.push(Number(val()));
    else if (flag === '-l' || flag === '--selector') o.selector = val();
    else if (flag === '--raw') o.raw = val();
    else if (flag === '--ignore-not-found') o.ignoreNotFound = inline === undefined || inline === 'true';
    else if (flag.startsWith('-')) {
      /* --request-timeout, --wait, --server-side … accepted and ignored */
      if (inline === undefined && ['--request-timeout', '--field-manager', '--timeout', '--grace-period'].includes(flag)) i++;
    } else pos.push(a);
  }
  const verb = pos.shift();
  const types = store.types();
  const findType = (word) => {
    const [w, group] = word.toLowerCase().split(/\.(.+)/);
    return types.find((t) => (group === undefined || t.group === group) && [t.kind.toLowerCase(), t.plural, ...t.short].includes(w));
  };
  const resName = (t) => `${t.kind.toLowerCase()}${t.group ? `.${t.group}` : ''}`;
  const pluralName = (t) => `${t.plural}${t.group ? `.${t.group}` : ''}`;
  const listObjects = (t, ns) => {
    if (t.kind === 'Node')
      return Object.values(store.data.nodes)
        .map((n) => nodeObject(n, store.data.etcd))
        .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    if (t.kind === 'Namespace') {
      const core = CORE_NAMESPACES.filter((n) => !store.data.objects[`/Namespace//${n}`]).map((n) => ({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: n },
      }));
      return [...core, ...Object.values(store.data.objects).filter((x) => x.kind === 'Namespace')].sort((a, b) =>
        a.metadata.name.localeCompare(b.metadata.name),
      );
    }
    return Object.entries(store.data.objects)
      .filter(([k]) => k.startsWith(`${t.group}/${t.kind}/`))
      .map(([, v]) => v)
      .filter((x) => !t.namespaced || ns === undefined || x.metadata.namespace === ns)
      .sort((a, b) => `${a.metadata.namespace || ''}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace || ''}/${b.metadata.name}`));
  };
  const matches = (obj) => {
    if (!o.selector) return true;
    return o.selector.split(',').every((term) => {
      const [k, v] = term.split('=');
      const labels = obj.metadata.labels || {};
      return v === undefined ? k in labels : labels[k] === v;
    });
  };
  const age = (ts) => {
    const s = Math.max(0, Math.floor((Date.now() - Date.parse(ts || new Date().toISOString())) / 1000));
    return s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : s < 172800 ? `${Math.floor(s / 3600)}h` : `${Math.floor(s / 86400)}d`;
  };
  const table = (rows) => {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return (
      rows
        .map((r) =>
          r
            .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3)))
            .join('')
            .trimEnd(),
        )
        .join('\n') + '\n'
    );
  };
  const print = (t, items, single) => {
    if (o.output === 'json')
      out.push(JSON.stringify(single ? items[0] : { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } }, null, 4) + '\n');
    else if (o.output === 'yaml')
      out.push(jsyaml.dump(single ? items[0] : { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } }, { lineWidth: -1 }));
    else if (o.output === 'name') out.push(items.map((x) => `${resName(t)}/${x.metadata.name}\n`).join(''));
    else if (o.output && o.output !== 'wide') {
      err.push(`error: unable to match a printer suitable for the output format "${o.output}" (${STANDIN}: json, yaml, name, wide)\n`);
      code = 1;
    } else if (items.length === 0) {
      err.push(t.namespaced && !o.all ? `No resources found in ${o.ns || 'default'} namespace.\n` : 'No resources found\n');
    } else if (t.kind === 'Node') {
      const rows = [['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']];
      for (const n of items) {
        const ready = (n.status.conditions[0].status === 'True' ? 'Ready' : 'NotReady') + (n.spec.unschedulable ? ',SchedulingDisabled' : '');
        const roles = Object.keys(n.metadata.labels)
          .filter((l) => l.startsWith('node-role.kubernetes.io/'))
          .map((l) => l.slice(24))
          .sort();
        rows.push([n.metadata.name, ready, roles.join(',') || '<none>', age(n.metadata.creationTimestamp), n.status.nodeInfo.kubeletVersion]);
      }
      out.push(table(rows));
    } else {
      const rows = [[...(o.all && t.namespaced ? ['NAMESPACE'] : []), 'NAME', 'AGE']];
      for (const x of items) rows.push([...(o.all && t.namespaced ? [x.metadata.namespace] : []), x.metadata.name, age(x.metadata.creationTimestamp)]);
      out.push(table(rows));
    }
  };
  const notFound = (t, name, verbText) => {
    if (o.ignoreNotFound) return;
    err.push(`Error from server (NotFound): ${verbText ? `error when ${verbText}: ` : ''}${pluralName(t)} "${name}" not found\n`);
    code = 1;
  };
  /** "kind/name" and "kind name…" forms → [{type, name}] */
  const targets = () => {
    if (pos.length === 0) return [];
    if (pos[0].includes('/')) return pos.map((p) => ({ word: p.split('/')[0], name: p.split('/')[1] }));
    return (pos.length > 1 ? pos.slice(1) : [undefined]).map((name) => ({ word: pos[0], name }));
  };
  const docsOf = (fileIdx) => {
    const f = files[fileIdx];
    const docs = [];
    try {
      for (const d of jsyaml.loadAll(f.content)) {
        if (d == null) continue;
        if (d.kind && /List$/.test(d.kind) && Array.isArray(d.items)) docs.push(...d.items);
        else docs.push(d);
      }
    } catch (e) {
      err.push(`error: error parsing ${f.name}: ${String(e.message).split('\n')[0]}\n`);
      code = 1;
    }
    return docs.map((d) => ({ doc: d, file: f.name }));
  };
  const resolveDoc = (doc, file, typesSnapshot) => {
    if (typeof doc !== 'object' || !doc.apiVersion || !doc.kind) {
      err.push(
        `error: error validating "${file}": error validating data: [${[!doc.apiVersion && 'apiVersion not set', !doc.kind && 'kind not set'].filter(Boolean).join(', ')}]; if you choose to ignore these errors, turn validation off with --validate=false\n`,
      );
      code = 1;
      return undefined;
    }
    const [group, version] = doc.apiVersion.includes('/') ? doc.apiVersion.split('/') : ['', doc.apiVersion];
    const t = typesSnapshot.find((x) => x.kind === doc.kind && x.group === group && (!x.versions || x.versions.includes(version)));
    const name = doc.metadata && doc.metadata.name;
    if (!t) {
      err.push(
        `error: resource mapping not found for name: "${name}" namespace: "${(doc.metadata && doc.metadata.namespace) || ''}" from "${file}": no matches for kind "${doc.kind}" in version "${doc.apiVersion}"\nensure CRDs are installed first\n`,
      );
      code = 1;
      return undefined;
    }
    if (!name) {
      err.push(
        `error: error when retrieving current configuration of:\nResource: "${pluralName(t)}", GroupVersionKind: "${doc.apiVersion}, Kind=${doc.kind}"\nfrom server for: "${file}": resource name may not be empty\n`,
      );
      code = 1;
      return undefined;
    }
    let ns;
    if (t.namespaced) {
      ns = (doc.metadata && doc.metadata.namespace) || o.ns || 'default';
      if (o.ns && doc.metadata.namespace && doc.metadata.namespace !== o.ns) {
        err.push(
          `error: the namespace from the provided object "${doc.metadata.namespace}" does not match the namespace "${o.ns}". You must pass '--namespace=${doc.metadata.namespace}' to perform this operation.\n`,
        );
        code = 1;
        return undefined;
      }
    }
    return { t, ns, name };
  };

  switch (verb) {
    case 'version':
      out.push(`Client Version: ${VERSION}\nKustomize Version: v5.6.0\nServer Version: ${VERSION} (${STANDIN})\n`);
      break;
    case 'get': {
      if (o.raw !== undefined) {
        // The supervisor's /db/info (etcd's member list, local requests only) shares port 6443 with the apiserver.
        if (o.raw === '/db/info' && store.data.etcd) out.push(`${JSON.stringify({ members: store.data.etcd.members.map(memberInfo) })}\n`);
        else {
          err.push('Error from server (NotFound): the server could not find the requested resource\n');
          code = 1;
        }
        break;
      }
      const tg = targets();
      if (tg.length === 0) {
        err.push(
          'You must specify the type of resource to get. Use "kubectl api-resources" for a complete list of supported resources.\n\nerror: Required resource not specified.\n',
        );
        code = 1;
        break;
      }
      if (tg[0].word.includes(',') && tg[0].name === undefined) {
        // `get a,b,c`: every type must exist (kubectl prints nothing otherwise); one List of all their items.
        const words = tg[0].word.split(',').filter(Boolean);
        const unknown = words.find((w) => !findType(w));
        if (unknown) {
          err.push(`error: the server doesn't have a resource type "${unknown}"\n`);
          code = 1;
          break;
        }
        const items = [];
        for (const w of words) {
          const wt = findType(w);
          items.push(...listObjects(wt, wt.namespaced && !o.all ? o.ns || 'default' : undefined).filter(matches));
        }
        if (o.output !== 'json' && o.output !== 'yaml' && o.output !== 'name') {
          err.push(`error: ${STANDIN}: \`get a,b\` is simulated only with -o json|yaml|name\n`);
          code = 1;
        } else if (o.output === 'name') out.push(items.map((x) => `${resName(findType(x.kind))}/${x.metadata.name}\n`).join(''));
        else print(findType(words[0]), items, false);
        break;
      }
      const t = findType(tg[0].word);
      if (!t) {
        err.push(`error: the server doesn't have a resource type "${tg[0].word}"\n`);
        code = 1;
        break;
      }
      const ns = o.all ? undefined : o.ns || 'default';
      const all = listObjects(t, t.namespaced ? ns : undefined);
      if (tg[0].name === undefined) print(t, all.filter(matches), false);
      else {
        const found = [];
        for (const { name } of tg) {
          const x = all.find((y) => y.metadata.name === name);
          if (x) found.push(x);
          else notFound(t, name);
        }
        if (found.length) print(t, found, tg.length === 1);
      }
      break;
    }
    case 'delete': {
      if (o.files.length) {
        for (const fi of o.files)
          for (const { doc, file } of docsOf(fi)) {
            const r = resolveDoc(doc, file, types);
            if (!r) continue;
            if (store.remove(r.t, r.ns, r.name)) out.push(`${resName(r.t)} "${r.name}" deleted${r.t.namespaced ? ` from ${r.ns} namespace` : ''}\n`);
            else notFound(r.t, r.name, `deleting "${file}"`);
          }
        break;
      }
      const tg = targets();
      const t = tg.length && findType(tg[0].word);
      if (!t) {
        err.push(
          tg.length
            ? `error: the server doesn't have a resource type "${tg[0].word}"\n`
            : 'error: You must provide one or more resources by argument or filename.\n',
        );
        code = 1;
        break;
      }
      const ns = o.ns || 'default';
      for (const { name } of tg) {
        if (!name) {
          err.push('error: resource(s) were provided, but no name was specified\n');
          code = 1;
        } else if (t.kind === 'Node') {
          if (store.data.nodes[name]) {
            const member = nodeRemoved(store, name);
            if (member && store.onMemberRemoved) store.onMemberRemoved(member);
            out.push(`node "${name}" deleted\n`);
          } else notFound(t, name);
        } else if (store.remove(t, ns, name)) {
          out.push(`${resName(t)} "${name}" deleted${t.namespaced ? ` from ${ns} namespace` : ''}\n`);
        } else notFound(t, name);
      }
      break;
    }
    case 'apply':
    case 'create': {
      if (o.files.length === 0) {
        err.push(`error: must specify one of -f and -k\n`);
        code = 1;
        break;
      }
      // Like kubectl, REST mappings come from discovery before anything is applied: a custom resource whose
      // CRD is created by this same command is not found.
      const snapshot = store.types();
      for (const fi of o.files)
        for (const { doc, file } of docsOf(fi)) {
          const r = resolveDoc(doc, file, snapshot);
          if (!r) continue;
          if (r.t.namespaced && !store.namespaceExists(r.ns)) {
            err.push(`Error from server (NotFound): error when creating "${file}": namespaces "${r.ns}" not found\n`);
            code = 1;
            continue;
          }
          if (r.t.kind === 'Node') {
            err.push(`Error from server (${STANDIN}): nodes cannot be applied here; they register themselves\n`);
            code = 1;
            continue;
          }
          const obj = { ...doc, metadata: { ...doc.metadata, ...(r.t.namespaced ? { namespace: r.ns } : {}) } };
          const key = store.key(r.t, r.ns, r.name);
          const applied = canonical(obj);
          const exists = !!store.data.objects[key];
          if (verb === 'create' && exists) {
            err.push(`Error from server (AlreadyExists): error when creating "${file}": ${pluralName(r.t)} "${r.name}" already exists\n`);
            code = 1;
            continue;
          }
          if (exists && store.data.applied[key] === applied) {
            // The helm-controller syncs a chart applied again: a Job deleted since comes back.
            if (r.t.kind === 'HelmChart') helmController.sync(store, store.data.objects[key]);
            out.push(`${resName(r.t)}/${r.name} unchanged\n`);
            continue;
          }
          const result = store.put(r.t, obj, applied);
          out.push(`${resName(r.t)}/${r.name} ${result}\n`);
        }
      break;
    }
    case 'label': {
      // label TYPE NAME… k=v… [k-] [--overwrite]: like kubectl, every word with `=` or a trailing `-` is a change,
      // the others name objects; all of them must exist before any is changed.
      const [word, ...rest] = pos;
      const t = word && findType(word);
      const names = rest.filter((w) => !w.includes('=') && !w.endsWith('-'));
      const changes = rest.filter((w) => w.includes('=') || w.endsWith('-'));
      if (!t || names.length === 0 || changes.length === 0) {
        err.push(t ? 'error: at least one label update is required\n' : `error: the server doesn't have a resource type "${word}"\n`);
        code = 1;
        break;
      }
      const overwrite = args.includes('--overwrite') || args.includes('--overwrite=true');
      const labelsOf = (name) => {
        if (t.kind === 'Node') return store.data.nodes[name] && store.data.nodes[name].labels;
        const obj = store.data.objects[store.key(t, t.namespaced ? o.ns || 'default' : undefined, name)];
        return obj && (obj.metadata.labels = obj.metadata.labels || {});
      };
      const missing = names.find((name) => !labelsOf(name));
      if (missing) {
        notFound(t, missing);
        break;
      }
      for (const name of names) {
        const labels = labelsOf(name);
        let changed = false;
        for (const c of changes) {
          if (c.endsWith('-')) {
            if (c.slice(0, -1) in labels) changed = true;
            delete labels[c.slice(0, -1)];
            continue;
          }
          const i = c.indexOf('=');
          const [k, v] = i < 0 ? [c, ''] : [c.slice(0, i), c.slice(i + 1)];
          if (k in labels && labels[k] !== v && !overwrite) {
            err.push(`error: '${k}' already has a value (${labels[k]}), and --overwrite is false\n`);
            code = 1;
            break;
          }
          if (labels[k] !== v) changed = true;
          labels[k] = v;
        }
        if (code !== 0) break;
        out.push(`${resName(t)}/${name} ${changed ? 'labeled' : 'not labeled'}\n`);
      }
      break;
    }
    case 'annotate': {
      // annotate node NAME… k=v… [k-] [--overwrite] (nodes only here): like label, on metadata.annotations.
      const [word, ...rest] = pos;
      const t = word && findType(word);
      const names = rest.filter((w) => !w.includes('=') && !w.endsWith('-'));
      const changes = rest.filter((w) => w.includes('=') || w.endsWith('-'));
      if (!t || t.kind !== 'Node' || names.length === 0 || changes.length === 0) {
        err.push(`error: ${STANDIN} annotates nodes only: annotate node NAME KEY=VALUE… [KEY-] [--overwrite]\n`);
        code = 1;
        break;
      }
      const overwrite = args.includes('--overwrite') || args.includes('--overwrite=true');
      const missing = names.find((name) => !store.data.nodes[name]);
      if (missing) {
        notFound(t, missing);
        break;
      }
      for (const name of names) {
        const n = store.data.nodes[name];
        const annotations = (n.annotations = n.annotations || {});
        for (const c of changes) {
          if (c.endsWith('-') && !c.includes('=')) {
            delete annotations[c.slice(0, -1)];
            continue;
          }
          const i = c.indexOf('=');
          const [k, v] = [c.slice(0, i), c.slice(i + 1)];
          if (k in annotations && annotations[k] !== v && !overwrite) {
            err.push(`error: --overwrite is false but found the following declared annotation(s): '${k}' already has a value (${annotations[k]})\n`);
            code = 1;
            break;
          }
          annotations[k] = v;
        }
        if (code !== 0) break;
        out.push(`node/${name} annotated\n`);
      }
      break;
    }
    case 'taint': {
      // taint node NAME KEY[=VALUE]:EFFECT… [KEY:EFFECT- | KEY-] [--overwrite] (kubectl pkg/cmd/taint).
      const [word, name, ...specs] = pos;
      const t = word && findType(word);
      if (!t || t.kind !== 'Node' || !name || specs.length === 0) {
        err.push('error: at least one taint update is required\n');
        code = 1;
        break;
      }
      const n = store.data.nodes[name];
      if (!n) {
        notFound(t, name);
        break;
      }
      const overwrite = args.includes('--overwrite') || args.includes('--overwrite=true');
      const taints = [...n.taints];
      let added = false;
      let removed = false;
      for (const spec of specs) {
        if (spec.endsWith('-')) {
          const m = /^([^=:]+)(?::(NoSchedule|PreferNoSchedule|NoExecute))?-$/.exec(spec);
          const before = taints.length;
          for (let i = taints.length - 1; i >= 0; i--) if (m && taints[i].key === m[1] && (!m[2] || taints[i].effect === m[2])) taints.splice(i, 1);
          if (!m || taints.length === before) {
            err.push(`error: taint ${JSON.stringify(spec.slice(0, -1))} not found\n`);
            code = 1;
            break;
          }
          removed = true;
          continue;
        }
        const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(spec);
        if (!m) {
          err.push(`error: invalid taint spec: ${spec}\n`);
          code = 1;
          break;
        }
        const taint = { key: m[1], ...(m[2] ? { value: m[2] } : {}), effect: m[3] };
        const at = taints.findIndex((x) => x.key === taint.key && x.effect === taint.effect);
        if (at >= 0 && !overwrite) {
          err.push(`error: node ${name} already has ${taint.key} taint(s) with same effect(s) and --overwrite is false\n`);
          code = 1;
          break;
        }
        if (at >= 0) taints[at] = taint;
        else taints.push(taint);
        added = true;
      }
      if (code !== 0) break;
      n.taints = taints;
      out.push(`node/${name} ${added && removed ? 'modified' : added ? 'tainted' : 'untainted'}\n`);
      break;
    }
    case 'cordon':
    case 'uncordon':
      code = cordonNodes(store, verb, pos, out, err);
      break;
    case '__eviction': {
      // The pods/eviction subresource, as one stand-in call (used by the client's `kubectl drain`).
      const r = evictPod(store, o.ns || 'default', pos[0]);
      return { code: r.status === 201 ? 0 : 1, stdout: '', stderr: r.message ? `${r.message}\n` : '', status: r.status };
    }
    case undefined:
      err.push(`kubectl controls the Kubernetes cluster manager (${STANDIN}: get, delete, apply, create, label, version).\n`);
      code = 1;
      break;
    default:
      err.push(
        `error: unknown command "${verb}" for "kubectl" (${STANDIN} simulates get, delete, apply, create, label, annotate, taint, cordon, uncordon, drain, version)\n`,
      );
      code = 1;
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}

// ---------------------------------------------------------------------------------------------------------
// kubectl client: finds the kubeconfig, reads -f files on this node, sends the call to the API

async function kubectlClient(argv) {
  const args = [];
  const files = [];
  let kubeconfig;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--kubeconfig') kubeconfig = argv[++i];
    else if (a.startsWith('--kubeconfig=')) kubeconfig = a.slice(13);
    else if (a === '-f' || a === '--filename' || a.startsWith('--filename=')) {
      const f = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      const add = (name, content) => {
        files.push({ name, content });
        args.push('-f', String(files.length - 1));
      };
      if (f === undefined) return fail("error: flag needs an argument: 'f' in -f");
      if (f === '-') add('STDIN', fs.readFileSync(0, 'utf8'));
      else if (!fs.existsSync(f)) return fail(`error: the path "${f}" does not exist`);
      else if (fs.statSync(f).isDirectory())
        for (const e of fs
          .readdirSync(f)
          .filter((x) => /\.(ya?ml|json)$/.test(x))
          .sort())
          add(path.join(f, e), fs.readFileSync(path.join(f, e), 'utf8'));
      else add(f, fs.readFileSync(f, 'utf8'));
    } else args.push(a);
  }
  function fail(msg) {
    process.stderr.write(`${msg}\n`);
    return 1;
  }
  if (!kubeconfig) kubeconfig = (process.env.KUBECONFIG || '').split(':').find(Boolean);
  if (!kubeconfig && fs.existsSync(KUBECONFIG_FILE)) kubeconfig = KUBECONFIG_FILE;
  if (!kubeconfig && fs.existsSync(path.join(os.homedir(), '.kube/config'))) kubeconfig = path.join(os.homedir(), '.kube/config');
  if (!kubeconfig) return fail('The connection to the server localhost:8080 was refused - did you specify the right host or port?');
  let cfg;
  try {
    cfg = jsyaml.load(fs.readFileSync(kubeconfig, 'utf8'));
  } catch (e) {
    return fail(
      `error: error loading config file "${kubeconfig}": ${e.code === 'EACCES' ? `open ${kubeconfig}: permission denied` : e.code === 'ENOENT' ? `open ${kubeconfig}: no such file or directory` : String(e.message).split('\n')[0]}`,
    );
  }
  const ctx = (cfg.contexts || []).find((c) => c.name === cfg['current-context']);
  const cluster = ctx && (cfg.clusters || []).find((c) => c.name === ctx.context.cluster);
  const user = ctx && (cfg.users || []).find((u) => u.name === ctx.context.user);
  if (!cluster || !user) return fail('error: current-context is not set or names a missing cluster/user');
  const server = cluster.cluster.server;
  const hostPort = server.replace(/^https?:\/\//, '').replace(/\/$/, '');
  let base = apiUrl(server);
  if (base && /^http:\/\/(127\.0\.0\.1|localhost):/.test(base)) base = base.replace(/(127\.0\.0\.1|localhost)/, nodeAddress());
  const key = adminKeyOf(user.user['client-key-data']);
  const refused = `The connection to the server ${hostPort} was refused - did you specify the right host or port?`;
  const send = async (a, f = []) => {
    const r = await request(base, '/standin/kubectl', { method: 'POST', auth: key, body: { args: a, files: f }, timeoutMs: 30_000 });
    if (r.status === 401) return { code: 1, stdout: '', stderr: 'error: You must be logged in to the server (Unauthorized)\n' };
    if (r.status === 503 && r.json) return { code: 1, stdout: '', stderr: `Error from server: ${r.json.message}\n` };
    if (r.status !== 200 || !r.json) return { code: 1, stdout: '', stderr: `Error from server (InternalError): ${r.text.trim()}\n` };
    return r.json;
  };
  try {
    // kubectl drain is a client loop over API calls (k3s-drain.cjs).
    if (args[0] === 'drain') return await drainClient(send, args.slice(1));
    const r = await send(args, files);
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    return r.code;
  } catch (e) {
    return fail(e.code === 'ECONNREFUSED' ? refused : `Unable to connect to the server: ${e.message}`);
  }
}

/** The admin key inside a kubeconfig's client-key-data (base64 of the fake PEM writeKubeconfig writes). */
function adminKeyOf(clientKeyData) {
  const pem = Buffer.from(String(clientKeyData || ''), 'base64').toString();
  const keyText = Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64').toString();
  return (/standin-admin:([0-9a-f]+)/.exec(keyText) || [])[1];
}

/** Text as `\0ooo` octal escapes except letters, digits and a few safe marks: one header word that printf %b decodes. */
function octalEscape(text) {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8'))
    out += /[A-Za-z0-9_.,:\-/()]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `\\0${byte.toString(8).padStart(3, '0')}`;
  return out;
}

/**
 * The front's `k3s kubectl` (k3s-front.sh): the args come form-encoded (`a=` each), the bearer is the kubeconfig's
 * client-key-data as is; the answer is kubectl's stdout as the body, its exit code and stderr in headers.
 */
async function kubectlArgs(forward, formBytes, clientKeyData) {
  const args = frontForm(formBytes).getAll('a');
  const r = await forward('/standin/kubectl', { args, files: [] }, adminKeyOf(clientKeyData) || '');
  if (r.status === 401) return { code: 1, stdout: '', stderr: 'error: You must be logged in to the server (Unauthorized)\n' };
  if (r.status === 503 && r.json) return { code: 1, stdout: '', stderr: `Error from server: ${r.json.message}\n` };
  if (r.status !== 200 || !r.json) return { code: 1, stdout: '', stderr: `Error from server (InternalError): ${(r.text || JSON.stringify(r.json)).trim()}\n` };
  return r.json;
}

// ---------------------------------------------------------------------------------------------------------
// server

function fakePem(label, body) {
  return `-----BEGIN ${label}-----\n${Buffer.from(body)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trim()}\n-----END ${label}-----\n`;
}

function writeKubeconfig(state, mode) {
  const b64 = (s) => Buffer.from(s).toString('base64');
  const text = [
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${b64(state.ca)}`,
    `    server: https://127.0.0.1:${API_PORT}`,
    '  name: default',
    'contexts:',
    '- context:',
    '    cluster: default',
    '    user: default',
    '  name: default',
    'current-context: default',
    'kind: Config',
    'preferences: {}',
    'users:',
    '- name: default',
    '  user:',
    `    client-certificate-data: ${b64(fakePem('CERTIFICATE', `${STANDIN} client certificate system:admin`))}`,
    `    client-key-data: ${b64(fakePem('EC PRIVATE KEY', `standin-admin:${state.adminKey}`))}`,
    '',
  ].join('\n');
  const m = parseInt(String(mode || '0600'), 8);
  if (Number.isNaN(m)) fatal(`Error: invalid write-kubeconfig-mode "${mode}"`);
  writeAtomic(KUBECONFIG_FILE, text, m);
  log('info', `Wrote kubeconfig ${KUBECONFIG_FILE}`);
}

function writeToken(state) {
  writeAtomic(`${SERVER_DIR}/token`, `K10${state.caHash}::server:${state.secret}\n`, 0o600);
  fs.rmSync(`${SERVER_DIR}/node-token`, { force: true });
  fs.symlinkSync(`${SERVER_DIR}/token`, `${SERVER_DIR}/node-token`);
}

/** The secret part of a token ("K10<hash>::server:<secret>" or a bare secret), and the CA hash it pins. */
function splitToken(token) {
  const m = /^K10([0-9a-f]{64})::[^:]+:(.+)$/.exec(token || '');
  return m ? { caHash: m[1], secret: m[2] } : { caHash: undefined, secret: token };
}

async function listen(handler, address) {
  const srv = http.createServer(handler);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await new Promise((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(API_PORT, address, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      return srv;
    } catch (e) {
      if (e.code !== 'EADDRINUSE' || Date.now() > deadline)
        fatal(`listen tcp ${address}:${API_PORT}: bind: ${e.code === 'EADDRINUSE' ? 'address already in use' : e.message}`);
      await sleep(200);
    }
  }
}

/** `local(path, body, auth)` answers what this server answers itself (etcd's copies, snapshots), else undefined. */
function httpHandler(forward, local) {
  return (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const auth = (req.headers.authorization || '').replace(/^Bearer /, '');
      if (req.url === '/standin/agent-start') {
        let lines;
        try {
          lines = await agentStart(forward, Buffer.concat(chunks));
        } catch (e) {
          lines = [`log ${logLine('fatal', `Error: ${STANDIN} could not start the agent: ${e.message}`)}`, 'fatal'];
        }
        const text = `${lines.join('\n')}\n`;
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      if (req.url === '/standin/kubectl-args') {
        let r;
        try {
          r = await kubectlArgs(forward, Buffer.concat(chunks), auth);
        } catch (e) {
          r = { code: 1, stdout: '', stderr: `Unable to connect to the server: ${e.message}\n` };
        }
        // A length, not chunks: the front copies the body with cat up to the end of the connection.
        const body = Buffer.from(r.stdout);
        res.writeHead(200, {
          'content-type': 'text/plain',
          'content-length': body.length,
          'x-standin-exit': String(r.code),
          ...(r.stderr ? { 'x-standin-stderr': octalEscape(r.stderr) } : {}),
        });
        res.end(body);
        return;
      }
      let body = {};
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      } catch {
        /* empty */
      }
      let r;
      try {
        // The sh agent's heartbeats carry a counter in the query (one curl, a URL range): the path is what counts.
        const urlPath = req.url.split('?')[0];
        r = (local && local(urlPath, body, auth)) || (await forward(urlPath, body, auth));
      } catch (e) {
        r = { status: 503, json: { message: `${STANDIN}: ${e.message}` } };
      }
      // With a length: the bash agent reads the heartbeat's answer (the servers' addresses) by Content-Length.
      const payload = r.text !== undefined ? r.text : JSON.stringify(r.json);
      res.writeHead(r.status, { 'content-type': r.text !== undefined ? 'text/plain' : 'application/json', 'content-length': Buffer.byteLength(payload) });
      res.end(payload);
    });
  };
}

async function runServer(s) {
  log('info', `Starting k3s ${VERSION} (${STANDIN})`);
  importImages();
  fs.mkdirSync(`${SERVER_DIR}/tls`, { recursive: true, mode: 0o700 });
  fs.rmSync(`${RUN_DIR}/ready-server`, { force: true });
  const given = s.token ? splitToken(String(s.token)) : undefined;
  const critical = Object.fromEntries(
    CRITICAL.map((k) => [k, k === 'disable' ? [...(s.disable || [])].sort() : k === 'secrets-encryption' ? !!s[k] : (s[k] ?? null)]),
  );
  const reg = registration('server', s);
  const join = s.server ? apiUrl(String(s.server)) : undefined;
  if (s.server && !join) fatal(`Error: invalid server url "${s.server}": must be https://host:port`);
  const datastore = datastoreOf(s);
  // etcd's data is db/etcd (member/wal once initialised): the store copy counts only while it is there.
  const initialized = fs.existsSync(`${ETCD_DIR}/member/wal`);
  if (s['cluster-reset']) {
    const secret = (given && given.secret) || splitToken(readOr(`${SERVER_DIR}/token`, '').trim()).secret;
    clusterReset(s, reg, secret, datastore);
  }
  if (datastore === 'etcd') {
    reg.memberName = ensureEtcdDirs(reg.node);
    // A SQLite server restarted with cluster-init moves to etcd (migrateFromSQLite renames the file).
    if (fs.existsSync(SQLITE_FILE)) {
      log('info', 'Migrating content from sqlite to etcd');
      fs.renameSync(SQLITE_FILE, `${SQLITE_FILE}.migrated`);
    }
  } else ensureSqliteFile();
  // An etcd server keeps a copy of the store: restarting, it is a member already and joins nobody (K3s ignores
  // `server:` once its etcd is initialized); a member the others removed cannot come back.
  const copy = datastore === 'etcd' && initialized ? readReplica() : undefined;
  const isMember = !!(copy && copy.etcd && copy.etcd.members.some((m) => m.name === reg.memberName));
  if (copy && copy.etcd && !isMember && copy.etcd.members.length > 0)
    fatal('etcd member removed: the member has been permanently removed from the cluster (delete /var/lib/rancher/k3s/server/db to rejoin)');

  const state = {
    secret: undefined,
    ca: undefined,
    caHash: undefined,
    adminKey: undefined,
    store: undefined,
    replica: undefined,
    api: undefined,
    datastore,
    memberName: reg.memberName,
    node: reg.node,
    joinUrl: join,
    leaderSince: 0,
  };
  const freshJoin = join && !isMember;
  // An existing member restarting: its etcd answers status requests again only after a while (ETCD_START_MS).
  const etcdStartedAt = isMember ? Date.now() : undefined;
  if (freshJoin) {
    // Joining server: fetch and check the CA, then join with the token (an etcd learner); it gets a copy of the store.
    if (!given || !given.secret) fatal('Error: --token is required when joining a server (--server is set)');
    const ca = await fetchCa(join, s.server, given);
    const r = await joinCluster(join, s.server, { ...reg, critical }, String(s.token));
    Object.assign(state, { ca, caHash: sha256(ca), secret: r.secret, adminKey: r.adminKey });
    fs.writeFileSync(`${SERVER_DIR}/tls/server-ca.crt`, ca);
    writeAtomic(`${SERVER_DIR}/tls/client-admin.key`, `${r.adminKey}\n`, 0o600);
    if (r.replica) becomeFollower(state, r.replica);
  } else {
    // The first server, or an etcd member restarting: its own CA, token and admin key.
    const stored = splitToken(readOr(`${SERVER_DIR}/token`, '').trim());
    let ca = readOr(`${SERVER_DIR}/tls/server-ca.crt`, undefined);
    if (!ca) ca = fakePem('CERTIFICATE', `${STANDIN} k3s-server-ca ${crypto.randomBytes(24).toString('hex')}`);
    fs.writeFileSync(`${SERVER_DIR}/tls/server-ca.crt`, ca, { mode: 0o600 });
    const caHash = sha256(ca);
    if (given && given.caHash && given.caHash !== caHash)
      fatal(`starting kubernetes: preparing server: token CA hash does not match the Cluster CA certificate hash: ${caHash} != ${given.caHash}`);
    if (given && stored.secret && given.secret !== stored.secret)
      fatal('starting kubernetes: preparing server: bootstrap data already found and encrypted with different token');
    let adminKey = readOr(`${SERVER_DIR}/tls/client-admin.key`, '').trim();
    if (!adminKey) {
      adminKey = crypto.randomBytes(16).toString('hex');
      writeAtomic(`${SERVER_DIR}/tls/client-admin.key`, `${adminKey}\n`, 0o600);
    }
    Object.assign(state, { ca, caHash, secret: stored.secret || (given && given.secret) || crypto.randomBytes(16).toString('hex'), adminKey });
    if (isMember && copy.etcd.members.length > 1) await settleLeadership(state, copy);
    else {
      state.store = new Store(STORE_FILE);
      const wasInit = state.store.data.cluster.clusterInit;
      state.store.data.cluster = { clusterInit: !!s['cluster-init'] || !!wasInit, critical, firstServer: s['node-name'] };
      state.store.seedAddons(critical.disable);
      if (datastore === 'etcd' && !state.store.data.etcd)
        state.store.data.etcd = { members: [newMember(reg.memberName, reg.node, reg.address, false)], leader: reg.memberName, term: 1 };
      afterClusterReset(state.store, reg.node);
      takeLead(state);
    }
  }
  writeToken(state);
  writeKubeconfig(state, s['write-kubeconfig-mode']);
  fs.mkdirSync(MANIFESTS_DIR, { recursive: true });
  writeAtomic(`${SERVER_DIR}/standin-settings.json`, JSON.stringify({ role: 'server', joined: s.server || null, ...nodeSettingsRecord(s) }, null, 1), 0o600);

  // API calls: answered here on the leader, else sent to it; when it does not answer, the voters elect another.
  const call = async (urlPath, body, auth) => {
    // /readyz is this server's own apiserver's answer, not the leader's.
    const readyz = urlPath === '/standin/kubectl' && auth === state.adminKey && etcdReadyz(state, body.args, etcdStartedAt);
    if (readyz) return { status: 200, json: readyz };
    for (let attempt = 0; ; attempt++) {
      if (state.api) return state.api(urlPath, body, auth);
      if (urlPath === '/cacerts') return { status: 200, text: state.ca };
      try {
        const r = await request(leaderBase(state), urlPath, { method: 'POST', auth, body, timeoutMs: 30_000 });
        return { status: r.status, json: r.json, text: r.json ? undefined : r.text };
      } catch (e) {
        if (state.datastore !== 'etcd' || attempt > 0 || !localData(state) || !['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH'].includes(e.code)) throw e;
        if (!(await electLeader(state)))
          return { status: 503, json: { message: `${NO_QUORUM} (${STANDIN}: the etcd leader does not answer, nor do a majority of the voting members)` } };
      }
    }
  };
  const local = (urlPath, body, auth) => etcdLocalRequest(state, urlPath, body, auth, (a) => tokenMatches(state, a));
  const srv = await listen(httpHandler(call, local), s['bind-address'] || s.address);
  log('info', `Running kube-apiserver stand-in on http://${s['bind-address'] || s.address}:${API_PORT} (${STANDIN}: plain HTTP)`);
  if (!freshJoin) {
    // This server's Node (and member, already there) registered through whoever leads, like any server.
    const deadline = Date.now() + JOIN_TIMEOUT_MS;
    for (;;) {
      const r = await call('/standin/join', { ...reg, critical, restart: isMember }, state.secret);
      if (r.status === 200) break;
      if ((r.status === 429 || r.status === 503) && Date.now() < deadline) {
        await sleep(1000);
        continue;
      }
      fatal(joinRefusal(r, `https://${s.address}:${API_PORT}`));
    }
  }

  // Heartbeat (the kubelet's node status), the auto-deploy manifests directory, and the leader's learner promotion.
  const beat = async () => {
    try {
      const r = await call('/standin/heartbeat', reg, state.secret);
      if (r.status !== 200) log('error', `Failed to update node ${reg.node} status: ${r.json ? r.json.message : r.status}`);
    } catch (e) {
      log('error', `Failed to update node ${reg.node} status: ${e.message}`);
    }
  };
  const deploy = async () => {
    let entries = [];
    try {
      entries = fs
        .readdirSync(MANIFESTS_DIR)
        .filter((f) => /\.(ya?ml|json)$/.test(f))
        .sort();
    } catch {
      return;
    }
    const seen = state.deployed || (state.deployed = {});
    for (const f of entries) {
      if (fs.existsSync(path.join(MANIFESTS_DIR, `${f}.skip`))) continue;
      const content = readOr(path.join(MANIFESTS_DIR, f), '');
      const hash = sha256(content);
      if (seen[f] === hash) continue;
      seen[f] = hash;
      const r = await call('/standin/kubectl', { args: ['apply', '-f', '0'], files: [{ name: path.join(MANIFESTS_DIR, f), content }] }, state.adminKey);
      const res = r.json || { code: 1, stderr: String(r.status) };
      if (res.code === 0) log('info', `Applied manifest ${f}: ${res.stdout.trim().split('\n').join('; ')}`);
      else log('error', `Failed to apply manifest ${f}: ${res.stderr.trim()}`);
    }
  };
  const promote = () => {
    if (!state.store || !state.store.data.etcd) return;
    const promoted = etcdPromote(state.store);
    if (etcdManage(state.store) || promoted) state.store.save();
  };
  await beat();
  await deploy();
  setInterval(beat, HEARTBEAT_MS);
  setInterval(deploy, HEARTBEAT_MS);
  setInterval(promote, HEARTBEAT_MS);
  markReady('server');
  log('info', 'k3s is up and running');
  const stop = () => {
    log('info', 'Received SIGTERM, shutting down');
    srv.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function nodeSettingsRecord(s) {
  const rec = {};
  for (const k of Object.keys(s).sort()) if (!['token', 'agent-token', 'rest'].includes(k)) rec[k] = s[k];
  return rec;
}

/** K3s's refusal when the CA hash a token pins is not the cluster's (an agent's or joining server's check). */
const caMismatch = (hash, pinned) => `Error: token CA hash does not match the Cluster CA certificate hash: ${hash} != ${pinned}`;

/** What K3s says when the server refused a join (status not 200), for agents (agentStart) and joining servers. */
function joinRefusal(r, serverUrl) {
  const msg = (r.json && r.json.message) || r.text;
  if (r.status === 401) return `Error: failed to validate connection to cluster at ${serverUrl}: token rejected by the server: 401 Unauthorized`;
  if (r.status === 403) return `Error: failed to get serving certificate: ${msg}`;
  if (r.status === 409 || r.status === 412) return `starting kubernetes: preparing server: ${msg}`;
  return `Error: ${serverUrl}: ${r.status} ${msg}`;
}

async function fetchCa(base, serverUrl, given) {
  const deadline = Date.now() + JOIN_TIMEOUT_MS;
  for (;;) {
    try {
      const r = await request(base, '/cacerts');
      if (r.status !== 200) throw new Error(`${serverUrl}/cacerts: ${r.status}`);
      const hash = sha256(r.text);
      if (given.caHash && given.caHash !== hash) fatal(caMismatch(hash, given.caHash));
      return r.text;
    } catch (e) {
      const why = e.code === 'ECONNREFUSED' ? `dial tcp ${serverUrl.replace(/^https:\/\//, '')}: connect: connection refused` : e.message;
      if (Date.now() > deadline)
        fatal(`Error: failed to get CA certs: Get "${serverUrl.replace(/\/$/, '')}/cacerts": ${why} (${STANDIN}: gave up after ${JOIN_TIMEOUT_MS} ms)`);
      log('error', `Failed to validate connection to cluster at ${serverUrl}: failed to get CA certs: Get "${serverUrl.replace(/\/$/, '')}/cacerts": ${why}`);
      await sleep(1000);
    }
  }
}

async function joinCluster(base, serverUrl, body, token) {
  const deadline = Date.now() + JOIN_TIMEOUT_MS;
  for (;;) {
    let r;
    try {
      r = await request(base, '/standin/join', { method: 'POST', auth: token, body });
    } catch (e) {
      if (Date.now() > deadline) fatal(`Error: ${serverUrl}: ${e.message} (${STANDIN}: gave up after ${JOIN_TIMEOUT_MS} ms)`);
      log('error', `Failed to connect to ${serverUrl}: ${e.message}`);
      await sleep(1000);
      continue;
    }
    if (r.status === 200) return r.json;
    // etcd takes one learner at a time (or has no quorum just now): K3s waits and tries again.
    if ((r.status === 429 || r.status === 503) && Date.now() <= deadline) {
      log('info', `Waiting for other members to finish joining etcd cluster: ${(r.json && r.json.message) || r.status}`);
      await sleep(1000);
      continue;
    }
    fatal(joinRefusal(r, serverUrl));
  }
}

// ---------------------------------------------------------------------------------------------------------
// agent

/**
 * `k3s agent` is an sh program (k3s-front.sh): starting Node on each of ten lab agents at once cost the lab's shared
 * cores more than everything else an agent does. It sends what K3s would read on its node (args, K3S_* env, the config
 * file and its drop-ins, the hostname and address, the node password) to the server it joins, and this resolves the
 * settings as K3s does (resolveSettings), checks the token's CA hash and joins for it. The answer, one item a line:
 *   need <path>        read this file too and ask again (a token-file named in the config)
 *   log <line>         a K3s log line for the agent's journal
 *   fatal              the agent logs the line before this and exits 1
 *   ok, password <pw> (a new node password to keep), token <token>, settings <json>, reg <json> (the heartbeat body)
 */
class NeedFile extends Error {}
/** The front's forms (agent-start, kubectl-args): fields as `NAME LENGTH\n`, then LENGTH bytes and a newline (k3s-front.sh add()). */
function frontForm(bytes) {
  const fields = [];
  let at = 0;
  while (at < bytes.length) {
    const eol = bytes.indexOf(10, at);
    if (eol < 0) break;
    const [name, length] = bytes.subarray(at, eol).toString('utf8').split(' ');
    const end = eol + 1 + Number(length);
    fields.push([name, bytes.subarray(eol + 1, end).toString('utf8')]);
    at = end + 1;
  }
  return {
    getAll: (n) => fields.filter(([k]) => k === n).map(([, v]) => v),
    get: (n) => (fields.find(([k]) => k === n) || [])[1] ?? null,
    has: (n) => fields.some(([k]) => k === n),
  };
}
async function agentStart(forward, formBytes) {
  const form = frontForm(formBytes);
  const files = new Map();
  const texts = form.getAll('t');
  form.getAll('f').forEach((f, i) => files.set(f, texts[i] ?? ''));
  const absent = new Set(form.getAll('absent'));
  const env = {};
  for (const e of form.getAll('env')) env[e.slice(0, e.indexOf('='))] = e.slice(e.indexOf('=') + 1);
  if (form.has('K3S_TOKEN')) env.K3S_TOKEN = form.get('K3S_TOKEN');
  const io = {
    env,
    readFile: (f) => {
      if (files.has(f)) return files.get(f);
      if (absent.has(f)) return undefined;
      throw new NeedFile(f);
    },
    listDir: (d) => [...files.keys(), ...absent].filter((f) => path.dirname(f) === d).map((f) => path.basename(f)),
    hostname: () => form.get('hostname') || 'localhost',
    address: () => form.get('address') || '127.0.0.1',
  };
  const fail = (msg) => [`log ${logLine('fatal', msg)}`, 'fatal'];
  let s;
  let reg;
  const given = (form.get('password') || '').trim();
  const password = given || crypto.randomBytes(16).toString('hex');
  fatalThrows = true;
  try {
    s = resolveSettings(form.getAll('arg'), io);
    if (!s.server) fatal('Error: --server is required');
    if (!s.token) fatal('Error: --token is required');
    if (!apiUrl(String(s.server))) fatal(`Error: invalid server url "${s.server}": must be https://host:port`);
    reg = { ...registration('agent', s, password), version: form.get('version') || VERSION };
  } catch (e) {
    if (e instanceof NeedFile) return [`need ${e.message}`];
    if (e instanceof StandinFatal) return fail(e.message);
    throw e;
  } finally {
    fatalThrows = false;
  }
  const token = String(s.token);
  const serverUrl = String(s.server);
  const ca = await forward('/cacerts', {}, '');
  const caHash = sha256(ca.text || '');
  const wanted = splitToken(token).caHash;
  if (wanted && wanted !== caHash) return fail(caMismatch(caHash, wanted));
  const out = [`log ${logLine('info', `Connecting to proxy url="wss://${serverUrl.replace(/^https:\/\//, '').replace(/\/$/, '')}/v1-k3s/connect"`)}`];
  const r = await forward('/standin/join', reg, token);
  if (r.status !== 200) return [...out, ...fail(joinRefusal(r, serverUrl))];
  out.push(`log ${logLine('info', `Node ${reg.node} registered with ${serverUrl}; kubelet stand-in posting status every ${HEARTBEAT_MS} ms`)}`);
  return [
    ...out,
    'ok',
    ...(given ? [] : [`password ${password}`]),
    `token ${token}`,
    `settings ${JSON.stringify({ role: 'agent', ...nodeSettingsRecord(s) })}`,
    `reg ${JSON.stringify(reg)}`,
  ];
}

// ---------------------------------------------------------------------------------------------------------
// main

/** `ps` shows `/usr/local/bin/k3s server …` as for K3s, not node and the unpacked program (k3s-front.sh passes its path). */
function nameProcess(argv) {
  process.title = [process.env.STANDIN_ARGV0 || 'k3s', ...argv].join(' ');
}

async function main(argv) {
  const invokedAs = path.basename(process.argv[1] || 'k3s');
  if (['kubectl', 'crictl', 'ctr'].includes(invokedAs)) argv = [invokedAs, ...argv];
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case '--version':
    case '-v':
    case 'version':
      process.stdout.write(`k3s version ${VERSION} (${STANDIN})\ngo version go1.24.0 (${STANDIN})\n`);
      return 0;
    case 'server':
      nameProcess(argv);
      await runServer(resolveSettings(rest));
      return undefined;
    case 'agent':
      // The front (k3s-front.sh) runs agents itself (see agentStart): only this program run without it gets here.
      process.stderr.write(`k3s agent (${STANDIN}): agents are run by the bash front /usr/local/bin/k3s, not by this program\n`);
      return 1;
    case 'kubectl':
      return kubectlClient(rest);
    case 'etcd-snapshot':
      return etcdSnapshotCli(rest);
    case 'crictl':
    case 'ctr':
    case 'token':
    case 'certificate':
    case 'secrets-encrypt':
      process.stderr.write(`k3s ${cmd}: not simulated by the ${STANDIN}\n`);
      return 1;
    default:
      process.stderr.write(`k3s (${STANDIN}): usage: k3s --version | server | agent | kubectl …\n`);
      return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (e) => fatal(String((e && e.stack) || e)),
);
