import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { brokersFromEnvPy, brokersFromEnvTs, frontendServiceBase, parseDotenv, permutations, withDotenv } from '../../../workloads/contract-models.js';
import { BAKED_DOTENV_FILE, CONTRACTS_DIR, loadBakedDotenv, loadContracts } from '../../../workloads/contracts.js';
import { REVUE_SERVICES } from '../../../core/inventory/images.js';
import { packageRoot } from '../../../workloads/render.js';

const root = packageRoot();
const contracts = loadContracts(root);
const bakedDotenv = loadBakedDotenv(root);
describe('the contract data', () => {
  it('has one contract per Revue service and for Kafka, ZooKeeper, MediaMTX and MongoDB, each fact citing its source', () => {
    expect(contracts.map((c) => c.component).sort()).toEqual([...REVUE_SERVICES, 'kafka', 'media-server', 'mongo', 'zookeeper'].sort());
    for (const c of contracts.filter((c) => c.kind === 'revue-service')) {
      expect(c.upstream).toEqual({ repo: 'revue-org/revue', ref: 'v3.1.14', commit: 'b051810b742cddc3c2f0c78614d37cbb01576dec' });
      expect(JSON.stringify(c)).not.toMatch(/"source":"(?!revue-org\/revue(-kubernetes)?@)/);
    }
  });

  it("carries Revue v3.1.14's .env byte for byte (the images bake it in), with Revue's licence", () => {
    const bytes = readFileSync(join(root, CONTRACTS_DIR, BAKED_DOTENV_FILE));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe('d91cf4fe8669e9522c4050c2cafd5be323fd26aecd48d3506db0904b992c2445');
    expect(readFileSync(join(root, CONTRACTS_DIR, 'LICENSE-revue'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2023 Mattia Matteini/);
    expect(new Map(bakedDotenv).get('KAFKA_PORT_2')).toBe('9093');
    expect(new Map(bakedDotenv).get('VITE_AUTH_PORT')).toBe('${AUTH_PORT}'); // no expansion
  });

  it('a contract file that breaks the schema is refused with its name', () => {
    expect(() => loadContracts(join(root, 'test/fixtures/contracts-bad'))).toThrow(/workloads\/revue\/contracts\/broken\.json: .*source/);
    expect(existsSync(join(root, 'test/fixtures/contracts-bad', CONTRACTS_DIR, 'broken.json'))).toBe(true);
  });
});

describe('models of upstream code', () => {
  const env = (...names: string[]): [string, string][] =>
    names.map((n) => [n, { KAFKA_HOST_1: 'revue-kafka-1', KAFKA_HOST_2: 'revue-kafka-2', KAFKA_PORT_1: '9092', KAFKA_PORT_2: '9093' }[n] ?? 'x']);

  it.each([
    [
      'manifest order',
      ['KAFKA_HOST_1', 'KAFKA_PORT_1', 'KAFKA_HOST_2', 'KAFKA_PORT_2'],
      [
        ['revue-kafka-1', '9092'],
        ['revue-kafka-2', '9093'],
      ],
    ],
    [
      'ports swapped',
      ['KAFKA_HOST_1', 'KAFKA_PORT_2', 'KAFKA_HOST_2', 'KAFKA_PORT_1'],
      [
        ['revue-kafka-1', '9093'],
        ['revue-kafka-2', '9092'],
      ],
    ],
    [
      'hosts swapped',
      ['KAFKA_HOST_2', 'PATH', 'KAFKA_PORT_1', 'KAFKA_HOST_1', 'KAFKA_PORT_2'],
      [
        ['revue-kafka-2', '9092'],
        ['revue-kafka-1', '9093'],
      ],
    ],
  ])('getBrokersFromEnv and get_brokers_from_env pair the n-th host with the n-th port in enumeration order (%s)', (_name, order, pairs) => {
    const expected = pairs.map(([host, port]) => ({ host, port }));
    expect(brokersFromEnvTs(env(...order), 'production')).toEqual(expected);
    expect(brokersFromEnvPy(env(...order), 'production')).toEqual(expected);
  });

  it('use the KAFKA_EXTERNAL_* names in develop mode, match by prefix, and throw when the counts differ', () => {
    const e: [string, string][] = [
      ['KAFKA_EXTERNAL_HOST_1', 'localhost'],
      ['KAFKA_EXTERNAL_PORT_1', '9094'],
      ['KAFKA_HOST_1', 'revue-kafka-1'],
      ['KAFKA_PORT_1', '9092'],
    ];
    expect(brokersFromEnvTs(e, 'develop')).toEqual([{ host: 'localhost', port: '9094' }]);
    expect(brokersFromEnvPy(e, 'develop')).toEqual([{ host: 'localhost', port: '9094' }]);
    expect(
      brokersFromEnvTs(
        [
          ['KAFKA_HOSTNAME', 'a'],
          ['KAFKA_PORT', '1'],
        ],
        'production',
      ),
    ).toEqual([{ host: 'a', port: '1' }]);
    expect(() => brokersFromEnvTs([['KAFKA_HOST_1', 'a']], 'production')).toThrow('Invalid configuration for Kafka brokers');
    expect(() => brokersFromEnvPy([['KAFKA_PORT_1', '1']], 'production')).toThrow('Invalid configuration for Kafka brokers');
  });

  it('the web UI calls revue-<service> unless its page URL contains "localhost"', () => {
    expect(frontendServiceBase('auth', 'http://frontend.revue.lan/')).toBe('http://revue-auth');
    expect(frontendServiceBase('media-server', 'http://frontend.revue.lan/')).toBe('http://revue-media-server');
    expect(frontendServiceBase('auth', 'http://frontend.localhost/')).toBe('http://auth.localhost');
  });

  it('the .env loads as dotenv does, and only fills in names the process lacks, appended in file order', () => {
    expect(parseDotenv('A=1\n# c\n\nB="two words"\nC=x # note\nA=3\n')).toEqual([
      ['A', '3'],
      ['B', 'two words'],
      ['C', 'x'],
    ]);
    expect(
      withDotenv(
        [['B', 'mine']],
        [
          ['A', '1'],
          ['B', '2'],
          ['C', '3'],
        ],
      ),
    ).toEqual([
      ['B', 'mine'],
      ['A', '1'],
      ['C', '3'],
    ]);
    expect(permutations([1, 2, 3])).toHaveLength(6);
    expect(new Set(permutations([1, 2, 3, 4]).map((p) => p.join())).size).toBe(24);
  });
});
