import { describe, expect, it } from 'vitest';
import { KubeOutputError, isKind, ofKind, parseKubeItem, parseKubeList, parseKubeLists } from '../../../../core/kube/index.js';

/**
 * core/kube's schemas and parser on answers shaped as kubectl v1.33 prints them (`kubectl get … -o json`: a List
 * whose items carry apiVersion and kind, with the many fields revue-pi does not read), and on malformed ones: those
 * fail with a sentence naming the command, the item and the field.
 */
const COMMAND = 'k3s kubectl get nodes,deployments.apps,jobs.batch -A -o json';

const NODE = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {
    annotations: { 'k3s.io/internal-ip': '192.168.1.11', 'etcd.k3s.cattle.io/node-name': 'pi-1-3c1d0f2a' },
    creationTimestamp: '2026-11-20T09:12:44Z',
    finalizers: ['wrangler.cattle.io/node'],
    labels: { 'kubernetes.io/hostname': 'pi-1', 'node-role.kubernetes.io/control-plane': 'true' },
    name: 'pi-1',
    resourceVersion: '48211',
    uid: '0a6c5f52-3a0e-4bde-9d0c-3c0b3b1e4f11',
  },
  spec: { podCIDR: '10.42.0.0/24', podCIDRs: ['10.42.0.0/24'], providerID: 'k3s://pi-1' },
  status: {
    addresses: [
      { address: '192.168.1.11', type: 'InternalIP' },
      { address: 'pi-1', type: 'Hostname' },
    ],
    allocatable: { cpu: '4', memory: '8052060Ki', pods: '110' },
    conditions: [
      {
        lastHeartbeatTime: '2026-11-26T06:40:41Z',
        lastTransitionTime: '2026-11-20T09:12:54Z',
        message: 'kubelet is posting ready status',
        reason: 'KubeletReady',
        status: 'True',
        type: 'Ready',
      },
    ],
    nodeInfo: { architecture: 'arm64', kubeletVersion: 'v1.33.5+k3s1', osImage: 'Debian GNU/Linux 12 (bookworm)' },
  },
};

const DEPLOYMENT = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { generation: 2, labels: { 'revue-pi.io/phase': 'revue' }, name: 'revue-auth', namespace: 'revue', creationTimestamp: '2026-11-20T09:20:00Z' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'revue-auth' } },
    template: { metadata: { creationTimestamp: null, labels: { app: 'revue-auth' } }, spec: { containers: [{ name: 'auth', image: 'x' }] } },
  },
  status: { availableReplicas: 1, observedGeneration: 2, readyReplicas: 1, replicas: 2, updatedReplicas: 2, conditions: [] },
};

const JOB = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'helm-install-grafana', namespace: 'kube-system' },
  spec: { backoffLimit: 1000, template: { spec: { containers: [{ name: 'helm', env: [{ name: 'VERSION', value: '10.1.4' }, { name: 'EMPTY' }] }] } } },
  status: { succeeded: 1, conditions: [{ type: 'Complete', status: 'True', lastProbeTime: '2026-11-20T09:25:00Z' }] },
};

const list = (...items: unknown[]) => JSON.stringify({ apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } }, null, 4);

