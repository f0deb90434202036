import { spawnSync } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildForgetNodeScript,
  buildJournalCommand,
  buildRestartCommand,
  isNodePasswordRejected,
  joinRefusal,
  parseNodesReady,
  readySince,
  restartedAt,
} from '../../../cluster/nodes.js';
import { tempDir } from '../../fakes/temp-dir.js';

/** Trimmed from `kubectl get nodes -o json` on a K3s server: one Ready node, one that lost its kubelet. */
const NODES_JSON = JSON.stringify({
  apiVersion: 'v1',
  kind: 'List',
  items: [
    {
      metadata: { name: 'pi-1', labels: { 'node-role.kubernetes.io/control-plane': 'true' } },
      status: {
        conditions: [
          { type: 'MemoryPressure', status: 'False' },
          { type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: '2026-11-26T06:40:41Z' },
        ],
        nodeInfo: { kubeletVersion: 'v1.33.5+k3s1', architecture: 'arm64' },
      },
    },
    {
      metadata: { name: 'pi-2' },
      status: { conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown' }], nodeInfo: { kubeletVersion: 'v1.33.5+k3s1' } },
    },
    { metadata: { name: 'pi-3' }, status: {} },
  ],
});

describe('parseNodesReady', () => {
  it('reads the Ready condition and kubelet version per node', () => {
    expect(parseNodesReady(NODES_JSON)).toEqual([
      { name: 'pi-1', ready: true, version: 'v1.33.5+k3s1', heartbeat: Date.UTC(2026, 10, 26, 6, 40, 41) / 1000 },
      { name: 'pi-2', ready: false, version: 'v1.33.5+k3s1' },
      { name: 'pi-3', ready: false, version: '' },
    ]);
  });
  it('says what it got when kubectl printed an error instead of JSON', () => {
    expect(() => parseNodesReady('The connection to the server 127.0.0.1:6443 was refused')).toThrow(
      '`k3s kubectl get nodes -o json` printed something that is not JSON: The connection to the server 127.0.0.1:6443 was refused',
    );
    expect(() => parseNodesReady('{}')).toThrow('`k3s kubectl get nodes -o json` printed JSON without an items list');
  });
});

describe('join refusals that waiting will not cure', () => {
  it('a refused token and a token for another CA are named; anything else is not a refusal', () => {
    expect(joinRefusal('k3s[812]: level=error msg="failed to get CA certs: https://127.0.0.1:6444/cacerts: 401 Unauthorized"')).toBe(
      'the cluster refused its token (401 Unauthorized)',
    );
    expect(joinRefusal('level=fatal msg="Error: failed to validate token: token CA hash does not match the Cluster CA certificate hash"')).toBe(
      "its token names another cluster's CA (token CA hash does not match)",
    );
    expect(joinRefusal('level=error msg="failed to get CA certs: dial tcp 192.168.1.101:6443: connect: connection refused"')).toBeUndefined();
    expect(joinRefusal('-- No entries --')).toBeUndefined();
  });
});

describe('node password rejection', () => {
  it('is found in an agent journal', () => {
    const journal = [
      'Nov 25 10:00:01 pi-2 k3s[812]: time="2026-11-25T10:00:01Z" level=info msg="Starting k3s agent v1.33.5+k3s1"',
      'Nov 25 10:00:03 pi-2 k3s[812]: time="2026-11-25T10:00:03Z" level=error msg="Failed to retrieve agent config: Node password rejected, duplicate hostname or contents of \'/etc/rancher/node/password\' may not match server node-passwd entry, try enabling a unique node name with the --with-node-id flag"',
    ].join('\n');
    expect(isNodePasswordRejected(journal)).toBe(true);
    expect(isNodePasswordRejected('level=info msg="Connecting to proxy"')).toBe(false);
  });
  it('is fixed by deleting the node and its secret, not-found tolerated', () => {
    expect(buildForgetNodeScript('pi-2').text).toBe(
      [
        'rc=0',
        'out=$(k3s kubectl delete node pi-2 2>&1) || case "$out" in *NotFound*|*"not found"*) ;; *) echo "$out" >&2; rc=1 ;; esac',
        'out=$(k3s kubectl -n kube-system delete secret pi-2.node-password.k3s 2>&1) || case "$out" in *NotFound*|*"not found"*) ;; *) echo "$out" >&2; rc=1 ;; esac',
        'exit $rc',
        '',
      ].join('\n'),
    );
  });
  it.each([
    ['both deleted', 'echo deleted; exit 0', 0],
    ['already gone', 'echo "Error from server (NotFound): nodes \\"pi-2\\" not found" >&2; exit 1', 0],
    ['API down', 'echo "The connection to the server 127.0.0.1:6443 was refused" >&2; exit 1', 1],
  ])('the forget script under /bin/sh: %s → exit %i', (_what, body, code) => {
    const dir = tempDir('forget');
    try {
      writeFileSync(join(dir, 'k3s'), `#!/bin/sh\n${body}\n`);
      chmodSync(join(dir, 'k3s'), 0o755);
      const result = spawnSync('sh', ['-c', buildForgetNodeScript('pi-2').text], { env: { PATH: `${dir}:/usr/bin:/bin` }, encoding: 'utf8' });
      expect(result.status).toBe(code);
      if (code === 1) expect(result.stderr).toContain('was refused');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('journal and restart commands', () => {
    expect(buildJournalCommand('k3s-agent').text).toBe('journalctl -u k3s-agent -n 20 --no-pager');
    expect(buildRestartCommand('k3s').text).toBe('date +%s && systemctl restart k3s');
    expect(buildRestartCommand('k3s-agent').text).toBe('date +%s && systemctl restart --no-block k3s-agent');
  });
  it("the restart time comes from the restart command's own output", () => {
    expect(restartedAt('1764000123\n')).toBe(1764000123);
    expect(restartedAt('[INFO] installed\n1764000123\n')).toBe(1764000123);
    expect(restartedAt('')).toBeUndefined();
    expect(restartedAt('12\n')).toBeUndefined();
  });
  it('Ready since a restart: a heartbeat at or after it, or no time to compare', () => {
    const node = { name: 'pi-2', ready: true, version: 'v1.33.5+k3s1', heartbeat: 1764000100 };
    expect(readySince(node, undefined)).toBe(true);
    expect(readySince(node, 1764000100)).toBe(true);
    expect(readySince(node, 1764000101)).toBe(false);
    expect(readySince({ ...node, ready: false }, 1764000000)).toBe(false);
    expect(readySince({ name: 'pi-2', ready: true, version: '' }, 1764000101)).toBe(true);
  });
});
