import { describe, expect, it } from 'vitest';
import { type K8sObject, objectsOfPhase, podSpecOf, renderWorkloads } from '../../../workloads/render.js';
import { labInventory } from './helpers.js';

/**
 * Issue 13, blocker 3: "MetalLB never accepts an address pool". The expected values are written out here from
 * MetalLB's release manifest v0.16.1 (config/manifests/metallb-native.yaml at the tag), so the test does not lean on
 * the vendored copy it checks.
 */

const metallb = objectsOfPhase(renderWorkloads(labInventory(), { secrets: 'references' }), 'metallb');

function find(kind: string, name: string): K8sObject {
  const hit = metallb.filter((o) => o.kind === kind && o.metadata.name === name);
  expect(hit, `${kind} ${name}`).toHaveLength(1);
  return hit[0]!;
}

function container(kind: string, name: string) {
  return podSpecOf(find(kind, name))!.containers.find((c) => c.name === name)! as Record<string, any>;
}

describe('MetalLB as the release manifest ships it (issue 13, blocker 3)', () => {
  it('the bgppeers CRD carries the conversion webhook the controller injects its CA into', () => {
    // Without it the cert rotator's CA injection fails, the webhook server never starts and its failurePolicy: Fail
    // webhook refuses every IPAddressPool and L2Advertisement.
    expect((find('CustomResourceDefinition', 'bgppeers.metallb.io').spec as Record<string, unknown>).conversion).toEqual({
      strategy: 'Webhook',
      webhook: {
        clientConfig: { service: { name: 'metallb-webhook-service', namespace: 'metallb-system', path: '/convert' } },
        conversionReviewVersions: ['v1beta1', 'v1beta2'],
      },
    });
  });

  it("the controller's probes ask its own pod (no host): it listens on :17472 in the pod network", () => {
    const c = container('Deployment', 'controller');
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 17472 });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 17472 });
  });

  it("the speaker's probes keep host 127.0.0.1: it runs on the host network and listens on 127.0.0.1:17472", () => {
    expect(podSpecOf(find('DaemonSet', 'speaker'))!.hostNetwork).toBe(true);
    const c = container('DaemonSet', 'speaker');
    expect(c.livenessProbe.httpGet).toEqual({ host: '127.0.0.1', path: '/healthz', port: 17472 });
    expect(c.readinessProbe.httpGet).toEqual({ host: '127.0.0.1', path: '/readyz', port: 17472 });
  });
});
