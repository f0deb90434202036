import { type Placed, type ServiceSpec, World, envValue, label } from './contract-world.js';
import { parseListeners } from './contract-models.js';
import type { KafkaContract, MediaServerContract, ZookeeperContract } from './contracts.js';
import { FIXED_IP_ANNOTATION } from './render.js';

/** contract-check.ts's checks for Kafka, ZooKeeper and MediaMTX: listeners, ensemble, what browsers need. Pure. */

/** Why host:port does not lead to a broker whose listener there advertises exactly host:port (undefined when it does). */
export function brokerProblem(world: World, ns: string | undefined, host: string, port: number): string | undefined {
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

export function checkKafkaBroker(contract: KafkaContract, at: Placed, world: World): string[] {
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
    if (!(at.container.ports ?? []).some((p) => p.containerPort === x.port))
      problems.push(`${label(at)} does not declare port ${x.port} of its ${x.name} listener (${l.source}).`);
  }
  for (const a of advertised) {
    if (!listeners.some((x) => x.name === a.name)) problems.push(`${label(at)} advertises ${a.name}, which is not one of its listeners (${l.source}).`);
  }
  if (!inter || !advertised.some((a) => a.name === inter))
    problems.push(`${label(at)}: the inter-broker listener ${inter ?? '(unset)'} is not advertised (${l.source}).`);
  for (const a of advertised) {
    // In-cluster names must lead back to this broker's same listener; an address (the EXTERNAL one) must be this
    // broker's fixed LoadBalancer address with the port on its Service.
    if (/^\d+\.\d+\.\d+\.\d+$/.test(a.host)) {
      const svc = world.services(ns).find((s) => s.metadata.annotations?.[FIXED_IP_ANNOTATION] === a.host);
      const r = svc && world.resolve(ns, svc.metadata.name, a.port);
      if (!r || typeof r === 'string' || !r.targets.some((t) => t.owner === at.owner))
        problems.push(`${label(at)} advertises ${a.name}://${a.host}:${a.port}, which no LoadBalancer Service of this broker answers (${l.source}).`);
      continue;
    }
    const problem = brokerProblem(world, ns, a.host, a.port);
    if (problem) problems.push(`${label(at)} advertises ${a.name}://${a.host}:${a.port}, but ${problem} (${l.source}).`);
    else {
      const r = world.resolve(ns, a.host, a.port);
      if (typeof r !== 'string' && !r.targets.every((t) => t.owner === at.owner))
        problems.push(`${label(at)} advertises ${a.host}:${a.port}, which leads to another broker (${l.source}).`);
    }
  }
  for (const zk of (env.get(l.zookeeperConnectEnv) ?? '').split(',').filter(Boolean)) {
    const [host = '', port = '2181'] = zk.split(':');
    const r = world.resolve(ns, host, Number(port));
    if (typeof r === 'string') problems.push(`${label(at)} connects to ZooKeeper at ${host}:${port}, but ${r} (${l.source}).`);
  }
  return problems;
}

export function checkZookeeper(contract: ZookeeperContract, at: Placed, world: World): string[] {
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
  if (servers.length > 1 && (!own || !ids.includes(own)))
    problems.push(`${label(at)}: its ${e.serverIdEnv} ${own ?? '(unset)'} is not in ${e.serversEnv} (${e.source}).`);
  return problems;
}

export function checkMediaServer(contract: MediaServerContract, at: Placed, env: Map<string, string>, world: World): string[] {
  const problems: string[] = [];
  const ns = at.owner.metadata.namespace;
  const lbs = world.services(ns).filter((s) => {
    const spec = s.spec as ServiceSpec;
    const labels = ((at.owner.spec as { template: { metadata?: { labels?: Record<string, string> } } }).template.metadata?.labels ?? {}) as Record<
      string,
      string
    >;
    return spec.type === 'LoadBalancer' && spec.selector && Object.entries(spec.selector).every(([k, v]) => labels[k] === v);
  });
  if (lbs.length === 0) return [`${label(at)}: no LoadBalancer Service exposes the media server to browsers.`];
  for (const bp of contract.browserPorts) {
    const ok = lbs.some((s) => {
      const r = world.resolve(ns, s.metadata.name, bp.port, bp.protocol);
      return typeof r !== 'string' && r.targets.some((t) => t.owner === at.owner);
    });
    if (!ok)
      problems.push(`${label(at)}: browsers need ${bp.protocol} port ${bp.port} (${bp.what}), which its LoadBalancer Service does not expose (${bp.source}).`);
  }
  const offered = (env.get(contract.additionalHostsEnv) ?? '').split(',').map((h) => h.trim());
  for (const s of lbs) {
    const fixed = s.metadata.annotations?.[FIXED_IP_ANNOTATION];
    if (fixed && !offered.includes(fixed))
      problems.push(
        `${label(at)}: WebRTC does not offer the media server's address ${fixed} (${contract.additionalHostsEnv}), so a browser cannot receive the stream.`,
      );
  }
  return problems;
}
