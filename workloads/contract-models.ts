/**
 * Models of upstream behaviour that the contracts (contracts.ts) describe, faithful to the code they cite: how dotenv
 * and python-dotenv read Revue's .env and merge it into the environment, how Revue's TypeScript and Python services pair
 * Kafka hosts with ports, how the web UI names the hosts it calls, how Kafka reads its listeners. Pure.
 */

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
