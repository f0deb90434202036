import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KubectlError, LocalKubectl } from '../../../../core/kube/index.js';
import { FakeKubectl } from '../../../fakes/fake-kubectl.js';
import { tempDir } from '../../../fakes/temp-dir.js';

/**
 * LocalKubectl runs the operator's kubectl with the kubeconfig and context; here a TEST DOUBLE kubectl (a shell script
 * given as the binary: no Kubernetes API can run here) records its arguments and answers like kubectl: it serves the
 * CRD `ipaddresspools.metallb.io` and not `l2advertisements.metallb.io`.
 */
function scriptedKubectl() {
  const dir = tempDir('local-kubectl');
  const binary = join(dir, 'kubectl');
  const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'n' } }] });
  writeFileSync(join(dir, 'list.json'), list);
  writeFileSync(
    binary,
    [
      '#!/bin/sh',
      `echo "$*" >> '${join(dir, 'args')}'`,
      'case "$*" in',
      '  *"get crd ipaddresspools.metallb.io"*) echo customresourcedefinition.apiextensions.k8s.io/ipaddresspools.metallb.io ;;',
      '  *"get crd"*) echo \'Error from server (NotFound): customresourcedefinitions.apiextensions.k8s.io "x" not found\' >&2; exit 1 ;;',
      "  *forbidden*) echo 'Error from server (Forbidden): secrets is forbidden' >&2; exit 1 ;;",
      `  *) cat '${join(dir, 'list.json')}' ;;`,
      'esac',
      '',
    ].join('\n'),
  );
  chmodSync(binary, 0o755);
  const kubectl = new LocalKubectl({ kubeconfig: join(dir, 'config'), context: 'home', binary });
  return { kubectl, args: () => readFileSync(join(dir, 'args'), 'utf8').trim().split('\n'), config: join(dir, 'config') };
}

describe('LocalKubectl', () => {
  it('runs kubectl with the kubeconfig and context, and lists a CRD type only when its CRD exists', async () => {
    const t = scriptedKubectl();
    const items = await t.kubectl.get({
      resources: ['configmap'],
      allNamespaces: true,
      requestTimeoutSeconds: 5,
      ifServed: [
        { resource: 'ipaddresspool.metallb.io', crd: 'ipaddresspools.metallb.io' },
        { resource: 'l2advertisement.metallb.io', crd: 'l2advertisements.metallb.io' },
      ],
    });
    expect(items.map((i) => i.kind)).toEqual(['ConfigMap']);
    expect(t.kubectl.where).toBe('kubeconfig:home');
    expect(t.args()).toEqual([
      `--kubeconfig ${t.config} --context home get crd ipaddresspools.metallb.io -o name`,
      `--kubeconfig ${t.config} --context home get crd l2advertisements.metallb.io -o name`,
      `--kubeconfig ${t.config} --context home get configmap,ipaddresspool.metallb.io -A -o json --request-timeout=5s`,
    ]);
  });

  it('a failing kubectl is a KubectlError with what it printed', async () => {
    const t = scriptedKubectl();
    const error = await t.kubectl.get({ resources: ['secrets'], namespace: 'forbidden' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubectlError);
    expect((error as KubectlError).output).toContain('Error from server (Forbidden): secrets is forbidden');
  });
});

describe('FakeKubectl (the test double the callers are tested with)', () => {
  const items = [
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'a', namespace: 'revue', labels: { 'revue-pi.io/phase': 'revue' } } },
    { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'd', namespace: 'kube-system' } },
    { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'kube-system' } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i', namespace: 'revue' } },
  ];

  it('answers like kubectl by type and group, namespace and label selector', async () => {
    const kubectl = new FakeKubectl('pi-1', () => items);
    const names = async (q: Parameters<FakeKubectl['get']>[0]) => (await kubectl.get(q)).map((i) => i.metadata?.name);
    expect(await names({ resources: ['deployments.apps', 'daemonsets.apps'], allNamespaces: true })).toEqual(['a', 'd']);
    expect(await names({ resources: ['deployments.apps', 'daemonsets.apps'], namespace: 'kube-system' })).toEqual(['d']);
    expect(await names({ resources: ['deployments.apps', 'jobs.batch'], allNamespaces: true, selector: 'revue-pi.io/phase=revue' })).toEqual(['a']);
    expect(await names({ resources: ['ingresses.networking.k8s.io', 'deployments.batch'], allNamespaces: true })).toEqual(['i']);
    expect(kubectl.queries).toHaveLength(4);
  });

  it('refuses to hand out an object kubectl’s real parser would refuse', async () => {
    const kubectl = new FakeKubectl('pi-1', () => [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'a' }, spec: { replicas: 'two' } }]);
    await expect(kubectl.get({ resources: ['deployments.apps'] })).rejects.toThrow(/spec\.replicas is text where a number belongs/);
  });
});
