import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../../../core/inventory/parse.js';
import { sshSettingsFor } from '../../../../core/inventory/schema.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../../fixtures/inventory/${name}`, import.meta.url));

describe('fixture inventories', () => {
  it('ha-wifi-jump.yaml: HA servers, a Wi-Fi agent, a bastion and per-node SSH all validate cleanly', () => {
    const { inventory, warnings } = loadInventory(fixture('ha-wifi-jump.yaml'));
    expect(warnings).toEqual([]);
    expect(inventory.nodes.filter((n) => n.role === 'server').map((n) => n.name)).toEqual(['cp-1', 'cp-2', 'cp-3']);
    expect(inventory.k3s).toMatchObject({ channel: 'v1.33', readyTimeoutSeconds: 600 });
    expect(inventory.k3s.version).toBeUndefined();
    expect(inventory.nodes[0]?.taints).toEqual(['dedicated=control-plane:NoSchedule']);
    expect(inventory.nodes[3]?.labels).toEqual({ 'example.com/zone': 'barn' });
    expect(inventory.ssh.jump).toEqual({ host: 'bastion.farm.lan', port: 2222, user: 'jump' });
    const worker = inventory.nodes[3]!;
    expect(sshSettingsFor(inventory, worker)).toMatchObject({
      host: '10.20.0.21',
      user: 'pi',
      port: 2200,
      useAgent: false,
      passwordEnv: 'WORKER1_PASSWORD',
      keyPassphraseEnv: 'OPS_KEY_PASSPHRASE',
      sudoPasswordEnv: 'OPS_SUDO_PASSWORD',
      jump: { host: 'bastion.farm.lan', port: 2222, user: 'jump' },
    });
    expect(sshSettingsFor(inventory, inventory.nodes[1]!)).toMatchObject({ host: '10.20.0.12', user: 'ops', port: 22, useAgent: true });
  });
});
