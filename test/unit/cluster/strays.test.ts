import { describe, expect, it } from 'vitest';
import { nodesNotInInventory, removeNodeAdvice } from '../../../cluster/strays.js';
import { removeNodeCommands } from '../../../cli/commands/up.js';
import { inventory } from './helpers.js';

const list = (...names: string[]) => JSON.stringify({ items: names.map((name) => ({ metadata: { name } })) });

describe('nodes the cluster has and the inventory no longer lists', () => {
  const inv = inventory();

  it('names them, sorted; none when every Node is listed; nothing from output that is not a node list', () => {
    expect(nodesNotInInventory(inv, list('pi-1', 'pi-9', 'pi-2', 'pi-3', 'old-a'))).toEqual(['old-a', 'pi-9']);
    expect(nodesNotInInventory(inv, list('pi-1', 'pi-2'))).toEqual([]);
    expect(nodesNotInInventory(inv, 'The connection to the server was refused')).toEqual([]);
  });

  it('says up leaves them, and the command that removes them', () => {
    expect(removeNodeAdvice('lab', ['pi-9'])).toBe(
      'cluster lab still has node pi-9, which the inventory no longer lists; up leaves it as it is. To take it out of the cluster (drain, delete, uninstall K3s on it), run `revue-pi remove-node pi-9` with this inventory; to keep it, put it back in the inventory.',
    );
    expect(removeNodeAdvice('lab', ['a', 'b'])).toContain('still has nodes a, b, which the inventory no longer lists; up leaves them as they are.');
    expect(removeNodeCommands(['old-a', 'pi-9'], 'my inv.yaml', '/tmp/state')).toBe(
      "Not in the inventory, left in the cluster; to remove (asks first):\n  revue-pi remove-node old-a -i 'my inv.yaml' --state-dir /tmp/state\n  revue-pi remove-node pi-9 -i 'my inv.yaml' --state-dir /tmp/state\n",
    );
    expect(removeNodeCommands([], 'inventory.yaml', undefined)).toBe('');
  });
});
