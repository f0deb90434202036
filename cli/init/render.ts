import yaml from 'js-yaml';
import type { FixedAddresses, InitAnswers, InitNode } from './answers.js';
import { fixedAddresses } from './validate.js';
import { DEFAULT_K3S_VERSION, SSH_DEFAULTS } from '../../core/inventory/schema.js';

/**
 * The wizard's answers → the text of a commented inventory.yaml. Pure. The comments are those of
 * inventory.example.yaml (a unit test keeps them in step), so the written file documents every field
 * the same way; the answers fill the values and everything else keeps its documented default.
 */

/** One YAML scalar, quoted only when YAML would read it as something else (a number, true, null, …). */
function scalar(value: string | number | boolean): string {
  return yaml.dump(value, { lineWidth: -1 }).trimEnd();
}

/** `# text` lines at an indent. */
function comments(indent: string, ...lines: string[]): string[] {
  return lines.map((l) => `${indent}# ${l}`);
}

function nodeLines(node: InitNode, first: boolean): string[] {
  const out: string[] = [];
  if (first) {
    out.push(
      "  - # Node name (required): becomes the Pi's hostname and its Kubernetes node name.",
      '    # Lowercase letters, digits and "-".',
      `    name: ${scalar(node.name)}`,
      '    # IP address or DNS name the Pi answers SSH on (required). A fixed (DHCP-reserved) address is best.',
      `    host: ${scalar(node.host)}`,
      '    # server or agent (required).',
      `    role: ${node.role}`,
    );
  } else {
    out.push(`  - name: ${scalar(node.name)}`, `    host: ${scalar(node.host)}`, `    role: ${node.role}`);
  }
  out.push(
    node.found === undefined ? '    # revue-pi init could not reach this node; plan and up will try again.' : `    # Found by revue-pi init: ${node.found}.`,
  );
  if (first) {
    out.push(
      ...comments(
        '    ',
        'Kubernetes labels: set when the node registers, later changed through the API without a K3s',
        'restart (revue-pi removes only labels it set itself). Default: none. (Keys under',
        'node-role.kubernetes.io/ are refused: the kubelet will not start with them.)',
        'labels:',
        '  revue-pi/disk: ssd',
        'Kubernetes taints, as key=value:Effect with Effect NoSchedule, PreferNoSchedule or NoExecute;',
        'applied like the labels. Default: none.',
        'taints:',
        '  - dedicated=control-plane:NoSchedule',
        'Name of the Wi-Fi interface when this Pi reaches the LAN over Wi-Fi instead of Ethernet',
        '(then also set pi.wifiPromiscuous: true, see below). Default: not set (Ethernet).',
        'wifiInterface: wlan0',
        "The fingerprint this Pi's SSH host key must have, as ssh-keygen -lf prints it (on the Pi:",
        'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub). Any other key is refused. Default: not set.',
        'hostKeyFingerprint: SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU',
        'An agent that already runs K3s for ANOTHER cluster is refused by up; true moves it into this',
        'one on purpose (its settings and token are rewritten and it restarts). Default: false.',
        'adopt: true',
        'Per-node SSH settings, overriding the ssh: section above for this node only: user, port, keyPath,',
        'keyPassphraseEnv, useAgent, passwordEnv, sudoPasswordEnv. Default: none.',
      ),
    );
    if (node.user === undefined && node.port === undefined) {
      out.push(...comments('    ', 'ssh:', '  user: admin', '  port: 2222', '  keyPath: ~/.ssh/pi1_ed25519'));
    }
  }
  if (node.user !== undefined || node.port !== undefined) out.push('    ssh:');
  if (node.user !== undefined) out.push(`      user: ${scalar(node.user)}`);
  if (node.port !== undefined) out.push(`      port: ${node.port}`);
  return out;
}

