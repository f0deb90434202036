import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Test double for a FAT partition (Raspberry Pi's /boot/firmware), used because vfat cannot be mounted in the
 * test environment (no kernel module, no loop devices). It fakes the two tools whose behaviour differs there:
 *   - `install -m MODE` fails the way GNU install does on vfat ("cannot change permissions … Operation not
 *     permitted", exit 1, the copied file left behind) when the destination is inside `fatDir`;
 *   - `stat -f -c %T DIR` prints `msdos` (what GNU stat reports for vfat) for `fatDir`.
 * Everything else is passed to the real tools. Returns the folder to put first on PATH.
 */
export async function fakeFatTools(shimDir: string, fatDir: string): Promise<string> {
  await mkdir(shimDir, { recursive: true });
  const install = `#!/bin/sh
# FAKE install (test/fakes/fat-tools.ts): refuses to set modes inside ${fatDir}
for last in "$@"; do :; done
case "$last" in
  ${fatDir}/*)
    # called as: install -m MODE SRC DST
    cp "$3" "$last"
    echo "install: cannot change permissions of '$last': Operation not permitted" >&2
    exit 1 ;;
esac
exec /usr/bin/install "$@"
`;
  const stat = `#!/bin/sh
# FAKE stat (test/fakes/fat-tools.ts): ${fatDir} is a vfat file system
if [ "$1" = "-f" ] && [ "$2" = "-c" ] && [ "$3" = "%T" ] && [ "$4" = "${fatDir}" ]; then echo msdos; exit 0; fi
exec /usr/bin/stat "$@"
`;
  await writeFile(join(shimDir, 'install'), install);
  await writeFile(join(shimDir, 'stat'), stat);
  await chmod(join(shimDir, 'install'), 0o755);
  await chmod(join(shimDir, 'stat'), 0o755);
  return shimDir;
}
