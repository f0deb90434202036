import { PassThrough } from 'node:stream';
import type { Ora } from 'ora';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../../../core/events.js';
import type { RunReport } from '../../../../core/report.js';
import { formatSummary, ProgressRenderer, type SpinnerFactory } from '../../../../cli/ui/renderer.js';
import { REVUE_STOCK_LOGINS, renderAccessInfo } from '../../../../workloads/access.js';
import { renderWorkloads } from '../../../../workloads/render.js';
import { labInventory } from '../../workloads/helpers.js';

/** Test double for ora: records what each spinner was asked to show and how it ended. */
function recordingSpinners(): { factory: SpinnerFactory; log: string[] } {
  const log: string[] = [];
  const factory: SpinnerFactory = (options) => {
    const spinner = {
      text: String(options.text ?? ''),
      start() {
        log.push(`start ${this.text}`);
        return this;
      },
      succeed(text?: string) {
        log.push(`✔ ${text ?? this.text}`);
        return this;
      },
      fail(text?: string) {
        log.push(`✖ ${text ?? this.text}`);
        return this;
      },
      stop() {
        log.push('stop');
        return this;
      },
      clear() {
        return this;
      },
      render() {
        return this;
      },
    };
    return spinner as unknown as Ora;
  };
  return { factory, log };
}

const start = (phase: string, title: string): RunEvent => ({ type: 'phase-start', phase, title });
const end = (phase: string, ok = true): RunEvent => ({ type: 'phase-end', phase, ok });

describe('ProgressRenderer on a terminal', () => {
  it('ends each phase on its own title, not on the last node step the spinner showed', () => {
    const { factory, log } = recordingSpinners();
    const r = new ProgressRenderer('tty', false, new PassThrough(), factory);
    r.handle(start('probe', 'Reaching and probing the nodes'));
    r.handle({ type: 'node-step', phase: 'probe', node: 'pi-1', step: 'facts', status: 'running' });
    r.handle(end('probe'));
    expect(log).toEqual(['start Reaching and probing the nodes', '✔ Reaching and probing the nodes']);
  });

  it('overlapping phases: the one that ends keeps its line, the one still running keeps a spinner', () => {
    const { factory, log } = recordingSpinners();
    const r = new ProgressRenderer('tty', false, new PassThrough(), factory);
    r.handle(start('prepare', 'Preparing'));
    r.handle(start('cluster', 'Installing K3s'));
    r.handle(end('prepare', false));
    r.handle(end('cluster'));
    expect(log).toEqual(['start Preparing', '✖ Preparing', 'start Installing K3s', '✔ Installing K3s']);
    r.stop();
    expect(log).toHaveLength(4);
  });
});

describe('ProgressRenderer without a terminal', () => {
  it('prints a line per phase start and the node steps that finish', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    const r = new ProgressRenderer('plain', false, out);
    r.handle(start('prepare', 'Preparing'));
    r.handle(start('cluster', 'Installing K3s'));
    r.handle({ type: 'node-step', phase: 'prepare', node: 'pi-2', step: 'boot-config', status: 'changed', detail: '3 changes' });
    r.handle(end('prepare'));
    r.handle(end('cluster'));
    expect(text).toBe('==> Preparing\n==> Installing K3s\n    pi-2: boot-config changed — 3 changes\n');
  });
});

describe("formatSummary: up's access output", () => {
  it('prints the URLs, the /etc/hosts lines (Traefik and the media server), the Grafana password command and the Revue logins', () => {
    const inventory = labInventory();
    const access = renderAccessInfo(inventory, renderWorkloads(inventory, { secrets: 'references' }));
    const report: RunReport = {
      command: 'up',
      cluster: 'lab',
      ok: true,
      exitCode: 0,
      durationMs: 1,
      nodes: [],
      workloads: { ok: true, changed: true, summary: 'applied', access },
    };
    const lines = formatSummary(report).split('\n');
    const at = lines.indexOf(`  ${access.hostsHint}`);
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 1, at + 8)).toEqual([
      '    192.168.50.240 alarm.revue.lan auth.revue.lan device.revue.lan frontend.revue.lan grafana.revue.lan',
      '    192.168.50.240 kafka-ui.revue.lan location.revue.lan log.revue.lan monitoring.revue.lan',
      '    192.168.50.240 notification.revue.lan prometheus.revue.lan recognition.revue.lan revue-alarm',
      '    192.168.50.240 revue-auth revue-device revue-frontend revue-kafka-ui revue-location revue-log',
      '    192.168.50.240 revue-monitoring revue-notification revue-recognition revue-user traefik.revue.lan',
      '    192.168.50.240 user.revue.lan',
      '    192.168.50.241 revue-media-server',
    ]);
    expect(lines).toContain(`  Grafana password: ${access.grafanaPassword}`);
    expect(lines.at(-1)).toBe(`  ${REVUE_STOCK_LOGINS}`);
    expect(REVUE_STOCK_LOGINS).toMatch(/admin .*user .*password "user".*README \("Revue's logins"\)/);
  });
});
