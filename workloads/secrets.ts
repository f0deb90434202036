import { z } from 'zod';
import { RevuePiError } from '../core/errors.js';

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
    bearerTokens: z.object(Object.fromEntries(BEARER_TOKEN_NAMES.map((t) => [t, secretValue])) as Record<BearerTokenName, typeof secretValue>).strict(),
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
  const bearerTokens = Object.fromEntries(BEARER_TOKEN_NAMES.map((name) => [name, own.get(SHARED_BEARER_TOKENS[name] ?? name)])) as Record<
    BearerTokenName,
    string
  >;
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

/**
 * The secrets to use on this run, from what the state directory holds (parsed JSON, or undefined on the first run).
 * Values already stored are kept as they are — MongoDB keeps its first root password, so changing one would lock its
 * service out — and only missing ones are generated (`changed` then says the state file must be written back).
 * A stored value that is malformed is an error naming it, never silently replaced. Pure given `random`.
 */
export function reconcileWorkloadSecrets(
  stored: unknown,
  random: (bytes: number) => Buffer,
  stateFile = 'the state file',
): { secrets: WorkloadSecrets; changed: boolean } {
  const fresh = generateWorkloadSecrets(random);
  if (stored === undefined || stored === null) return { secrets: fresh, changed: true };
  if (typeof stored !== 'object' || Array.isArray(stored)) {
    throw new RevuePiError(`The workload secrets in ${stateFile} are not an object.`, {
      code: 'STATE',
      hint: `Restore ${stateFile} from a backup; deleting it makes new passwords, which the existing MongoDB volumes will not accept.`,
    });
  }
  const s = stored as Record<string, unknown>;
  let changed = false;
  const pick = (path: string, value: unknown, generated: string): string => {
    if (value === undefined) {
      changed = true;
      return generated;
    }
    if (!secretValue.safeParse(value).success) {
      throw new RevuePiError(
        `The workload secret ${path} in ${stateFile} is malformed: ${typeof value === 'string' ? 'it ' + (secretValue.safeParse(value).error?.issues[0]?.message ?? 'is invalid') : 'it is not a string'}.`,
        {
          code: 'STATE',
          hint: `Restore ${stateFile} from a backup, or remove just that entry to have a new value generated.`,
        },
      );
    }
    return value as string;
  };
  const group = (key: 'mongoRootPasswords' | 'bearerTokens'): Record<string, unknown> => {
    const g = s[key];
    return g !== null && typeof g === 'object' && !Array.isArray(g) ? (g as Record<string, unknown>) : {};
  };
  const mongo = group('mongoRootPasswords');
  const tokens = group('bearerTokens');
  const secrets: WorkloadSecrets = {
    mongoRootPasswords: Object.fromEntries(MONGO_SERVICES.map((m) => [m, pick(`mongoRootPasswords.${m}`, mongo[m], fresh.mongoRootPasswords[m])])) as Record<
      MongoService,
      string
    >,
    jwtSecret: pick('jwtSecret', s.jwtSecret, fresh.jwtSecret),
    jwtRefreshSecret: pick('jwtRefreshSecret', s.jwtRefreshSecret, fresh.jwtRefreshSecret),
    devApiKey: pick('devApiKey', s.devApiKey, fresh.devApiKey),
    bearerTokens: {} as Record<BearerTokenName, string>,
    grafanaAdminPassword: pick('grafanaAdminPassword', s.grafanaAdminPassword, fresh.grafanaAdminPassword),
  };
  // Shared tokens follow their source when they are missing, so a partly restored file keeps upstream's sharing.
  for (const name of BEARER_TOKEN_NAMES) {
    if (SHARED_BEARER_TOKENS[name] === undefined) secrets.bearerTokens[name] = pick(`bearerTokens.${name}`, tokens[name], fresh.bearerTokens[name]);
  }
  for (const name of BEARER_TOKEN_NAMES) {
    const source = SHARED_BEARER_TOKENS[name];
    if (source !== undefined) secrets.bearerTokens[name] = pick(`bearerTokens.${name}`, tokens[name], secrets.bearerTokens[source]);
  }
  secrets.bearerTokens = Object.fromEntries(BEARER_TOKEN_NAMES.map((n) => [n, secrets.bearerTokens[n]])) as Record<BearerTokenName, string>;
  return { secrets, changed };
}