/** `file` is the name the header's next commands use (as the user will type it). */
export function renderInventoryYaml(answers: InitAnswers, file = 'inventory.yaml'): string {
  const { ssh, workloads } = answers;
  const fixed = fixedAddresses(answers.pool, workloads);
  const key = ssh.login.kind === 'key' ? ssh.login : undefined;
  const firstHost = answers.nodes.find((n) => n.role === 'server')?.host ?? answers.nodes[0]?.host ?? '192.168.1.101';
  const arg = /^[A-Za-z0-9_./~-]+$/.test(file) ? file : `'${file.replace(/'/g, `'\\''`)}'`;

  const lines: string[] = [
    '# revue-pi inventory: the Raspberry Pi 5 boards, how to reach them, and what to run on them.',
    '# Written by `revue-pi init`. Check it, then:',
    `#   npx revue-pi plan -i ${arg}    # shows what would change on each node, changes nothing`,
    `#   npx revue-pi up -i ${arg}      # prepares the Pis, installs K3s, MetalLB, Revue and monitoring`,
    '#',
    '# Every field is listed here, set or commented out, with what it does and its default.',
    '# Fields left out take their default. Unknown fields are refused (so a typo cannot go unnoticed).',
    "# File paths may start with ~ (your home folder); relative paths start at this file's folder.",
    '# Secrets never go in this file: the *Env fields hold the NAME of an environment variable',
    '# (e.g. PI_SUDO_PASSWORD) that you export before running revue-pi, never the secret itself.',
    '',
    'cluster:',
    '  # Name of the cluster (required): lowercase letters, digits and "-". revue-pi keeps this cluster\'s',
    '  # state and run logs under it (~/.local/state/revue-pi/<name>).',
    `  name: ${scalar(answers.clusterName)}`,
    '  # DNS domain under which the web UIs are routed (revue.<domain>, grafana.<domain>, …). Point these',
    '  # names at the ingress address below (router DNS or /etc/hosts). Default: revue.local',
    `  domain: ${scalar(answers.domain)}`,
    '  # Another address or DNS name for the Kubernetes API (e.g. a DNS name for your servers): added to',
    "  # the servers' TLS certificate (tls-san) so kubectl can use it. Default: not set (the servers' own",
    '  # hosts and names are always in the certificate, and the kubeconfig points at the first server).',
    `  # apiEndpoint: ${firstHost}`,
    '',
    '# K3s, the Kubernetes distribution installed on the Pis: which release and where it comes from.',
    'k3s:',
    '  # The K3s release to install, written exactly as on https://github.com/k3s-io/k3s/releases:',
    '  # vX.Y.Z+k3sN (e.g. v1.36.4+k3s1; the +k3sN suffix is part of the name). Pinning a version makes',
    `  # every run install the same thing. Default: ${DEFAULT_K3S_VERSION}, the release revue-pi is tested with.`,
    answers.k3sChannel ? `  # version: ${scalar(answers.k3sVersion)}` : `  version: ${scalar(answers.k3sVersion)}`,
    '  # Or follow a release channel instead: stable, latest, testing or a minor line such as v1.33.',
    '  # Set version or channel, not both. Default: none (the pinned version above is used).',
    answers.k3sChannel ? `  channel: ${scalar(answers.k3sChannel)}` : '  # channel: stable',
    '  # Where the K3s install script is downloaded from (a mirror, if the Pis cannot reach GitHub).',
    '  # Default: https://get.k3s.io',
    '  installScriptUrl: https://get.k3s.io',
    '  # Air-gapped K3s install: K3s comes from these local files, copied to each node, instead of the',
    '  # internet. All three are required when airgap is set and must exist when revue-pi runs.',
    '  # Default: not set.',
    '  # airgap:',
    '  #   binary: k3s-airgap/k3s-arm64                               # the k3s-arm64 binary of the release',
    "  #   images: k3s-airgap/k3s-airgap-images-arm64.tar.zst         # the release's airgap images tarball",
    '  #   installScript: k3s-airgap/install.sh                       # a saved copy of https://get.k3s.io',
    '  # Seconds to wait for each node to report Ready after installing K3s. 10-3600. Default: 300',
    '  readyTimeoutSeconds: 300',
    '  # New clusters keep their state in embedded etcd (cluster-init), even with one server, so that',
    '  # revue-pi backup and a later second server work. A single-server cluster made before that runs on',
    '  # SQLite and is left so (revue-pi status says it); set etcd here to have up restart its server with',
    '  # cluster-init, which makes K3s move the data into etcd (back it up first: see README, Day two).',
    '  # Default: not set.',
    '  # datastore: etcd',
    '',
    "# How to reach the Pis over SSH. These are the defaults for every node; a node's own ssh: section",
    '# overrides any of them. The user must be able to run sudo. What is left out here comes from your',
    "# ~/.ssh/config when it has a Host entry for the node's host (User, Port, IdentityFile, ProxyJump, …),",
    '# as with ssh; what is set here wins over that file.',
    'ssh:',
    "  # Login user on the Pis. Default: the ssh config's User for the host, else pi",
    // Written only when it differs from the default, so that a default answer leaves ~/.ssh/config its say.
    ssh.user === SSH_DEFAULTS.user ? '  # user: pi' : `  user: ${scalar(ssh.user)}`,
    "  # SSH port. Default: the ssh config's Port for the host, else 22",
    '  # port: 22',
    '  # Use the keys loaded in your ssh-agent (found through SSH_AUTH_SOCK). Default: true',
    `  useAgent: ${ssh.login.kind === 'agent'}`,
    "  # Private key file to log in with, tried before the agent's keys. It must exist when revue-pi runs.",
    "  # Default: not set — then the ssh config's IdentityFile for the host, else ~/.ssh/id_ed25519,",
    '  # ~/.ssh/id_ecdsa and ~/.ssh/id_rsa are tried, if present.',
    key ? `  keyPath: ${scalar(key.keyPath)}` : '  # keyPath: ~/.ssh/id_ed25519',
    "  # NAME of the environment variable holding that key's passphrase. Default: not set.",
    key?.passphraseEnv ? `  keyPassphraseEnv: ${scalar(key.passphraseEnv)}` : '  # keyPassphraseEnv: PI_KEY_PASSPHRASE',
    '  # NAME of the environment variable holding the SSH password, for password login. Default: not set.',
    ssh.login.kind === 'password' ? `  passwordEnv: ${scalar(ssh.login.passwordEnv)}` : '  # passwordEnv: PI_PASSWORD',
    '  # NAME of the environment variable holding the sudo password; it reaches sudo through stdin, never a',
    '  # command line. Without it, sudo on the Pis must not ask for a password (the Raspberry Pi OS default',
    '  # for the first user). Default: not set.',
    ssh.sudoPasswordEnv ? `  sudoPasswordEnv: ${scalar(ssh.sudoPasswordEnv)}` : '  # sudoPasswordEnv: PI_SUDO_PASSWORD',
    '  # Seconds to wait for an SSH connection to open. 1-300. Default: 10',
    '  connectTimeoutSeconds: 10',
    '  # How many times a failed connection is retried before the node is reported unreachable. 0-10. Default: 2',
    '  connectRetries: 2',
    '  # File where revue-pi records the host keys it trusted on first use; a changed key is refused.',
    "  # Your ~/.ssh/known_hosts (or the ssh config's UserKnownHostsFile) is read too.",
    '  # Default: $XDG_CONFIG_HOME/revue-pi/known_hosts, else ~/.config/revue-pi/known_hosts',
    '  # knownHostsFile: ~/.config/revue-pi/known_hosts',
    '  # What to do with a node whose host key is in no known_hosts file: accept-new trusts and records it,',
    "  # printing its fingerprint (as OpenSSH's StrictHostKeyChecking=accept-new); strict refuses it, so every",
    '  # key must be recorded beforehand (ssh-keyscan) or pinned per node (nodes[].hostKeyFingerprint).',
    '  # A changed key is refused either way. Default: accept-new',
    '  # hostKeys: accept-new',
    '  # The OpenSSH client config to read host aliases, users, ports, keys and jump hosts from; none reads',
    '  # no file. Default: $REVUE_PI_SSH_CONFIG, else ~/.ssh/config',
    '  # configFile: ~/.ssh/config',
    "  # A bastion to go through when the Pis are not directly reachable (like ssh -J; the ssh config's",
    '  # ProxyJump is used when this is not set). Default: not set.',
    '  # jump:',
    '  #   host: bastion.example.com    # required when jump is set',
    "  #   port: 22                     # default: the ssh config's Port for it, else 22",
    '  #   user: admin                  # default: the ssh user above',
    '  #   keyPath: ~/.ssh/bastion_ed25519   # default: the agent / keyPath above',
    '',
    '# The Pis. Each needs a unique name and host. role: server runs the K3s control plane (and',
    '# workloads); role: agent runs workloads only.',
    '# How many servers: K3s servers keep the cluster state in embedded etcd, which needs a majority of',
    '# servers alive. Use 1 server (simple; no high availability) or 3 (embedded etcd HA: survives one',
    '# server failing); 5 survives two. An even number adds no safety over one fewer and is warned about.',
    '# etcd writes a lot: servers are better on an SSD than an SD card.',
    'nodes:',
    ...answers.nodes.flatMap((node, i) => nodeLines(node, i === 0)),
    '',
    '# LAN addresses for the services reached from outside the cluster.',
    'network:',
    '  # MetalLB settings.',
    '  metallb:',
    '    # Install MetalLB, which gives LoadBalancer services (the ingress, the media server, Kafka)',
    "    # addresses on your LAN and answers ARP for them (layer 2 mode). K3s's own servicelb is then",
    '    # turned off. Default: true',
    '    enabled: true',
    "    # Address pools MetalLB hands out. Pick free LAN addresses outside your router's DHCP range and",
    "    # away from the nodes' own addresses. Each entry is a CIDR (192.168.1.240/28) or a range",
    '    # (192.168.1.200-192.168.1.220). Required (at least one pool) when revue or monitoring is on.',
    '    # Default: none.',
    '    pools:',
    '      - name: lan                 # pool name: lowercase letters, digits and "-"',
    '        addresses:',
    `          - ${scalar(answers.pool.trim())}`,
    '  # Fixed addresses for the services others connect to, so they never move. Each must lie inside a',
    '  # pool above and be different from the others. Default: not set (MetalLB picks any free one).',
    ...addressLines(fixed, fixedAddresses(answers.pool, { revue: true, monitoring: true, kafkaUi: true })),
    '',
    '# Raspberry Pi settings. A change to cgroups or kernel4k edits the boot partition and reboots the',
    '# node once; nothing reboots when they are already in place.',
    'pi:',
    '  # Enable the memory cgroup controller (append cgroup_memory=1 cgroup_enable=memory to cmdline.txt).',
    '  # K3s needs it; the Pi firmware disables it by default. Default: true',
    '  cgroups: true',
    '  # Boot the 4K-page kernel (kernel=kernel8.img in config.txt). The Pi 5 boots kernel_2712.img with',
    '  # 16K memory pages; K3s runs on it, but many images do not: anything built with jemalloc (Redis,',
    '  # MariaDB, …) and MongoDB\'s allocator fail with "Unsupported system page size". Revue runs seven',
    '  # MongoDB instances, so this defaults on. Turn it off only if none of your workloads care. Default: true',
    '  kernel4k: true',
    "  # The Wi-Fi fix for MetalLB: a Pi's Wi-Fi does not answer ARP for MetalLB's addresses unless the",
    '  # interface is in promiscuous mode, and that setting does not survive a reboot. When true, a small',
    "  # systemd unit puts each node's wifiInterface in promiscuous mode at every boot. Needed only for",
    '  # nodes on Wi-Fi; Ethernet is preferred. Default: false',
    '  wifiPromiscuous: false',
    '  # Seconds to wait for a node to answer SSH again after a reboot. 10-3600. Default: 180',
    '  rebootTimeoutSeconds: 180',
    '',
    '# What runs on the cluster.',
    'workloads:',
    '  # Kubernetes namespace for Revue. Default: revue',
    '  namespace: revue',
    '  # Deploy the Revue microservices (with their MongoDB instances, Kafka, ZooKeeper and the media',
    '  # server). Default: true',
    `  revue: ${workloads.revue}`,
    "  # Deploy Prometheus and Grafana with Revue's Kubernetes dashboards. Default: true",
    `  monitoring: ${workloads.monitoring}`,
    "  # Deploy kafka-ui, a web UI to inspect Revue's Kafka topics. Default: true",
    `  kafkaUi: ${workloads.kafkaUi}`,
    '  # Revue release whose images are deployed (the tag of the letsdothisshared/revue-* images). Quote',
    '  # it, so YAML keeps it as text. Default: the release pinned by revue-pi (3.1.14).',
    '  # revueVersion: "3.1.14"',
    '  # Replace individual images, image key → full image reference (e.g. a mirror or another tag).',
    '  # Keys: revue-<service> (alarm, auth, device, frontend, location, log, monitoring, notification,',
    '  # recognition, user), mongo, kafka, zookeeper, kafka-ui, media-server, metallb-controller,',
    '  # metallb-speaker. Default: none.',
    '  # images:',
    '  #   mongo: mongo:7.0.14',
    '  # Extra hosts or addresses the media server advertises to WebRTC clients, besides its own fixed',
    '  # address. Default: none.',
    '  # mediaServerHosts:',
    `  #   - cameras.${answers.domain}`,
  ];
  return `${lines.join('\n')}\n`;
}

function addressLines(fixed: FixedAddresses, examples: FixedAddresses): string[] {
  const set = (key: string, value: string | undefined, example: string | undefined): string =>
    value === undefined ? `    # ${key}: ${example ?? ''}` : `    ${key}: ${scalar(value)}`;
  // With nothing fixed the mapping itself stays commented: an empty `addresses:` would be null, which the schema refuses.
  const any = fixed.ingress !== undefined;
  return [
    any ? '  addresses:' : '  # addresses:',
    '    # The ingress (Traefik): the web UIs of Revue, Grafana and Prometheus.',
    set('ingress', fixed.ingress, examples.ingress),
    '    # The media server (MediaMTX): camera streams over RTSP, RTMP, HLS and WebRTC.',
    set('mediaServer', fixed.mediaServer, examples.mediaServer),
    "    # The Kafka brokers' external listeners, one address per broker (at most 2).",
    ...(fixed.kafka === undefined
      ? ['    # kafka:', ...(examples.kafka ?? []).map((a) => `    #   - ${a}`)]
      : ['    kafka:', ...fixed.kafka.map((a) => `      - ${scalar(a)}`)]),
  ];
}
