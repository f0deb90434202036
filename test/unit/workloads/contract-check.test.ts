import { describe, expect, it } from 'vitest';
import { renderAccessInfo } from '../../../workloads/access.js';
import { checkContracts } from '../../../workloads/contract-check.js';
import { loadBakedDotenv, loadContracts } from '../../../workloads/contracts.js';
import { type K8sObject, packageRoot, renderWorkloads } from '../../../workloads/render.js';
import { generateWorkloadSecrets } from '../../../workloads/secrets.js';
import { deterministicRandom } from '../../fakes/deterministic-random.js';
import { labInventory, minimalInventory } from './helpers.js';

/**
 * The rendered manifests against the behaviour contracts (workloads/revue/contracts/): first that they hold for several
 * inventories, then that each kind of check does fail when the manifests break what a contract says.
 */

const root = packageRoot();
const contracts = loadContracts(root);
const bakedDotenv = loadBakedDotenv(root);
const secrets = generateWorkloadSecrets(deterministicRandom('contracts'));

function check(inventory = labInventory(), mutate?: (objects: K8sObject[]) => void, dotenv = bakedDotenv): string[] {
  const objects = renderWorkloads(inventory, { secrets });
  mutate?.(objects);
  return checkContracts({ objects, contracts, bakedDotenv: dotenv, access: renderAccessInfo(inventory, objects) });
}

describe('the rendered manifests satisfy every contract', () => {
  it.each([
    ['the lab inventory', labInventory()],
    ['the smallest inventory (no fixed addresses)', minimalInventory()],
    ['another namespace, no kafka-ui', labInventory({ workloads: { namespace: 'cams', kafkaUi: false } })],
  ])('%s', (_name, inventory) => {
    expect(check(inventory)).toEqual([]);
  });

  it('not with a domain containing "localhost": the web UI then calls <service>.localhost (the inventory rule domainWithoutLocalhost refuses it)', () => {
    expect(check(labInventory({ cluster: { domain: 'home.localhost' } })).join('\n')).toMatch(
      /the web UI at http:\/\/frontend\.home\.localhost\/ calls http:\/\/auth\.localhost:80 .*no \/etc\/hosts line/,
    );
  });

  it('with Revue off there is nothing to check', () => {
    expect(check(labInventory({ workloads: { revue: false } }))).toEqual([]);
  });
});

describe('the checks can fail', () => {
  const container = (objects: K8sObject[], name: string) => {
    const d = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!;
    return (d.spec as any).template.spec.containers[0] as { env: { name: string; value?: string; valueFrom?: any }[]; ports: any[] };
  };
  const setEnv = (objects: K8sObject[], workload: string, name: string, value: string) => {
    const e = container(objects, workload).env.find((x) => x.name === name)!;
    e.value = value;
    delete e.valueFrom;
  };

  it.each<[string, (o: K8sObject[]) => void, RegExp]>([
    [
      'a variable set twice',
      (o) => container(o, 'revue-auth').env.push({ name: 'AUTH_PORT', value: '4000' }),
      /Deployment revue-auth sets AUTH_PORT more than once/,
    ],
    [
      'a missing manifest variable',
      (o) => (container(o, 'revue-alarm').env = container(o, 'revue-alarm').env.filter((e) => e.name !== 'DEV_API_KEY')),
      /revue-alarm does not set DEV_API_KEY/,
    ],
    [
      "the seed's two broker ports",
      (o) => setEnv(o, 'revue-alarm', 'KAFKA_PORT_2', '9093'),
      /revue-alarm: with its environment in the order .* connects to Kafka at revue-kafka-\d:9093, but/,
    ],
    [
      'an unpaired broker variable',
      (o) => container(o, 'revue-log').env.push({ name: 'KAFKA_HOST_3', value: 'revue-kafka-1' }),
      /revue-log: .* fails: Invalid configuration for Kafka brokers/,
    ],
    [
      'a broker advertising another port',
      (o) => setEnv(o, 'revue-kafka-2', 'KAFKA_CFG_ADVERTISED_LISTENERS', 'PLAINTEXT://revue-kafka-2:9093,EXTERNAL://192.168.50.243:9095'),
      /connects to Kafka at revue-kafka-2:9092, but revue-kafka-2's PLAINTEXT listener advertises revue-kafka-2:9093, so clients are sent elsewhere/,
    ],
    [
      'a database user the image does not create',
      (o) => setEnv(o, 'revue-user', 'USER_DB_USERNAME', 'admin'),
      /revue-user: user's MongoDB connection logs in as admin, but revue-user-db creates root/,
    ],
    [
      'another database password',
      (o) => (container(o, 'revue-device').env.find((e) => e.name === 'DEVICE_DB_PASSWORD')!.valueFrom.secretKeyRef.name = 'revue-log-db'),
      /device's MongoDB connection uses the password secret:revue-log-db\/password, but revue-device-db is given secret:revue-device-db\/password/,
    ],
    [
      'a database name the init script does not open',
      (o) => setEnv(o, 'revue-auth', 'AUTH_DB_NAME', 'users'),
      /revue-auth-db's init script opens database auth, but auth uses users/,
    ],
    [
      'one service with its own JWT secret',
      (o) => setEnv(o, 'revue-location', 'JWT_SECRET', 'other'),
      /JWT_SECRET must hold one value in every service that reads it, but .*Deployment revue-location has other/,
    ],
    [
      'a call to a Service port that does not exist',
      (o) => container(o, 'revue-recognition').env.push({ name: 'MEDIA_SERVER_RTSP_PORT', value: '8555' }),
      /recognition calls rtsp:\/\/revue-media-server:8555 .* Service revue-media-server has no TCP port 8555/,
    ],
    [
      'a container port not declared',
      (o) => (container(o, 'revue-notification').ports[0].containerPort = 4444),
      /revue-notification does not declare TCP port 4004/,
    ],
    ['two ZooKeepers with one id', (o) => setEnv(o, 'revue-zookeeper-2', 'ZOO_SERVER_ID', '1'), /ZOO_SERVER_ID must differ/],
    [
      'the web UI host not routed',
      (o) =>
        o
          .filter((x) => x.kind === 'IngressRoute')
          .forEach((r) => ((r.spec as any).routes = (r.spec as any).routes.map((x: any) => ({ ...x, match: x.match.replace(' || Host(`revue-auth`)', '') })))),
      /calls http:\/\/revue-auth:80 .*no \/etc\/hosts line revue-pi prints names revue-auth/,
    ],
    [
      'the WebRTC UDP port not on the LoadBalancer',
      (o) =>
        ((o.find((x) => x.kind === 'Service' && x.metadata.name === 'revue-media-server')!.spec as any).ports = (
          o.find((x) => x.kind === 'Service' && x.metadata.name === 'revue-media-server')!.spec as any
        ).ports.filter((p: any) => p.port !== 8189)),
      /browsers need UDP port 8189/,
    ],
  ])('%s', (_name, mutate, expected) => {
    const problems = check(labInventory(), mutate);
    expect(problems.join('\n')).toMatch(expected);
  });

  it('a value the baked .env gives (DEVICE_HOST) is missing when the image carries none', () => {
    const problems = check(
      labInventory(),
      undefined,
      bakedDotenv.filter(([k]) => k !== 'DEVICE_HOST'),
    );
    expect(problems).toContain(
      'Deployment revue-alarm: nothing gives DEVICE_HOST a value (host of the device service (common RequestHelper; revue-device in the baked .env); revue-org/revue@v3.1.14:common/src/utils/RequestHelper.ts).',
    );
  });
});
