/**
 * What the `init` wizard collects, before it becomes inventory YAML (render.ts). Plain data: the wizard
 * (cli/init/wizard.ts) fills it from the prompts, the renderer and the checks read it.
 */

export type NodeRole = 'server' | 'agent';

export interface InitNode {
  name: string;
  /** IP address or DNS name the node answers SSH on. */
  host: string;
  /** SSH port when it is not 22 (typed as `host:port`; written as the node's ssh.port). */
  port?: number;
  role: NodeRole;
  /** Login user for this node when it differs from the cluster-wide one (written as the node's ssh.user). */
  user?: string;
  /** What the probe found (`Raspberry Pi 5 Model B Rev 1.0, Debian GNU/Linux 12 (bookworm), 7.9 GiB`); absent when it was not reached. */
  found?: string;
}

/** How revue-pi logs in: the keys of the ssh-agent at SSH_AUTH_SOCK, a private key file, or a password. */
export type SshLogin =
  | { kind: 'agent' }
  /** keyPath as the inventory shows it (`~/.ssh/id_ed25519`); passphraseEnv names the variable holding its passphrase. */
  | { kind: 'key'; keyPath: string; passphraseEnv?: string }
  /** passwordEnv names the environment variable holding the password (the inventory never holds it). */
  | { kind: 'password'; passwordEnv: string };

export interface WorkloadChoice {
  revue: boolean;
  monitoring: boolean;
  kafkaUi: boolean;
}

export interface InitAnswers {
  clusterName: string;
  domain: string;
  /** sudoPasswordEnv names the variable holding the sudo password, when sudo on the Pis asks for one. */
  ssh: { user: string; login: SshLogin; sudoPasswordEnv?: string };
  nodes: InitNode[];
  workloads: WorkloadChoice;
  /** The MetalLB pool: one range (`192.168.1.200-192.168.1.220`) or CIDR (`192.168.1.240/28`). */
  pool: string;
  /** The pinned K3s release; written unless a channel was chosen. */
  k3sVersion: string;
  /** A release channel to follow instead of a pinned version (stable, latest). */
  k3sChannel?: string;
}

/** Fixed LoadBalancer addresses the wizard takes from the start of the pool. */
export interface FixedAddresses {
  ingress?: string;
  mediaServer?: string;
  kafka?: string[];
}
