import { existsSync } from 'node:fs';
import { DEFAULT_K3S_VERSION } from '../../core/inventory/schema.js';
import type { Prompts } from '../ui/prompts.js';
import type { InitAnswers, SshLogin, WorkloadChoice } from './answers.js';
import type { InitIo } from './io.js';
import { expandKeyPath, findSshKeys, keyFileState, shownPath, type FoundKey } from './ssh-keys.js';
import { envNameProblem, k3sVersionProblem } from './validate.js';

/** The wizard's questions that stand on their own (no node, no probe): how to log in, which K3s, which workloads. */

/** How revue-pi logs in to the Pis: the ssh-agent, a key in ~/.ssh or another file (with its passphrase's variable), or a password's variable. */
export async function askLogin(prompts: Prompts, io: InitIo, home: string): Promise<SshLogin> {
  const keys = findSshKeys(home);
  const agent = Boolean(io.env.SSH_AUTH_SOCK);
  const OTHER = 'other';
  const PASSWORD = 'password';
  type Pick = SshLogin | FoundKey | typeof OTHER | typeof PASSWORD;
  const choices: { name: string; value: Pick }[] = [
    ...(agent ? [{ name: 'the keys in your ssh-agent (SSH_AUTH_SOCK)', value: { kind: 'agent' } as SshLogin }] : []),
    ...keys.map((k) => ({ name: k.encrypted ? `${k.shown} (passphrase-protected)` : k.shown, value: k as Pick })),
    { name: 'another private key file…', value: OTHER },
    { name: 'a password, from an environment variable', value: PASSWORD },
  ];
  if (!agent && keys.length === 0) {
    io.out(
      'No SSH key pair was found in ~/.ssh and no ssh-agent is running. Create one with `ssh-keygen -t ed25519` and copy it to each Pi with `ssh-copy-id`, or name an existing key file, or log in with a password.\n',
    );
  }
  const picked = await prompts.select<Pick>({ message: 'How should revue-pi log in to the Pis?', choices });
  if (picked === PASSWORD) {
    const passwordEnv = await prompts.text({
      message: 'NAME of the environment variable that will hold the SSH password (the inventory never holds the secret)',
      default: 'PI_PASSWORD',
      validate: envNameProblem,
    });
    if (!io.env[passwordEnv])
      io.out(`! ${passwordEnv} is not set: the probes below cannot log in. Export it and run init again, or keep the nodes unprobed.\n`);
    return { kind: 'password', passwordEnv };
  }
  if (typeof picked === 'object' && 'kind' in picked) return picked;
  let key: FoundKey;
  if (picked === OTHER) {
    const file = await prompts.text({
      message: 'Private key file',
      validate: (v) => {
        const abs = expandKeyPath(v, home);
        if (!existsSync(abs)) return `${abs} does not exist`;
        return keyFileState(abs) === 'invalid' ? `${abs} is not a private key (is it the .pub file?)` : undefined;
      },
    });
    const abs = expandKeyPath(file, home);
    key = { shown: shownPath(abs, home), file: abs, encrypted: keyFileState(abs) === 'encrypted' };
  } else {
    key = picked;
  }
  if (!key.encrypted) return { kind: 'key', keyPath: key.shown };
  const passphraseEnv = await prompts.text({
    message: `${key.shown} needs its passphrase: NAME of the environment variable holding it (the inventory never holds the secret)`,
    default: 'PI_KEY_PASSPHRASE',
    validate: envNameProblem,
  });
  if (!io.env[passphraseEnv])
    io.out(`! ${passphraseEnv} is not set: the probes below cannot use the key. Export it and run init again, or keep the nodes unprobed.\n`);
  return { kind: 'key', keyPath: key.shown, passphraseEnv };
}

/** A pinned release (the tested one by default, or another) or a channel that up follows when it installs. */
export async function askK3s(prompts: Prompts): Promise<Pick<InitAnswers, 'k3sVersion' | 'k3sChannel'>> {
  const picked = await prompts.select<'pinned' | 'stable' | 'latest' | 'other'>({
    message: 'K3s release',
    choices: [
      { name: `${DEFAULT_K3S_VERSION} — the release revue-pi is tested with; every run installs the same`, value: 'pinned', short: DEFAULT_K3S_VERSION },
      { name: 'the stable channel — the newest stable release when up installs K3s', value: 'stable', short: 'stable channel' },
      { name: 'the latest channel — the newest release, a new minor line included', value: 'latest', short: 'latest channel' },
      { name: 'another version…', value: 'other', short: 'another version' },
    ],
    default: 'pinned',
  });
  if (picked === 'stable' || picked === 'latest') return { k3sVersion: DEFAULT_K3S_VERSION, k3sChannel: picked };
  if (picked === 'pinned') return { k3sVersion: DEFAULT_K3S_VERSION };
  return { k3sVersion: await prompts.text({ message: 'K3s version', default: DEFAULT_K3S_VERSION, validate: k3sVersionProblem }) };
}

export async function askWorkloads(prompts: Prompts): Promise<WorkloadChoice> {
  const picked = await prompts.checkbox<keyof WorkloadChoice>({
    message: 'Workloads to deploy (space toggles, enter accepts)',
    choices: [
      { name: 'revue — the Revue microservices, their MongoDB instances, Kafka and the media server', value: 'revue', short: 'revue', checked: true },
      { name: 'monitoring — Prometheus and Grafana with the Kubernetes dashboards', value: 'monitoring', short: 'monitoring', checked: true },
      { name: "kafka-ui — a web UI for Revue's Kafka topics", value: 'kafkaUi', short: 'kafka-ui', checked: true },
    ],
  });
  return { revue: picked.includes('revue'), monitoring: picked.includes('monitoring'), kafkaUi: picked.includes('kafkaUi') };
}
