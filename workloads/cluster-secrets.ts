/** The workload secrets the cluster already holds: read back when the state file that kept them is gone. Pure. */
import { ofKind, type KubeItem, type KubeQuery } from '../core/kube/index.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from './render.js';
import { BEARER_TOKEN_NAMES, GRAFANA_ADMIN, MONGO_SERVICES, SECRET_NAMES } from './secrets.js';

/** revue-pi's Secrets in the cluster (to recover the workload secrets when the state file is gone). */
export const MANAGED_SECRETS_QUERY: KubeQuery = {
  resources: ['secrets'],
  allNamespaces: true,
  selector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
  kind: 'Secret',
};

/**
 * The workload secrets held by the cluster's Secrets, in the state file's shape (only what was found), or undefined
 * when there are none. A lost state file must not mean new MongoDB passwords: the databases keep their first one.
 */
export function secretsFromCluster(items: readonly KubeItem[], revueNamespace: string): Record<string, unknown> | undefined {
  const secrets = ofKind(items, 'Secret');
  const value = (ns: string, name: string, key: string): string | undefined => {
    const s = secrets.find((i) => i.metadata?.namespace === ns && i.metadata?.name === name);
    const v = s?.data?.[key];
    return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
  };
  const out: Record<string, unknown> = {};
  const mongo: Record<string, string> = {};
  for (const svc of MONGO_SERVICES) {
    const v = value(revueNamespace, SECRET_NAMES.database(svc), 'password');
    if (v !== undefined) mongo[svc] = v;
  }
  if (Object.keys(mongo).length > 0) out.mongoRootPasswords = mongo;
  const tokens = SECRET_NAMES.tokens;
  const put = (field: string, v: string | undefined) => {
    if (v !== undefined) out[field] = v;
  };
  put('jwtSecret', value(revueNamespace, tokens, 'JWT_SECRET'));
  put('jwtRefreshSecret', value(revueNamespace, tokens, 'JWT_REFRESH_SECRET'));
  put('devApiKey', value(revueNamespace, tokens, 'DEV_API_KEY'));
  const bearer: Record<string, string> = {};
  for (const name of BEARER_TOKEN_NAMES) {
    const v = value(revueNamespace, tokens, name);
    if (v !== undefined) bearer[name] = v;
  }
  if (Object.keys(bearer).length > 0) out.bearerTokens = bearer;
  put('grafanaAdminPassword', value(GRAFANA_ADMIN.namespace, GRAFANA_ADMIN.secret, GRAFANA_ADMIN.passwordKey));
  return Object.keys(out).length > 0 ? out : undefined;
}
