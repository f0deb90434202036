import { describe, expect, it } from 'vitest';
import { stateDirFor } from '../../../core/state.js';
import { defaultKnownHostsFile, KnownHosts } from '../../../core/remote/known-hosts.js';

/** Where revue-pi keeps its files when no flag or inventory field says: the XDG base directory spec. */
describe('XDG base directories', () => {
  it('state: --state-dir, then REVUE_PI_STATE_DIR, then XDG_STATE_HOME, then ~/.local/state', () => {
    expect(stateDirFor('home', '/flag', { XDG_STATE_HOME: '/xdg' })).toBe('/flag');
    expect(stateDirFor('home', undefined, { REVUE_PI_STATE_DIR: '/rp', XDG_STATE_HOME: '/xdg' })).toBe('/rp/home');
    expect(stateDirFor('home', undefined, { XDG_STATE_HOME: '/xdg', HOME: '/h' })).toBe('/xdg/revue-pi/home');
    expect(stateDirFor('home', undefined, { HOME: '/h' })).toBe('/h/.local/state/revue-pi/home');
    // A relative path is not a valid XDG_STATE_HOME: ignored, as the spec says.
    expect(stateDirFor('home', undefined, { XDG_STATE_HOME: 'rel', HOME: '/h' })).toBe('/h/.local/state/revue-pi/home');
  });

  it("config: revue-pi's own known_hosts under XDG_CONFIG_HOME, else ~/.config; the inventory's file wins", () => {
    expect(defaultKnownHostsFile({ XDG_CONFIG_HOME: '/xdg' }, '/h')).toBe('/xdg/revue-pi/known_hosts');
    expect(defaultKnownHostsFile({}, '/h')).toBe('/h/.config/revue-pi/known_hosts');
    expect(defaultKnownHostsFile({ XDG_CONFIG_HOME: 'rel' }, '/h')).toBe('/h/.config/revue-pi/known_hosts');
    expect(new KnownHosts({ home: '/h', env: { XDG_CONFIG_HOME: '/xdg' } }).file).toBe('/xdg/revue-pi/known_hosts');
    expect(new KnownHosts({ home: '/h', env: { XDG_CONFIG_HOME: '/xdg' }, file: '~/kh' }).file).toBe('/h/kh');
  });
});
