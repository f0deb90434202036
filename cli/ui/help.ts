/**
 * What each command's --help teaches beyond its options: one line on what it does for the Pis, K3s and Revue
 * (the command's description), a few examples, and the files it reads and writes. Plain data, so `--help` stays
 * fast; cli.ts attaches it, and test/integration/help.test.ts snapshots the whole text.
 */

export interface CommandHelp {
  /** One sentence: what the command does, in terms of the Pis, K3s and Revue. */
  summary: string;
  /** `[command line, what it does]`. */
  examples: [string, string][];
  reads: string[];
  writes: string[];
}

const STATE = 'the state folder: --state-dir, else $REVUE_PI_STATE_DIR/<cluster>, else $XDG_STATE_HOME/revue-pi/<cluster> (~/.local/state/revue-pi/<cluster>)';
const KNOWN_HOSTS_WRITE = 'host keys met for the first time: ssh.knownHostsFile, else $XDG_CONFIG_HOME/revue-pi/known_hosts (~/.config/revue-pi/known_hosts)';
const SSH_READ = 'your SSH client config: ssh.configFile, else $REVUE_PI_SSH_CONFIG, else ~/.ssh/config; ~/.ssh/known_hosts; the SSH keys it names';
const INVENTORY_READ = 'the inventory (-i, default ./inventory.yaml)';
const KUBECONFIG = '--kubeconfig, else the first path of $KUBECONFIG, else ~/.kube/config';

export const HELP: Record<
  'root' | 'up' | 'plan' | 'status' | 'init' | 'kubeconfig' | 'render' | 'flash' | 'backup' | 'remove-node' | 'upgrade' | 'reset' | 'restore',
  CommandHelp
