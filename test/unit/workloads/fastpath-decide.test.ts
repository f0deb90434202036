import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { appliedRecordOf, parseAppliedRecord, phaseHashes, renderAppliedRecord, synthAppliedRecord } from '../../../workloads/applied-record.js';
import { buildFastCheckCommand, decideFastPath } from '../../../workloads/fastpath.js';
import { loadWorkloadSecrets } from '../../../workloads/secrets-file.js';
import { PHASES, canonicalJson, objectsOfPhase, renderWorkloads } from '../../../workloads/render.js';
import { allSecretValues, type WorkloadSecrets } from '../../../workloads/secrets.js';
import { deterministicRandom } from '../../fakes/deterministic-random.js';
import { labInventory } from './helpers.js';
import { tempDir } from '../../fakes/temp-dir.js';

/** The no-op fast path, pure parts: phase hashes, the record (workloads/applied-record.ts) and decideFastPath on kubectl output. */
let dir: string;
beforeEach(() => {
  dir = tempDir('fastpath');
});

describe('record and decision (pure)', () => {
  const inventory = labInventory();
  const objects = renderWorkloads(inventory, { secrets: 'references' });

  it("hashes each phase's objects with sha256, one canonical JSON line each", () => {
    const hashes = phaseHashes(objects);
    expect(Object.keys(hashes)).toEqual([...PHASES]);
    for (const p of PHASES)
      expect(hashes[p]).toBe(
        createHash('sha256')
          .update(
            objectsOfPhase(objects, p)
              .map((o) => `${canonicalJson(o)}\n`)
              .join(''),
          )
          .digest('hex'),
      );
    const noMonitoring = phaseHashes(renderWorkloads(labInventory({ workloads: { monitoring: false } }), { secrets: 'references' }));
    expect(Object.keys(noMonitoring)).toEqual(['metallb', 'metallb-config', 'traefik', 'revue']);
  });

  it('canonical JSON: key order and null fields do not count, every value does', () => {
    const a = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'revue' }, data: { b: '2', a: '1' } };
    const b = { kind: 'ConfigMap', data: { a: '1', b: '2' }, metadata: { namespace: 'revue', name: 'x', labels: null }, apiVersion: 'v1' };
    expect(canonicalJson(b as never)).toBe(canonicalJson(a));
    expect(canonicalJson(a)).toBe('{"apiVersion":"v1","data":{"a":"1","b":"2"},"kind":"ConfigMap","metadata":{"name":"x","namespace":"revue"}}');
    expect(canonicalJson({ ...a, data: { a: '1', b: '3' } })).not.toBe(canonicalJson(a));
    expect(canonicalJson({ ...a, data: { a: '1', b: 2 } } as never)).not.toBe(canonicalJson(a));
    // A YAML timestamp is a Date: its value counts too.
    const dated = (iso: string) => canonicalJson({ ...a, data: { at: new Date(iso) } } as never);
    expect(dated('2024-01-01T00:00:00Z')).toContain('"at":"2024-01-01T00:00:00.000Z"');
    expect(dated('2024-01-01T00:00:00Z')).not.toBe(dated('2025-01-01T00:00:00Z'));
  });

  it('a changed secret changes only the hash of the phase holding it; the record holds no secret value', () => {
    const a = renderWorkloads(inventory, { secrets: secretsFor('a') });
    const b = renderWorkloads(inventory, { secrets: { ...secretsFor('a'), jwtSecret: secretsFor('b').jwtSecret } });
    const [ha, hb] = [phaseHashes(a), phaseHashes(b)];
    expect(PHASES.filter((p) => ha[p] !== hb[p])).toEqual(['revue']);
    const text = synthAppliedRecord(appliedRecordOf(a, '1.2.3'));
    for (const v of allSecretValues(secretsFor('a'))) {
      expect(text).not.toContain(v);
      expect(text).not.toContain(Buffer.from(v).toString('base64'));
    }
  });

  it('the record is a labelled ConfigMap in kube-system that reads back as written; a malformed one reads as none', () => {
    const rec = appliedRecordOf(objects, '0.1.0');
    const cm = renderAppliedRecord(rec);
    expect(cm.metadata).toMatchObject({ name: 'revue-pi-applied', namespace: 'kube-system', labels: { 'app.kubernetes.io/managed-by': 'revue-pi' } });
    expect(rec.objects).toHaveLength(objects.length);
    expect(parseAppliedRecord(cm as { data?: Record<string, string> })).toEqual(rec);
    expect(parseAppliedRecord({ data: { version: '1', phases: '{not json', objects: '' } })).toBeUndefined();
    expect(parseAppliedRecord({ data: { version: '1', phases: '{"nope":"x"}', objects: '' } })).toBeUndefined();
    expect(parseAppliedRecord({ data: { version: '1' } })).toBeUndefined();
    expect(parseAppliedRecord(undefined)).toBeUndefined();
  });

  it('one round trip: the managed objects of the rendered kinds plus ConfigMaps and the kinds that hold data, then nodes, workloads and Jobs, both at once', () => {
    const small = objects.filter((o) => ['Namespace', 'Deployment', 'IPAddressPool'].includes(o.kind));
    expect(buildFastCheckCommand(small).text).toBe(
      [
        '(',
        'fc=/run/revue-pi-fast-check.$$',
        '(umask 077; exec k3s kubectl get configmap,deployment.apps,ipaddresspool.metallb.io,namespace,persistentvolumeclaim,secret -A -l app.kubernetes.io/managed-by=revue-pi -o json >$fc.1) & fc_managed=$!',
        '(umask 077; exec k3s kubectl get nodes,deployments.apps,statefulsets.apps,daemonsets.apps,jobs.batch,services -A -o json >$fc.2) & fc_cluster=$!',
        'wait $fc_managed; managed=$?',
        'wait $fc_cluster; cluster=$?',
        'if [ $managed -eq 0 ] && [ $cluster -eq 0 ]; then cat $fc.1 $fc.2; fi',
        'rm -f $fc.1 $fc.2',
        '[ $managed -eq 0 ] && [ $cluster -eq 0 ]',
        ')',
        '',
      ].join('\n'),
    );
  });

  it('runs in a real shell: both lists in order when both kubectl succeed, nothing and a failure when either fails', async () => {
    const { execFileSync, spawnSync } = await import('node:child_process');
    const { writeFileSync, rmSync, readdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const dir = tempDir('fastcheck');
    try {
      // A stand-in k3s on PATH: the labelled list comes late, so a wrong order would show; `fail` makes one list fail.
      writeFileSync(
        join(dir, 'k3s'),
        `#!/bin/sh\ncase "$*" in *-l*) sleep 0.3; [ -e ${dir}/fail ] && exit 1; echo '{"items":["managed"]}' ;; *) echo '{"items":["cluster"]}' ;; esac\n`,
        { mode: 0o755 },
      );
      const command = buildFastCheckCommand(objects).text.replace('/run/revue-pi-fast-check', join(dir, 'fc'));
      const env = { ...process.env, PATH: `${dir}:${process.env.PATH}` };
      expect(execFileSync('/bin/sh', ['-c', command], { encoding: 'utf8', env })).toBe('{"items":["managed"]}\n{"items":["cluster"]}\n');
      writeFileSync(join(dir, 'fail'), '');
      const failed = spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8', env });
      expect([failed.status, failed.stdout]).toEqual([1, '']);
      expect(readdirSync(dir).sort()).toEqual(['fail', 'k3s']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('output it cannot read is a reason, not a crash', () => {
    const base = { objects, version: '0.1.0', desiredLabels: [] };
    expect(decideFastPath({ ...base, output: 'Error: nope' })).toEqual({ take: false, reason: 'kubectl printed 0 lists instead of 2' });
    expect(decideFastPath({ ...base, output: '{"items": 3}' })).toEqual({
      take: false,
      reason: 'kubectl did not print the expected lists: `k3s kubectl get … (the fast check)` printed JSON without an items list',
    });
    expect(decideFastPath({ ...base, output: '{"items": []}\n{"items": []}' })).toEqual({
      take: false,
      reason: 'no record of a previous complete apply',
      recordSeen: false,
    });
  });
});

/** Workload secrets generated from a seed by the phase's own loader. */
function secretsFor(seed: string): WorkloadSecrets {
  return loadWorkloadSecrets(join(dir, `secrets-${seed}.json`), deterministicRandom(seed), false);
}
