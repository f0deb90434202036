import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeProgress, emptyProgress, forgetProgress, progressFile, readProgress, saveProgress, stoppedText } from '../../../../cli/init/progress.js';
import { tempDir } from '../../../fakes/temp-dir.js';

describe('an interrupted init', () => {
  const progress = {
    ...emptyProgress('/work/inventory.yaml'),
    clusterName: 'home',
    user: 'pi',
    login: { kind: 'key' as const, keyPath: '~/.ssh/id_ed25519' },
    nodes: [{ name: 'pi-1', host: '192.168.1.101', role: 'server' as const }],
    trusted: ['pi-1 (192.168.1.101)'],
  };

  it('says what was written and what was not', () => {
    expect(stoppedText(progress, { knownHosts: '/h/.config/revue-pi/known_hosts', progress: '/h/.local/state/revue-pi/init/x.json' }, 'inventory.yaml')).toBe(
      '\nStopped: inventory.yaml was not written.\n' +
        'The host keys you trusted were recorded in /h/.config/revue-pi/known_hosts and stay trusted: pi-1 (192.168.1.101).\n' +
        'Your answers so far are kept in /h/.local/state/revue-pi/init/x.json: run revue-pi init again to continue from there.\n',
    );
    expect(stoppedText(emptyProgress('inventory.yaml'), { knownHosts: 'kh' }, 'inventory.yaml')).toBe('\nStopped: nothing was written.\n');
    expect(stoppedText(progress, { knownHosts: 'kh', progress: 'p.json' }, 'home.yaml')).toContain('run revue-pi init -o home.yaml again');
  });

  it('lists the answers kept', () => {
    expect(describeProgress(progress)).toEqual([
      'cluster home',
      'SSH user pi, logging in with the key ~/.ssh/id_ed25519',
      'nodes pi-1 (192.168.1.101, server)',
    ]);
  });

  it('keeps them per inventory file under XDG_STATE_HOME, 0600, and reads back only those of the same file', () => {
    const state = tempDir('progress');
    const file = progressFile('/work/inventory.yaml', { XDG_STATE_HOME: state });
    expect(file).toMatch(new RegExp(`^${state}/revue-pi/init/[0-9a-f]{16}\\.json$`));
    expect(progressFile('/work/other.yaml', { XDG_STATE_HOME: state })).not.toBe(file);
    saveProgress(file, progress);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readProgress(file, '/work/inventory.yaml')).toEqual(progress);
    expect(readProgress(file, '/work/other.yaml')).toBeUndefined();
    forgetProgress(file);
    expect(readProgress(file, '/work/inventory.yaml')).toBeUndefined();
  });
});
