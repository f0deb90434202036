import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * Behaviour contracts: what each program revue-pi deploys reads and how, written down from its source at the pinned
 * version (workloads/revue/contracts/*.json, every fact citing `owner/repo@tag:path`). This module holds their schema,
 * their loader and faithful models of the upstream code the facts describe (how Revue pairs Kafka hosts with ports,
 * how the frontend names the hosts it calls, how a process ends up with its environment). contract-check.ts tests
 * rendered objects against them. Pure apart from reading the data files.
 */

/** `owner/repo@tag-or-commit:path`, e.g. `revue-org/revue@v3.1.14:common/src/utils/connection.ts`. */
const citation = z.string().regex(/^[\w.-]+\/[\w.-]+@[\w.+-]+:\S+$/, 'cite as owner/repo@tag:path');

/** A value the program takes from its environment (with the fallback its code applies) or a fixed one. */
const valueRef = z.union([
  z.object({ env: z.string(), fallback: z.union([z.string(), z.number()]).optional() }).strict(),
  z.object({ value: z.union([z.string(), z.number()]) }).strict(),
]);
export type ValueRef = z.infer<typeof valueRef>;

const envFact = z
  .object({
    name: z.string(),
    /**
     * manifest: the container spec must set it, exactly once (the start command's shell reads it before the baked .env
     * is loaded, or the baked value is a public development secret); resolved: the container spec, the start command
     * or the image's baked .env must give it a value; optional: read, but the program runs without it.
     */
    need: z.enum(['manifest', 'resolved', 'optional']),
    how: z.string(),
    /** Must hold the same value in every component whose contract marks it shared (one signs a token, another checks it). */
    shared: z.boolean().optional(),
    /** Must differ between the contract's workloads (a broker id, a ZooKeeper server id). */
    unique: z.boolean().optional(),
    source: citation,
  })
  .strict();

const listen = z.object({ port: valueRef, protocol: z.enum(['TCP', 'UDP']).default('TCP'), what: z.string(), source: citation }).strict();

const podCall = z.object({ scheme: z.string(), host: valueRef, port: valueRef, what: z.string(), source: citation }).strict();

/** Environment variables whose meaning depends on the order the process environment enumerates them in. */
const orderSensitive = z
  .object({
    id: z.string(),
    /** Which upstream function the model reproduces (see brokersFromEnv). */
    algorithm: z.enum(['revue-ts-getBrokersFromEnv', 'revue-py-get_brokers_from_env']),
    hostPrefix: z.string(),
    portPrefix: z.string(),
    how: z.string(),
    source: citation,
  })
  .strict();

const mongoClient = z
  .object({
    host: valueRef,
    port: z.number(),
    username: valueRef,
    password: valueRef,
    database: valueRef,
    authSource: z.string(),
    how: z.string(),
    source: citation,
  })
  .strict();

const initScript = z
  .object({
    /** The file the seed mounts into /docker-entrypoint-initdb.d/. */
    file: z.string(),
    /** The database the script opens (`new Mongo().getDB(...)`). */
    database: z.string(),
    /** MongoDB users the script creates (Revue's create none: the image's entrypoint creates the root user). */
    createsUsers: z.array(z.string()),
    how: z.string(),
    source: citation,
  })
  .strict();

const runtime = z
  .object({
    startCommand: z.string(),
    /** Variables the start command sets itself; they win over the container's. */
    startEnv: z.record(z.string()).default({}),
    /** The .env file baked into the image and loaded without overriding what the process already has. */
    dotenv: z.object({ path: z.string(), how: z.string(), source: citation }).strict().optional(),
    source: citation,
  })
  .strict();

const browserCall = z.object({ service: z.string(), port: z.number(), scheme: z.string(), what: z.string(), source: citation }).strict();

const stockLogin = z.object({ username: z.string(), password: z.string(), role: z.string(), bcrypt: z.string(), source: citation }).strict();

const workloadRef = z.object({ kind: z.enum(['Deployment', 'StatefulSet']), name: z.string(), container: z.string() }).strict();

const common = {
  component: z.string(),
  upstream: z.object({ repo: z.string(), ref: z.string(), commit: z.string().optional() }).strict(),
  workloads: z.array(workloadRef).min(1),
  env: z.array(envFact).default([]),
  listens: z.array(listen).default([]),
  notes: z.array(z.string()).default([]),
};

const revueServiceContract = z
  .object({
    ...common,
    kind: z.literal('revue-service'),
    runtime,
    calls: z.array(podCall).default([]),
    orderSensitive: z.array(orderSensitive).default([]),
    mongo: mongoClient.optional(),
    initScript: initScript.optional(),
    stockLogins: z.array(stockLogin).optional(),
    /** Hosts the web UI calls from the browser (frontend only). */
    browser: z
      .object({ rule: z.string(), pageUrlSwitch: z.string(), calls: z.array(browserCall), source: citation })
      .strict()
      .optional(),
  })
  .strict();

const kafkaContract = z
  .object({
    ...common,
    kind: z.literal('kafka'),
    listeners: z
      .object({
        listenersEnv: z.string(),
        advertisedEnv: z.string(),
        protocolMapEnv: z.string(),
        interBrokerEnv: z.string(),
        zookeeperConnectEnv: z.string(),
        how: z.string(),
        source: citation,
      })
      .strict(),
  })
  .strict();

const zookeeperContract = z
  .object({
    ...common,
    kind: z.literal('zookeeper'),
    ensemble: z.object({ serversEnv: z.string(), serverIdEnv: z.string(), how: z.string(), source: citation }).strict(),
  })
  .strict();

const mediaServerContract = z
  .object({
    ...common,
    kind: z.literal('media-server'),
    /** Ports a browser on the LAN must reach (the WebRTC page and its ICE traffic). */
    browserPorts: z.array(z.object({ port: z.number(), protocol: z.enum(['TCP', 'UDP']), what: z.string(), source: citation }).strict()),
    /** The variable listing the addresses WebRTC offers to browsers. */
    additionalHostsEnv: z.string(),
  })
  .strict();

const mongoContract = z
  .object({
    ...common,
    kind: z.literal('mongo'),
    rootUser: z.object({ usernameEnv: z.string(), passwordEnv: z.string(), database: z.string(), how: z.string(), source: citation }).strict(),
    initDir: z.string(),
  })
  .strict();

export const contractSchema = z.discriminatedUnion('kind', [revueServiceContract, kafkaContract, zookeeperContract, mediaServerContract, mongoContract]);
export type Contract = z.infer<typeof contractSchema>;
export type RevueServiceContract = z.infer<typeof revueServiceContract>;
export type KafkaContract = z.infer<typeof kafkaContract>;
export type ZookeeperContract = z.infer<typeof zookeeperContract>;
export type MediaServerContract = z.infer<typeof mediaServerContract>;
export type MongoContract = z.infer<typeof mongoContract>;
export type EnvFact = z.infer<typeof envFact>;

/** Where the contracts live, relative to the package root. */
export const CONTRACTS_DIR = 'workloads/revue/contracts';
/** Revue's .env at the pinned tag, byte for byte: the images copy it to /home/revue/.env (see the Dockerfiles). */
export const BAKED_DOTENV_FILE = 'revue-v3.1.14.env';

/** Every contract under workloads/revue/contracts/, by file name order; a malformed one throws, naming the file. */
export function loadContracts(root: string): Contract[] {
  const dir = join(root, CONTRACTS_DIR);
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => {
      const parsed = contractSchema.safeParse(JSON.parse(readFileSync(join(dir, n), 'utf8')));
      if (!parsed.success) throw new Error(`${CONTRACTS_DIR}/${n}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      return parsed.data;
    });
}

/** The baked .env's entries in file order. */
export function loadBakedDotenv(root: string): [string, string][] {
  return parseDotenv(readFileSync(join(root, CONTRACTS_DIR, BAKED_DOTENV_FILE), 'utf8'));
}

// ---------------------------------------------------------------------------------------------------------------
// Models of upstream behaviour

/**
 * KEY=VALUE lines as dotenv (the Node package, v16) and python-dotenv read them for this file's subset: comments and
 * blank lines skipped, no variable expansion (`${AUTH_PORT}` stays literal: neither loader is given expansion), surrounding
 * quotes removed. First occurrence order; a repeated key keeps its last value, as both loaders do.
 */
export function parseDotenv(text: string): [string, string][] {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([\w.-]+)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2] ?? '';
    const quoted = /^(['"`])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2] ?? '';
    else value = value.replace(/\s+#.*$/, '').trim();
    out.set(m[1]!, value);
  }
  return [...out.entries()];
}

