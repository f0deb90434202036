import { describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { deterministicRandom } from '../../fakes/deterministic-random.js';
import {
  RESERVED_NAMESPACES,
  ARMV82_LABEL,
  FIXED_IP_ANNOTATION,
  type K8sObject,
  MANAGED_BY_LABEL,
  PHASE_LABEL,
  PHASES,
  objectsOfPhase,
  packageRoot,
  podSpecOf,
  renderMetallbPools,
  renderWorkloads,
  synthYaml,
} from '../../../workloads/render.js';
import { formatHostsLines, renderAccessInfo } from '../../../workloads/access.js';
import { CHARTS, REVUE_SERVICES } from '../../../core/inventory/images.js';
import { MONGO_SERVICES, generateWorkloadSecrets } from '../../../workloads/secrets.js';
import { labInventory, minimalInventory } from './helpers.js';

const secrets = generateWorkloadSecrets(deterministicRandom('render'));

function find(objects: K8sObject[], kind: string, name: string, namespace?: string): K8sObject {
  const hit = objects.filter((o) => o.kind === kind && o.metadata.name === name && (namespace === undefined || o.metadata.namespace === namespace));
  expect(hit, `${kind} ${namespace ?? '*'}/${name}`).toHaveLength(1);
  return hit[0]!;
}

function env(o: K8sObject, name: string): { name: string; value?: string; valueFrom?: unknown } | undefined {
  return podSpecOf(o)!.containers[0]!.env?.find((e) => e.name === name);
}

function values(o: K8sObject): Record<string, any> {
  return yaml.load((o.spec as { valuesContent: string }).valuesContent) as Record<string, any>;
}

describe('renderWorkloads — the full lab inventory', () => {
  const inv = labInventory();
  const objects = renderWorkloads(inv, { secrets });

  it('deploys every Revue service upstream deploys, each with a Service and an autoscaler', () => {
    for (const s of REVUE_SERVICES) {
      const d = find(objects, 'Deployment', `revue-${s}`, 'revue');
      expect(podSpecOf(d)!.containers[0]!.image).toBe(`letsdothisshared/revue-${s}:3.1.14`);
      find(objects, 'Service', `revue-${s}`, 'revue');
      const hpa = find(objects, 'HorizontalPodAutoscaler', `revue-${s}-hpa`, 'revue');
      const spec = hpa.spec as any;
      expect(spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: `revue-${s}` });
      // As upstream: 1–5 replicas at 60 % CPU, except recognition (1–2 at 80 %).
      if (s === 'recognition') {
        expect([spec.minReplicas, spec.maxReplicas, spec.metrics[0].resource.target.averageUtilization]).toEqual([1, 2, 80]);
      } else {
        expect([spec.minReplicas, spec.maxReplicas, spec.metrics[0].resource.target.averageUtilization]).toEqual([1, 5, 60]);
      }
      // The autoscaler owns the replica count: a re-apply must not reset it.
      expect((d.spec as any).replicas).toBeUndefined();
    }
  });

  it('runs the seven MongoDB instances with their PVC, init ConfigMap and Service, only on ARMv8.2 nodes', () => {
    const mongo = objects.filter((o) => podSpecOf(o)?.containers.some((c) => c.image.startsWith('mongo:')));
    expect(mongo.map((o) => o.metadata.name).sort()).toEqual(MONGO_SERVICES.map((s) => `revue-${s}-db`));
    for (const s of MONGO_SERVICES) {
      const d = find(objects, 'Deployment', `revue-${s}-db`, 'revue');
      const pod = podSpecOf(d)!;
      expect(pod.affinity).toEqual({
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: ARMV82_LABEL, operator: 'In', values: ['true'] }] }],
          },
        },
      });
      expect(pod.containers[0]!.image).toBe('mongo:7.0.14');
      expect(env(d, 'MONGO_INITDB_ROOT_PASSWORD')).toEqual({
        name: 'MONGO_INITDB_ROOT_PASSWORD',
        valueFrom: { secretKeyRef: { name: `revue-${s}-db`, key: 'password' } },
      });
      expect((d.spec as any).strategy).toEqual({ type: 'Recreate' });
      expect((find(objects, 'PersistentVolumeClaim', `revue-${s}-data`, 'revue').spec as any).storageClassName).toBe('local-path');
      expect(Object.keys((find(objects, 'ConfigMap', `revue-${s}-db-init`, 'revue') as any).data)).toHaveLength(1);
      find(objects, 'Service', `revue-${s}-db`, 'revue');
    }
    // Nothing else is pinned to ARMv8.2 nodes.
    const pinned = objects.filter((o) => JSON.stringify(podSpecOf(o)?.affinity ?? {}).includes(ARMV82_LABEL));
    expect(pinned).toHaveLength(7);
  });

  it('injects the same generated password into each service and its database', () => {
    const auth = find(objects, 'Deployment', 'revue-auth', 'revue');
    expect(env(auth, 'AUTH_DB_PASSWORD')).toEqual({ name: 'AUTH_DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'revue-auth-db', key: 'password' } } });
    expect(env(auth, 'AUTH_DB_HOST')?.value).toBe('revue-auth-db');
    expect(env(auth, 'AUTH_DB_PORT')?.value).toBe('27017');
    expect(env(auth, 'JWT_SECRET')).toEqual({ name: 'JWT_SECRET', valueFrom: { secretKeyRef: { name: 'revue-tokens', key: 'JWT_SECRET' } } });
    const secret = find(objects, 'Secret', 'revue-auth-db', 'revue') as any;
    expect(Buffer.from(secret.data.password, 'base64').toString()).toBe(secrets.mongoRootPasswords.auth);
    const tokens = find(objects, 'Secret', 'revue-tokens', 'revue') as any;
    expect(Buffer.from(tokens.data.DEV_API_KEY, 'base64').toString()).toBe(secrets.devApiKey);
    expect(Object.keys(tokens.data)).toHaveLength(3 + 11);
  });

  it('runs Kafka ×2 and ZooKeeper ×2 as one ensemble, brokers advertising their fixed LAN addresses', () => {
    expect(env(find(objects, 'Deployment', 'revue-kafka-1'), 'KAFKA_CFG_ADVERTISED_LISTENERS')?.value).toBe(
      'PLAINTEXT://revue-kafka-1:9092,EXTERNAL://192.168.50.242:9094',
    );
    expect(env(find(objects, 'Deployment', 'revue-kafka-2'), 'KAFKA_CFG_ADVERTISED_LISTENERS')?.value).toBe(
      'PLAINTEXT://revue-kafka-2:9092,EXTERNAL://192.168.50.243:9095',
    );
    expect(env(find(objects, 'Deployment', 'revue-kafka-1'), 'KAFKA_CFG_ZOOKEEPER_CONNECT')?.value).toBe('revue-zookeeper-1:2181,revue-zookeeper-2:2182');
    for (const n of [1, 2]) {
      const zk = find(objects, 'Deployment', `revue-zookeeper-${n}`);
      expect(env(zk, 'ZOO_SERVER_ID')?.value).toBe(String(n));
      expect(podSpecOf(zk)!.containers[0]!.image).toBe('bitnamilegacy/zookeeper:3.9.3-debian-12-r22');
      expect((find(objects, 'Service', `revue-zookeeper-${n}`).spec as any).publishNotReadyAddresses).toBe(true);
    }
    const kafka1 = find(objects, 'Service', 'revue-kafka-1');
    expect((kafka1.spec as any).type).toBe('LoadBalancer');
    expect(kafka1.metadata.annotations?.[FIXED_IP_ANNOTATION]).toBe('192.168.50.242');
    expect(find(objects, 'Service', 'revue-kafka-2').metadata.annotations?.[FIXED_IP_ANNOTATION]).toBe('192.168.50.243');
  });

  it('gives the media server its fixed address and the WebRTC hosts from the inventory', () => {
    const svc = find(objects, 'Service', 'revue-media-server', 'revue');
    expect((svc.spec as any).type).toBe('LoadBalancer');
    expect(svc.metadata.annotations).toEqual({ [FIXED_IP_ANNOTATION]: '192.168.50.241' });
    expect(env(find(objects, 'Deployment', 'revue-media-server'), 'MTX_WEBRTCADDITIONALHOSTS')?.value).toBe(
      'revue-media-server,media.revue.lan,192.168.50.241',
    );
    expect((svc.spec as any).ports.map((p: any) => `${p.port}/${p.protocol}`)).toEqual([
      '8554/TCP',
      '1935/TCP',
      '8888/TCP',
      '8889/TCP',
      '8890/UDP',
      '8189/UDP',
    ]);
  });

  it("routes every host upstream routes as <service>.<domain> and as upstream's revue-<service>", () => {
    const hosts = objects
      .filter((o) => o.kind === 'IngressRoute')
      .flatMap((o) => (o.spec as any).routes.map((r: any) => `${o.metadata.namespace}:${r.match}`))
      .sort();
    expect(hosts).toEqual(
      [
        ...['alarm', 'auth', 'device', 'frontend', 'location', 'log', 'monitoring', 'notification', 'recognition', 'user'].map(
          (s) => `revue:Host(\`${s}.revue.lan\`) || Host(\`revue-${s}\`)`,
        ),
        'revue:Host(`kafka-ui.revue.lan`) || Host(`revue-kafka-ui`)',
        'monitoring:Host(`grafana.revue.lan`)',
        'monitoring:Host(`prometheus.revue.lan`)',
      ].sort(),
    );
    // Traefik's own dashboard route comes from its chart, configured by host.
    const traefik = find(objects, 'HelmChartConfig', 'traefik', 'kube-system');
    expect(values(traefik)).toEqual({
      ingressRoute: { dashboard: { enabled: true, entryPoints: ['web'], matchRule: 'Host(`traefik.revue.lan`)' } },
      resources: { limits: { cpu: '1', memory: '256Mi' }, requests: { cpu: '100m', memory: '64Mi' } },
      service: { annotations: { [FIXED_IP_ANNOTATION]: '192.168.50.240' } },
    });
  });

  it('installs Prometheus and Grafana as K3s HelmCharts at the pinned versions, sized for Pis', () => {
    const prom = find(objects, 'HelmChart', 'prometheus', 'kube-system');
    expect((prom.spec as any).repo).toBe('https://prometheus-community.github.io/helm-charts');
    expect((prom.spec as any).version).toBe(CHARTS.prometheus.version);
    expect((prom.spec as any).targetNamespace).toBe('monitoring');
    const pv = values(prom);
    expect(pv.server.global.scrape_interval).toBe('60s');
    expect(pv.server.retention).toBe('3d');
    expect(pv.alertmanager.enabled).toBe(false);
    expect(pv.server.persistentVolume.storageClass).toBe('local-path');
    expect(pv.server.resources.limits).toEqual({ cpu: '1', memory: '1Gi' });

    const graf = find(objects, 'HelmChart', 'grafana', 'kube-system');
    expect((graf.spec as any).repo).toBe('https://grafana-community.github.io/helm-charts');
    expect((graf.spec as any).version).toBe(CHARTS.grafana.version);
    const gv = values(graf);
    expect(gv.admin).toEqual({ existingSecret: 'grafana-admin', userKey: 'admin-user', passwordKey: 'admin-password' });
    expect(gv.datasources['datasources.yaml'].datasources[0]).toMatchObject({
      type: 'prometheus',
      url: 'http://prometheus-server.monitoring.svc:80',
      isDefault: true,
    });
    expect(Object.values(gv.dashboards.default).map((d: any) => d.gnetId)).toEqual([15757, 15759, 15760, 15761]);
    expect(gv.persistence.storageClassName).toBe('local-path');
    const admin = find(objects, 'Secret', 'grafana-admin', 'monitoring') as any;
    expect(Buffer.from(admin.data['admin-password'], 'base64').toString()).toBe(secrets.grafanaAdminPassword);
  });

  it('generates the inventory pools minus the fixed addresses, a non-auto pool holding those, and an L2Advertisement', () => {
    const pools = objectsOfPhase(objects, 'metallb-config').map((o) => [o.kind, o.metadata.namespace, o.metadata.name, o.spec]);
    expect(pools).toEqual([
      ['IPAddressPool', 'metallb-system', 'lan', { addresses: ['192.168.50.244-192.168.50.255'], autoAssign: true }],
      [
        'IPAddressPool',
        'metallb-system',
        'revue-pi-fixed',
        { addresses: ['192.168.50.240/32', '192.168.50.241/32', '192.168.50.242/32', '192.168.50.243/32'], autoAssign: false },
      ],
      ['IPAddressPool', 'metallb-system', 'spare', { addresses: ['192.168.50.200-192.168.50.210'], autoAssign: true }],
      ['L2Advertisement', 'metallb-system', 'revue-pi', { ipAddressPools: ['lan', 'spare', 'revue-pi-fixed'] }],
    ]);
  });

  it('bundles MetalLB v0.16.1 native: privileged namespace, controller, speaker, webhook', () => {
    const ns = find(objects, 'Namespace', 'metallb-system');
    expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('privileged');
    expect(podSpecOf(find(objects, 'Deployment', 'controller', 'metallb-system'))!.containers[0]!.image).toBe('quay.io/metallb/controller:v0.16.1');
    expect(podSpecOf(find(objects, 'DaemonSet', 'speaker', 'metallb-system'))!.containers[0]!.image).toBe('quay.io/metallb/speaker:v0.16.1');
    find(objects, 'ValidatingWebhookConfiguration', 'metallb-webhook-configuration');
    const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name);
    expect(crds).toContain('ipaddresspools.metallb.io');
    expect(crds).toContain('l2advertisements.metallb.io');
    expect(crds).toContain('servicel2statuses.metallb.io');
  });

  it('labels every object with its owner and apply phase, namespaces and CRDs first', () => {
    for (const o of objects) {
      expect(o.metadata.labels?.[MANAGED_BY_LABEL], `${o.kind} ${o.metadata.name}`).toBe('revue-pi');
      expect(PHASES).toContain(o.metadata.labels?.[PHASE_LABEL]);
    }
    const firstOther = objects.findIndex((o) => o.kind !== 'Namespace' && o.kind !== 'CustomResourceDefinition');
    expect(objects.slice(0, firstOther).every((o) => o.kind === 'Namespace' || o.kind === 'CustomResourceDefinition')).toBe(true);
    expect(objects.slice(firstOther).some((o) => o.kind === 'Namespace' || o.kind === 'CustomResourceDefinition')).toBe(false);
    expect(objects.slice(0, 3).map((o) => o.metadata.name)).toEqual(['metallb-system', 'monitoring', 'revue']);
  });
});

