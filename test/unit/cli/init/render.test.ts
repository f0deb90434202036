import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { InitAnswers } from '../../../../cli/init/answers.js';
import { renderInventoryYaml } from '../../../../cli/init/render.js';
import { DEFAULT_K3S_VERSION } from '../../../../core/inventory/schema.js';
import { parseInventory } from '../../../../core/inventory/parse.js';
import { sshSettingsFor } from '../../../../core/inventory/schema.js';

const EXAMPLE = readFileSync(new URL('../../../../inventory.example.yaml', import.meta.url), 'utf8');

const answers: InitAnswers = {
  clusterName: 'home',
  domain: 'lab.example',
  ssh: { user: 'pi', login: { kind: 'key', keyPath: '~/.ssh/id_ed25519' } },
  nodes: [
    { name: 'pi-1', host: '192.168.1.101', role: 'server', found: 'Raspberry Pi 5 Model B Rev 1.0, Debian GNU/Linux 12 (bookworm), 7.9 GiB' },
    { name: 'pi-2', host: '192.168.1.102', role: 'agent', user: 'admin', found: 'Raspberry Pi 5 Model B Rev 1.1, Debian GNU/Linux 13 (trixie), 3.9 GiB' },
    { name: 'pi-3', host: 'pi-3.local', port: 2222, role: 'agent' },
  ],
  workloads: { revue: true, monitoring: true, kafkaUi: false },
  pool: '192.168.1.200-192.168.1.220',
  k3sVersion: 'v1.34.1+k3s1',
};

/** The line `start` and the lines indented deeper below it (comments included), up to a blank line. */
function section(text: string, start: string): string {
  const lines = text.split('\n');
  const from = lines.indexOf(start);
  expect(from, `${start} is in the output`).toBeGreaterThanOrEqual(0);
  const indent = (l: string) => l.length - l.trimStart().length;
  let to = from + 1;
  while (to < lines.length && lines[to] !== '' && indent(lines[to] as string) > indent(start)) to++;
  return lines.slice(from, to).join('\n');
}

const parse = (text: string, file = '/home/me/cluster/inventory.yaml') => parseInventory(text, file, { homeDir: '/home/me', fileExists: () => true });

