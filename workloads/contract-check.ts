import type { AccessInfo } from './access.js';
import { checkKafkaBroker, checkMediaServer, checkZookeeper } from './contract-check-infra.js';
import { checkRevueService } from './contract-check-revue.js';
import { type Placed, World, label, portOf, processEnv, valueOf } from './contract-world.js';
import type { Contract, EnvFact } from './contracts.js';
import type { K8sObject } from './render.js';

/**
 * Tests rendered objects against the behaviour contracts (contracts.ts): every variable a program needs is set, once;
 * every host and port it calls is a Service that serves it; every order-sensitive group gives the same answer in every
 * order; MongoDB credentials match the user the database's image creates; the web UI's hosts reach Traefik or the media
 * server. Pure: returns one sentence per problem, naming the object, the variable or host, and the contract's source.
 */

export interface ContractCheckInput {
  objects: K8sObject[];
  contracts: Contract[];
  /** The .env baked into Revue's images (contracts.ts loadBakedDotenv). */
  bakedDotenv: [string, string][];
  /** renderAccessInfo for the same objects: the host names a laptop resolves, and where they lead. */
  access: AccessInfo;
}

export function checkContracts(input: ContractCheckInput): string[] {
  const problems: string[] = [];
  const world = new World(input.objects);
  const sharedValues = new Map<string, { where: string; value: string }[]>();

  for (const contract of input.contracts) {
    const placed = contract.workloads.map((w) => ({ ref: w, placed: world.place(w.kind, w.name, w.container) }));
    const present = placed.filter((p) => p.placed);
    if (present.length === 0) continue; // not deployed with this inventory
    for (const p of placed.filter((x) => !x.placed))
      problems.push(`${contract.component}: ${p.ref.kind} ${p.ref.name} with container ${p.ref.container} is not rendered.`);
    const all = present.map((p) => p.placed!);

    for (const at of all) {
      const env = processEnv(contract, at, world, input.bakedDotenv);
      problems.push(...checkEnv(contract, at, env));
      problems.push(...checkListens(contract, at, env));
      for (const fact of contract.env.filter((f) => f.shared)) {
        const value = env.get(fact.name);
        if (value !== undefined) sharedValues.set(fact.name, [...(sharedValues.get(fact.name) ?? []), { where: label(at), value }]);
      }
      if (contract.kind === 'revue-service') problems.push(...checkRevueService(contract, at, env, world, input));
      if (contract.kind === 'kafka') problems.push(...checkKafkaBroker(contract, at, world));
      if (contract.kind === 'zookeeper') problems.push(...checkZookeeper(contract, at, world));
      if (contract.kind === 'media-server') problems.push(...checkMediaServer(contract, at, env, world));
    }
    problems.push(...checkUnique(contract, all));
  }

  for (const [name, seen] of sharedValues) {
    const values = new Set(seen.map((s) => s.value));
    if (values.size > 1)
      problems.push(`${name} must hold one value in every service that reads it, but ${seen.map((s) => `${s.where} has ${s.value}`).join(', ')}.`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Checks every contract gets

function checkEnv(contract: Contract, at: Placed, env: Map<string, string>): string[] {
  const problems: string[] = [];
  const names = at.manifestEnv.map(([k]) => k);
  for (const dup of new Set(names.filter((n, i) => names.indexOf(n) !== i))) problems.push(`${label(at)} sets ${dup} more than once.`);
  for (const fact of contract.env) {
    if (fact.need === 'manifest' && !names.includes(fact.name))
      problems.push(`${label(at)} does not set ${fact.name}, which ${contract.component} needs from its container (${fact.how}; ${fact.source}).`);
    if (fact.need === 'resolved' && !env.has(fact.name)) problems.push(`${label(at)}: nothing gives ${fact.name} a value (${fact.how}; ${fact.source}).`);
  }
  return problems;
}

function checkListens(contract: Contract, at: Placed, env: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const l of contract.listens) {
    const port = portOf(valueOf(l.port, env));
    if (port === undefined) {
      problems.push(`${label(at)}: ${contract.component} listens on ${'env' in l.port ? l.port.env : 'a port'}, which has no usable value (${l.source}).`);
      continue;
    }
    if (!(at.container.ports ?? []).some((p) => p.containerPort === port && (p.protocol ?? 'TCP') === l.protocol)) {
      problems.push(`${label(at)} does not declare ${l.protocol} port ${port}, where ${contract.component} serves ${l.what} (${l.source}).`);
    }
  }
  return problems;
}

function checkUnique(contract: Contract, all: Placed[]): string[] {
  const problems: string[] = [];
  for (const fact of contract.env.filter((f: EnvFact) => f.unique)) {
    const values = all.map((at) => at.manifestEnv.find(([k]) => k === fact.name)?.[1]).filter((v): v is string => v !== undefined);
    if (new Set(values).size !== values.length)
      problems.push(`${contract.component}: ${fact.name} must differ between ${all.map(label).join(' and ')}, but repeats (${values.join(', ')}).`);
  }
  return problems;
}
