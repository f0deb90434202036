import { describe, expect, it } from 'vitest';
import { buildKubectlGetEachCommand, parseKubeLists } from '../../../core/kube/index.js';
import { diagnosticsQueries, explainNotReady } from '../../../workloads/diagnostics.js';

/** workloads/diagnostics.ts: why objects are not ready, from their pods and warning events. */

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
