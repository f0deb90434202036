import { z } from 'zod';
import { fieldLabel } from './path.js';
import {
  appNamespaceProblem,
  imageReferenceProblem,
  imagesFileNameProblem,
  imageTagProblem,
  interfaceNameProblem,
  localPathProblem,
  taintProblem,
  userNameProblem,
  type SyntaxCheck,
} from './syntax.js';
import { apiEndpointProblem, domainProblem, hostProblem, installScriptUrlProblem } from './syntax-hosts.js';

/**
 * The inventory's shape. Semantic rules that span fields (unique names, pools, quorum…) live in rules.ts;
 * parse.ts turns YAML into this with file:line:column on every issue.
 * Defaults here are the documented defaults of inventory.example.yaml.
 */

export const DEFAULT_K3S_VERSION = 'v1.36.4+k3s1';
export const DEFAULT_INSTALL_SCRIPT_URL = 'https://get.k3s.io';

const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the NAME of an environment variable in capitals, digits and _ (e.g. PI_PASSWORD), never the secret itself');

/** A string in the strict syntax of `checks` (syntax.ts), each problem a sentence naming the field. */
function syntax(...checks: SyntaxCheck[]) {
  return z.string().superRefine((value, ctx) => {
    for (const check of checks) {
      const problem = check(value, fieldLabel(ctx.path));
      if (problem !== undefined) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
        return;
      }
    }
  });
}

const k8sName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be lowercase letters, digits and "-", starting and ending with a letter or digit')
  .max(63);

export const sshSettingsSchema = z
  .object({
    user: syntax(userNameProblem).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    /** Private key file; `~` is expanded. */
    keyPath: syntax(localPathProblem).optional(),
    /** Environment variable holding the key's passphrase. */
    keyPassphraseEnv: envVarName.optional(),
    /** Use the ssh-agent at SSH_AUTH_SOCK. */
    useAgent: z.boolean().optional(),
    /** Environment variable holding the SSH password (password login). */
    passwordEnv: envVarName.optional(),
    /** Environment variable holding the sudo password; without it sudo must not ask for one. */
    sudoPasswordEnv: envVarName.optional(),
  })
  .strict();

export const jumpHostSchema = z
  .object({
    host: syntax(hostProblem),
    /** Default: the ssh config's Port for this host, else 22 (SSH_DEFAULTS). */
    port: z.number().int().min(1).max(65535).optional(),
    user: syntax(userNameProblem).optional(),
    keyPath: syntax(localPathProblem).optional(),
  })
  .strict();

/**
 * user, port and useAgent have no schema default: what the inventory leaves out may come from ~/.ssh/config
 * (provision/ssh-config), and only then from SSH_DEFAULTS. The inventory's own values win over the file.
 */
export const sshDefaultsSchema = sshSettingsSchema
  .extend({
    jump: jumpHostSchema.optional(),
    connectTimeoutSeconds: z.number().int().min(1).max(300).default(10),
    connectRetries: z.number().int().min(0).max(10).default(2),
    /** Where the tool keeps host keys it trusted on first use (the user's ~/.ssh/known_hosts is read too). */
    knownHostsFile: syntax(localPathProblem).optional(),
    /** A host key in no known_hosts file: trusted and recorded (accept-new), or refused (strict). */
    hostKeys: z.enum(['strict', 'accept-new']).default('accept-new'),
    /** The OpenSSH client config read for host aliases, users, ports, keys and jump hosts; `none` reads none. Default: $REVUE_PI_SSH_CONFIG, else ~/.ssh/config. */
    configFile: syntax(localPathProblem).optional(),
  })
  .strict();

/** OpenSSH's SHA-256 fingerprint as ssh-keygen -l prints it: `SHA256:` and 43 characters of unpadded base64. */
export const HOST_KEY_FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
const hostKeyFingerprint = z
  .string()
  .regex(
    HOST_KEY_FINGERPRINT,
    'must be a SHA256 fingerprint as ssh-keygen -lf prints it, e.g. SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU (run ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the node)',
  );

const taintSchema = syntax(taintProblem);

export const nodeSchema = z
  .object({
    name: k8sName,
    /** IPv4, IPv6 or DNS name: never a user@ or a :port (those are ssh.user and ssh.port). */
    host: syntax(hostProblem),
    role: z.enum(['server', 'agent']),
    ssh: sshSettingsSchema.optional(),
    labels: z.record(z.string(), z.string()).default({}),
    taints: z.array(taintSchema).default([]),
    /** Node reaches the LAN over Wi-Fi (MetalLB L2 then needs promiscuous mode on this interface). */
    wifiInterface: syntax(interfaceNameProblem).optional(),
    /** The node's SSH host key fingerprint, pinned: any other key is refused. */
    hostKeyFingerprint: hostKeyFingerprint.optional(),
  })
  .strict();

export const poolSchema = z
  .object({
    name: k8sName,
    /** CIDRs (192.168.1.240/28) or ranges (192.168.1.200-192.168.1.220). */
    addresses: z.array(z.string().min(1)).min(1),
  })
  .strict();

