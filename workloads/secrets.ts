import { z } from 'zod';

/**
 * Per-cluster secrets of the workloads. Generated once (pure, given its random source), kept by the caller in the
 * state directory (mode 0600) so re-runs reuse them — MongoDB only takes its root password on first start, so a
 * changed password would lock the services out of their data. Rendered as Kubernetes Secrets and injected with
 * secretKeyRef into each service and its database; never written to ConfigMaps, literal env values or logs.
 */

/** The Revue services that own a MongoDB instance (seven, as upstream). */
export const MONGO_SERVICES = ['alarm', 'auth', 'device', 'location', 'log', 'notification', 'user'] as const;
export type MongoService = (typeof MONGO_SERVICES)[number];

/** Every `*_BEARER_TOKEN` in upstream's env.example, in its order. */
export const BEARER_TOKEN_NAMES = [
  'AUTH_BEARER_TOKEN',
  'USER_BEARER_TOKEN',
  'DEVICE_BEARER_TOKEN',
  'LOCATION_BEARER_TOKEN',
  'MONITORING_BEARER_TOKEN',
  'ALARM_BEARER_TOKEN',
  'LOG_BEARER_TOKEN',
  'NOTIFICATION_BEARER_TOKEN',
  'RECOGNITION_BEARER_TOKEN',
  'SENSOR_BEARER_TOKEN',
  'CAMERA_BEARER_TOKEN',
] as const;
export type BearerTokenName = (typeof BEARER_TOKEN_NAMES)[number];

/**
 * Upstream gives USER, DEVICE and LOCATION the notification service's token (the same value). Whether the services
 * rely on that cannot be checked from here, so the generated tokens keep the same sharing.
 */
export const SHARED_BEARER_TOKENS: Partial<Record<BearerTokenName, BearerTokenName>> = {
  USER_BEARER_TOKEN: 'NOTIFICATION_BEARER_TOKEN',
  DEVICE_BEARER_TOKEN: 'NOTIFICATION_BEARER_TOKEN',
  LOCATION_BEARER_TOKEN: 'NOTIFICATION_BEARER_TOKEN',
};

/** Secret names and keys, shared by the manifests (secretKeyRef) and the renderer. */
export const SECRET_NAMES = {
  /** JWT_SECRET, JWT_REFRESH_SECRET, DEV_API_KEY and every *_BEARER_TOKEN, in the Revue namespace. */
  tokens: 'revue-tokens',
  /** `revue-<service>-db`, key `password`: the MongoDB root password, read by the database and its service. */
  database: (service: MongoService) => `revue-${service}-db`,
  grafanaAdmin: 'grafana-admin',
} as const;

/** How the operator reads the Grafana password (printed at the end of `up`). */
export const GRAFANA_ADMIN = { namespace: 'monitoring', secret: 'grafana-admin', userKey: 'admin-user', passwordKey: 'admin-password', user: 'admin' } as const;

const secretValue = z.string().regex(/^[A-Za-z0-9_-]{16,}$/, 'must be at least 16 letters, digits, "-" or "_"');

export const workloadSecretsSchema = z
  .object({
    mongoRootPasswords: z.object(Object.fromEntries(MONGO_SERVICES.map((s) => [s, secretValue])) as Record<MongoService, typeof secretValue>).strict(),
    jwtSecret: secretValue,
    jwtRefreshSecret: secretValue,
    devApiKey: secretValue,
    bearerTokens: z
      .object(Object.fromEntries(BEARER_TOKEN_NAMES.map((t) => [t, secretValue])) as Record<BearerTokenName, typeof secretValue>)
      .strict(),
    grafanaAdminPassword: secretValue,
  })
  .strict();

export type WorkloadSecrets = z.infer<typeof workloadSecretsSchema>;

/**
 * Fresh secrets from `random` (e.g. crypto.randomBytes). Pure given its random source: the same bytes give the same
 * secrets. Values are hex, so they are safe inside a MongoDB connection URI without escaping.
 * Sizes: JWT secrets 64 bytes (as upstream's), everything else 24 bytes.
 */
export function generateWorkloadSecrets(random: (bytes: number) => Buffer): WorkloadSecrets {
  const hex = (bytes: number): string => {
    const buf = random(bytes);
    if (buf.length !== bytes) throw new Error(`random source returned ${buf.length} bytes, expected ${bytes}`);
    return buf.toString('hex');
  };
  const mongoRootPasswords = Object.fromEntries(MONGO_SERVICES.map((s) => [s, hex(24)])) as Record<MongoService, string>;
  const jwtSecret = hex(64);
  const jwtRefreshSecret = hex(64);
  const devApiKey = hex(24);
  const own = new Map<BearerTokenName, string>();
  for (const name of BEARER_TOKEN_NAMES) {
    if (SHARED_BEARER_TOKENS[name] === undefined) own.set(name, hex(24));
  }
  const bearerTokens = Object.fromEntries(
    BEARER_TOKEN_NAMES.map((name) => [name, own.get(SHARED_BEARER_TOKENS[name] ?? name)]),
  ) as Record<BearerTokenName, string>;
  const grafanaAdminPassword = hex(24);
  return { mongoRootPasswords, jwtSecret, jwtRefreshSecret, devApiKey, bearerTokens, grafanaAdminPassword };
}

/** Every secret value, for checks that none of them leaks into output that is not a Secret. */
export function allSecretValues(secrets: WorkloadSecrets): string[] {
  return [
    ...Object.values(secrets.mongoRootPasswords),
    secrets.jwtSecret,
    secrets.jwtRefreshSecret,
    secrets.devApiKey,
    ...Object.values(secrets.bearerTokens),
    secrets.grafanaAdminPassword,
  ];
}
