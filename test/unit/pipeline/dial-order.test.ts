import { describe, expect, it } from 'vitest';
import { othersWaitForFirstServer } from '../../../pipeline/pipeline.js';

const nodes = (...ran: boolean[]) => ran.map((ranK3sBefore, i) => ({ name: `pi-${i + 1}`, ranK3sBefore }));

describe('othersWaitForFirstServer', () => {
  it('makes the others wait for the first server on a fresh cluster', () => {
    expect(othersWaitForFirstServer(nodes(false, false, false), 'pi-1', true)).toBe(true);
  });

  it('makes them wait when a node was added since the last run (it joins once the first server is up)', () => {
    expect(othersWaitForFirstServer(nodes(true, true, true, true, false), 'pi-1', true)).toBe(true);
  });

  it('dials every node at once when all ran K3s last time (a re-run)', () => {
    expect(othersWaitForFirstServer(nodes(true, true, true), 'pi-1', true)).toBe(false);
  });

  it('has no one wait offline, or without a first server among the nodes', () => {
    expect(othersWaitForFirstServer(nodes(false, false), 'pi-1', false)).toBe(false);
    expect(othersWaitForFirstServer(nodes(false, false), undefined, true)).toBe(false);
    expect(othersWaitForFirstServer(nodes(false, false), 'pi-9', true)).toBe(false);
  });
});
