import {
  type Contract,
  type EnvFact,
  type KafkaContract,
  type MediaServerContract,
  type MongoContract,
  type RevueServiceContract,
  type ValueRef,
  type ZookeeperContract,
  brokersFromEnvPy,
  brokersFromEnvTs,
  frontendServiceBase,
  parseListeners,
  permutations,
  withDotenv,
} from './contracts.js';
import type { AccessInfo } from './access.js';
import { FIXED_IP_ANNOTATION, type K8sObject, podSpecOf } from './render.js';

/**
 * Tests rendered objects against the behaviour contracts (contracts.ts): every variable a program needs is set, once;
 * every host and port it calls is a Service that serves it; every order-sensitive group gives the same answer in every
 * order; MongoDB credentials match the user the database's image creates; the web UI's hosts reach Traefik or the media
 * server. Pure: returns one sentence per problem, naming the object, the variable or host, and the contract's source.
 */

export interface ContractCheckInput {
  objects: K8sObject[];
  contracts: Contract[];
  /** The .env baked into Revue's images (contracts.ts loadBakedDotenv). */
  bakedDotenv: [string, string][];
  /** renderAccessInfo for the same objects: the host names a laptop resolves, and where they lead. */
  access: AccessInfo;
}

interface Port {
  name?: string;
  containerPort: number;
  protocol?: string;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}
interface Container {
  name: string;
  env?: EnvVar[];
  ports?: Port[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
}
interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}
interface ServiceSpec {
  type?: string;
  selector?: Record<string, string>;
  ports: ServicePort[];
}

/** One container of one rendered workload, with what its process sees. */
interface Placed {
  owner: K8sObject;
  container: Container;
  /** The container spec's variables, in manifest order (secret values as `secret:<name>/<key>`). */
  manifestEnv: [string, string][];
}