export const networkSchema = z
  .object({
    metallb: z
      .object({
        enabled: z.boolean().default(true),
        pools: z.array(poolSchema).default([]),
      })
      .strict()
      .default({}),
    /** Fixed LoadBalancer addresses; each must lie inside a pool. */
    addresses: z
      .object({
        ingress: z.string().optional(),
        mediaServer: z.string().optional(),
        kafka: z.array(z.string()).max(2).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export const piSchema = z
  .object({
    /** Add cgroup_memory=1 cgroup_enable=memory to cmdline.txt (K3s needs the memory controller). */
    cgroups: z.boolean().default(true),
    /** Boot kernel8.img (4K pages) instead of the Pi 5's 16K-page kernel: MongoDB, Redis and other jemalloc images need it. */
    kernel4k: z.boolean().default(true),
    /** Put Wi-Fi interfaces in promiscuous mode at boot so MetalLB L2 addresses answer ARP. */
    wifiPromiscuous: z.boolean().default(false),
    /** How long to wait for a node to come back after a reboot. */
    rebootTimeoutSeconds: z.number().int().min(10).max(3600).default(180),
  })
  .strict();

export const workloadsSchema = z
  .object({
    namespace: syntax(appNamespaceProblem).default('revue'),
    revue: z.boolean().default(true),
    monitoring: z.boolean().default(true),
    kafkaUi: z.boolean().default(true),
    /** Revue release whose images are deployed. */
    revueVersion: syntax(imageTagProblem).optional(),
    /** Per-image overrides: image key → full reference. */
    images: z.record(z.string(), syntax(imageReferenceProblem)).default({}),
    /** Hosts the media server advertises for WebRTC (joined with commas into one variable: no commas in them). */
    mediaServerHosts: z.array(syntax(hostProblem)).default([]),
  })
  .strict();

export const k3sSchema = z
  .object({
    version: z.string().optional(),
    channel: z.string().optional(),
    /** https, or http to this machine's loopback (a lab, a mirror on the same host). */
    installScriptUrl: syntax(installScriptUrlProblem).default(DEFAULT_INSTALL_SCRIPT_URL),
    airgap: z
      .object({ binary: syntax(localPathProblem), images: syntax(localPathProblem, imagesFileNameProblem), installScript: syntax(localPathProblem) })
      .strict()
      .optional(),
    readyTimeoutSeconds: z.number().int().min(10).max(3600).default(300),
  })
  .strict();

export const inventorySchema = z
  .object({
    cluster: z
      .object({
        name: k8sName,
        domain: syntax(domainProblem).default('revue.local'),
        apiEndpoint: syntax(apiEndpointProblem).optional(),
      })
      .strict(),
    k3s: k3sSchema.default({}),
    ssh: sshDefaultsSchema.default({}),
    nodes: z.array(nodeSchema).min(1, 'needs at least one node'),
    network: networkSchema.default({}),
    pi: piSchema.default({}),
    workloads: workloadsSchema.default({}),
  })
  .strict();

export type Inventory = z.infer<typeof inventorySchema>;
export type InventoryNode = z.infer<typeof nodeSchema>;
export type SshSettings = z.infer<typeof sshSettingsSchema>;
export type SshDefaults = z.infer<typeof sshDefaultsSchema>;
export type AddressPool = z.infer<typeof poolSchema>;

/** What revue-pi uses when neither the inventory nor the ssh config says. */
export const SSH_DEFAULTS = { user: 'pi', port: 22, useAgent: true } as const;

/** The jump host one node is reached through, every field settled. */
export interface JumpSettings {
  host: string;
  port: number;
  user?: string;
  keyPath?: string;
  /** From the ssh config's IdentityFile lines for the jump host (used when keyPath is not set). */
  identityFiles?: string[];
  identitiesOnly?: boolean;
  /** From the ssh config's UserKnownHostsFile for the jump host: read instead of ~/.ssh/known_hosts. */
  userKnownHostsFiles?: string[];
}

/** The SSH settings that apply to one node: its overrides on top of the inventory's defaults, every default filled. */
export type NodeSshSettings = Omit<SshDefaults, 'jump' | 'knownHostsFile' | 'configFile' | 'user' | 'port' | 'useAgent' | 'hostKeys'> & {
  host: string;
  /** Absent: accept-new. */
  hostKeys?: SshDefaults['hostKeys'];
  user: string;
  port: number;
  useAgent: boolean;
  jump?: JumpSettings;
  knownHostsFile?: string;
  /** From the ssh config's IdentityFile lines (used when keyPath is not set, instead of the default ~/.ssh/id_* files). */
  identityFiles?: string[];
  /** The ssh config's IdentitiesOnly: the agent offers only the keys of the identity files. */
  identitiesOnly?: boolean;
  /** From the ssh config's UserKnownHostsFile: read instead of ~/.ssh/known_hosts. */
  userKnownHostsFiles?: string[];
};

/** The inventory's settings for one node with SSH_DEFAULTS for what it leaves out, ignoring any ssh config. */
export function sshSettingsFor(inventory: Inventory, node: InventoryNode): NodeSshSettings {
  const { jump, knownHostsFile: _knownHostsFile, configFile: _configFile, ...defaults } = inventory.ssh;
  const merged = { ...defaults, ...stripUndefined(node.ssh ?? {}) };
  return {
    ...merged,
    user: merged.user ?? SSH_DEFAULTS.user,
    port: merged.port ?? SSH_DEFAULTS.port,
    useAgent: merged.useAgent ?? SSH_DEFAULTS.useAgent,
    host: node.host,
    ...(jump ? { jump: { ...jump, port: jump.port ?? SSH_DEFAULTS.port } } : {}),
    ...(inventory.ssh.knownHostsFile ? { knownHostsFile: inventory.ssh.knownHostsFile } : {}),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