/**
 * The process environment after the program loads its baked .env without overriding (dotenv `config()`,
 * python-dotenv `load_dotenv(override=False)`): keys it lacks are appended in file order, as setenv appends new names
 * to `environ` and Python's os.environ inserts them at the end.
 */
export function withDotenv(env: [string, string][], dotenv: [string, string][]): [string, string][] {
  const have = new Set(env.map(([k]) => k));
  return [...env, ...dotenv.filter(([k]) => !have.has(k))];
}

export interface KafkaBroker {
  host: string;
  port: string;
}

/**
 * Revue's `getBrokersFromEnv` (common/src/infrastructure/events/KafkaOptions.ts at v3.1.14), over an environment in
 * its enumeration order: every name starting with the host prefix adds a host, else every name starting with the port
 * prefix adds a port, and the n-th host is paired with the n-th port. Throws as upstream when the counts differ.
 */
export function brokersFromEnvTs(env: [string, string][], nodeEnv: string | undefined): KafkaBroker[] {
  const hostPrefix = nodeEnv === 'develop' ? 'KAFKA_EXTERNAL_HOST' : 'KAFKA_HOST';
  const portPrefix = nodeEnv === 'develop' ? 'KAFKA_EXTERNAL_PORT' : 'KAFKA_PORT';
  const hosts: string[] = [];
  const ports: string[] = [];
  for (const [variable, value] of env) {
    if (variable.startsWith(hostPrefix)) hosts.push(value);
    else if (variable.startsWith(portPrefix)) ports.push(value);
  }
  if (hosts.length !== ports.length) throw new Error('Invalid configuration for Kafka brokers');
  return hosts.map((host, index) => ({ host, port: ports[index]! }));
}