export function checkContracts(input: ContractCheckInput): string[] {
  const problems: string[] = [];
  const world = new World(input.objects);
  const sharedValues = new Map<string, { where: string; value: string }[]>();

  for (const contract of input.contracts) {
    const placed = contract.workloads.map((w) => ({ ref: w, placed: world.place(w.kind, w.name, w.container) }));
    const present = placed.filter((p) => p.placed);
    if (present.length === 0) continue; // not deployed with this inventory
    for (const p of placed.filter((x) => !x.placed)) problems.push(`${contract.component}: ${p.ref.kind} ${p.ref.name} with container ${p.ref.container} is not rendered.`);
    const all = present.map((p) => p.placed!);

    for (const at of all) {
      const env = processEnv(contract, at, world, input.bakedDotenv);
      problems.push(...checkEnv(contract, at, env));
      problems.push(...checkListens(contract, at, env));
      for (const fact of contract.env.filter((f) => f.shared)) {
        const value = env.get(fact.name);
        if (value !== undefined) sharedValues.set(fact.name, [...(sharedValues.get(fact.name) ?? []), { where: label(at), value }]);
      }
      if (contract.kind === 'revue-service') problems.push(...checkRevueService(contract, at, env, world, input));
      if (contract.kind === 'kafka') problems.push(...checkKafkaBroker(contract, at, world));
      if (contract.kind === 'zookeeper') problems.push(...checkZookeeper(contract, at, world));
      if (contract.kind === 'media-server') problems.push(...checkMediaServer(contract, at, env, world));
    }
    problems.push(...checkUnique(contract, all));
  }

  for (const [name, seen] of sharedValues) {
    const values = new Set(seen.map((s) => s.value));
    if (values.size > 1) problems.push(`${name} must hold one value in every service that reads it, but ${seen.map((s) => `${s.where} has ${s.value}`).join(', ')}.`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// The cluster as the programs see it

class World {
  constructor(readonly objects: K8sObject[]) {}

  place(kind: string, name: string, containerName: string): Placed | undefined {
    const owner = this.objects.find((o) => o.kind === kind && o.metadata.name === name);
    const container = owner && (podSpecOf(owner)?.containers as Container[] | undefined)?.find((c) => c.name === containerName);
    if (!owner || !container) return undefined;
    return { owner, container, manifestEnv: (container.env ?? []).map((e) => [e.name, envValue(e)]) };
  }

  services(namespace: string | undefined): K8sObject[] {
    return this.objects.filter((o) => o.kind === 'Service' && o.metadata.namespace === namespace);
  }

  /**
   * The Service a client in `namespace` reaches as host:port (the Service's name, or name.namespace[.svc[.cluster.local]]),
   * and the containers behind that port; or a sentence saying why not.
   */
  resolve(namespace: string | undefined, host: string, port: number, protocol = 'TCP'): { service: K8sObject; targets: { owner: K8sObject; container: Container; containerPort: number }[] } | string {
    const [name, ns = namespace, svc, ...rest] = host.split('.');
    const suffixOk = (svc === undefined || svc === 'svc') && (rest.length === 0 || rest.join('.') === 'cluster.local');
    const service = suffixOk ? this.services(ns).find((s) => s.metadata.name === name) : undefined;
    if (!service) return `no Service ${host} in namespace ${namespace}`;
    const spec = service.spec as ServiceSpec;
    const sp = spec.ports.find((p) => p.port === port && (p.protocol ?? 'TCP') === protocol);
    if (!sp) return `Service ${service.metadata.name} has no ${protocol} port ${port} (it has ${spec.ports.map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(', ')})`;
    const target = sp.targetPort ?? sp.port;
    const targets: { owner: K8sObject; container: Container; containerPort: number }[] = [];
    for (const owner of this.objects.filter((o) => o.metadata.namespace === service.metadata.namespace && podSpecOf(o))) {
      const labels = ((owner.spec as { template?: { metadata?: { labels?: Record<string, string> } } }).template?.metadata?.labels ?? {}) as Record<string, string>;
      if (!spec.selector || !Object.entries(spec.selector).every(([k, v]) => labels[k] === v)) continue;
      for (const container of podSpecOf(owner)!.containers as Container[]) {
        const cp = (container.ports ?? []).find((p) => (typeof target === 'number' ? p.containerPort === target : p.name === target) && (p.protocol ?? 'TCP') === protocol);
        if (cp) targets.push({ owner, container, containerPort: cp.containerPort });
      }
    }
    if (targets.length === 0) return `Service ${service.metadata.name} port ${port} reaches no container port`;
    return { service, targets };
  }
}

function envValue(e: EnvVar): string {
  if (e.value !== undefined) return e.value;
  const from = e.valueFrom;
  if (from?.secretKeyRef) return `secret:${from.secretKeyRef.name}/${from.secretKeyRef.key}`;
  if (from?.configMapKeyRef) return `configmap:${from.configMapKeyRef.name}/${from.configMapKeyRef.key}`;
  if (from?.fieldRef) return `field:${from.fieldRef.fieldPath}`;
  return '';
}

function label(at: Placed): string {
  return `${at.owner.kind} ${at.owner.metadata.name}`;
}

/**
 * What the kubelet hands the container, in manifest order (the real order is Go map order: callers that care permute):
 * the container's variables, the API server's Service variables (always, kubelet_pods.go), and a set of variables per
 * Service of the namespace unless enableServiceLinks is false.
 */
export function kubeletEnv(at: Placed, services: K8sObject[]): [string, string][] {
  const out = new Map<string, string>(at.manifestEnv);
  const add = (k: string, v: string) => {
    if (!out.has(k)) out.set(k, v);
  };
  for (const [k, v] of serviceLinkVars('kubernetes', '10.43.0.1', [{ name: 'https', port: 443 }])) add(k, v);
  if ((podSpecOf(at.owner) as { enableServiceLinks?: boolean }).enableServiceLinks !== false) {
    services.forEach((s, i) => {
      for (const [k, v] of serviceLinkVars(s.metadata.name, `10.43.100.${i + 1}`, (s.spec as ServiceSpec).ports)) add(k, v);
    });
  }
  return [...out.entries()];
}

/** Docker-links-style variables the kubelet makes for one Service (pkg/kubelet/envvars). */
function serviceLinkVars(name: string, ip: string, ports: ServicePort[]): [string, string][] {
  const n = name.toUpperCase().replace(/-/g, '_');
  const first = ports[0];
  const out: [string, string][] = [[`${n}_SERVICE_HOST`, ip]];
  if (first) out.push([`${n}_SERVICE_PORT`, String(first.port)], [`${n}_PORT`, `${(first.protocol ?? 'TCP').toLowerCase()}://${ip}:${first.port}`]);
  for (const p of ports) {
    const proto = (p.protocol ?? 'TCP').toUpperCase();
    if (p.name) out.push([`${n}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`, String(p.port)]);
    const base = `${n}_PORT_${p.port}_${proto}`;
    out.push([base, `${proto.toLowerCase()}://${ip}:${p.port}`], [`${base}_PROTO`, proto.toLowerCase()], [`${base}_PORT`, String(p.port)], [`${base}_ADDR`, ip]);
  }
  return out;
}

/** The environment the program reads once started: the kubelet's, the start command's, then the baked .env for what is missing. */
function processEnv(contract: Contract, at: Placed, world: World, bakedDotenv: [string, string][]): Map<string, string> {
  const env = new Map(kubeletEnv(at, world.services(at.owner.metadata.namespace)));
  if (contract.kind === 'revue-service') {
    for (const [k, v] of Object.entries(contract.runtime.startEnv)) env.set(k, v);
    if (contract.runtime.dotenv) for (const [k, v] of bakedDotenv) if (!env.has(k)) env.set(k, v);
  }
  return env;
}

function valueOf(ref: ValueRef, env: Map<string, string>): string | undefined {
  if ('value' in ref) return String(ref.value);
  const v = env.get(ref.env);
  return v === undefined || v === '' ? (ref.fallback === undefined ? undefined : String(ref.fallback)) : v;
}

/** A port from a value: "4002", or an address setting like ":8554" / "0.0.0.0:8554". */
function portOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.slice(value.lastIndexOf(':') + 1));
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Checks every contract gets

function checkEnv(contract: Contract, at: Placed, env: Map<string, string>): string[] {
  const problems: string[] = [];
  const names = at.manifestEnv.map(([k]) => k);
  for (const dup of new Set(names.filter((n, i) => names.indexOf(n) !== i))) problems.push(`${label(at)} sets ${dup} more than once.`);
  for (const fact of contract.env) {
    if (fact.need === 'manifest' && !names.includes(fact.name)) problems.push(`${label(at)} does not set ${fact.name}, which ${contract.component} needs from its container (${fact.how}; ${fact.source}).`);
    if (fact.need === 'resolved' && !env.has(fact.name)) problems.push(`${label(at)}: nothing gives ${fact.name} a value (${fact.how}; ${fact.source}).`);
  }
  return problems;
}

function checkListens(contract: Contract, at: Placed, env: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const l of contract.listens) {
    const port = portOf(valueOf(l.port, env));
    if (port === undefined) {
      problems.push(`${label(at)}: ${contract.component} listens on ${'env' in l.port ? l.port.env : 'a port'}, which has no usable value (${l.source}).`);
      continue;
    }
    if (!(at.container.ports ?? []).some((p) => p.containerPort === port && (p.protocol ?? 'TCP') === l.protocol)) {
      problems.push(`${label(at)} does not declare ${l.protocol} port ${port}, where ${contract.component} serves ${l.what} (${l.source}).`);
    }
  }
  return problems;
}

function checkUnique(contract: Contract, all: Placed[]): string[] {
  const problems: string[] = [];
  for (const fact of contract.env.filter((f: EnvFact) => f.unique)) {
    const values = all.map((at) => at.manifestEnv.find(([k]) => k === fact.name)?.[1]).filter((v): v is string => v !== undefined);
    if (new Set(values).size !== values.length) problems.push(`${contract.component}: ${fact.name} must differ between ${all.map(label).join(' and ')}, but repeats (${values.join(', ')}).`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Revue services

function checkRevueService(contract: RevueServiceContract, at: Placed, env: Map<string, string>, world: World, input: ContractCheckInput): string[] {
  const problems: string[] = [];
  const ns = at.owner.metadata.namespace;
  for (const call of contract.calls) {
    const host = valueOf(call.host, env);
    const port = portOf(valueOf(call.port, env));
    if (host === undefined || port === undefined) {
      problems.push(`${label(at)}: ${contract.component} calls ${call.scheme}://${describeRef(call.host)}:${describeRef(call.port)}, which has no value (${call.source}).`);
      continue;
    }
    const r = world.resolve(ns, host, port);
    if (typeof r === 'string') problems.push(`${label(at)}: ${contract.component} calls ${call.scheme}://${host}:${port} (${call.what}), but ${r} (${call.source}).`);
  }
  for (const group of contract.orderSensitive) problems.push(...checkBrokerOrders(contract, group, at, world, input.bakedDotenv));
  if (contract.mongo) problems.push(...checkMongo(contract, at, env, world, input.contracts));
  if (contract.browser) problems.push(...checkBrowser(contract, world, input.access));
  return problems;
}

function describeRef(ref: ValueRef): string {
  return 'env' in ref ? `$${ref.env}` : String(ref.value);
}

/**
 * The Kafka pairing as a property: for every order in which the process environment can enumerate the group's
 * variables (the kubelet passes a map; only the relative order of names with the group's prefixes changes the result,
 * so every ordering of those is every outcome), before and after the baked .env is loaded, each (host, port) Revue
 * derives is a Service port that leads to a broker advertising exactly that host:port.
 */
function checkBrokerOrders(contract: RevueServiceContract, group: RevueServiceContract['orderSensitive'][number], at: Placed, world: World, bakedDotenv: [string, string][]): string[] {
  const ns = at.owner.metadata.namespace;
  const base = kubeletEnv(at, world.services(ns));
  for (const [k, v] of Object.entries(contract.runtime.startEnv)) {
    const i = base.findIndex(([n]) => n === k);
    if (i >= 0) base[i] = [k, v];
    else base.push([k, v]);
  }
  const inGroup = ([k]: [string, string]) => k.startsWith(group.hostPrefix) || k.startsWith(group.portPrefix);
  const others = base.filter((e) => !inGroup(e));
  const mode = group.algorithm === 'revue-ts-getBrokersFromEnv' ? contract.runtime.startEnv.NODE_ENV : contract.runtime.startEnv.ENV;
  const derive = group.algorithm === 'revue-ts-getBrokersFromEnv' ? brokersFromEnvTs : brokersFromEnvPy;
  for (const order of permutations(base.filter(inGroup))) {
    const before = [...others, ...order];
    const variants = contract.runtime.dotenv ? [before, withDotenv(before, bakedDotenv)] : [before];
    for (const env of variants) {
      const shown = env.filter(inGroup).map(([k]) => k).join(', ');
      let brokers;
      try {
        brokers = derive(env, mode);
      } catch (error) {
        return [`${label(at)}: with its environment in the order ${shown}, ${contract.component} fails: ${(error as Error).message} (${group.source}).`];
      }
      if (brokers.length === 0) return [`${label(at)}: ${contract.component} finds no Kafka broker in its environment (${group.source}).`];
      for (const b of brokers) {
        const problem = brokerProblem(world, ns, b.host, Number(b.port));
        if (problem) return [`${label(at)}: with its environment in the order ${shown}, ${contract.component} connects to Kafka at ${b.host}:${b.port}, but ${problem} (${group.source}).`];
      }
    }
  }
  return [];
}

/** Why host:port does not lead to a broker whose listener there advertises exactly host:port (undefined when it does). */
function brokerProblem(world: World, ns: string | undefined, host: string, port: number): string | undefined {
  if (!Number.isInteger(port)) return 'that is not a port';
  const r = world.resolve(ns, host, port);
  if (typeof r === 'string') return r;
  for (const t of r.targets) {
    const env = new Map((t.container.env ?? []).map((e) => [e.name, envValue(e)]));
    const listener = parseListeners(env.get('KAFKA_CFG_LISTENERS') ?? '').find((l) => l.port === t.containerPort);
    if (!listener) return `${t.owner.metadata.name} has no Kafka listener on port ${t.containerPort}`;
    const advertised = parseListeners(env.get('KAFKA_CFG_ADVERTISED_LISTENERS') ?? '').find((l) => l.name === listener.name);
    if (!advertised || advertised.host !== host || advertised.port !== port) {
      return `${t.owner.metadata.name}'s ${listener.name} listener advertises ${advertised ? `${advertised.host}:${advertised.port}` : 'nothing'}, so clients are sent elsewhere`;
    }
  }
  return undefined;
}

function checkMongo(contract: RevueServiceContract, at: Placed, env: Map<string, string>, world: World, contracts: Contract[]): string[] {
  const m = contract.mongo!;
  const where = `${label(at)}: ${contract.component}'s MongoDB connection`;
  const host = valueOf(m.host, env);
  const username = valueOf(m.username, env);
  const database = valueOf(m.database, env);
  if (!host || !username || !database) return [`${where} lacks a host, user or database (${m.source}).`];
  const r = world.resolve(at.owner.metadata.namespace, host, m.port);
  if (typeof r === 'string') return [`${where} goes to ${host}:${m.port}, but ${r} (${m.source}).`];
  const mongo = contracts.find((c): c is MongoContract => c.kind === 'mongo');
  if (!mongo) return [`${where}: no contract for the MongoDB image.`];
  const problems: string[] = [];
  for (const t of r.targets) {
    const dbEnv = new Map((t.container.env ?? []).map((e) => [e.name, envValue(e)]));
    const rootUser = dbEnv.get(mongo.rootUser.usernameEnv);
    const rootPassword = dbEnv.get(mongo.rootUser.passwordEnv);
    if (rootUser !== username) problems.push(`${where} logs in as ${username}, but ${t.owner.metadata.name} creates ${rootUser ?? 'no user'} (${mongo.rootUser.source}).`);
    const password = 'env' in m.password ? at.manifestEnv.find(([k]) => k === (m.password as { env: string }).env)?.[1] : undefined;
    if (password === undefined || password !== rootPassword) problems.push(`${where} uses the password ${password ?? '(none)'}, but ${t.owner.metadata.name} is given ${rootPassword ?? '(none)'} (${mongo.rootUser.source}).`);
    if (m.authSource !== mongo.rootUser.database) problems.push(`${where} authenticates against ${m.authSource}, but the image creates its user in ${mongo.rootUser.database}.`);
    if (contract.initScript) {
      const script = initScriptOf(world, t.owner, t.container, mongo.initDir, contract.initScript.file);
      if (script === undefined) problems.push(`${t.owner.metadata.name} mounts no ${mongo.initDir}/${contract.initScript.file} (${contract.initScript.source}).`);
      else {
        const opened = /getDB\(\s*['"]([^'"]+)['"]\s*\)/.exec(script)?.[1];
        if (opened !== database || opened !== contract.initScript.database) {
          problems.push(`${t.owner.metadata.name}'s init script opens database ${opened ?? '(none)'}, but ${contract.component} uses ${database} (${contract.initScript.source}).`);
        }
      }
    }
  }
  return problems;
}

/** The text of the ConfigMap key a container mounts at `<initDir>/<file>`. */
function initScriptOf(world: World, owner: K8sObject, container: Container, initDir: string, file: string): string | undefined {
  const mount = (container.volumeMounts ?? []).find((v) => v.mountPath === `${initDir}/${file}`);
  if (!mount) return undefined;
  const volume = ((podSpecOf(owner)!.volumes ?? []) as { name: string; configMap?: { name: string; items?: { key: string; path: string }[] } }[]).find((v) => v.name === mount.name);
  if (!volume?.configMap) return undefined;
  const path = mount.subPath ?? file;
  const key = volume.configMap.items?.find((i) => i.path === path)?.key ?? path;
  const cm = world.objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume.configMap!.name && o.metadata.namespace === owner.metadata.namespace);
  return (cm as { data?: Record<string, string> } | undefined)?.data?.[key];
}

/**
 * The web UI's calls from a browser on the LAN: for the Revue URL revue-pi prints, each host the frontend derives must
 * be in the hosts lines revue-pi prints; names pointing at Traefik must be routed on its web entry point (port 80), names
 * pointing at a LoadBalancer Service must have the port there.
 */
function checkBrowser(contract: RevueServiceContract, world: World, access: AccessInfo): string[] {
  const b = contract.browser!;
  const page = access.urls.find((u) => u.name === 'Revue')?.url;
  if (!page) return [`${contract.component}: the access information has no Revue URL.`];
  const problems: string[] = [];
  for (const call of b.calls) {
    const host = new URL(frontendServiceBase(call.service, page)).hostname;
    const what = `the web UI at ${page} calls ${call.scheme}://${host}:${call.port} (${call.what})`;
    const entry = access.hostsEntries.find((e) => e.names.includes(host));
    if (!entry) {
      problems.push(`${what}, but no /etc/hosts line revue-pi prints names ${host} (${b.source}, ${call.source}).`);
      continue;
    }
    if (entry.target.kind === 'ingress') {
      if (call.port !== 80) problems.push(`${what}, but ${host} points at Traefik, which routes port 80 only (${call.source}).`);
      else if (!routesHost(world, host)) problems.push(`${what}, but no IngressRoute on Traefik's web entry point matches Host(\`${host}\`) (${b.source}).`);
    } else {
      const { namespace, name } = entry.target;
      const svc = world.services(namespace).find((s) => s.metadata.name === name);
      const spec = svc?.spec as ServiceSpec | undefined;
      if (!spec || spec.type !== 'LoadBalancer' || !spec.ports.some((p) => p.port === call.port && (p.protocol ?? 'TCP') === 'TCP')) {
        problems.push(`${what}, but ${host} points at Service ${namespace}/${name}, which is no LoadBalancer with TCP port ${call.port} (${call.source}).`);
      }
    }
  }
  return problems;
}

function routesHost(world: World, host: string): boolean {
  return world.objects.some(
    (o) =>
      o.kind === 'IngressRoute' &&
      ((o.spec as { entryPoints?: string[] }).entryPoints ?? ['web']).includes('web') &&
      (o.spec as { routes: { match: string }[] }).routes.some((r) => [...r.match.matchAll(/Host\(`([^`]+)`\)/g)].some((m) => m[1] === host)),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Kafka, ZooKeeper, MediaMTX

function checkKafkaBroker(contract: KafkaContract, at: Placed, world: World): string[] {
  const l = contract.listeners;
  const env = new Map(at.manifestEnv);
  const listeners = parseListeners(env.get(l.listenersEnv) ?? '');
  const advertised = parseListeners(env.get(l.advertisedEnv) ?? '');
  const protocols = new Map((env.get(l.protocolMapEnv) ?? '').split(',').map((p) => p.split(':') as [string, string]));
  const inter = env.get(l.interBrokerEnv);
  const ns = at.owner.metadata.namespace;
  const problems: string[] = [];
  const ports = listeners.map((x) => x.port);
  if (new Set(ports).size !== ports.length) problems.push(`${label(at)}: two Kafka listeners share a port (${l.source}).`);
  for (const x of listeners) {
    if (!protocols.has(x.name)) problems.push(`${label(at)}: listener ${x.name} has no security protocol in ${l.protocolMapEnv} (${l.source}).`);
    if (!(at.container.ports ?? []).some((p) => p.containerPort === x.port)) problems.push(`${label(at)} does not declare port ${x.port} of its ${x.name} listener (${l.source}).`);
  }
  for (const a of advertised) {
    if (!listeners.some((x) => x.name === a.name)) problems.push(`${label(at)} advertises ${a.name}, which is not one of its listeners (${l.source}).`);
  }
  if (!inter || !advertised.some((a) => a.name === inter)) problems.push(`${label(at)}: the inter-broker listener ${inter ?? '(unset)'} is not advertised (${l.source}).`);
  for (const a of advertised) {
    // In-cluster names must lead back to this broker's same listener; an address (the EXTERNAL one) must be this
    // broker's fixed LoadBalancer address with the port on its Service.
    if (/^\d+\.\d+\.\d+\.\d+$/.test(a.host)) {
      const svc = world.services(ns).find((s) => s.metadata.annotations?.[FIXED_IP_ANNOTATION] === a.host);
      const r = svc && world.resolve(ns, svc.metadata.name, a.port);
      if (!r || typeof r === 'string' || !r.targets.some((t) => t.owner === at.owner)) problems.push(`${label(at)} advertises ${a.name}://${a.host}:${a.port}, which no LoadBalancer Service of this broker answers (${l.source}).`);
      continue;
    }
    const problem = brokerProblem(world, ns, a.host, a.port);
    if (problem) problems.push(`${label(at)} advertises ${a.name}://${a.host}:${a.port}, but ${problem} (${l.source}).`);
    else {
      const r = world.resolve(ns, a.host, a.port);
      if (typeof r !== 'string' && !r.targets.every((t) => t.owner === at.owner)) problems.push(`${label(at)} advertises ${a.host}:${a.port}, which leads to another broker (${l.source}).`);
    }
  }
  for (const zk of (env.get(l.zookeeperConnectEnv) ?? '').split(',').filter(Boolean)) {
    const [host = '', port = '2181'] = zk.split(':');
    const r = world.resolve(ns, host, Number(port));
    if (typeof r === 'string') problems.push(`${label(at)} connects to ZooKeeper at ${host}:${port}, but ${r} (${l.source}).`);
  }
  return problems;
}

function checkZookeeper(contract: ZookeeperContract, at: Placed, world: World): string[] {
  const e = contract.ensemble;
  const env = new Map(at.manifestEnv);
  const servers = (env.get(e.serversEnv) ?? '').split(/[;, ]/).filter(Boolean);
  const ns = at.owner.metadata.namespace;
  const problems: string[] = [];
  const ids: string[] = [];
  for (const s of servers) {
    const m = /^([^:\s]+):(\d+):(\d+)(?::observer|:participant)?::(\d+)$/.exec(s);
    if (!m) {
      problems.push(`${label(at)}: ${e.serversEnv} entry ${s} is not host:port:port::id (${e.source}).`);
      continue;
    }
    const [, host, follower, election, id] = m;
    ids.push(id!);
    for (const port of [follower, election]) {
      const r = world.resolve(ns, host!, Number(port));
      if (typeof r === 'string') problems.push(`${label(at)}: ZooKeeper server ${id} is ${host}:${port}, but ${r} (${e.source}).`);
      else if (!r.targets.every((t) => (t.container.env ?? []).some((v) => v.name === e.serverIdEnv && v.value === id))) {
        problems.push(`${label(at)}: ${host}:${port} should be ZooKeeper server ${id}, but leads to a server with another ${e.serverIdEnv} (${e.source}).`);
      }
    }
  }
  const own = env.get(e.serverIdEnv);
  if (servers.length > 1 && (!own || !ids.includes(own))) problems.push(`${label(at)}: its ${e.serverIdEnv} ${own ?? '(unset)'} is not in ${e.serversEnv} (${e.source}).`);
  return problems;
}

function checkMediaServer(contract: MediaServerContract, at: Placed, env: Map<string, string>, world: World): string[] {
  const problems: string[] = [];
  const ns = at.owner.metadata.namespace;
  const lbs = world.services(ns).filter((s) => {
    const spec = s.spec as ServiceSpec;
    const labels = ((at.owner.spec as { template: { metadata?: { labels?: Record<string, string> } } }).template.metadata?.labels ?? {}) as Record<string, string>;
    return spec.type === 'LoadBalancer' && spec.selector && Object.entries(spec.selector).every(([k, v]) => labels[k] === v);
  });
  if (lbs.length === 0) return [`${label(at)}: no LoadBalancer Service exposes the media server to browsers.`];
  for (const bp of contract.browserPorts) {
    const ok = lbs.some((s) => {
      const r = world.resolve(ns, s.metadata.name, bp.port, bp.protocol);
      return typeof r !== 'string' && r.targets.some((t) => t.owner === at.owner);
    });
    if (!ok) problems.push(`${label(at)}: browsers need ${bp.protocol} port ${bp.port} (${bp.what}), which its LoadBalancer Service does not expose (${bp.source}).`);
  }
  const offered = (env.get(contract.additionalHostsEnv) ?? '').split(',').map((h) => h.trim());
  for (const s of lbs) {
    const fixed = s.metadata.annotations?.[FIXED_IP_ANNOTATION];
    if (fixed && !offered.includes(fixed)) problems.push(`${label(at)}: WebRTC does not offer the media server's address ${fixed} (${contract.additionalHostsEnv}), so a browser cannot receive the stream.`);
  }
  return problems;
}
