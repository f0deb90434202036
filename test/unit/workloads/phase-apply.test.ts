import { describe, expect, it } from 'vitest';
import { buildKubectlGetEachCommand, parseKubeList, parseKubeLists, splitJsonDocuments } from '../../../core/kube/index.js';
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
import { secretsFromCluster } from '../../../workloads/cluster-secrets.js';
import { diagnosticsQueries, explainNotReady } from '../../../workloads/diagnostics.js';
import { buildLabelNodesCommand, parseNodeLabels, planNodeLabels } from '../../../workloads/label-plan.js';
import { buildReadinessCommand, notReadyOf, waitTargetOf, type WaitTarget } from '../../../workloads/readiness.js';
import { managedKinds } from '../../../workloads/prune-cluster.js';
import { objectsOfPhase, renderWorkloads } from '../../../workloads/render.js';
import { labInventory } from './helpers.js';

/**
 * The pure builders and parsers of workloads/apply.ts and the files split from it (label-plan, readiness,
 * diagnostics, cluster-secrets), on exact strings and recorded-shape kubectl output read by core/kube's parser.
 */
const items = (json: string) => parseKubeList(json, { command: 'k3s kubectl get … -o json' });
const parseNotReady = (output: string, target: WaitTarget) => notReadyOf(parseKubeLists(output, { command: 'readiness' }).flat(), target);

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