describe('renderWorkloads — inventory switches and transforms', () => {
  it('renders nothing of monitoring when it is off', () => {
    const objects = renderWorkloads(labInventory({ workloads: { monitoring: false } }), { secrets });
    expect(objects.filter((o) => o.metadata.namespace === 'monitoring' || (o.metadata.name === 'monitoring' && o.kind === 'Namespace'))).toEqual([]);
    expect(objects.filter((o) => o.kind === 'HelmChart')).toEqual([]);
    expect(objects.some((o) => o.metadata.labels?.[PHASE_LABEL] === 'monitoring')).toBe(false);
    expect(synthYaml(objects)).not.toContain(secrets.grafanaAdminPassword);
    expect(synthYaml(objects)).not.toContain(Buffer.from(secrets.grafanaAdminPassword).toString('base64'));
  });

  it('renders no kafka-ui when it is off, and nothing of Revue when Revue is off', () => {
    const noUi = renderWorkloads(labInventory({ workloads: { kafkaUi: false } }), { secrets });
    expect(noUi.filter((o) => o.metadata.name.includes('kafka-ui'))).toEqual([]);
    expect(noUi.some((o) => o.metadata.name === 'revue-kafka-1')).toBe(true);
    const noRevue = renderWorkloads(labInventory({ workloads: { revue: false } }), { secrets });
    expect(noRevue.filter((o) => o.metadata.labels?.[PHASE_LABEL] === 'revue')).toEqual([]);
    expect(noRevue.some((o) => o.kind === 'HelmChart')).toBe(true);
  });

  it('leaves MetalLB out when the inventory disables it', () => {
    const objects = renderWorkloads(labInventory({ network: { metallb: { enabled: false } } }), { secrets: 'references' });
    expect(objects.filter((o) => o.metadata.labels?.[PHASE_LABEL]?.startsWith('metallb'))).toEqual([]);
  });

  it('puts Revue in the inventory namespace and routes the inventory domain', () => {
    const objects = renderWorkloads(labInventory({ workloads: { namespace: 'shop' }, cluster: { domain: 'pi.example' } }), { secrets });
    const revue = objects.filter((o) => o.metadata.labels?.[PHASE_LABEL] === 'revue');
    expect(revue.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)).toEqual(['shop']);
    expect(revue.filter((o) => o.kind !== 'Namespace').every((o) => o.metadata.namespace === 'shop')).toBe(true);
    const text = synthYaml(objects);
    expect(text).toContain('Host(`frontend.pi.example`)');
    expect(text).toContain('Host(`grafana.pi.example`)');
    expect(text).toContain('Host(`traefik.pi.example`)');
    expect(text).not.toMatch(/\.revue\.(local|lan)`/);
  });

  it.each(RESERVED_NAMESPACES)('refuses %s as the Revue namespace, naming the field (the schema first, render too)', (namespace) => {
    expect(() => labInventory({ workloads: { namespace } })).toThrow(new RegExp(`${namespace}.{0,2}" is reserved`));
    const inventory = labInventory();
    const reserved = { ...inventory, workloads: { ...inventory.workloads, namespace } };
    expect(() => renderWorkloads(reserved, { secrets: 'references' })).toThrow(
      `The inventory field workloads.namespace (${namespace}) names a namespace revue-pi uses for something else.`,
    );
  });

  it('uses the Revue release and image overrides from the inventory', () => {
    const objects = renderWorkloads(
      labInventory({
        workloads: { revueVersion: 'v3.2.0', images: { mongo: 'mongo:7.0.20', 'kafka-ui': 'registry.lan:5000/kafka-ui@sha256:' + 'a'.repeat(64) } },
      }),
      { secrets: 'references' },
    );
    expect(podSpecOf(find(objects, 'Deployment', 'revue-auth'))!.containers[0]!.image).toBe('letsdothisshared/revue-auth:3.2.0');
    expect(podSpecOf(find(objects, 'Deployment', 'revue-user-db'))!.containers[0]!.image).toBe('mongo:7.0.20');
    expect(podSpecOf(find(objects, 'Deployment', 'revue-kafka-ui'))!.containers[0]!.image).toBe(`registry.lan:5000/kafka-ui@sha256:${'a'.repeat(64)}`);
  });

  it('omits the annotations and LAN addresses the inventory does not set', () => {
    const objects = renderWorkloads(minimalInventory(), { secrets: 'references' });
    expect(objects.filter((o) => o.metadata.annotations?.[FIXED_IP_ANNOTATION] !== undefined)).toEqual([]);
    expect(values(find(objects, 'HelmChartConfig', 'traefik')).service).toBeUndefined();
    expect(env(find(objects, 'Deployment', 'revue-kafka-1'), 'KAFKA_CFG_ADVERTISED_LISTENERS')?.value).toBe(
      'PLAINTEXT://revue-kafka-1:9092,EXTERNAL://revue-kafka-1:9094',
    );
    expect(env(find(objects, 'Deployment', 'revue-media-server'), 'MTX_WEBRTCADDITIONALHOSTS')?.value).toBe('revue-media-server');
    // No pools in the inventory: no pools rendered (the inventory rules are where a missing pool is reported).
    expect(objects.filter((o) => o.kind === 'IPAddressPool' || o.kind === 'L2Advertisement')).toEqual([]);
    expect(objects.some((o) => o.kind === 'Deployment' && o.metadata.name === 'revue-frontend')).toBe(true);
  });

  it("with secrets: 'references' renders no Secret holding data, but still references them", () => {
    const objects = renderWorkloads(labInventory(), { secrets: 'references' });
    expect(objects.filter((o) => o.kind === 'Secret').map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'metallb-system/metallb-webhook-cert',
    ]);
    expect(objects.some((o) => o.kind === 'Secret' && o.data !== undefined)).toBe(false);
    expect(synthYaml(objects)).toContain('name: revue-tokens');
  });
});

