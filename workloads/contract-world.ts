import type { Contract, ValueRef } from './contracts.js';
import { type K8sObject, podSpecOf } from './render.js';

/**
 * The rendered cluster as the programs in it see it, for contract-check.ts: Services and what they reach, and the
 * environment a container's process ends up with (the kubelet's variables, the start command's, the baked .env). Pure.
 */

export interface Port {
  name?: string;
  containerPort: number;
  protocol?: string;
}
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}
export interface Container {
  name: string;
  env?: EnvVar[];
  ports?: Port[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
}
export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}
export interface ServiceSpec {
  type?: string;
  selector?: Record<string, string>;
  ports: ServicePort[];
}

/** One container of one rendered workload, with what its process sees. */
export interface Placed {
  owner: K8sObject;
  container: Container;
  /** The container spec's variables, in manifest order (secret values as `secret:<name>/<key>`). */
  manifestEnv: [string, string][];
}

export class World {
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
  resolve(
    namespace: string | undefined,
    host: string,
    port: number,
    protocol = 'TCP',
  ): { service: K8sObject; targets: { owner: K8sObject; container: Container; containerPort: number }[] } | string {
    const [name, ns = namespace, svc, ...rest] = host.split('.');
    const suffixOk = (svc === undefined || svc === 'svc') && (rest.length === 0 || rest.join('.') === 'cluster.local');
    const service = suffixOk ? this.services(ns).find((s) => s.metadata.name === name) : undefined;
    if (!service) return `no Service ${host} in namespace ${namespace}`;
    const spec = service.spec as ServiceSpec;
    const sp = spec.ports.find((p) => p.port === port && (p.protocol ?? 'TCP') === protocol);
    if (!sp)
      return `Service ${service.metadata.name} has no ${protocol} port ${port} (it has ${spec.ports.map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(', ')})`;
    const target = sp.targetPort ?? sp.port;
    const targets: { owner: K8sObject; container: Container; containerPort: number }[] = [];
    for (const owner of this.objects.filter((o) => o.metadata.namespace === service.metadata.namespace && podSpecOf(o))) {
      const labels = ((owner.spec as { template?: { metadata?: { labels?: Record<string, string> } } }).template?.metadata?.labels ?? {}) as Record<
        string,
        string
      >;
      if (!spec.selector || !Object.entries(spec.selector).every(([k, v]) => labels[k] === v)) continue;
      for (const container of podSpecOf(owner)!.containers as Container[]) {
        const cp = (container.ports ?? []).find(
          (p) => (typeof target === 'number' ? p.containerPort === target : p.name === target) && (p.protocol ?? 'TCP') === protocol,
        );
        if (cp) targets.push({ owner, container, containerPort: cp.containerPort });
      }
    }
    if (targets.length === 0) return `Service ${service.metadata.name} port ${port} reaches no container port`;
    return { service, targets };
  }
}

export function envValue(e: EnvVar): string {
  if (e.value !== undefined) return e.value;
  const from = e.valueFrom;
  if (from?.secretKeyRef) return `secret:${from.secretKeyRef.name}/${from.secretKeyRef.key}`;
  if (from?.configMapKeyRef) return `configmap:${from.configMapKeyRef.name}/${from.configMapKeyRef.key}`;
  if (from?.fieldRef) return `field:${from.fieldRef.fieldPath}`;
  return '';
}

export function label(at: Placed): string {
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
    out.push(
      [base, `${proto.toLowerCase()}://${ip}:${p.port}`],
      [`${base}_PROTO`, proto.toLowerCase()],
      [`${base}_PORT`, String(p.port)],
      [`${base}_ADDR`, ip],
    );
  }
  return out;
}

/** The environment the program reads once started: the kubelet's, the start command's, then the baked .env for what is missing. */
export function processEnv(contract: Contract, at: Placed, world: World, bakedDotenv: [string, string][]): Map<string, string> {
  const env = new Map(kubeletEnv(at, world.services(at.owner.metadata.namespace)));
  if (contract.kind === 'revue-service') {
    for (const [k, v] of Object.entries(contract.runtime.startEnv)) env.set(k, v);
    if (contract.runtime.dotenv) for (const [k, v] of bakedDotenv) if (!env.has(k)) env.set(k, v);
  }
  return env;
}

export function valueOf(ref: ValueRef, env: Map<string, string>): string | undefined {
  if ('value' in ref) return String(ref.value);
  const v = env.get(ref.env);
  return v === undefined || v === '' ? (ref.fallback === undefined ? undefined : String(ref.fallback)) : v;
}

/** A port from a value: "4002", or an address setting like ":8554" / "0.0.0.0:8554". */
export function portOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.slice(value.lastIndexOf(':') + 1));
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : undefined;
}