describe('node labels', () => {
  const live = parseNodeLabels(
    JSON.stringify({
      items: [
        { metadata: { name: 'pi-1', labels: { 'revue-pi.io/armv82': 'true' } } },
        { metadata: { name: 'pi-2', labels: { 'revue-pi.io/armv82': 'true' } } },
        { metadata: { name: 'pi-3' } },
      ],
    }),
  );

  it('plans only what differs and names nodes not in the cluster', () => {
    expect(
      planNodeLabels(
        [
          { node: 'pi-1', labels: { 'revue-pi.io/armv82': 'true' } },
          { node: 'pi-2', labels: { 'revue-pi.io/armv82': 'false' } },
          { node: 'pi-3', labels: { 'revue-pi.io/armv82': 'true' } },
          { node: 'pi-9', labels: { 'revue-pi.io/armv82': 'true' } },
        ],
        live,
      ),
    ).toEqual({
      changes: [
        { node: 'pi-2', key: 'revue-pi.io/armv82', value: 'false', from: 'true' },
        { node: 'pi-3', key: 'revue-pi.io/armv82', value: 'true' },
      ],
      missing: ['pi-9'],
    });
  });

  it('labels every node in one round trip: one kubectl per distinct key=value, with --overwrite, stopping at a failure', () => {
    const key = 'revue-pi.io/armv82';
    expect(buildLabelNodesCommand([{ node: 'pi-2', key, value: 'false' }]).text).toBe('k3s kubectl label node pi-2 revue-pi.io/armv82=false --overwrite');
    expect(
      buildLabelNodesCommand([
        { node: 'pi-1', key, value: 'true' },
        { node: 'pi-3', key, value: 'false' },
        { node: 'pi-2', key, value: 'true', from: 'false' },
      ]).text,
    ).toBe('k3s kubectl label node pi-1 pi-2 revue-pi.io/armv82=true --overwrite &&\nk3s kubectl label node pi-3 revue-pi.io/armv82=false --overwrite');
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

describe('readiness', () => {
  const inventory = labInventory();
  const objects = renderWorkloads(inventory, { secrets: 'references' });

  it('what each phase waits for', () => {
    expect(waitTargetOf('metallb', objectsOfPhase(objects, 'metallb'))).toEqual({ workloads: { selector: 'revue-pi.io/phase=metallb' } });
    expect(waitTargetOf('metallb-config', objectsOfPhase(objects, 'metallb-config'))).toEqual({});
    expect(waitTargetOf('traefik', objectsOfPhase(objects, 'traefik'))).toEqual({});
    const monitoring = waitTargetOf('monitoring', objectsOfPhase(objects, 'monitoring'));
    expect(monitoring.workloads).toEqual({ namespace: 'monitoring' });
    expect(monitoring.charts!.map((c) => `${c.kind} ${c.metadata.namespace}/${c.metadata.name}`)).toEqual([
      'HelmChart kube-system/grafana',
      'HelmChart kube-system/prometheus',
    ]);
    expect(waitTargetOf('revue', objectsOfPhase(objects, 'revue'))).toEqual({ workloads: { selector: 'revue-pi.io/phase=revue' } });
  });

  it('builds one command per target', () => {
    expect(buildReadinessCommand({}).text).toBe('');
    expect(buildReadinessCommand({ workloads: { selector: 'revue-pi.io/phase=revue' } }).text).toBe(
      'k3s kubectl get deployments.apps,statefulsets.apps,daemonsets.apps -A -l revue-pi.io/phase=revue -o json',
    );
    expect(buildReadinessCommand(waitTargetOf('monitoring', objectsOfPhase(objects, 'monitoring'))).text).toBe(
      'k3s kubectl get deployments.apps,statefulsets.apps,daemonsets.apps -n monitoring -o json\nk3s kubectl get jobs.batch -n kube-system -o json',
    );
    // A chart released where target.workloads does not look: that namespace is listed too.
    const chart = objectsOfPhase(objects, 'monitoring').find((o) => o.kind === 'HelmChart')!;
    expect(buildReadinessCommand({ workloads: { selector: 'revue-pi.io/phase=x' }, charts: [chart] }).text).toBe(
      'k3s kubectl get deployments.apps,statefulsets.apps,daemonsets.apps -A -l revue-pi.io/phase=x -o json\n' +
        'k3s kubectl get deployments.apps,statefulsets.apps,daemonsets.apps -n monitoring -o json\n' +
        'k3s kubectl get jobs.batch -n kube-system -o json',
    );
  });

  const list = (items: unknown[]) => JSON.stringify({ kind: 'List', items }, null, 4);
  const deploy = (name: string, spec: object, status: object, generation = 2) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'revue', generation },
    spec,
    status,
  });

  it.each([
    ['available', deploy('a', { replicas: 2 }, { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }), undefined],
    [
      'old generation',
      deploy('a', { replicas: 1 }, { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 }),
      'the controller has not seen the latest change yet',
    ],
    ['rolling', deploy('a', { replicas: 2 }, { observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 2 }), '1 of 2 replicas updated'],
    [
      'old pods left',
      deploy('a', { replicas: 1 }, { observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 1 }),
      '1 old replica(s) still terminating',
    ],
    ['unavailable', deploy('a', {}, { observedGeneration: 2, replicas: 1, updatedReplicas: 1 }), '0 of 1 replicas available'],
    [
      'daemonset short',
      {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'speaker', namespace: 'metallb-system', generation: 1 },
        status: { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 },
      },
      '2 of 3 pods available',
    ],
    [
      'statefulset not ready',
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 's', namespace: 'revue', generation: 1 },
        spec: { replicas: 1 },
        status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 0 },
      },
      '0 of 1 replicas ready',
    ],
  ])('%s', (_name, item, reason) => {
    const got = parseNotReady(list([item]), { workloads: {} });
    expect(got.map((n) => n.reason)).toEqual(reason === undefined ? [] : [reason]);
  });

  /** K3s's install Job for a rendered chart, made from its current spec (the env job() gives its helm container). */
  const installJob = (chart: string, status: object, version?: string) => {
    const c = objects.find((o) => o.kind === 'HelmChart' && o.metadata.name === chart)!;
    const spec = c.spec as { chart: string; version: string; repo: string; targetNamespace: string };
    const env = { NAME: chart, VERSION: version ?? spec.version, REPO: spec.repo, CHART: `${chart}/${spec.chart}`, TARGET_NAMESPACE: spec.targetNamespace };
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: `helm-install-${chart}`, namespace: 'kube-system' },
      spec: { backoffLimit: 1000, template: { spec: { containers: [{ name: 'helm', env: Object.entries(env).map(([name, value]) => ({ name, value })) }] } } },
      status,
    };
  };
  const monitoring = waitTargetOf('monitoring', objectsOfPhase(objects, 'monitoring'));
  const ready = (kind: string, name: string) => ({
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace: 'monitoring', generation: 1 },
    spec: kind === 'DaemonSet' ? {} : { replicas: 1 },
    status:
      kind === 'DaemonSet'
        ? { observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberReady: 2, numberAvailable: 2 }
        : { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 },
  });
  const releases = [
    ready('Deployment', 'grafana'),
    ready('Deployment', 'prometheus-server'),
    ready('Deployment', 'prometheus-kube-state-metrics'),
    ready('DaemonSet', 'prometheus-prometheus-node-exporter'),
  ];
  const succeeded = { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] };

  it('monitoring: ready once both Jobs succeeded for the current spec and the releases run their workloads', () => {
    expect(parseNotReady(`${list(releases)}\n${list([installJob('grafana', succeeded), installJob('prometheus', succeeded)])}\n`, monitoring)).toEqual([]);
  });

  it('monitoring: both Jobs succeeded but the namespace is empty — not ready: the release workloads are missing (as status says)', () => {
    const got = parseNotReady(`${list([])}\n${list([installJob('grafana', succeeded), installJob('prometheus', succeeded)])}\n`, monitoring);
    expect(got.map((n) => [n.kind, n.namespace, n.name, n.stuck])).toEqual([
      ['Deployment', 'monitoring', 'grafana', 'incomplete'],
      ['Deployment', 'monitoring', 'prometheus-server', 'incomplete'],
      ['Deployment', 'monitoring', 'prometheus-kube-state-metrics', 'incomplete'],
      ['DaemonSet', 'monitoring', 'prometheus-prometheus-node-exporter', 'incomplete'],
    ]);
    expect(got[0]!.reason).toBe('missing although Job kube-system/helm-install-grafana succeeded');
  });

  it('monitoring: Jobs missing, running, retrying, failed, or made for an earlier version — from several JSON documents in a row', () => {
    const out = `${list(releases)}\n${list([installJob('grafana', { active: 1, failed: 2 }), installJob('prometheus', succeeded, '25.0.0')])}\n`;
    expect(parseNotReady(out, monitoring).map((n) => [n.kind, n.name, n.reason, n.stuck])).toEqual([
      ['Job', 'helm-install-grafana', '2 failed attempt(s), still retrying', undefined],
      ['Job', 'helm-install-prometheus', 'it installs an earlier spec (version 25.0.0 (the chart: 29.27.0)); K3s replaces it', undefined],
    ]);
    const gaveUp = installJob('grafana', {
      failed: 1001,
      conditions: [{ type: 'Failed', status: 'True', message: 'Job has reached the specified backoff limit' }],
    });
    expect(
      parseNotReady(`${list(releases)}\n${list([gaveUp, installJob('prometheus', { active: 1 })])}\n`, monitoring).map((n) => [n.name, n.reason, n.stuck]),
    ).toEqual([
      ['helm-install-grafana', 'failed: Job has reached the specified backoff limit', 'failed'],
      ['helm-install-prometheus', 'running', undefined],
    ]);
    expect(parseNotReady(`${list(releases)}\n${list([])}\n`, monitoring).map((n) => [n.name, n.reason])).toEqual([
      ['helm-install-grafana', 'K3s has not created it yet (the helm controller picks the chart up)'],
      ['helm-install-prometheus', 'K3s has not created it yet (the helm controller picks the chart up)'],
    ]);
  });

  it('monitoring: a release workload not ready, and anything else in the namespace not rolled out, is waited for', () => {
    const notReady = {
      ...ready('Deployment', 'grafana'),
      status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 0, availableReplicas: 0 },
    };
    const other = { ...ready('Deployment', 'extra'), metadata: { name: 'extra', namespace: 'monitoring', generation: 2 } };
    const out = `${list([notReady, ...releases.slice(1), other])}\n${list([installJob('grafana', succeeded), installJob('prometheus', succeeded)])}\n`;
    expect(parseNotReady(out, monitoring).map((n) => [n.name, n.reason])).toEqual([
      ['grafana', '0 of 1 replicas ready'],
      ['extra', 'the controller has not seen the latest change yet'],
    ]);
  });

  it('splits concatenated JSON documents, braces in strings included', () => {
    expect(splitJsonDocuments('{"a":"}{"}\n{\n  "b": {"c": "\\"{"}\n}\n')).toEqual(['{"a":"}{"}', '{\n  "b": {"c": "\\"{"}\n}']);
  });
});

