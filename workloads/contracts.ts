import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseDotenv } from './contract-models.js';

/**
 * Behaviour contracts: what each program revue-pi deploys reads and how, written down from its source at the pinned
 * version (workloads/revue/contracts/*.json, every fact citing `owner/repo@tag:path`). This module holds their schema
 * and their loader; contract-models.ts holds faithful models of the upstream code the facts describe (how Revue pairs
 * Kafka hosts with ports, how the frontend names the hosts it calls, how a process ends up with its environment).
 * contract-check.ts tests rendered objects against them. Pure apart from reading the data files.
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
