import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InventoryError } from '../../../../core/errors.js';
import { loadInventory } from '../../../../core/inventory/parse.js';
import { tempDir } from '../../../fakes/temp-dir.js';

const MINIMAL = `cluster:
  name: lab
nodes:
  - name: pi-1
    host: 192.168.1.101
    role: server
network:
  metallb:
    pools:
      - name: lan
        addresses: [192.168.1.200-192.168.1.220]
`;

let dir: string;
beforeEach(() => {
  dir = tempDir('inventory');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function loadError(file: string): InventoryError {
  try {
    loadInventory(file);
  } catch (e) {
    if (e instanceof InventoryError) return e;
    throw e;
  }
  throw new Error('expected an InventoryError');
}

describe('loadInventory', () => {
  it('reads and checks a file', () => {
    const file = path.join(dir, 'inventory.yaml');
    writeFileSync(file, MINIMAL);
    const { inventory, warnings } = loadInventory(file);
    expect(inventory.cluster.name).toBe('lab');
    expect(warnings).toEqual([]);
  });

  it('says how to start when the file is missing', () => {
    const file = path.join(dir, 'inventory.yaml');
    const error = loadError(file);
    expect(error.issues).toEqual([
      {
        path: '',
        message: `file not found — create it from inventory.example.yaml (cp inventory.example.yaml ${file}) or pass -i with the right path`,
        severity: 'error',
      },
    ]);
    expect(error.message).toBe(
      `The inventory ${file} is not valid:\n  ${file} file not found — create it from inventory.example.yaml (cp inventory.example.yaml ${file}) or pass -i with the right path`,
    );
  });

  it('says when the path is a folder', () => {
    expect(loadError(dir).issues[0]?.message).toBe('is a folder, not a file — pass -i with the inventory file inside it');
  });

  describe('air-gapped install files', () => {
    const airgap = `k3s:
  version: v1.33.5+k3s1
  airgap:
    binary: airgap/k3s-arm64
    images: airgap/k3s-airgap-images-arm64.tar.zst
    installScript: airgap/install.sh
`;

    it('finds them relative to the inventory folder, wherever the command runs from', () => {
      mkdirSync(path.join(dir, 'site', 'airgap'), { recursive: true });
      for (const f of ['k3s-arm64', 'k3s-airgap-images-arm64.tar.zst', 'install.sh']) writeFileSync(path.join(dir, 'site', 'airgap', f), 'x');
      const file = path.join(dir, 'site', 'inventory.yaml');
      writeFileSync(file, MINIMAL + airgap);
      const { inventory } = loadInventory(file);
      expect(inventory.k3s.airgap).toEqual({
        binary: path.join(dir, 'site', 'airgap', 'k3s-arm64'),
        images: path.join(dir, 'site', 'airgap', 'k3s-airgap-images-arm64.tar.zst'),
        installScript: path.join(dir, 'site', 'airgap', 'install.sh'),
      });
    });

    it('reports each missing one at its line', () => {
      mkdirSync(path.join(dir, 'airgap'));
      writeFileSync(path.join(dir, 'airgap', 'k3s-arm64'), 'x');
      const file = path.join(dir, 'inventory.yaml');
      writeFileSync(file, MINIMAL + airgap);
      const error = loadError(file);
      expect(error.issues).toEqual([
        {
          path: 'k3s.airgap.images',
          line: 16,
          column: 13,
          message: `file ${path.join(dir, 'airgap', 'k3s-airgap-images-arm64.tar.zst')} not found — put the k3s-airgap-images-arm64 tarball of the K3s release there, or fix the path (relative paths start at the inventory's folder)`,
          severity: 'error',
        },
        {
          path: 'k3s.airgap.installScript',
          line: 17,
          column: 20,
          message: `file ${path.join(dir, 'airgap', 'install.sh')} not found — put a saved copy of https://get.k3s.io there, or fix the path (relative paths start at the inventory's folder)`,
          severity: 'error',
        },
      ]);
    });
  });

  it('reports an SSH key file that is not there', () => {
    const file = path.join(dir, 'inventory.yaml');
    writeFileSync(file, `${MINIMAL}ssh:\n  keyPath: keys/id_ed25519\n`);
    const error = loadError(file);
    expect(error.issues).toEqual([
      {
        path: 'ssh.keyPath',
        line: 13,
        column: 12,
        message: `SSH key ${path.join(dir, 'keys', 'id_ed25519')} not found — point ssh.keyPath at your private key file, or remove it to use the ssh-agent`,
        severity: 'error',
      },
    ]);
    mkdirSync(path.join(dir, 'keys'));
    writeFileSync(path.join(dir, 'keys', 'id_ed25519'), 'key', { mode: 0o600 });
    expect(loadInventory(file).inventory.ssh.keyPath).toBe(path.join(dir, 'keys', 'id_ed25519'));
  });
});

describe('loadInventory: what the inventory names, checked at load with its line', () => {
  it('an SSH key path that is a folder, with the line of the field', () => {
    mkdirSync(path.join(dir, 'keys'));
    const file = path.join(dir, 'inventory.yaml');
    writeFileSync(file, `${MINIMAL}ssh:\n  keyPath: keys\n`);
    const error = loadError(file);
    expect(error.issues).toEqual([
      {
        path: 'ssh.keyPath',
        line: 13,
        column: 12,
        severity: 'error',
        message: `${path.join(dir, 'keys')} is a folder — point ssh.keyPath at the private key file inside it, e.g. ${path.join(dir, 'keys', 'id_ed25519')}`,
      },
    ]);
  });

  it('a known_hosts file that is a folder', () => {
    mkdirSync(path.join(dir, 'kh'));
    const file = path.join(dir, 'inventory.yaml');
    writeFileSync(file, `${MINIMAL}ssh:\n  knownHostsFile: kh\n`);
    expect(loadError(file).issues.map((i) => [i.path, i.line])).toEqual([['ssh.knownHostsFile', 13]]);
  });

  it('a *Env field naming an unset variable, only when the command reads secrets (env given)', () => {
    const file = path.join(dir, 'inventory.yaml');
    writeFileSync(file, `${MINIMAL}ssh:\n  sudoPasswordEnv: REVUE_PI_TEST_UNSET_SUDO\n`);
    expect(() => loadInventory(file)).not.toThrow();
    const error = (() => {
      try {
        loadInventory(file, { env: { PATH: '/usr/bin' } });
      } catch (e) {
        return e as InventoryError;
      }
      throw new Error('expected an InventoryError');
    })();
    expect(error).toBeInstanceOf(InventoryError);
    expect(error.issues).toEqual([
      expect.objectContaining({
        path: 'ssh.sudoPasswordEnv',
        line: 13,
        column: 20,
        message: expect.stringContaining('REVUE_PI_TEST_UNSET_SUDO, which is not set'),
      }),
    ]);
    expect(loadInventory(file, { env: { REVUE_PI_TEST_UNSET_SUDO: 's3cret' } }).inventory.ssh.sudoPasswordEnv).toBe('REVUE_PI_TEST_UNSET_SUDO');
  });
});
