import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { describeLab } from '../lab/skip.js';
import { CLUSTER_ONLY, useLabCluster } from './lab-cluster.js';
import type { RunReport } from '../../core/report.js';

/**
 * The first server is what every other node waits for, so an unattended `up` gives it the head start: it is dialled
 * first, its boot config is written as soon as it is probed (before the others are), and a node that connects while that
 * command runs waits for it before its own probe. `--concurrency 1` makes the order strict enough to read from the log.
 */
describeLab('up gives the first server the head start (lab, K3s installer STAND-IN)', () => {
  const suite = useLabCluster([{ name: 'pi-1' }, { name: 'pi-2' }], '127.0.33.', CLUSTER_ONLY);

  it('dials the first server first and writes its boot config before the other node is probed', async () => {
    const result = await suite.up('--yes', '--concurrency', '1');
    expect(result.code, result.stderr).toBe(0);
    const run = JSON.parse(result.stdout) as RunReport;
    expect(run.nodes.map((n) => [n.name, n.status, n.rebooted])).toEqual([
      ['pi-1', 'changed', true],
      ['pi-2', 'changed', true],
    ]);
    const log = readFileSync(run.logFile!, 'utf8');
    const at = (text: string) => {
      const i = log.indexOf(text);
      expect(i, text).toBeGreaterThan(0);
      return i;
    };
    expect(at('[pi-1] connected to')).toBeLessThan(at('[pi-2] connected to'));
    // Its preparation began while the probe phase was still under way …
    expect(at('"phase-start","phase":"prepare"')).toBeLessThan(at('"phase-end","phase":"probe"'));
    // … and pi-2, connected meanwhile, read its facts only once pi-1's boot config command had returned.
    expect(at('[pi-1] rebooting:')).toBeLessThan(at('"phase":"probe","node":"pi-2","step":"facts","status":"done"'));
  });
});