describe('why not ready', () => {
  it('diagnostics: pods and events of each namespace', () => {
    expect(buildKubectlGetEachCommand(diagnosticsQueries(['revue', 'monitoring', 'revue'])).text).toBe(
      'k3s kubectl get pods -n monitoring -o json\nk3s kubectl get events -n monitoring -o json\nk3s kubectl get pods -n revue -o json\nk3s kubectl get events -n revue -o json',
    );
  });

  it('names unschedulable pods, crash loops and warning events of the right workload only', () => {
    const pods = {
      items: [
        {
          kind: 'Pod',
          metadata: { name: 'revue-auth-db-5f7d8c9b6-abcde', namespace: 'revue' },
          status: {
            phase: 'Pending',
            conditions: [
              {
                type: 'PodScheduled',
                status: 'False',
                reason: 'Unschedulable',
                message: "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
              },
            ],
          },
        },
        {
          kind: 'Pod',
          metadata: { name: 'revue-auth-7d9c5b7f4-x2k8q', namespace: 'revue' },
          status: {
            phase: 'Running',
            containerStatuses: [
              { name: 'auth', restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1m20s restarting failed container' } } },
            ],
          },
        },
      ],
    };
    const events = {
      items: [
        { kind: 'Event', type: 'Normal', reason: 'Scheduled', message: 'ok', involvedObject: { name: 'revue-auth-7d9c5b7f4-x2k8q', namespace: 'revue' } },
        {
          kind: 'Event',
          type: 'Warning',
          reason: 'BackOff',
          message: 'Back-off restarting failed container auth',
          involvedObject: { name: 'revue-auth-7d9c5b7f4-x2k8q', namespace: 'revue' },
          lastTimestamp: '2026-11-25T10:00:00Z',
        },
      ],
    };
    const text = `${JSON.stringify(pods, null, 2)}\n${JSON.stringify(events, null, 2)}\n`;
    expect(
      explainNotReady(
        [
          { kind: 'Deployment', namespace: 'revue', name: 'revue-auth', reason: '0 of 1 replicas available' },
          { kind: 'Deployment', namespace: 'revue', name: 'revue-auth-db', reason: '0 of 1 replicas available' },
          { kind: 'Deployment', namespace: 'revue', name: 'revue-user', reason: '0 of 1 replicas available' },
        ],
        parseKubeLists(text, { command: 'diagnostics' }).flat(),
      ),
    ).toEqual([
      'Deployment revue/revue-auth: 0 of 1 replicas available — pod revue-auth-7d9c5b7f4-x2k8q container auth: CrashLoopBackOff (back-off 1m20s restarting failed container), 4 restarts; BackOff: Back-off restarting failed container auth',
      "Deployment revue/revue-auth-db: 0 of 1 replicas available — pod revue-auth-db-5f7d8c9b6-abcde not scheduled: 0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
      'Deployment revue/revue-user: 0 of 1 replicas available — no pods yet',
    ]);
  });

  it('still names the objects when the diagnostics could not be read', () => {
    expect(explainNotReady([{ kind: 'Job', namespace: 'kube-system', name: 'helm-install-grafana', reason: 'running' }], [])).toEqual([
      'Job kube-system/helm-install-grafana: running — no pods yet',
    ]);
  });
});

describe('secrets already in the cluster', () => {
  const b64 = (t: string) => Buffer.from(t).toString('base64');
  it("reads back what the Secrets hold, in the state file's shape, ignoring other namespaces", () => {
    const list = JSON.stringify({
      items: [
        { kind: 'Secret', metadata: { name: 'revue-auth-db', namespace: 'apps' }, data: { password: b64('auth-pw-0123456789') } },
        { kind: 'Secret', metadata: { name: 'revue-user-db', namespace: 'revue' }, data: { password: b64('not-this-namespace') } },
        {
          kind: 'Secret',
          metadata: { name: 'revue-tokens', namespace: 'apps' },
          data: { JWT_SECRET: b64('jwt-0123456789abcdef'), AUTH_BEARER_TOKEN: b64('bearer-0123456789ab') },
        },
        {
          kind: 'Secret',
          metadata: { name: 'grafana-admin', namespace: 'monitoring' },
          data: { 'admin-user': b64('admin'), 'admin-password': b64('grafana-0123456789') },
        },
      ],
    });
    expect(secretsFromCluster(items(list), 'apps')).toEqual({
      mongoRootPasswords: { auth: 'auth-pw-0123456789' },
      jwtSecret: 'jwt-0123456789abcdef',
      bearerTokens: { AUTH_BEARER_TOKEN: 'bearer-0123456789ab' },
      grafanaAdminPassword: 'grafana-0123456789',
    });
  });
  it('none: undefined', () => expect(secretsFromCluster(items('{"apiVersion":"v1","items":[],"kind":"List"}'), 'revue')).toBeUndefined());
});
