/** The Secrets rendered from the cluster's workload secrets (Revue's and Grafana's). */
import { GRAFANA_ADMIN, MONGO_SERVICES, SECRET_NAMES, type WorkloadSecrets } from './secrets.js';
import type { K8sObject } from './objects.js';

function secret(name: string, namespace: string, data: Record<string, string>): K8sObject {
  const encoded = Object.fromEntries(
    Object.keys(data)
      .sort()
      .map((k) => [k, Buffer.from(data[k] ?? '', 'utf8').toString('base64')]),
  );
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', data: encoded };
}

/** The Revue Secrets (namespace applied by the caller): app tokens and one MongoDB root password per database. */
export function renderRevueSecrets(secrets: WorkloadSecrets, namespace = 'revue'): K8sObject[] {
  return [
    secret(SECRET_NAMES.tokens, namespace, {
      DEV_API_KEY: secrets.devApiKey,
      JWT_SECRET: secrets.jwtSecret,
      JWT_REFRESH_SECRET: secrets.jwtRefreshSecret,
      ...secrets.bearerTokens,
    }),
    ...MONGO_SERVICES.map((s) => secret(SECRET_NAMES.database(s), namespace, { password: secrets.mongoRootPasswords[s] })),
  ];
}

export function renderGrafanaSecret(secrets: WorkloadSecrets): K8sObject {
  return secret(GRAFANA_ADMIN.secret, GRAFANA_ADMIN.namespace, {
    [GRAFANA_ADMIN.userKey]: GRAFANA_ADMIN.user,
    [GRAFANA_ADMIN.passwordKey]: secrets.grafanaAdminPassword,
  });
}
