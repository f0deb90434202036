import { describe, expect, it } from 'vitest';
import { type KafkaBroker, brokersFromEnvPy, brokersFromEnvTs, parseListeners, permutations, withDotenv } from '../../../workloads/contract-models.js';
import { type RevueServiceContract, loadBakedDotenv, loadContracts } from '../../../workloads/contracts.js';
import { type K8sObject, packageRoot, podSpecOf, renderWorkloads } from '../../../workloads/render.js';
import { deterministicRandom } from '../../fakes/deterministic-random.js';
import { labInventory, minimalInventory } from './helpers.js';

/**
 * Issue 13, blocker 2: Revue pairs KAFKA_HOST_n with KAFKA_PORT_n by the order its process environment enumerates them
 * (KafkaOptions.ts / KafkaOptions.py at v3.1.14), and the kubelet hands a container its environment in Go map order.
 * Property: for EVERY order of each rendered container's environment, every (host, port) that Revue derives is a Service
 * of the namespace with that port, leading to a broker whose listener there advertises exactly that host:port.
 */

const root = packageRoot();
const contracts = loadContracts(root).filter((c): c is RevueServiceContract => c.kind === 'revue-service' && c.orderSensitive.length > 0);
const bakedDotenv = loadBakedDotenv(root);

interface Case {
  service: string;
  env: [string, string][];
  derive: (env: [string, string][]) => KafkaBroker[];
  dotenv: boolean;
}

function cases(objects: K8sObject[]): Case[] {
  return contracts.flatMap((c) =>
    c.workloads.map((w) => {
      const d = objects.find((o) => o.kind === w.kind && o.metadata.name === w.name)!;
      const container = podSpecOf(d)!.containers.find((x) => x.name === w.container)!;
      const env = (container.env ?? []).map((e) => [e.name, e.value ?? JSON.stringify(e.valueFrom)] as [string, string]);
      const group = c.orderSensitive[0]!;
      const derive =
        group.algorithm === 'revue-ts-getBrokersFromEnv'
          ? (e: [string, string][]) => brokersFromEnvTs(e, c.runtime.startEnv.NODE_ENV)
          : (e: [string, string][]) => brokersFromEnvPy(e, c.runtime.startEnv.ENV);
      return { service: c.component, env, derive, dotenv: c.runtime.dotenv !== undefined };
    }),
  );
}

/** Why Revue cannot reach a broker at host:port in the rendered objects (undefined when it can). */
function unreachable(objects: K8sObject[], namespace: string, { host, port }: KafkaBroker): string | undefined {
  const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === host && o.metadata.namespace === namespace);
  if (!svc) return `no Service ${host}`;
  const sp = (svc.spec as any).ports.find((p: any) => p.port === Number(port));
  if (!sp) return `Service ${host} has no port ${port}`;
  const broker = objects.find(
    (o) => o.kind === 'Deployment' && Object.entries((svc.spec as any).selector).every(([k, v]) => (o.spec as any).template.metadata.labels[k] === v),
  )!;
  const c = podSpecOf(broker)!.containers[0]!;
  const cp = (c.ports as any[]).find((p) => p.name === sp.targetPort || p.containerPort === sp.targetPort).containerPort;
  const env = new Map((c.env ?? []).map((e) => [e.name, e.value ?? '']));
  const listener = parseListeners(env.get('KAFKA_CFG_LISTENERS')!).find((l) => l.port === cp);
  const advertised = parseListeners(env.get('KAFKA_CFG_ADVERTISED_LISTENERS')!).find((l) => l.name === listener?.name);
  if (advertised?.host !== host || advertised.port !== Number(port)) return `${broker.metadata.name} advertises ${advertised?.host}:${advertised?.port}`;
  return undefined;
}

const isKafka = ([k]: [string, string]) => k.startsWith('KAFKA_HOST') || k.startsWith('KAFKA_PORT');

describe.each([
  ['the lab inventory', labInventory()],
  ['the smallest inventory', minimalInventory()],
])('Kafka brokers under every environment order (%s)', (_name, inventory) => {
  const objects = renderWorkloads(inventory, { secrets: 'references' });
  const namespace = inventory.workloads.namespace;

  it('covers every Revue container that reads the brokers (the TS and the Python variant)', () => {
    expect(
      cases(objects)
        .map((c) => c.service)
        .sort(),
    ).toEqual(['alarm', 'device', 'log', 'monitoring', 'notification', 'recognition']);
  });

  it('every permutation of the order-sensitive variables, before and after the baked .env loads, reaches a broker', () => {
    const failures: string[] = [];
    let checked = 0;
    for (const c of cases(objects)) {
      const others = c.env.filter((e) => !isKafka(e));
      const group = c.env.filter(isKafka);
      expect(group.length, c.service).toBe(4);
      for (const order of permutations(group)) {
        const before = [...others, ...order];
        for (const env of c.dotenv ? [before, withDotenv(before, bakedDotenv)] : [before]) {
          checked++;
          for (const broker of c.derive(env)) {
            const why = unreachable(objects, namespace, broker);
            if (why) failures.push(`${c.service} [${order.map(([k]) => k).join(', ')}] → ${broker.host}:${broker.port}: ${why}`);
          }
        }
      }
    }
    expect(checked).toBe(6 * 24 * 2);
    expect(failures.slice(0, 5)).toEqual([]);
  });

  it('random orders of the whole environment (not only the Kafka variables) agree: the other names never matter', () => {
    const random = deterministicRandom('kafka-order');
    const failures: string[] = [];
    for (const c of cases(objects)) {
      for (let round = 0; round < 200; round++) {
        const env = [...c.env];
        for (let i = env.length - 1; i > 0; i--) {
          const j = random(4).readUInt32BE(0) % (i + 1);
          [env[i], env[j]] = [env[j]!, env[i]!];
        }
        for (const broker of c.derive(withDotenv(env, bakedDotenv))) {
          const why = unreachable(objects, namespace, broker);
          if (why) failures.push(`${c.service} round ${round}: ${broker.host}:${broker.port}: ${why}`);
        }
      }
    }
    expect(failures.slice(0, 5)).toEqual([]);
  });
});
