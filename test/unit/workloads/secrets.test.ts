import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deterministicRandom } from '../../fakes/deterministic-random.js';
import {
  BEARER_TOKEN_NAMES,
  MONGO_SERVICES,
  allSecretValues,
  generateWorkloadSecrets,
  reconcileWorkloadSecrets,
  workloadSecretsSchema,
} from '../../../workloads/secrets.js';

describe('generateWorkloadSecrets', () => {
  it('is pure given its random source: same bytes, same secrets', () => {
    const a = generateWorkloadSecrets(deterministicRandom('seed'));
    const b = generateWorkloadSecrets(deterministicRandom('seed'));
    expect(a).toEqual(b);
    expect(generateWorkloadSecrets(deterministicRandom('other'))).not.toEqual(a);
  });

  it('draws the bytes in a fixed order and sizes (64-byte JWT secrets, 24 bytes for the rest)', () => {
    const calls: number[] = [];
    const random = (n: number) => {
      calls.push(n);
      return Buffer.alloc(n, calls.length);
    };
    const s = generateWorkloadSecrets(random);
    // 7 MongoDB passwords, 2 JWT secrets, the API key, 8 distinct bearer tokens, Grafana's password.
    expect(calls).toEqual([24, 24, 24, 24, 24, 24, 24, 64, 64, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24]);
    expect(s.mongoRootPasswords.alarm).toBe('01'.repeat(24));
    expect(s.mongoRootPasswords.user).toBe('07'.repeat(24));
    expect(s.jwtSecret).toBe('08'.repeat(64));
    expect(s.jwtRefreshSecret).toBe('09'.repeat(64));
    expect(s.devApiKey).toBe('0a'.repeat(24));
    expect(s.bearerTokens.AUTH_BEARER_TOKEN).toBe('0b'.repeat(24));
    expect(s.grafanaAdminPassword).toBe('13'.repeat(24));
  });

  it('keeps upstream’s sharing: USER, DEVICE and LOCATION use the notification token; the others are distinct', () => {
    const s = generateWorkloadSecrets(randomBytes);
    expect(Object.keys(s.bearerTokens)).toEqual([...BEARER_TOKEN_NAMES]);
    for (const t of ['USER_BEARER_TOKEN', 'DEVICE_BEARER_TOKEN', 'LOCATION_BEARER_TOKEN'] as const) {
      expect(s.bearerTokens[t]).toBe(s.bearerTokens.NOTIFICATION_BEARER_TOKEN);
    }
    const distinct = new Set(allSecretValues(s));
    // 7 + 2 + 1 + 8 + 1 distinct values.
    expect(distinct.size).toBe(19);
    expect(Object.keys(s.mongoRootPasswords)).toEqual([...MONGO_SERVICES]);
  });

  it('produces values the state file schema accepts, hex only (safe in a MongoDB URI)', () => {
    const s = generateWorkloadSecrets(randomBytes);
    expect(workloadSecretsSchema.parse(s)).toEqual(s);
    for (const v of allSecretValues(s)) expect(v).toMatch(/^[0-9a-f]{48}([0-9a-f]{80})?$/);
    expect(s.jwtSecret).toHaveLength(128);
  });

  it('rejects a state file with a missing or weak value', () => {
    const s = generateWorkloadSecrets(randomBytes);
    expect(workloadSecretsSchema.safeParse({ ...s, devApiKey: 'apikey-dev' }).success).toBe(false);
    const { grafanaAdminPassword: _dropped, ...rest } = s;
    expect(workloadSecretsSchema.safeParse(rest).success).toBe(false);
  });

  it('refuses a random source that returns too few bytes', () => {
    expect(() => generateWorkloadSecrets((n) => Buffer.alloc(n - 1))).toThrow(/expected 24/);
  });
});

describe('reconcileWorkloadSecrets', () => {
  it('generates everything on the first run', () => {
    const { secrets, changed } = reconcileWorkloadSecrets(undefined, deterministicRandom('first'));
    expect(changed).toBe(true);
    expect(secrets).toEqual(generateWorkloadSecrets(deterministicRandom('first')));
  });

  it('keeps a complete stored set unchanged (stable across re-runs)', () => {
    const stored = generateWorkloadSecrets(randomBytes);
    const { secrets, changed } = reconcileWorkloadSecrets(JSON.parse(JSON.stringify(stored)), deterministicRandom('x'));
    expect(changed).toBe(false);
    expect(secrets).toEqual(stored);
  });

  it('fills only what is missing, never touching the stored MongoDB passwords', () => {
    const stored = generateWorkloadSecrets(randomBytes);
    const partial = JSON.parse(JSON.stringify(stored));
    delete partial.grafanaAdminPassword;
    delete partial.bearerTokens.NOTIFICATION_BEARER_TOKEN;
    delete partial.bearerTokens.USER_BEARER_TOKEN;
    const { secrets, changed } = reconcileWorkloadSecrets(partial, deterministicRandom('fill'));
    expect(changed).toBe(true);
    expect(secrets.mongoRootPasswords).toEqual(stored.mongoRootPasswords);
    expect(secrets.grafanaAdminPassword).not.toBe(stored.grafanaAdminPassword);
    expect(secrets.bearerTokens.USER_BEARER_TOKEN).toBe(secrets.bearerTokens.NOTIFICATION_BEARER_TOKEN);
    expect(secrets.bearerTokens.DEVICE_BEARER_TOKEN).toBe(stored.bearerTokens.DEVICE_BEARER_TOKEN);
    expect(Object.keys(secrets.bearerTokens)).toEqual([...BEARER_TOKEN_NAMES]);
    expect(workloadSecretsSchema.parse(secrets)).toEqual(secrets);
  });

  it.each([
    [{ mongoRootPasswords: { auth: 'example' } }, /workload secret mongoRootPasswords\.auth in state\/secrets\.json is malformed/],
    [{ devApiKey: 42 }, /workload secret devApiKey in state\/secrets\.json is malformed/],
    ['text', /workload secrets in state\/secrets\.json are not an object/],
  ])('refuses a malformed stored value instead of replacing it (%#)', (stored, message) => {
    expect(() => reconcileWorkloadSecrets(stored, randomBytes, 'state/secrets.json')).toThrow(message);
  });
});
