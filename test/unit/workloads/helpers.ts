import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunEvent } from '../../../core/events.js';
import { inventorySchema, type Inventory } from '../../../core/inventory/schema.js';
import { RunLog } from '../../../core/log.js';
import type { NodeFacts } from '../../../provision/facts.js';
import { freshPiFacts } from '../../../provision/fresh.js';
import type { WorkloadsPhaseOptions } from '../../../workloads/phase.js';
import { WORKLOAD_SECRETS_FILE } from '../../../workloads/secrets-file.js';
import type { WorkloadSecrets } from '../../../workloads/secrets.js';
import { deterministicRandom } from '../../fakes/deterministic-random.js';
import { FakeKube } from '../../fakes/fake-kube.js';
import { FakeTransport } from '../../fakes/fake-transport.js';

/** A full inventory (every workload on, fixed addresses set) as a user would write it, parsed with the real schema. */
export function labInventory(
  overrides: { workloads?: Record<string, unknown>; network?: Record<string, unknown>; cluster?: Record<string, unknown> } = {},
): Inventory {
  return inventorySchema.parse({
    cluster: { name: 'lab', domain: 'revue.lan', ...overrides.cluster },
    nodes: [
      { name: 'pi-1', host: '127.0.0.11', role: 'server' },
      { name: 'pi-2', host: '127.0.0.12', role: 'agent' },
      { name: 'pi-3', host: '127.0.0.13', role: 'agent' },
    ],
    network: {
      metallb: {
        pools: [
          { name: 'lan', addresses: ['192.168.50.240/28'] },
          { name: 'spare', addresses: ['192.168.50.200-192.168.50.210'] },
        ],
      },
      addresses: { ingress: '192.168.50.240', mediaServer: '192.168.50.241', kafka: ['192.168.50.242', '192.168.50.243'] },
      ...overrides.network,
    },
    workloads: { mediaServerHosts: ['media.revue.lan', '192.168.50.241'], ...overrides.workloads },
  });
}

/** The smallest valid inventory: everything at its defaults. */
export function minimalInventory(): Inventory {
  return inventorySchema.parse({ cluster: { name: 'mini' }, nodes: [{ name: 'pi', host: '127.0.0.20', role: 'server' }] });
}

export const PI4 = 'Raspberry Pi 4 Model B Rev 1.5';

/** A Pi's facts as the probe would read them (a Pi 5 with 4 cores and 8 GiB unless told otherwise). */
export function facts(model = 'Raspberry Pi 5 Model B Rev 1.0', cpuCores = 4, memGiB = 8): NodeFacts {
  return { ...freshPiFacts({} as never), model, cpuCores, memoryBytes: memGiB * 1024 ** 3 };
}

/** The first server's transport with a scripted Kubernetes behind it (FakeKube, a TEST DOUBLE), and what the phase emitted. */
export interface World {
  dir: string;
  transport: FakeTransport;
  kube: FakeKube;
  log: RunLog;
  events: RunEvent[];
}

/** A world whose state directory is `<dir>/state`; nodes pi-1..3 (pi-3 a Pi 4 in `options`). */
export function world(dir: string): World {
  const transport = new FakeTransport('pi-1');
  const kube = new FakeKube(transport, { 'pi-1': { 'kubernetes.io/hostname': 'pi-1' }, 'pi-2': {}, 'pi-3': {} });
  return { dir, transport, kube, log: new RunLog(join(dir, 'state'), 'up'), events: [] };
}

/** runWorkloadsPhase's options for the world: pi-1 and pi-2 are Pi 5s, pi-3 a Pi 4; short polls and deadlines. */
export function options(w: World, inventory: Inventory, extra: Partial<WorkloadsPhaseOptions> = {}): WorkloadsPhaseOptions {
  const nodeFacts: Record<string, NodeFacts> = { 'pi-1': facts(), 'pi-2': facts(), 'pi-3': facts(PI4) };
  return {
    command: 'up',
    inventory,
    stateDir: join(w.dir, 'state'),
    emit: (e) => w.events.push(e),
    log: w.log,
    firstServer: { node: inventory.nodes[0]!, transport: w.transport },
    kubectl: w.kube.kubectl,
    nodes: inventory.nodes.map((node) => ({ node, facts: nodeFacts[node.name]! })),
    random: deterministicRandom('phase-test'),
    pollIntervalMs: 5,
    phaseTimeoutMs: 2000,
    ...extra,
  };
}

/** The workload secrets the phase kept in the world's state directory. */
export function storedSecrets(dir: string): WorkloadSecrets {
  return JSON.parse(readFileSync(join(dir, 'state', WORKLOAD_SECRETS_FILE), 'utf8')) as WorkloadSecrets;
}