/**
 * Revue's Python twin `get_brokers_from_env` (recognition/app/infrastructure/events/KafkaOptions.py at v3.1.14): the
 * same pairing over `os.environ.items()`, the prefixes chosen by the ENV variable instead of NODE_ENV.
 */
export function brokersFromEnvPy(env: [string, string][], envMode: string | undefined): KafkaBroker[] {
  const hostPrefix = envMode === 'develop' ? 'KAFKA_EXTERNAL_HOST' : 'KAFKA_HOST';
  const portPrefix = envMode === 'develop' ? 'KAFKA_EXTERNAL_PORT' : 'KAFKA_PORT';
  const brokerHosts: string[] = [];
  const brokerPorts: string[] = [];
  for (const [variable, value] of env) {
    if (variable.startsWith(hostPrefix)) brokerHosts.push(value);
    else if (variable.startsWith(portPrefix)) brokerPorts.push(value);
  }
  if (brokerHosts.length !== brokerPorts.length) throw new Error('Invalid configuration for Kafka brokers');
  return brokerHosts.map((host, index) => ({ host, port: brokerPorts[index]! }));
}

/**
 * The base URL the production web UI uses for a service (frontend/src/utils/RequestHelper.ts `getHost` at v3.1.14,
 * `import.meta.env.DEV` false in a vite build): `http://<service>.localhost` when the page's URL contains "localhost",
 * else `http://revue-<service>` — port 80, no domain.
 */
export function frontendServiceBase(service: string, pageUrl: string): string {
  return pageUrl.includes('localhost') ? `http://${service}.localhost` : `http://revue-${service}`;
}

export interface KafkaListener {
  name: string;
  host: string;
  port: number;
}

/** `NAME://host:port,…` (host may be empty: all interfaces). */
export function parseListeners(text: string): KafkaListener[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .flatMap((s) => {
      const m = /^([A-Za-z0-9_]+):\/\/(.*):(\d+)$/.exec(s);
      return m ? [{ name: m[1]!, host: m[2]!, port: Number(m[3]) }] : [];
    });
}

/** Every ordering of `items` (n! of them; for the handful of order-sensitive variables of one container). */
export function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}
