import type { AccessInfo } from './access.js';
import { brokerProblem } from './contract-check-infra.js';
import { type Container, type Placed, type ServiceSpec, World, envValue, kubeletEnv, label, portOf, valueOf } from './contract-world.js';
import { brokersFromEnvPy, brokersFromEnvTs, frontendServiceBase, permutations, withDotenv } from './contract-models.js';
import type { Contract, MongoContract, RevueServiceContract, ValueRef } from './contracts.js';
import { type K8sObject, podSpecOf } from './render.js';

/** contract-check.ts's checks for Revue's own services: the hosts they call, Kafka pairing, MongoDB, the web UI. Pure. */

export function checkRevueService(
  contract: RevueServiceContract,
  at: Placed,
  env: Map<string, string>,
  world: World,
  input: { contracts: Contract[]; bakedDotenv: [string, string][]; access: AccessInfo },
): string[] {
  const problems: string[] = [];
  const ns = at.owner.metadata.namespace;
  for (const call of contract.calls) {
    const host = valueOf(call.host, env);
    const port = portOf(valueOf(call.port, env));
    if (host === undefined || port === undefined) {
      problems.push(
        `${label(at)}: ${contract.component} calls ${call.scheme}://${describeRef(call.host)}:${describeRef(call.port)}, which has no value (${call.source}).`,
      );
      continue;
    }
    const r = world.resolve(ns, host, port);
    if (typeof r === 'string')
      problems.push(`${label(at)}: ${contract.component} calls ${call.scheme}://${host}:${port} (${call.what}), but ${r} (${call.source}).`);
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
function checkBrokerOrders(
  contract: RevueServiceContract,
  group: RevueServiceContract['orderSensitive'][number],
  at: Placed,
  world: World,
  bakedDotenv: [string, string][],
): string[] {
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
      const shown = env
        .filter(inGroup)
        .map(([k]) => k)
        .join(', ');
      let brokers;
      try {
        brokers = derive(env, mode);
      } catch (error) {
        return [`${label(at)}: with its environment in the order ${shown}, ${contract.component} fails: ${(error as Error).message} (${group.source}).`];
      }
      if (brokers.length === 0) return [`${label(at)}: ${contract.component} finds no Kafka broker in its environment (${group.source}).`];
      for (const b of brokers) {
        const problem = brokerProblem(world, ns, b.host, Number(b.port));
        if (problem)
          return [
            `${label(at)}: with its environment in the order ${shown}, ${contract.component} connects to Kafka at ${b.host}:${b.port}, but ${problem} (${group.source}).`,
          ];
      }
    }
  }
  return [];
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
    if (rootUser !== username)
      problems.push(`${where} logs in as ${username}, but ${t.owner.metadata.name} creates ${rootUser ?? 'no user'} (${mongo.rootUser.source}).`);
    const password = 'env' in m.password ? at.manifestEnv.find(([k]) => k === (m.password as { env: string }).env)?.[1] : undefined;
    if (password === undefined || password !== rootPassword)
      problems.push(
        `${where} uses the password ${password ?? '(none)'}, but ${t.owner.metadata.name} is given ${rootPassword ?? '(none)'} (${mongo.rootUser.source}).`,
      );
    if (m.authSource !== mongo.rootUser.database)
      problems.push(`${where} authenticates against ${m.authSource}, but the image creates its user in ${mongo.rootUser.database}.`);
    if (contract.initScript) {
      const script = initScriptOf(world, t.owner, t.container, mongo.initDir, contract.initScript.file);
      if (script === undefined)
        problems.push(`${t.owner.metadata.name} mounts no ${mongo.initDir}/${contract.initScript.file} (${contract.initScript.source}).`);
      else {
        const opened = /getDB\(\s*['"]([^'"]+)['"]\s*\)/.exec(script)?.[1];
        if (opened !== database || opened !== contract.initScript.database) {
          problems.push(
            `${t.owner.metadata.name}'s init script opens database ${opened ?? '(none)'}, but ${contract.component} uses ${database} (${contract.initScript.source}).`,
          );
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
  const volume = ((podSpecOf(owner)!.volumes ?? []) as { name: string; configMap?: { name: string; items?: { key: string; path: string }[] } }[]).find(
    (v) => v.name === mount.name,
  );
  if (!volume?.configMap) return undefined;
  const path = mount.subPath ?? file;
  const key = volume.configMap.items?.find((i) => i.path === path)?.key ?? path;
  const cm = world.objects.find(
    (o) => o.kind === 'ConfigMap' && o.metadata.name === volume.configMap!.name && o.metadata.namespace === owner.metadata.namespace,
  );
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
