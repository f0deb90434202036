import { describe, expect, it } from 'vitest';
import { inventorySchema, type Inventory } from '../../../core/inventory/schema.js';
import { ensureCmdlineCgroups, ensureConfigKernel, ensureHostsEntry } from '../../../provision/boot-config.js';
import type { NodeFacts } from '../../../provision/facts.js';
import { freshPiFacts } from '../../../provision/fresh.js';
import { buildPreparation, checkNode, describeChange, planPreparation, REBOOT_COMMAND, verifyAfterReboot } from '../../../provision/prepare.js';

function inventory(extra: Partial<Record<string, unknown>> = {}): Inventory {
  return inventorySchema.parse({
    cluster: { name: 'lab' },
    nodes: [
      { name: 'pi-1', host: '192.168.1.101', role: 'server' },
      { name: 'pi-2', host: '192.168.1.102', role: 'agent', wifiInterface: 'wlan0' },
    ],
    ...extra,
  });
}

/** What a node looks like after `up` prepared it and it rebooted. */
function prepared(facts: NodeFacts, name: string): NodeFacts {
  return {
    ...facts,
    cmdline: ensureCmdlineCgroups(facts.cmdline!).content,
    config: ensureConfigKernel(facts.config!, true).content,
    hostname: name,
    hosts: ensureHostsEntry(facts.hosts, name).content,
    memoryCgroupActive: true,
    pageSize: 4096,
    kernel: '6.12.47+rpt-rpi-v8',
  };
}

describe('planPreparation', () => {
  const inv = inventory();
  const node = inv.nodes[0]!;

  it('on a fresh Pi 5 plans boot config, hostname and one reboot', () => {
    const changes = planPreparation(freshPiFacts(node), node, inv);
    expect(changes.map(describeChange)).toEqual([
      'write /boot/firmware/cmdline.txt: enable the memory cgroup (cgroup_memory=1 cgroup_enable=memory)',
      'write /boot/firmware/config.txt: boot the 4K-page kernel (kernel=kernel8.img)',
      'write /etc/hostname: hostname raspberrypi → pi-1',
      'apply hostname pi-1 now',
      'write /etc/hosts: map 127.0.1.1 to pi-1',
      'reboot: boot configuration changed',
    ]);
  });

  it('on a prepared node plans nothing (the idempotency check)', () => {
    expect(planPreparation(prepared(freshPiFacts(node), 'pi-1'), node, inv)).toEqual([]);
  });

  it('reboots without rewriting when the files are right but the kernel was not rebooted', () => {
    const facts = { ...prepared(freshPiFacts(node), 'pi-1'), memoryCgroupActive: false };
    expect(planPreparation(facts, node, inv).map(describeChange)).toEqual([
      'reboot: cmdline.txt enables the memory cgroup but the running kernel was booted without it',
    ]);
  });

  it('leaves config.txt alone when kernel4k is off', () => {
    const off = inventory({ pi: { kernel4k: false } });
    const facts = { ...prepared(freshPiFacts(node), 'pi-1'), config: freshPiFacts(node).config, pageSize: 16384 };
    expect(planPreparation(facts, off.nodes[0]!, off)).toEqual([]);
  });

  it('installs the Wi-Fi promiscuous unit only when asked and only on Wi-Fi nodes', () => {
    const wifi = inventory({ pi: { wifiPromiscuous: true } });
    const agent = wifi.nodes[1]!;
    const changes = planPreparation(prepared(freshPiFacts(agent), 'pi-2'), agent, wifi).map(describeChange);
    expect(changes).toEqual([
      'write /etc/systemd/system/revue-pi-wifi-promisc.service: keep wlan0 promiscuous across reboots (MetalLB L2 over Wi-Fi)',
      'enable revue-pi-wifi-promisc.service',
    ]);
    expect(planPreparation(prepared(freshPiFacts(node), 'pi-1'), wifi.nodes[0]!, wifi)).toEqual([]);
  });
});

