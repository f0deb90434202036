import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../../../core/report.js';
import { describeIngress, formatSummary } from '../../../../cli/ui/renderer.js';
import { renderWorkloads } from '../../../../workloads/render.js';
import { renderAccessInfo } from '../../../../workloads/access.js';
import { labInventory } from '../../workloads/helpers.js';

/** up's summary says of Traefik's address only what it read from the cluster (issue 14). */
describe("up's summary: Traefik's address", () => {
  const inventory = labInventory(); // network.addresses.ingress: 192.168.50.240
  const objects = renderWorkloads(inventory, { secrets: 'references' });
  const report = (access: ReturnType<typeof renderAccessInfo>): RunReport => ({
    command: 'up',
    cluster: 'lab',
    ok: true,
    exitCode: 0,
    durationMs: 1,
    nodes: [],
    workloads: { ok: true, changed: false, summary: 'nothing changed', access },
  });

  it('an address MetalLB handed out (read from the Service) is stated as a fact', () => {
    const access = renderAccessInfo(inventory, objects, '192.168.50.240');
    expect(access.ingressSource).toBe('cluster');
    expect(formatSummary(report(access))).toContain("Traefik's Service has the address 192.168.50.240 (handed out by MetalLB, read from the cluster).");
  });

  it('the inventory\'s fixed address, with none on the Service, is worded as what it asks for — never "answers on"', () => {
    const access = renderAccessInfo(inventory, objects, undefined);
    expect(access.ingressSource).toBe('inventory');
    const text = formatSummary(report(access));
    expect(text).not.toMatch(/answers on/);
    expect(text).toContain(
      "Traefik's Service has no address from MetalLB yet; it asks for 192.168.50.240 (network.addresses.ingress), and the URLs below answer there once it has it " +
        '(check with: kubectl --context lab -n kube-system get service traefik).',
    );
  });

  it('no fixed address and none handed out', () => {
    const bare = labInventory({ network: { addresses: {} } });
    const access = renderAccessInfo(bare, objects);
    expect(access.ingressSource).toBeUndefined();
    expect(describeIngress('lab', access)).toBe(
      "Traefik's Service has no address from MetalLB yet (check with: kubectl --context lab -n kube-system get service traefik).",
    );
  });
});

describe("up's summary: data kept", () => {
  it('lists what was kept and the commands that delete it', () => {
    const text = formatSummary({
      command: 'up',
      cluster: 'lab',
      ok: true,
      exitCode: 0,
      durationMs: 1,
      nodes: [],
      workloads: {
        ok: true,
        changed: true,
        summary: 's',
        keptData: ['PersistentVolumeClaim revue/revue-auth-data', 'Namespace revue'],
        deleteDataCommands: ['kubectl --context lab -n revue delete persistentvolumeclaim revue-auth-data', 'kubectl --context lab delete namespace revue'],
      },
    });
    expect(text).toContain(
      'Kept (holds data, no longer deployed): PersistentVolumeClaim revue/revue-auth-data, Namespace revue. To delete with its data: up --prune-data, or\n' +
        '  kubectl --context lab -n revue delete persistentvolumeclaim revue-auth-data\n' +
        '  kubectl --context lab delete namespace revue',
    );
  });
});
