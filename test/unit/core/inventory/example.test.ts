import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadInventory } from '../../../../core/inventory/parse.js';
import { DEFAULT_K3S_VERSION, inventorySchema } from '../../../../core/inventory/schema.js';

const EXAMPLE = fileURLToPath(new URL('../../../../inventory.example.yaml', import.meta.url));
const text = readFileSync(EXAMPLE, 'utf8');
const lines = text.split('\n');

/** Every field the schema knows, as dot paths (list items as []), walking through defaults and optionals. */
function schemaFields(schema: z.ZodTypeAny, prefix = ''): string[] {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodDefault) s = s._def.innerType as z.ZodTypeAny;
    else if (s instanceof z.ZodOptional) s = s.unwrap() as z.ZodTypeAny;
    else break;
  }
  if (s instanceof z.ZodArray) return schemaFields(s.element as z.ZodTypeAny, `${prefix}[]`);
  if (!(s instanceof z.ZodObject)) return [];
  return Object.entries(s.shape as Record<string, z.ZodTypeAny>).flatMap(([key, child]) => {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    return [path, ...schemaFields(child, path)];
  });
}

/** Lines that write `key:` — set (`key: …`, `- key: …`) or commented out (`# key: …`). */
function fieldLines(key: string): number[] {
  const re = new RegExp(`^\\s*(#\\s*)?(-\\s+)?${key}:(\\s|$)`);
  return lines.flatMap((line, i) => (re.test(line) ? [i] : []));
}

const fieldKeys = new Set(schemaFields(inventorySchema).map((f) => f.split('.').pop()!.replace(/\[\]$/, '')));

function isDocumented(i: number): boolean {
  const line = lines[i] as string;
  if (/:\s.*\s#\s/.test(line)) return true; // trailing comment
  const previous = lines
    .slice(0, i)
    .reverse()
    .find((l) => l.trim() !== '');
  if (previous === undefined || !/^\s*#/.test(previous)) return false;
  // The line above must be prose, not another commented-out field.
  const commentedKey = /^\s*#\s*(?:-\s+)?([A-Za-z0-9]+):(\s|$)/.exec(previous)?.[1];
  return commentedKey === undefined || !fieldKeys.has(commentedKey);
}

describe('inventory.example.yaml', () => {
  it('validates with no errors and no warnings', () => {
    const { inventory, warnings } = loadInventory(EXAMPLE);
    expect(warnings).toEqual([]);
    expect(inventory.cluster.name).toBe('revue');
    expect(inventory.nodes.map((n) => `${n.name} ${n.host} ${n.role}`)).toEqual([
      'pi-1 192.168.1.101 server',
      'pi-2 192.168.1.102 agent',
      'pi-3 192.168.1.103 agent',
    ]);
    expect(inventory.network.metallb.pools).toEqual([{ name: 'lan', addresses: ['192.168.1.200-192.168.1.220'] }]);
    expect(inventory.network.addresses).toEqual({ ingress: '192.168.1.200', mediaServer: '192.168.1.201', kafka: ['192.168.1.202', '192.168.1.203'] });
    // The example pins the default release (the one revue-pi is tested with).
    expect(inventory.k3s.version).toBe(DEFAULT_K3S_VERSION);
    expect(inventory.pi).toEqual({ cgroups: true, kernel4k: true, wifiPromiscuous: false, rebootTimeoutSeconds: 180 });
  });

  it('sets every field it writes to its documented default, where there is one', () => {
    // The example writes the defaults out; parsing the schema's defaults alone must give the same values.
    const defaults = inventorySchema.parse({ cluster: { name: 'revue' }, nodes: [{ name: 'pi-1', host: 'h', role: 'server' }] });
    const { inventory } = loadInventory(EXAMPLE);
    expect(inventory.ssh).toMatchObject(defaults.ssh);
    expect(inventory.pi).toEqual(defaults.pi);
    expect(inventory.workloads).toEqual(defaults.workloads);
    expect(inventory.network.metallb.enabled).toBe(defaults.network.metallb.enabled);
    expect(inventory.k3s.installScriptUrl).toBe(defaults.k3s.installScriptUrl);
    expect(inventory.k3s.readyTimeoutSeconds).toBe(defaults.k3s.readyTimeoutSeconds);
    expect(inventory.cluster.domain).toBe(defaults.cluster.domain);
  });

  const fields = schemaFields(inventorySchema);

  it('the schema walk finds the fields (sanity check of this test itself)', () => {
    expect(fields).toContain('nodes[].ssh.sudoPasswordEnv');
    expect(fields).toContain('ssh.jump.keyPath');
    expect(fields).toContain('k3s.airgap.installScript');
    expect(fields.length).toBeGreaterThan(50);
  });

  it.each(fields)('shows %s, with a comment', (field) => {
    const key = field.split('.').pop()!.replace(/\[\]$/, '');
    const at = fieldLines(key);
    expect(at.length, `${key}: is missing from the example`).toBeGreaterThan(0);
    expect(at.some(isDocumented), `no occurrence of ${key}: has a comment`).toBe(true);
  });

  it.each([
    ['why kernel4k is on', /Unsupported system page size/],
    ['the 16K-page kernel of the Pi 5', /16K/],
    ['the Wi-Fi promiscuous fix', /promiscuous mode/],
    ['that password fields hold names of environment variables', /NAME of an environment variable/],
    ['the etcd quorum', /etcd[\s\S]*1 server[\s\S]*3/],
    ['the K3s version format', /vX\.Y\.Z\+k3sN/],
  ])('explains %s', (_what, pattern) => {
    expect(text).toMatch(pattern);
  });
});