> = {
  root: {
    summary: 'Turn a handful of Raspberry Pi 5 boards on your LAN into a K3s cluster running Revue with Prometheus and Grafana, over SSH from this computer.',
    examples: [
      ['revue-pi init', 'write inventory.yaml, asking about your Pis (each is reached over SSH as you add it)'],
      ['revue-pi plan -i inventory.yaml', 'see what up would change, changing nothing'],
      ['revue-pi up -i inventory.yaml', 'prepare the Pis, install K3s, deploy MetalLB, Traefik, Revue and monitoring'],
    ],
    reads: [INVENTORY_READ, SSH_READ],
    writes: ['on the Pis: only what up lists in its plan', `on this computer: ${STATE}; ${KNOWN_HOSTS_WRITE}; the kubeconfig (${KUBECONFIG})`],
  },
  up: {
    summary:
      'Prepare the Pis (boot config, hostname, a reboot only when needed), install or join K3s on each, and deploy MetalLB, Traefik, Revue and monitoring: only what differs from the inventory changes.',
    examples: [
      ['revue-pi up -i inventory.yaml', 'show the plan, ask, then change what differs'],
      ['revue-pi up -i inventory.yaml --yes --json > report.json', 'unattended; one JSON report on stdout'],
      ['revue-pi up -i inventory.yaml --kubeconfig ./home.kubeconfig', "merge the cluster's context there, not into ~/.kube/config"],
    ],
    reads: [INVENTORY_READ, SSH_READ, `${STATE}: the cluster token, workload secrets, what the last run recorded`],
    writes: [
      'on the Pis: cmdline.txt and config.txt in /boot/firmware (a .revue-pi.bak copy first), /etc/hostname, /etc/hosts, /etc/rancher/k3s/config.yaml, K3s itself, the workloads in the cluster',
      `on this computer: ${STATE} (token and secrets 0600, a log per run in logs/); ${KNOWN_HOSTS_WRITE}; the kubeconfig (${KUBECONFIG}), other contexts kept`,
    ],
  },
  plan: {
    summary: 'Show what up would change on each Pi, in K3s and in the workloads, and change nothing.',
    examples: [
      ['revue-pi plan -i inventory.yaml', 'probe the Pis over SSH (read-only) and list the changes'],
      ['revue-pi plan --offline -i inventory.yaml', 'no network at all: the plan for Pis fresh from Raspberry Pi Imager'],
      ['revue-pi plan -i inventory.yaml --verbose', 'also each SSH setting and where it came from (inventory, ~/.ssh/config, default)'],
    ],
    reads: [INVENTORY_READ, SSH_READ, `${STATE}: the cluster token, what the last run recorded`],
    writes: ['on the Pis: nothing', `on this computer: a log in ${STATE}/logs; ${KNOWN_HOSTS_WRITE}. With --offline: nothing at all`],
  },
  status: {
    summary: 'Show how the Pis, K3s, MetalLB, Revue and monitoring are doing now: nodes and readiness, addresses, workloads, autoscalers and the URLs to open.',
    examples: [
      ['revue-pi status -i inventory.yaml', 'tables of nodes, MetalLB, workloads, autoscalers, access and problems'],
      ["revue-pi status -i inventory.yaml --json | jq '.problems'", 'the same as one JSON object'],
      ['revue-pi status -i inventory.yaml --kubeconfig ./home.kubeconfig', 'read the cluster through that kubeconfig when kubectl reaches the API'],
    ],
    reads: [
      INVENTORY_READ,
      SSH_READ,
      `the kubeconfig (${KUBECONFIG}), context named after the cluster`,
      `${STATE}: what up recorded (k3s-versions.json, page-sizes.json)`,
    ],
    writes: ['on the Pis: nothing', `on this computer: a log in ${STATE}/logs; ${KNOWN_HOSTS_WRITE}`],
  },
  init: {
    summary: 'Write the inventory for your Pis by asking about the cluster, each Pi (reached over SSH as you add it) and the workloads to run.',
    examples: [
      ['revue-pi init', 'ask, check each Pi, write ./inventory.yaml'],
      ['revue-pi init -o home.yaml', 'write the answers to home.yaml'],
      ['revue-pi init --defaults', 'write the commented example to edit by hand, asking nothing'],
    ],
    reads: ['your SSH keys (~/.ssh/id_*), the ssh-agent; ~/.ssh/known_hosts'],
    writes: ['the inventory (-o, default ./inventory.yaml)', `${KNOWN_HOSTS_WRITE}, for the keys you confirm`],
  },
  kubeconfig: {
    summary:
      "Fetch the K3s cluster's kubeconfig from the first server Pi, renamed to the cluster and pointed at it; print it, or merge it into your kubeconfig.",
    examples: [
      ['revue-pi kubeconfig -i inventory.yaml > home.kubeconfig', 'print it'],
      ['revue-pi kubeconfig -i inventory.yaml --write', 'merge it as the context named after the cluster, other contexts kept'],
      ['revue-pi kubeconfig -i inventory.yaml --kubeconfig ./kc', 'merge it into ./kc'],
    ],
    reads: [INVENTORY_READ, SSH_READ, '/etc/rancher/k3s/k3s.yaml on the first server (sudo)'],
    writes: [`stdout; with --write or --kubeconfig: the kubeconfig (${KUBECONFIG}), mode 0600`, `a log in ${STATE}/logs; ${KNOWN_HOSTS_WRITE}`],
  },
  render: {
    summary:
      'Write the Kubernetes manifests up would apply to the cluster (MetalLB pools, Traefik config, Revue, its databases, Kafka, monitoring) as YAML files, contacting no Pi.',
    examples: [
      ['revue-pi render -i inventory.yaml -o manifests/', 'one file per apply phase, the same bytes on every run'],
      ['revue-pi render -i inventory.yaml -o manifests/ --include-secrets', 'also secrets.yaml (mode 0600)'],
    ],
    reads: [INVENTORY_READ, `with --include-secrets: the cluster's secrets in ${STATE}`],
    writes: ['the -o folder', `with --include-secrets: the secrets in ${STATE}, generated once when absent (up then uses the same)`],
  },
  flash: {
    summary:
      'Prepare a freshly written SD card for one Pi before its first boot (hostname, your SSH key, cgroups, the 4K kernel), so up needs no reboot; contacts no Pi.',
    examples: [
      ['revue-pi flash --boot /media/$USER/bootfs --node pi-1', "write pi-1's first-boot config on the mounted card"],
      ['revue-pi flash --boot /media/$USER/bootfs --node pi-1 --dry-run', 'print what would be written'],
      ['revue-pi flash --boot /media/$USER/bootfs --node pi-2 --address 192.168.1.102/24 --gateway 192.168.1.1', 'a static address instead of DHCP'],
    ],
    reads: [
      INVENTORY_READ,
      'your public key (--ssh-key, else ssh.keyPath + .pub, else ~/.ssh/id_*.pub); ~/.ssh/config for the user and port',
      'the boot partition (--boot)',
    ],
    writes: ['on the card: cmdline.txt and config.txt, and user-data, meta-data, network-config (Trixie) or firstrun.sh (Bookworm)'],
  },
  backup: {
    summary:
      'Take an etcd snapshot of the K3s cluster on one of its server Pis and copy it, the server token and config.yaml to this computer, so a lost cluster can be rebuilt.',
    examples: [
      ['revue-pi backup -i inventory.yaml', 'snapshot now and keep the 5 newest backups'],
      ['revue-pi backup -i inventory.yaml --list', 'list the backups on this computer (contacts no Pi)'],
      ['revue-pi backup -i inventory.yaml --keep 10 --dry-run', 'show what would be taken and pruned'],
    ],
    reads: [INVENTORY_READ, SSH_READ],
    writes: [
      'on the server: a snapshot in /var/lib/rancher/k3s/server/db/snapshots (only revue-pi-made ones are pruned)',
      `on this computer: ${STATE}/backups (files 0600)`,
    ],
  },
  'remove-node': {
    summary:
      'Take one Pi out of the K3s cluster: drain it, stop K3s on it, delete its Node (and etcd member), uninstall K3s on it; refused where the etcd quorum would be lost.',
    examples: [
      ['revue-pi remove-node pi-4 -i inventory.yaml --dry-run', 'read the cluster and print the plan'],
      ['revue-pi remove-node pi-4 -i inventory.yaml', 'show the plan, ask, then remove pi-4'],
      ['revue-pi remove-node pi-2 -i inventory.yaml --yes --json', 'unattended, one JSON report on stdout'],
    ],
    reads: [INVENTORY_READ, SSH_READ, `${STATE}: what the last up recorded`],
    writes: ['on the Pis: only the steps of the plan', `on this computer: ${STATE}; the kubeconfig when it named the removed server (${KUBECONFIG})`],
  },
  upgrade: {
    summary:
      'Upgrade K3s on every Pi to a newer release: etcd snapshot first, servers one at a time, then agents in batches, each cordoned, drained, installed, waited for and uncordoned; refuses downgrades and skipped minor versions; re-run to continue after an interruption.',
    examples: [
      ['revue-pi upgrade -i inventory.yaml --to v1.36.4+k3s1 --dry-run', 'read the cluster and print the plan'],
      ['revue-pi upgrade -i inventory.yaml', "show the plan to the inventory's k3s.version, ask, then upgrade"],
      ['revue-pi upgrade -i inventory.yaml --to v1.36.4+k3s1 --yes --json', 'unattended, one JSON report on stdout'],
    ],
    reads: [INVENTORY_READ, SSH_READ],
    writes: [
      'on the Pis: the new K3s binary and unit (the installer), a label on the node being upgraded while it is cordoned',
      `on this computer: the etcd backup and the run log, in backups/ and logs of ${STATE}; the cluster's context in ${KUBECONFIG}`,
    ],
  },
  reset: {
    summary:
      'Tear the K3s cluster down: uninstall K3s from every Pi (agents, then the other servers one at a time, then the first server) and remove its kubeconfig context; backups are kept.',
    examples: [
      ['revue-pi reset -i inventory.yaml --dry-run', 'probe the Pis and print what would be removed and kept'],
      ['revue-pi reset -i inventory.yaml', 'show the plan, then type the cluster name to go ahead'],
      ['revue-pi reset -i inventory.yaml --yes home --boot --json', 'unattended for cluster "home", boot config reverted too'],
    ],
    reads: [INVENTORY_READ, SSH_READ],
    writes: [
      'on the Pis: K3s uninstalled (the uninstall scripts); with --boot, cmdline.txt and config.txt',
      `on this computer: the cluster's context, cluster and user removed from the kubeconfig (${KUBECONFIG}); token and state files removed from ${STATE}, backups kept`,
    ],
  },
  restore: {
    summary:
      "Put a K3s cluster back as a backup found it: stop K3s on every Pi, reset the first server from the etcd snapshot (K3s's --cluster-reset), rejoin the other servers one at a time, start the agents, check.",
    examples: [
      ['revue-pi restore revue-pi-pi-1-1767225600 -i inventory.yaml --dry-run', 'probe the Pis and print the plan, with what is lost'],
      ['revue-pi restore revue-pi-pi-1-1767225600 -i inventory.yaml', 'show the plan, ask for the cluster name, then restore'],
      ['revue-pi restore revue-pi-pi-1-1767225600 -i inventory.yaml --yes --json', 'unattended, one JSON report on stdout'],
    ],
    reads: [INVENTORY_READ, SSH_READ, `${STATE}/backups/<SNAPSHOT> (what revue-pi backup saved)`],
    writes: [
      "on the Pis: K3s stopped and started; the first server reset from the snapshot (its old etcd data kept in db/etcd-old-<time>); the other servers' /var/lib/rancher/k3s/server/db moved aside",
      `on this computer: ${STATE} (run log)`,
    ],
  },
};

/** The text commander prints after the options: examples (kubectl's layout: what, then the command), then files. */
export function helpAfter(help: CommandHelp): string {
  const examples = help.examples.flatMap(([cmd, what]) => [...wrap(`# ${what[0]!.toUpperCase()}${what.slice(1)}`, '  ', '  # '), `  ${cmd}`, '']);
  const list = (items: string[]) => items.flatMap((item) => wrap(item, '  ', '    '));
  return ['', 'Examples:', ...examples, 'Reads:', ...list(help.reads), '', 'Writes:', ...list(help.writes)].join('\n');
}

/** Words wrapped at 100 columns: the first line after `first`, the others after `rest`. */
export function wrap(text: string, first: string, rest: string, width = 100): string[] {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(' ')) {
    const start = line === first || line === rest;
    if (!start && line.length + 1 + word.length > width) {
      lines.push(line);
      line = rest + word;
    } else {
      line += (start ? '' : ' ') + word;
    }
  }
  lines.push(line);
  return lines;
}

/** `restore`'s help, kept apart from HELP so the day-two verbs added side by side do not touch one line. */