describe('renderMetallbPools', () => {
  it('cuts fixed addresses out of the middle of a pool, keeps untouched entries as written, drops emptied pools', () => {
    const inv = labInventory({
      network: {
        metallb: {
          pools: [
            { name: 'a', addresses: ['10.1.0.0/29', '10.2.0.0/30'] },
            { name: 'only-fixed', addresses: ['10.3.0.7/32'] },
          ],
        },
        addresses: { ingress: '10.1.0.3', mediaServer: '10.3.0.7', kafka: ['10.1.0.0', '10.1.0.7'] },
      },
    });
    expect(renderMetallbPools(inv).map((o) => [o.metadata.name, o.spec])).toEqual([
      ['a', { addresses: ['10.1.0.1-10.1.0.2', '10.1.0.4-10.1.0.6', '10.2.0.0/30'], autoAssign: true }],
      ['revue-pi-fixed', { addresses: ['10.1.0.0/32', '10.1.0.3/32', '10.1.0.7/32', '10.3.0.7/32'], autoAssign: false }],
      ['revue-pi', { ipAddressPools: ['a', 'revue-pi-fixed'] }],
    ]);
  });

  it('renders the pools as written when no address is fixed, and nothing without pools', () => {
    const inv = labInventory({ network: { addresses: {} } });
    expect(renderMetallbPools(inv).map((o) => o.metadata.name)).toEqual(['lan', 'spare', 'revue-pi']);
    expect((renderMetallbPools(inv)[0]!.spec as any).addresses).toEqual(['192.168.50.240/28']);
    expect(renderMetallbPools(minimalInventory())).toEqual([]);
  });

  it.each([
    [
      { metallb: { pools: [{ name: 'revue-pi-fixed', addresses: ['10.0.0.0/29'] }] }, addresses: { ingress: '10.0.0.1' } },
      /network\.metallb\.pools\[0\]\.name uses the reserved name/,
    ],
    [
      { metallb: { pools: [{ name: 'a', addresses: ['10.0.0.0/29'] }] }, addresses: { ingress: 'traefik.lan' } },
      /network\.addresses\.ingress \(traefik\.lan\) is not an IPv4 address/,
    ],
    [
      { metallb: { pools: [{ name: 'a', addresses: ['10.0.0.1/29'] }] }, addresses: {} },
      /network\.metallb\.pools\[0\]\.addresses\[0\] \(10\.0\.0\.1\/29\) is not a CIDR or range/,
    ],
  ])('names the inventory field it cannot use (%#)', (network, message) => {
    expect(() => renderMetallbPools(labInventory({ network }))).toThrow(message);
  });
});

