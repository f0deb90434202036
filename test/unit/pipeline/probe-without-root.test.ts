import { describe, expect, it } from 'vitest';
import { ROOT_PROBE_REFUSED_EXIT, type K3sVersionCacheEntry } from '../../../cluster/facts.js';
import { probeNodeState } from '../../../pipeline/pipeline.js';
import { fail, FakeTransport, ok } from '../../fakes/fake-transport.js';

const cached: K3sVersionCacheEntry = {
  fingerprint: '1:2:3',
  version: 'v1.33.5+k3s1',
  files: { fingerprint: '10:20:30:40 /etc/rancher/k3s/config.yaml', config: 'node-name: pi-2\n', tokenFileSha256: 'a'.repeat(64), nodePassword: true },
};

describe('probeNodeState without root', () => {
  it('runs as the login user while the cache knows the files, and the cached content stands in for theirs', async () => {
    const t = new FakeTransport('pi-2').on('@@revue-pi@@ k3s_files', ok(`@@revue-pi@@ k3s_files\n${cached.files!.fingerprint}\n`));
    const { k3s } = await probeNodeState(t, cached, { withoutRoot: true });
    expect(t.runs.map((r) => r.opts?.sudo)).toEqual([false]);
    expect(t.runs[0]!.script).toContain(`sudo -n sh -c`);
    expect(k3s).toMatchObject({ config: 'node-name: pi-2\n', tokenFileSha256: 'a'.repeat(64), nodePassword: true });
  });

  it('probes again under sudo (one more round trip) when the files changed and sudo -n wants a password', async () => {
    const t = new FakeTransport('pi-2')
      .on((script) => script.includes('sudo -n sh -c'), fail(ROOT_PROBE_REFUSED_EXIT, 'sudo: a password is required'))
      .on(
        '@@revue-pi@@ k3s_files',
        ok('@@revue-pi@@ k3s_config\n|node-name: pi-2\n|node-label: [x=y]\n@@revue-pi@@ k3s_files\n10:20:31:41 /etc/rancher/k3s/config.yaml\n'),
      );
    const { k3s } = await probeNodeState(t, cached, { withoutRoot: true });
    expect(t.runs.map((r) => r.opts?.sudo)).toEqual([false, true]);
    expect(k3s.config).toBe('node-name: pi-2\nnode-label: [x=y]\n');
  });

  it('runs under sudo, as before, without a cache entry for the files', async () => {
    const t = new FakeTransport('pi-2').on('@@revue-pi@@ k3s_files', ok(''));
    await probeNodeState(t, { fingerprint: '1:2:3', version: 'v1.33.5+k3s1' }, { withoutRoot: true });
    expect(t.runs.map((r) => r.opts?.sudo)).toEqual([true]);
  });
});
