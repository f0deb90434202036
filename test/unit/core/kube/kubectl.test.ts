import { describe, expect, it } from 'vitest';
import { KubeOutputError, KubectlError, NODE_LIST_QUERY, RemoteKubectl, buildKubectlGetCommand, isKind } from '../../../../core/kube/index.js';
import { FakeTransport, fail, ok } from '../../../fakes/fake-transport.js';

/**
 * RemoteKubectl: the commands it runs on a server (exact text, with sudo) and how it reads their answers. The one
 * place whose tests match kubectl's command text; code that reads the cluster is tested with FakeKubectl.
 */
const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
const list = (...items: unknown[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 4);

describe('RemoteKubectl', () => {
  it('runs one `k3s kubectl get … -o json` with sudo and returns typed items', async () => {
    const transport = new FakeTransport('pi-1').on('k3s kubectl get nodes -o json', ok(list(node('pi-1'), node('pi-2'))));
    const items = await new RemoteKubectl(transport).get(NODE_LIST_QUERY);
    expect(items.map((i) => [i.metadata?.name, isKind(i, 'Node')])).toEqual([
      ['pi-1', true],
      ['pi-2', true],
    ]);
    expect(transport.runs.map((r) => [r.script, r.opts])).toEqual([['k3s kubectl get nodes -o json', { sudo: true, timeoutMs: 30_000 }]]);
  });

  it('builds namespace, all namespaces, selector and request timeout, each value quoted by sh', () => {
    expect(buildKubectlGetCommand({ resources: ['deployments.apps', 'jobs.batch'], namespace: 'kube system', selector: 'a=b c' }).text).toBe(
      "k3s kubectl get deployments.apps,jobs.batch -n 'kube system' -l 'a=b c' -o json",
    );
    expect(buildKubectlGetCommand({ resources: ['pods'], allNamespaces: true, requestTimeoutSeconds: 20 }).text).toBe(
      'k3s kubectl get pods -A -o json --request-timeout=20s',
    );
  });

  it('lists a CRD type only when its CRD exists, in the same one command', async () => {
    const query = {
      resources: ['configmap', 'secret'],
      allNamespaces: true,
      selector: 'app.kubernetes.io/managed-by=revue-pi',
      ifServed: [{ resource: 'ipaddresspool.metallb.io', crd: 'ipaddresspools.metallb.io' }],
    };
    const script = [
      'kinds=configmap,secret',
      'if k3s kubectl get crd ipaddresspools.metallb.io -o name >/dev/null 2>&1; then kinds="$kinds,ipaddresspool.metallb.io"; fi',
      'exec k3s kubectl get "$kinds" -A -l app.kubernetes.io/managed-by=revue-pi -o json',
      '',
    ].join('\n');
    expect(buildKubectlGetCommand(query).text).toBe(script);
    const transport = new FakeTransport('pi-1').on(script, ok(list({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'n' } })));
    expect((await new RemoteKubectl(transport).get(query)).map((i) => i.kind)).toEqual(['ConfigMap']);
  });

  it('reads several gets in one round trip, one list each; a missing list is an error', async () => {
    const queries = [
      { resources: ['pods'], namespace: 'revue', kind: 'Pod' as const },
      { resources: ['events'], namespace: 'revue', kind: 'Event' as const },
    ];
    const transport = new FakeTransport('pi-1')
      .on(
        'k3s kubectl get pods -n revue -o json\nk3s kubectl get events -n revue -o json',
        ok(`${list()}\n${list({ metadata: { name: 'e' }, reason: 'BackOff' })}\n`),
        {
          times: 1,
        },
      )
      .on('k3s kubectl get pods -n revue -o json', ok(list()));
    const kubectl = new RemoteKubectl(transport);
    const [pods, events] = await kubectl.getEach(queries);
    expect([pods, events?.map((e) => isKind(e, 'Event') && e.reason)]).toEqual([[], ['BackOff']]);
    expect(transport.runs).toHaveLength(1);
    await expect(kubectl.getEach(queries)).rejects.toThrow('printed 1 lists instead of 2');
  });

  it('a failing kubectl is a KubectlError naming the command, the server, the exit and the output', async () => {
    const transport = new FakeTransport('pi-1').on(
      'get nodes',
      fail(1, 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\n'),
    );
    const error = await new RemoteKubectl(transport).get(NODE_LIST_QUERY).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubectlError);
    expect((error as KubectlError).code).toBe(1);
    expect((error as Error).message).toBe(
      '`k3s kubectl get nodes -o json` on pi-1 exited 1: The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?',
    );
  });

  it('an answer that does not fit is a KubeOutputError naming the command and the field', async () => {
    const transport = new FakeTransport('pi-1').on('get nodes', ok(list({ ...node('pi-1'), status: { nodeInfo: { kubeletVersion: 133 } } })));
    const error = await new RemoteKubectl(transport).get(NODE_LIST_QUERY).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeOutputError);
    expect((error as Error).message).toBe(
      '`k3s kubectl get nodes -o json` printed items[0] (Node pi-1) with status.nodeInfo.kubeletVersion is a number where text belongs',
    );
  });

  it('getObject: one object by name; not found is undefined, any other failure throws', async () => {
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'traefik', namespace: 'kube-system' },
      status: { loadBalancer: { ingress: [{ ip: '192.168.1.240' }] } },
    };
    const transport = new FakeTransport('pi-1')
      .on('k3s kubectl get service traefik -n kube-system -o json', ok(JSON.stringify(service)), { times: 1 })
      .on('k3s kubectl get service traefik -n kube-system -o json', fail(1, 'Error from server (NotFound): services "traefik" not found'), { times: 1 })
      .on('k3s kubectl get service traefik -n kube-system -o json', fail(1, 'error: You must be logged in to the server (Unauthorized)'));
    const kubectl = new RemoteKubectl(transport);
    const found = await kubectl.getObject('service', 'traefik', { namespace: 'kube-system' });
    expect(found && isKind(found, 'Service') && found.status?.loadBalancer?.ingress?.[0]?.ip).toBe('192.168.1.240');
    expect(await kubectl.getObject('service', 'traefik', { namespace: 'kube-system' })).toBeUndefined();
    await expect(kubectl.getObject('service', 'traefik', { namespace: 'kube-system' })).rejects.toThrow(/Unauthorized/);
  });
});