describe('buildPreparation (one round trip)', () => {
  const inv = inventory();
  const node = inv.nodes[0]!;

  it('writes every file with the originals backed up beside them first, then hostname and the reboot', () => {
    const facts = freshPiFacts(node);
    const { files, script } = buildPreparation(planPreparation(facts, node, inv));
    expect(files.map((f) => [f.path, f.mode])).toEqual([
      ['/boot/firmware/cmdline.txt.revue-pi.bak', 0o644],
      ['/boot/firmware/cmdline.txt', 0o644],
      ['/boot/firmware/config.txt.revue-pi.bak', 0o644],
      ['/boot/firmware/config.txt', 0o644],
      ['/etc/hostname', 0o644],
      ['/etc/hosts.revue-pi.bak', 0o644],
      ['/etc/hosts', 0o644],
    ]);
    expect(files[0]!.content).toBe(facts.cmdline);
    expect(files[5]!.content).toBe(facts.hosts);
    expect(script.text).toBe(
      "if command -v hostnamectl >/dev/null 2>&1 && hostnamectl set-hostname pi-1 2>/dev/null; then :; else hostname pi-1; fi || { rc=$?; echo 'revue-pi: setting the hostname failed' >&2; exit $rc; }\n" +
        `${REBOOT_COMMAND.text}\n`,
    );
  });

  it('a reboot alone (files already right) writes nothing', () => {
    const facts = { ...prepared(freshPiFacts(node), 'pi-1'), memoryCgroupActive: false };
    const { files, script } = buildPreparation(planPreparation(facts, node, inv));
    expect({ files, script: script.text }).toEqual({ files: [], script: `${REBOOT_COMMAND.text}\n` });
  });

  it('the Wi-Fi unit is written before it is enabled, in the same script', () => {
    const wifi = inventory({ pi: { wifiPromiscuous: true } });
    const agent = wifi.nodes[1]!;
    const { files, script } = buildPreparation(planPreparation(prepared(freshPiFacts(agent), 'pi-2'), agent, wifi));
    expect(files.map((f) => f.path)).toEqual(['/etc/systemd/system/revue-pi-wifi-promisc.service']);
    expect(script.text).toBe(
      "systemctl daemon-reload && systemctl enable --now revue-pi-wifi-promisc.service || { rc=$?; echo 'revue-pi: enabling revue-pi-wifi-promisc.service failed' >&2; exit $rc; }\n",
    );
  });
});

describe('checkNode', () => {
  const inv = inventory();
  const server = inv.nodes[0]!;
  it('passes a Pi 5 with 8 GB', () => {
    expect(checkNode(freshPiFacts(server), server, { strict: false })).toEqual([]);
  });
  it('warns on a non-aarch64 node, and errs with --strict', () => {
    const facts = { ...freshPiFacts(server), arch: 'armv7l' };
    expect(checkNode(facts, server, { strict: false })[0]).toMatchObject({ severity: 'warning', message: expect.stringContaining('runs armv7l, not aarch64') });
    expect(checkNode(facts, server, { strict: true })[0]!.severity).toBe('error');
  });
  it('refuses a 1 GB board as a server but accepts it as an agent', () => {
    const facts = { ...freshPiFacts(server), memoryBytes: 1024 ** 3 * 0.9 };
    expect(checkNode(facts, server, { strict: false })).toEqual([
      { severity: 'error', message: 'node pi-1 has 922 MiB of memory, below the K3s minimum for a server (2 GB): give it role "agent" or use a larger board.' },
    ]);
    expect(checkNode(facts, inv.nodes[1]!, { strict: false })).toEqual([]);
  });
  it('warns that a Pi 4 cannot run MongoDB', () => {
    const facts = { ...freshPiFacts(server), model: 'Raspberry Pi 4 Model B Rev 1.5' };
    expect(checkNode(facts, server, { strict: false })).toEqual([
      {
        severity: 'warning',
        message:
          "node pi-1 is a Raspberry Pi 4 Model B Rev 1.5: it lacks ARMv8.2, so MongoDB cannot run there; Revue's databases will be placed on other nodes.",
      },
    ]);
  });
});

describe('verifyAfterReboot', () => {
  const inv = inventory();
  const node = inv.nodes[0]!;
  it('names the file and the expected flags when the memory cgroup is still off', () => {
    const facts = { ...prepared(freshPiFacts(node), 'pi-1'), memoryCgroupActive: false, bootedCmdline: 'cgroup_disable=memory root=x' };
    expect(verifyAfterReboot(facts, node, inv)).toEqual([
      'node pi-1 rebooted but the memory cgroup is still inactive (/sys/fs/cgroup/cgroup.controllers lacks "memory"): /boot/firmware/cmdline.txt should end with "cgroup_memory=1 cgroup_enable=memory" on its single line; the kernel booted with: cgroup_disable=memory root=x',
    ]);
  });
  it('is satisfied by a prepared node', () => {
    expect(verifyAfterReboot(prepared(freshPiFacts(node), 'pi-1'), node, inv)).toEqual([]);
  });
});
