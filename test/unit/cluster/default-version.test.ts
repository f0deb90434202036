import { describe, expect, it } from 'vitest';
import { wantedK3sVersion } from '../../../cluster/install.js';
import { DEFAULT_K3S_VERSION } from '../../../core/inventory/schema.js';
import { checkInventory } from '../../../core/inventory/rules.js';
import { standinBinary } from '../../lab/k3s-standin/server.js';
import { inventory } from './helpers.js';

/**
 * The pinned K3s release (workloads/traefik/contract.ts says where it was verified) must be one every part of
 * revue-pi takes: the inventory rules, the installer command, and the lab's stand-in, which the lab suites install.
 */
describe('the default K3s version', () => {
  it('is what up installs when the inventory names none', () => {
    expect(DEFAULT_K3S_VERSION).toBe('v1.36.4+k3s1');
    expect(wantedK3sVersion(inventory())).toBe(DEFAULT_K3S_VERSION);
  });

  it('passes the inventory rules when written out', () => {
    const pinned = inventory({ k3s: { version: DEFAULT_K3S_VERSION } });
    expect(checkInventory(pinned, { baseDir: '/' }).filter((i) => i.path.startsWith('k3s'))).toEqual([]);
    expect(checkInventory(inventory({ k3s: { version: DEFAULT_K3S_VERSION.replace('+', '-') } }), { baseDir: '/' }).map((i) => i.path)).toContain(
      'k3s.version',
    );
  });

  it('is accepted by the lab stand-in, whose binary reports it as its version', () => {
    const binary = standinBinary(DEFAULT_K3S_VERSION).toString('utf8');
    expect(binary).toContain(`const K3S_STANDIN_VERSION = ${JSON.stringify(DEFAULT_K3S_VERSION)};`);
    expect(() => standinBinary('v1.36.4')).toThrow(/not a K3s version/);
  });
});