describe('renderInventoryYaml', () => {
  const text = renderInventoryYaml(answers);

  it('passes the same validation as up, with no warnings, and holds every answer', () => {
    const { inventory, warnings } = parse(text);
    expect(warnings).toEqual([]);
    expect(inventory.cluster).toEqual({ name: 'home', domain: 'lab.example' });
    expect(inventory.k3s.version).toBe('v1.34.1+k3s1');
    expect(inventory.k3s.channel).toBeUndefined();
    expect(inventory.ssh).toMatchObject({ useAgent: false, keyPath: '/home/me/.ssh/id_ed25519', connectTimeoutSeconds: 10, connectRetries: 2 });
    // The default user and port are left to ~/.ssh/config, then to the built-in defaults.
    expect(text).toContain('\n  # user: pi\n');
    expect(sshSettingsFor(inventory, inventory.nodes[0]!)).toMatchObject({ user: 'pi', port: 22 });
    expect(inventory.ssh.keyPassphraseEnv).toBeUndefined();
    expect(inventory.ssh.knownHostsFile).toBeUndefined();
    expect(inventory.nodes).toEqual([
      { name: 'pi-1', host: '192.168.1.101', role: 'server', labels: {}, taints: [] },
      { name: 'pi-2', host: '192.168.1.102', role: 'agent', ssh: { user: 'admin' }, labels: {}, taints: [] },
      { name: 'pi-3', host: 'pi-3.local', role: 'agent', ssh: { port: 2222 }, labels: {}, taints: [] },
    ]);
    expect(inventory.network).toEqual({
      metallb: { enabled: true, pools: [{ name: 'lan', addresses: ['192.168.1.200-192.168.1.220'] }] },
      addresses: { ingress: '192.168.1.200', mediaServer: '192.168.1.201', kafka: ['192.168.1.202', '192.168.1.203'] },
    });
    expect(inventory.workloads).toMatchObject({ namespace: 'revue', revue: true, monitoring: true, kafkaUi: false, images: {}, mediaServerHosts: [] });
    expect(inventory.pi).toEqual({ cgroups: true, kernel4k: true, wifiPromiscuous: false, rebootTimeoutSeconds: 180 });
  });

  it('writes the nodes exactly: documented first node, what the probe found, per-node user and port', () => {
    expect(section(text, 'nodes:')).toBe(
      [
        'nodes:',
        "  - # Node name (required): becomes the Pi's hostname and its Kubernetes node name.",
        '    # Lowercase letters, digits and "-".',
        '    name: pi-1',
        '    # IP address or DNS name the Pi answers SSH on (required). A fixed (DHCP-reserved) address is best.',
        '    host: 192.168.1.101',
        '    # server or agent (required).',
        '    role: server',
        '    # Found by revue-pi init: Raspberry Pi 5 Model B Rev 1.0, Debian GNU/Linux 12 (bookworm), 7.9 GiB.',
        '    # Kubernetes labels: set when the node registers, later changed through the API without a K3s',
        '    # restart (revue-pi removes only labels it set itself). Default: none. (Keys under',
        '    # node-role.kubernetes.io/ are refused: the kubelet will not start with them.)',
        '    # labels:',
        '    #   revue-pi/disk: ssd',
        '    # Kubernetes taints, as key=value:Effect with Effect NoSchedule, PreferNoSchedule or NoExecute;',
        '    # applied like the labels. Default: none.',
        '    # taints:',
        '    #   - dedicated=control-plane:NoSchedule',
        '    # Name of the Wi-Fi interface when this Pi reaches the LAN over Wi-Fi instead of Ethernet',
        '    # (then also set pi.wifiPromiscuous: true, see below). Default: not set (Ethernet).',
        '    # wifiInterface: wlan0',
        "    # The fingerprint this Pi's SSH host key must have, as ssh-keygen -lf prints it (on the Pi:",
        '    # ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub). Any other key is refused. Default: not set.',
        '    # hostKeyFingerprint: SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU',
        '    # An agent that already runs K3s for ANOTHER cluster is refused by up; true moves it into this',
        '    # one on purpose (its settings and token are rewritten and it restarts). Default: false.',
        '    # adopt: true',
        '    # Per-node SSH settings, overriding the ssh: section above for this node only: user, port, keyPath,',
        '    # keyPassphraseEnv, useAgent, passwordEnv, sudoPasswordEnv. Default: none.',
        '    # ssh:',
        '    #   user: admin',
        '    #   port: 2222',
        '    #   keyPath: ~/.ssh/pi1_ed25519',
        '  - name: pi-2',
        '    host: 192.168.1.102',
        '    role: agent',
        '    # Found by revue-pi init: Raspberry Pi 5 Model B Rev 1.1, Debian GNU/Linux 13 (trixie), 3.9 GiB.',
        '    ssh:',
        '      user: admin',
        '  - name: pi-3',
        '    host: pi-3.local',
        '    role: agent',
        '    # revue-pi init could not reach this node; plan and up will try again.',
        '    ssh:',
        '      port: 2222',
      ].join('\n'),
    );
  });

  it('writes the pool and the fixed addresses taken from its start exactly', () => {
    expect(section(text, '    pools:')).toBe(
      [
        '    pools:',
        '      - name: lan                 # pool name: lowercase letters, digits and "-"',
        '        addresses:',
        '          - 192.168.1.200-192.168.1.220',
      ].join('\n'),
    );
    expect(section(text, '  addresses:')).toBe(
      [
        '  addresses:',
        '    # The ingress (Traefik): the web UIs of Revue, Grafana and Prometheus.',
        '    ingress: 192.168.1.200',
        '    # The media server (MediaMTX): camera streams over RTSP, RTMP, HLS and WebRTC.',
        '    mediaServer: 192.168.1.201',
        "    # The Kafka brokers' external listeners, one address per broker (at most 2).",
        '    kafka:',
        '      - 192.168.1.202',
        '      - 192.168.1.203',
      ].join('\n'),
    );
  });

  it('starts with the next commands for the file it is written to', () => {
    expect(text.split('\n').slice(0, 5)).toEqual([
      '# revue-pi inventory: the Raspberry Pi 5 boards, how to reach them, and what to run on them.',
      '# Written by `revue-pi init`. Check it, then:',
      '#   npx revue-pi plan -i inventory.yaml    # shows what would change on each node, changes nothing',
      '#   npx revue-pi up -i inventory.yaml      # prepares the Pis, installs K3s, MetalLB, Revue and monitoring',
      '#',
    ]);
    expect(renderInventoryYaml(answers, 'my cluster.yaml')).toContain("#   npx revue-pi plan -i 'my cluster.yaml'    #");
  });

  it('documents every field with the comments of inventory.example.yaml (none drift, none go missing)', () => {
    const exampleLines = new Set(EXAMPLE.split('\n'));
    const body = text.split('\n').slice(text.split('\n').indexOf('cluster:'));
    const own = /^\s*# (Found by revue-pi init: |revue-pi init could not reach this node)/;
    // Commented examples whose values come from the answers (the API endpoint, the WebRTC host) differ by design.
    const fromAnswers = /^\s*# (apiEndpoint: |  - cameras\.)/;
    // A value the example sets (pi-1's label) may be offered commented out instead.
    const inExample = (l: string) => exampleLines.has(l) || exampleLines.has(l.replace('# ', ''));
    const drifted = body.filter((l) => l.trimStart().startsWith('#') && !own.test(l) && !fromAnswers.test(l) && !inExample(l));
    expect(drifted).toEqual([]);
    // And the other way: every explanatory comment of the example (not its commented-out values) is in the output.
    const explanatory = EXAMPLE.split('\n')
      .slice(EXAMPLE.split('\n').indexOf('cluster:'))
      .filter((l) => /^\s*(- )?# [A-Z(]/.test(l));
    const rendered = new Set(text.split('\n'));
    expect(explanatory.filter((l) => !rendered.has(l))).toEqual([]);
  });

  it('a channel chosen instead of a pinned version: channel written, version left commented, and up accepts it', () => {
    const text = renderInventoryYaml({ ...answers, k3sChannel: 'stable' });
    expect(text).toContain('\n  # version: v1.34.1+k3s1\n');
    expect(text).toContain('\n  channel: stable\n');
    const { inventory, warnings } = parse(text);
    expect(warnings).toEqual([]);
    expect(inventory.k3s.channel).toBe('stable');
    expect(inventory.k3s.version).toBeUndefined();
  });

  it('with the ssh-agent: useAgent true and keyPath left commented', () => {
    const agent = renderInventoryYaml({ ...answers, ssh: { user: 'admin', login: { kind: 'agent' } } });
    expect(agent).toContain('\n  # Use the keys loaded in your ssh-agent (found through SSH_AUTH_SOCK). Default: true\n  useAgent: true\n');
    expect(agent).toContain('\n  # keyPath: ~/.ssh/id_ed25519\n');
    const { inventory } = parse(agent);
    expect(inventory.ssh.useAgent).toBe(true);
    expect(inventory.ssh.user).toBe('admin');
    expect(inventory.ssh.keyPath).toBeUndefined();
  });

  it('password login: passwordEnv names the variable, no agent, keyPath left commented', () => {
    const password = renderInventoryYaml({ ...answers, ssh: { user: 'pi', login: { kind: 'password', passwordEnv: 'PI_PASSWORD' } } });
    expect(password).toContain(
      '\n  # NAME of the environment variable holding the SSH password, for password login. Default: not set.\n  passwordEnv: PI_PASSWORD\n',
    );
    expect(password).toContain('\n  useAgent: false\n');
    expect(password).toContain('\n  # keyPath: ~/.ssh/id_ed25519\n');
    expect(parse(password).inventory.ssh).toMatchObject({ passwordEnv: 'PI_PASSWORD', useAgent: false });
    expect(parse(password).inventory.ssh.keyPath).toBeUndefined();
    expect(text).toContain('\n  # passwordEnv: PI_PASSWORD\n');
  });

  it('a sudo password is named by its environment variable', () => {
    const sudo = renderInventoryYaml({ ...answers, ssh: { ...answers.ssh, sudoPasswordEnv: 'PI_SUDO_PASSWORD' } });
    expect(sudo).toContain('\n  # for the first user). Default: not set.\n  sudoPasswordEnv: PI_SUDO_PASSWORD\n');
    expect(parse(sudo).inventory.ssh.sudoPasswordEnv).toBe('PI_SUDO_PASSWORD');
    expect(text).toContain('\n  # sudoPasswordEnv: PI_SUDO_PASSWORD\n');
  });

  it('a passphrase-protected key names the environment variable, never a secret', () => {
    const protectedKey = renderInventoryYaml({
      ...answers,
      ssh: { user: 'pi', login: { kind: 'key', keyPath: '/keys/pi', passphraseEnv: 'PI_KEY_PASSPHRASE' } },
    });
    expect(protectedKey).toContain(
      "\n  keyPath: /keys/pi\n  # NAME of the environment variable holding that key's passphrase. Default: not set.\n  keyPassphraseEnv: PI_KEY_PASSPHRASE\n",
    );
    expect(parse(protectedKey).inventory.ssh).toMatchObject({ keyPath: '/keys/pi', keyPassphraseEnv: 'PI_KEY_PASSPHRASE' });
  });

  it('without Revue only the ingress is fixed; without any workload the addresses stay commented', () => {
    const monitoring = renderInventoryYaml({ ...answers, workloads: { revue: false, monitoring: true, kafkaUi: false }, pool: '10.1.2.64/26' });
    expect(section(monitoring, '  addresses:')).toBe(
      [
        '  addresses:',
        '    # The ingress (Traefik): the web UIs of Revue, Grafana and Prometheus.',
        '    ingress: 10.1.2.64',
        '    # The media server (MediaMTX): camera streams over RTSP, RTMP, HLS and WebRTC.',
        '    # mediaServer: 10.1.2.65',
        "    # The Kafka brokers' external listeners, one address per broker (at most 2).",
        '    # kafka:',
        '    #   - 10.1.2.66',
        '    #   - 10.1.2.67',
      ].join('\n'),
    );
    expect(parse(monitoring).inventory.network.addresses).toEqual({ ingress: '10.1.2.64' });

    const bare = renderInventoryYaml({ ...answers, workloads: { revue: false, monitoring: false, kafkaUi: false } });
    expect(bare).toContain('\n  # addresses:\n    # The ingress (Traefik): the web UIs of Revue, Grafana and Prometheus.\n    # ingress: 192.168.1.200\n');
    const { inventory } = parse(bare);
    expect(inventory.network.addresses).toEqual({});
    expect(inventory.workloads).toMatchObject({ revue: false, monitoring: false, kafkaUi: false });
  });

  it('quotes values YAML would read as something else', () => {
    const odd = renderInventoryYaml({
      ...answers,
      nodes: [{ name: 'pi-1', host: 'null', role: 'server' }],
      ssh: { user: 'true', login: { kind: 'key', keyPath: '~/.ssh/id: x' } },
    });
    expect(odd).toContain("    host: 'null'\n");
    expect(odd).toContain("  user: 'true'\n");
    expect(odd).toContain("  keyPath: '~/.ssh/id: x'\n");
    const { inventory } = parse(odd);
    expect(inventory.nodes[0]!.host).toBe('null');
    expect(inventory.ssh.user).toBe('true');
    expect(inventory.ssh.keyPath).toBe('/home/me/.ssh/id: x');
  });

  it("is the example itself for the example's answers, except the header and the per-node notes", () => {
    const fromExample = renderInventoryYaml({
      clusterName: 'revue',
      domain: 'revue.local',
      ssh: { user: 'pi', login: { kind: 'agent' } },
      nodes: [
        { name: 'pi-1', host: '192.168.1.101', role: 'server' },
        { name: 'pi-2', host: '192.168.1.102', role: 'agent' },
        { name: 'pi-3', host: '192.168.1.103', role: 'agent' },
      ],
      workloads: { revue: true, monitoring: true, kafkaUi: true },
      pool: '192.168.1.200-192.168.1.220',
      k3sVersion: DEFAULT_K3S_VERSION,
    });
    const values = (t: string) => JSON.stringify(parse(t).inventory);
    // The example sets one label on pi-1 (an illustration); everything else it sets, the wizard's output sets the same way.
    const exampleWithoutLabel = EXAMPLE.replace('    labels:\n      revue-pi/disk: ssd\n', '');
    expect(values(fromExample)).toBe(values(exampleWithoutLabel));
  });
});