describe('a real-shaped kubectl answer', () => {
  it('parses into typed objects, each checked by its kind, other fields kept', () => {
    const items = parseKubeList(list(NODE, DEPLOYMENT, JOB), { command: COMMAND });
    const [node] = ofKind(items, 'Node');
    expect(node?.status?.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'True', lastHeartbeatTime: '2026-11-26T06:40:41Z' });
    expect(node?.status?.nodeInfo?.kubeletVersion).toBe('v1.33.5+k3s1');
    expect(node?.metadata?.annotations?.['k3s.io/internal-ip']).toBe('192.168.1.11');
    expect((node?.spec as Record<string, unknown>).providerID).toBe('k3s://pi-1'); // passthrough: handed on as it came
    const [deployment] = ofKind(items, 'Deployment');
    expect([deployment?.spec?.replicas, deployment?.status?.availableReplicas, deployment?.metadata?.generation]).toEqual([2, 1, 2]);
    const [job] = ofKind(items, 'Job');
    expect(job?.spec?.template?.spec?.containers?.[0]?.env).toEqual([{ name: 'VERSION', value: '10.1.4' }, { name: 'EMPTY' }]);
    expect(items.map((i) => [i.kind, isKind(i, 'Job')])).toEqual([
      ['Node', false],
      ['Deployment', false],
      ['Job', true],
    ]);
  });

  it('takes null as absent, and a kind it does not read as an object with apiVersion, kind and metadata', () => {
    const [deployment, namespace] = parseKubeList(
      list({ ...DEPLOYMENT, spec: { ...DEPLOYMENT.spec, replicas: null }, status: null }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'revue' } }),
      { command: COMMAND },
    );
    expect(isKind(deployment!, 'Deployment') && [deployment.spec?.replicas, deployment.status]).toEqual([undefined, undefined]);
    expect(namespace).toMatchObject({ kind: 'Namespace', metadata: { name: 'revue' } });
  });

  it("gives a one-type list's items that name no kind the list's kind", () => {
    const [node] = parseKubeList(JSON.stringify({ items: [{ metadata: { name: 'pi-2' } }] }), { command: 'k3s kubectl get nodes -o json', kind: 'Node' });
    expect(node && isKind(node, 'Node')).toBe(true);
  });

  it('reads several Lists printed one after the other, braces inside strings included', () => {
    const text = `${list(NODE)}\n${list({ ...JOB, metadata: { name: 'a}{b', namespace: 'x' } })}\n`;
    expect(parseKubeLists(text, { command: COMMAND }).map((items) => items.map((i) => i.metadata?.name))).toEqual([['pi-1'], ['a}{b']]);
  });
});

describe('a malformed answer', () => {
  it('is refused with the command, the item and the field', () => {
    const bad = { ...NODE, status: { ...NODE.status, conditions: [{ type: 'Ready', status: true }] } };
    expect(() => parseKubeList(list(DEPLOYMENT, bad), { command: COMMAND })).toThrow(
      '`k3s kubectl get nodes,deployments.apps,jobs.batch -A -o json` printed items[1] (Node pi-1) with status.conditions[0].status is true or false where text belongs',
    );
    const replicas = { ...DEPLOYMENT, spec: { ...DEPLOYMENT.spec, replicas: '2' } };
    expect(() => parseKubeList(list(replicas), { command: COMMAND })).toThrow(
      /printed items\[0\] \(Deployment revue\/revue-auth\) with spec\.replicas is text where a number belongs$/,
    );
  });

  it('an item without a kind, or not an object, is named as such', () => {
    expect(() => parseKubeList(list({ metadata: { name: 'x' } }), { command: COMMAND })).toThrow(
      /printed items\[0\] \(x\) with kind missing where text belongs/,
    );
    expect(() => parseKubeList(list('pi-1'), { command: COMMAND })).toThrow('printed items[0] that is not an object');
    expect(() => parseKubeItem({ kind: 'Secret', metadata: { name: 's' }, data: { password: 3 } }, { command: 'get secret' })).toThrow(
      '`get secret` printed an object (Secret s) with data.password is a number where text belongs',
    );
  });

  it('what is not JSON, or JSON without items, says so with the start of what was printed', () => {
    const notJson = () => parseKubeList('The connection to the server 127.0.0.1:6443 was refused\n', { command: COMMAND });
    expect(notJson).toThrow(KubeOutputError);
    expect(notJson).toThrow(`\`${COMMAND}\` printed something that is not JSON: The connection to the server 127.0.0.1:6443 was refused`);
    expect(() => parseKubeList('', { command: COMMAND })).toThrow('printed something that is not JSON: (nothing)');
    expect(() => parseKubeList('{"kind":"Status","status":"Failure"}', { command: COMMAND })).toThrow(`\`${COMMAND}\` printed JSON without an items list`);
  });
});