describe('packageRoot', () => {
  it('finds the package from the sources and from the bundled dist/revue-pi.js location', () => {
    const root = packageRoot();
    expect(packageRoot(new URL('../../../workloads/render.ts', import.meta.url).href)).toBe(root);
    expect(packageRoot(new URL('../../../dist/revue-pi.js', import.meta.url).href)).toBe(root);
    expect(packageRoot(new URL('../../../dist/chunks/render-abc.js', import.meta.url).href)).toBe(root);
  });

  it('fails with a sentence when no package holds it', () => {
    expect(() => packageRoot('/tmp/nowhere/x.js')).toThrow(/Could not find the revue-pi package/);
  });
});

describe('renderAccessInfo', () => {
  it('lists the URLs, every routed host on the ingress address, the media server on its own, the Grafana password and the Revue logins', () => {
    const inv = labInventory();
    const info = renderAccessInfo(inv, renderWorkloads(inv, { secrets: 'references' }));
    expect(info.urls).toEqual([
      { name: 'Revue', url: 'http://frontend.revue.lan/' },
      { name: 'Grafana', url: 'http://grafana.revue.lan/' },
      { name: 'Prometheus', url: 'http://prometheus.revue.lan/' },
      { name: 'Traefik dashboard', url: 'http://traefik.revue.lan/dashboard/' },
      { name: 'Kafka UI', url: 'http://kafka-ui.revue.lan/' },
    ]);
    // 11 Revue names twice (<service>.<domain> and revue-<service>), Grafana, Prometheus, Traefik.
    expect(info.hosts).toHaveLength(25);
    expect(info.hosts).toEqual(expect.arrayContaining(['auth.revue.lan', 'revue-auth', 'revue-kafka-ui', 'traefik.revue.lan']));
    expect(info.hostsEntries).toEqual([
      { address: '192.168.50.240', lookup: 'kubectl -n kube-system get service traefik', target: { kind: 'ingress' }, names: info.hosts },
      {
        address: '192.168.50.241',
        lookup: 'kubectl -n revue get service revue-media-server',
        target: { kind: 'service', namespace: 'revue', name: 'revue-media-server' },
        names: ['revue-media-server'],
      },
    ]);
    expect(info.hostsHint).toBe(
      "Add to /etc/hosts on the computer you browse from (Revue's web UI calls its services as revue-<service>, which no DNS zone for *.revue.lan serves):",
    );
    expect(formatHostsLines(info.hostsEntries)).toEqual([
      '192.168.50.240 alarm.revue.lan auth.revue.lan device.revue.lan frontend.revue.lan grafana.revue.lan',
      '192.168.50.240 kafka-ui.revue.lan location.revue.lan log.revue.lan monitoring.revue.lan',
      '192.168.50.240 notification.revue.lan prometheus.revue.lan recognition.revue.lan revue-alarm',
      '192.168.50.240 revue-auth revue-device revue-frontend revue-kafka-ui revue-location revue-log',
      '192.168.50.240 revue-monitoring revue-notification revue-recognition revue-user traefik.revue.lan',
      '192.168.50.240 user.revue.lan',
      '192.168.50.241 revue-media-server',
    ]);
    expect(info.grafanaPassword).toBe(
      "Grafana user admin; password: kubectl -n monitoring get secret grafana-admin -o jsonpath='{.data.admin-password}' | base64 -d; echo",
    );
    expect(info.revueLogins).toMatch(/^Revue logins: admin \(role admin\) and user \(role guardian\), both with password "user"/);
  });

  it('without a fixed address or monitoring: placeholders and where to read the addresses, no Grafana', () => {
    const inv = minimalInventory();
    const noMon = { ...inv, workloads: { ...inv.workloads, monitoring: false } };
    const info = renderAccessInfo(noMon, renderWorkloads(noMon, { secrets: 'references' }));
    expect(info.ingressAddress).toBeUndefined();
    expect(info.hostsHint).toMatch(
      /: for <traefik-address> read the EXTERNAL-IP of kubectl -n kube-system get service traefik; for <revue-media-server-address> read /,
    );
    expect(info.grafanaPassword).toBeUndefined();
    expect(info.urls.map((u) => u.name)).toEqual(['Revue', 'Traefik dashboard', 'Kafka UI']);
    expect(formatHostsLines(renderAccessInfo(noMon, [], '10.0.0.9').hostsEntries)).toEqual(['10.0.0.9 traefik.revue.local']);
  });

  it('without Revue: no revue-* names, no media server line, no Revue logins', () => {
    const inv = labInventory({ workloads: { revue: false } });
    const info = renderAccessInfo(inv, renderWorkloads(inv, { secrets: 'references' }));
    expect(info.hosts).toEqual(['grafana.revue.lan', 'prometheus.revue.lan', 'traefik.revue.lan']);
    expect(info.hostsEntries).toHaveLength(1);
    expect(info.hostsHint).toBe('Add to /etc/hosts on the computer you browse from:');
    expect(info.revueLogins).toBeUndefined();
  });

  it('formatHostsLines keeps every line within the width, one address per line', () => {
    const names = Array.from({ length: 30 }, (_, i) => `service-number-${i}.revue.lan`);
    const lines = formatHostsLines([{ address: '192.168.1.240', lookup: '', target: { kind: 'ingress' }, names }], 80);
    expect(lines.every((l) => l.length <= 80 && l.startsWith('192.168.1.240 '))).toBe(true);
    expect(lines.flatMap((l) => l.split(' ').slice(1))).toEqual(names);
  });
});
