import { describe, expect, it } from 'vitest';
import { parseKubeList } from '../../../core/kube/index.js';
import {
  buildApplyCommand,
  buildDeleteCommand,
  buildListManagedCommand,
  countApply,
  isMissingKind,
  isWebhookRace,
  missingKinds,
  objectRefsOf,
  parseApplyOutput,
  resourceOf,
} from '../../../workloads/apply.js';
import { managedKinds } from '../../../workloads/prune-cluster.js';
import { renderWorkloads } from '../../../workloads/render.js';
import { labInventory } from './helpers.js';

/** The pure builders and parsers of workloads/apply.ts, on exact strings and recorded-shape kubectl output read by core/kube's parser. */
const items = (json: string) => parseKubeList(json, { command: 'k3s kubectl get … -o json' });

describe('apply', () => {
  it('applies the uploaded file and removes it whatever the outcome', () => {
    expect(buildApplyCommand('/var/lib/rancher/revue-pi/apply-revue.yaml').text).toBe(
      'k3s kubectl apply -f /var/lib/rancher/revue-pi/apply-revue.yaml\nrc=$?\nrm -f /var/lib/rancher/revue-pi/apply-revue.yaml\nexit $rc\n',
    );
  });

  it('parses kubectl apply lines and counts them', () => {
    const out = parseApplyOutput(
      'namespace/revue created\ndeployment.apps/revue-auth configured\nservice/revue-auth unchanged\nWarning: resource x is missing the annotation\nsecret/revue-tokens unchanged\n',
    );
    expect(out).toEqual([
      { object: 'namespace/revue', action: 'created' },
      { object: 'deployment.apps/revue-auth', action: 'configured' },
      { object: 'service/revue-auth', action: 'unchanged' },
      { object: 'secret/revue-tokens', action: 'unchanged' },
    ]);
    expect(countApply(out)).toEqual({ created: 1, configured: 1, unchanged: 2 });
  });

  it.each([
    [
      'Error from server (InternalError): error when creating "x": Internal error occurred: failed calling webhook "ipaddresspoolvalidationwebhook.metallb.io": failed to call webhook: Post "https://metallb-webhook-service.metallb-system.svc:443/validate": dial tcp 10.43.1.2:443: connect: connection refused',
      true,
    ],
    [
      'Internal error occurred: failed calling webhook "l2advertisementvalidationwebhook.metallb.io": failed to call webhook: Post "…": no endpoints available for service "metallb-webhook-service"',
      true,
    ],
    ['failed calling webhook "x": context deadline exceeded', true],
    ['The IPAddressPool "lan" is invalid: spec.addresses: Invalid value', false],
    ['The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?', false],
  ])('webhook race: %s → %s', (text, expected) => expect(isWebhookRace(text)).toBe(expected));
});

describe('missing kinds', () => {
  const text =
    'error: resource mapping not found for name: "revue" namespace: "revue" from "/var/lib/rancher/revue-pi/apply-revue.yaml": no matches for kind "IngressRoute" in version "traefik.io/v1alpha1"\nensure CRDs are installed first\n' +
    'error: resource mapping not found for name: "x" namespace: "revue" from "f": no matches for kind "IngressRoute" in version "traefik.io/v1alpha1"\n';
  it('recognises kubectl\'s "no matches for kind" and names each kind once', () => {
    expect(isMissingKind(text)).toBe(true);
    expect(isMissingKind('Error from server (NotFound): namespaces "revue" not found')).toBe(false);
    expect(missingKinds(text)).toEqual(['IngressRoute (traefik.io/v1alpha1)']);
  });
});

describe('listing and pruning', () => {
  it('lists Kubernetes and K3s kinds always and other CRD kinds only when their CRD exists, in one command', () => {
    expect(
      buildListManagedCommand([
        { apiVersion: 'apps/v1', kind: 'Deployment' },
        { apiVersion: 'v1', kind: 'Secret' },
        { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool' },
        { apiVersion: 'helm.cattle.io/v1', kind: 'HelmChart' },
        { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' },
        { apiVersion: 'apps/v1', kind: 'Deployment' },
      ]).text,
    ).toBe(
      [
        'kinds=customresourcedefinition.apiextensions.k8s.io,deployment.apps,helmchart.helm.cattle.io,secret',
        'if k3s kubectl get crd ipaddresspools.metallb.io -o name >/dev/null 2>&1; then kinds="$kinds,ipaddresspool.metallb.io"; fi',
        'exec k3s kubectl get "$kinds" -A -l app.kubernetes.io/managed-by=revue-pi -o json',
        '',
      ].join('\n'),
    );
  });

  it('managed kinds cover a full render even when workloads are off (so their objects can be found and pruned)', () => {
    const inventory = labInventory({ workloads: { monitoring: false, kafkaUi: false } });
    const kinds = managedKinds(inventory, renderWorkloads(inventory, { secrets: 'references' })).map((k) => resourceOf(k.apiVersion, k.kind));
    const full = renderWorkloads(labInventory(), { secrets: 'references' }).map((o) => resourceOf(o.apiVersion, o.kind));
    for (const k of [...full, 'secret', 'helmchart.helm.cattle.io', 'ipaddresspool.metallb.io']) expect(kinds).toContain(k);
  });

  it('parses the live objects of a List', () => {
    expect(
      objectRefsOf(
        items(
          JSON.stringify({
            kind: 'List',
            items: [
              { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'monitoring', labels: { 'app.kubernetes.io/managed-by': 'revue-pi' } } },
              { apiVersion: 'helm.cattle.io/v1', kind: 'HelmChart', metadata: { name: 'grafana', namespace: 'kube-system', labels: { a: 'b' } } },
            ],
          }),
        ),
      ),
    ).toEqual([
      { apiVersion: 'v1', kind: 'Namespace', name: 'monitoring', labels: { 'app.kubernetes.io/managed-by': 'revue-pi' } },
      { apiVersion: 'helm.cattle.io/v1', kind: 'HelmChart', namespace: 'kube-system', name: 'grafana', labels: { a: 'b' } },
    ]);
    expect(() => items('error: the server does not have a resource type "x"')).toThrow(
      '`k3s kubectl get … -o json` printed something that is not JSON: error: the server does not have a resource type "x"',
    );
  });

  it('deletes in the given order, tolerating missing objects, without waiting for namespaces', () => {
    expect(
      buildDeleteCommand([
        { apiVersion: 'helm.cattle.io/v1', kind: 'HelmChart', namespace: 'kube-system', name: 'grafana' },
        { apiVersion: 'v1', kind: 'Namespace', name: 'monitoring' },
      ]).text,
    ).toBe(
      'rc=0\n' +
        'k3s kubectl delete helmchart.helm.cattle.io grafana -n kube-system --ignore-not-found --wait=false || rc=1\n' +
        'k3s kubectl delete namespace monitoring --ignore-not-found --wait=false || rc=1\n' +
        'exit $rc\n',
    );
  });
});
