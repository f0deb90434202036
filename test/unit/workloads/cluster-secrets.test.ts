import { describe, expect, it } from 'vitest';
import { parseKubeList } from '../../../core/kube/index.js';
import { secretsFromCluster } from '../../../workloads/cluster-secrets.js';

/** workloads/cluster-secrets.ts: the workload secrets read back from the cluster's Secrets. */
const items = (json: string) => parseKubeList(json, { command: 'k3s kubectl get secrets -A -l app.kubernetes.io/managed-by=revue-pi -o json' });

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
