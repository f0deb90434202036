import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { readPageSizeCache, updatePageSizeCache } from '../../../provision/page-size-cache.js';
import { tempDir } from '../../fakes/temp-dir.js';

const BOOT_A = '6f1c1e0a-2b6d-4d0e-9a4e-1c2b3d4e5f60';
const BOOT_B = '0b9e8d7c-6a5b-4c3d-8e2f-1a0b9c8d7e6f';

describe('page size cache (page-sizes.json)', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('pagesizes');
  });

  it('records each probed boot, 0600, and reads it back; an unchanged record is not rewritten', () => {
    expect(readPageSizeCache(dir)).toEqual({});
    expect(
      updatePageSizeCache(dir, [
        { name: 'pi-2', facts: { bootId: BOOT_B, pageSize: 4096 } },
        { name: 'pi-1', facts: { bootId: BOOT_A, pageSize: 16384 } },
      ]),
    ).toBe(true);
    expect(readPageSizeCache(dir)).toEqual({ 'pi-1': { bootId: BOOT_A, pageSize: 16384 }, 'pi-2': { bootId: BOOT_B, pageSize: 4096 } });
    expect(statSync(join(dir, 'page-sizes.json')).mode & 0o777).toBe(0o600);
    expect(updatePageSizeCache(dir, [{ name: 'pi-1', facts: { bootId: BOOT_A, pageSize: 16384 } }])).toBe(false);
  });

  it('keeps the entry of a node this run did not reach (no boot id) and replaces that of a node rebooted since', () => {
    updatePageSizeCache(dir, [
      { name: 'pi-1', facts: { bootId: BOOT_A, pageSize: 16384 } },
      { name: 'pi-2', facts: { bootId: BOOT_A, pageSize: 4096 } },
    ]);
    updatePageSizeCache(dir, [
      { name: 'pi-1', facts: { bootId: BOOT_B, pageSize: 4096 } },
      { name: 'pi-2', facts: { bootId: '', pageSize: 0 } },
    ]);
    // A boot id the next read would drop is not written either (the file stays as it is).
    expect(updatePageSizeCache(dir, [{ name: 'pi-2', facts: { bootId: 'not-a-boot-id', pageSize: 4096 } }])).toBe(false);
    expect(readPageSizeCache(dir)).toEqual({ 'pi-1': { bootId: BOOT_B, pageSize: 4096 }, 'pi-2': { bootId: BOOT_A, pageSize: 4096 } });
  });

  it('reads a damaged file as empty and drops malformed entries (those nodes run getconf again)', () => {
    writeFileSync(join(dir, 'page-sizes.json'), '{ not json');
    expect(readPageSizeCache(dir)).toEqual({});
    writeFileSync(
      join(dir, 'page-sizes.json'),
      JSON.stringify({
        'pi-1': { bootId: BOOT_A, pageSize: 4096 },
        'pi-2': { bootId: "x'; reboot", pageSize: 4096 },
        'pi-3': { bootId: BOOT_B, pageSize: '4096' },
      }),
    );
    expect(readPageSizeCache(dir)).toEqual({ 'pi-1': { bootId: BOOT_A, pageSize: 4096 } });
    expect(readFileSync(join(dir, 'page-sizes.json'), 'utf8')).toContain('pi-2');
  });
});
