import { sh, shComment, shHeredoc, type ShellScript } from '../../core/remote/shell.js';
import { ETHERNET_INTERFACE, SSHD_PORT_DROP_IN, type FirstBootSettings } from './cloud-init.js';

/**
 * Raspberry Pi OS Bookworm's first-boot mechanism, as Raspberry Pi Imager uses it: a shell script on the
 * boot partition, run once by systemd through `systemd.run=` on cmdline.txt, which then reboots; the script
 * removes itself and the `systemd.run…` arguments. The script's commands follow Imager's
 * (rpi-imager src/customization_generator.cpp, generateSystemdScript): `imager_custom set_hostname` and
 * `enable_ssh -k` from raspberrypi-sys-mods, `userconf` from userconf-pi to rename the first user, with the
 * same fallbacks. revue-pi adds what Imager leaves to the user: no password at all (locked), sudo without
 * one, password login off in sshd, and a static address as a NetworkManager profile when one is given.
 *
 * Bookworm mounts the boot partition at /boot/firmware, so the script is referenced and cleaned up there.
 */

export const FIRSTRUN_NAME = 'firstrun.sh';
export const FIRSTRUN_ON_PI = '/boot/firmware/firstrun.sh';
export const CMDLINE_ON_PI = '/boot/firmware/cmdline.txt';

/** The arguments Imager appends to cmdline.txt (systemd.run runs the script, then the system reboots). */
export const FIRSTRUN_CMDLINE_ARGS = [`systemd.run=${FIRSTRUN_ON_PI}`, 'systemd.run_success_action=reboot', 'systemd.unit=kernel-command-line.target'] as const;

const MARKER_TEXT = 'Written by revue-pi flash';
/** First line after the shebang: how flash recognises a script it wrote itself. */
export const FIRSTRUN_MARKER = `# ${MARKER_TEXT}`;

export const SUDOERS_FILE = '/etc/sudoers.d/010_revue-pi-nopasswd';
export const SSHD_DROP_IN = '/etc/ssh/sshd_config.d/10-revue-pi.conf';
export const NM_PROFILE = `/etc/NetworkManager/system-connections/revue-pi-${ETHERNET_INTERFACE}.nmconnection`;

export function renderFirstrun(s: FirstBootSettings): string {
  const host = s.node;
  const user = s.user;
  const script = sh`#!/bin/sh
${shComment(`${MARKER_TEXT} for node ${s.node}: first-boot setup for Raspberry Pi OS Bookworm.`)}
# Run once by systemd (systemd.run= on cmdline.txt); it removes itself and those arguments at the end.

set +e

# Hostname (as Raspberry Pi Imager does it).
CURRENT_HOSTNAME=$(cat /etc/hostname | tr -d " \\t\\n\\r")
if [ -f /usr/lib/raspberrypi-sys-mods/imager_custom ]; then
   /usr/lib/raspberrypi-sys-mods/imager_custom set_hostname ${host}
else
   echo ${host} >/etc/hostname
   sed -i "s/127.0.1.1.*$CURRENT_HOSTNAME/127.0.1.1\\t${host}/g" /etc/hosts
fi
FIRSTUSER=$(getent passwd 1000 | cut -d: -f1)
FIRSTUSERHOME=$(getent passwd 1000 | cut -d: -f6)

# SSH on, with the operator's public key for the first user.
if [ -f /usr/lib/raspberrypi-sys-mods/imager_custom ]; then
   /usr/lib/raspberrypi-sys-mods/imager_custom enable_ssh -k ${s.key.line}
else
   install -o "$FIRSTUSER" -m 700 -d "$FIRSTUSERHOME/.ssh"
   cat > "$FIRSTUSERHOME/.ssh/authorized_keys" ${shHeredoc(s.key.line)}
   chown "$FIRSTUSER:$FIRSTUSER" "$FIRSTUSERHOME/.ssh/authorized_keys"
   chmod 600 "$FIRSTUSERHOME/.ssh/authorized_keys"
   systemctl enable ssh
fi

${shComment(`The first user becomes ${s.user} (userconf also skips the first-boot user wizard).`)}
if [ -f /usr/lib/userconf-pi/userconf ]; then
   /usr/lib/userconf-pi/userconf ${user} ''
else
   if [ "$FIRSTUSER" != ${user} ]; then
      usermod -l ${user} "$FIRSTUSER"
      usermod -m -d ${`/home/${s.user}`} ${user}
      groupmod -n ${user} "$FIRSTUSER"
   fi
fi

# revue-pi: no password at all (key login only), sudo without one, password login off in sshd.
passwd -l ${user}
printf '%s\\n' ${`${s.user} ALL=(ALL) NOPASSWD:ALL`} >${SUDOERS_FILE}
chmod 0440 ${SUDOERS_FILE}
mkdir -p /etc/ssh/sshd_config.d
printf '%s\\n' 'PasswordAuthentication no' 'KbdInteractiveAuthentication no' >${SSHD_DROP_IN}
${s.sshPort !== undefined && s.sshPort !== 22 ? sh`printf '%s\\n' ${`Port ${s.sshPort}`} >${SSHD_PORT_DROP_IN}\n` : sh``}${networkLines(s)}
# Run once: remove this script and the systemd.run arguments (everything after them on the line).
rm -f ${FIRSTRUN_ON_PI}
sed -i 's| systemd.run.*||g' ${CMDLINE_ON_PI}
exit 0
`;
  return script.text;
}

/** A static address as a NetworkManager keyfile (Bookworm's network stack); nothing for DHCP, NM's default. */
function networkLines(s: FirstBootSettings): ShellScript {
  const n = s.network;
  if (!n) return sh``;
  const profile = [
    '[connection]',
    `id=revue-pi-${ETHERNET_INTERFACE}`,
    'type=ethernet',
    `interface-name=${ETHERNET_INTERFACE}`,
    'autoconnect=true',
    'autoconnect-priority=100',
    '',
    '[ipv4]',
    'method=manual',
    `address1=${n.address},${n.gateway}`,
    `dns=${n.dns.join(';')};`,
    'ignore-auto-dns=true',
    '',
    '[ipv6]',
    'method=auto',
  ].join('\n');
  return sh`
# Static address on ${ETHERNET_INTERFACE} (NetworkManager keyfile; NM reads it when it starts after the reboot).
mkdir -p /etc/NetworkManager/system-connections
install -m 600 /dev/null ${NM_PROFILE}
cat >${NM_PROFILE} ${shHeredoc(profile)}
`;
}

const RUN_TOKEN = /^systemd\.(run|run_success_action|run_failure_action)=/;
const UNIT_TOKEN = 'systemd.unit=kernel-command-line.target';

/** The cmdline.txt tokens that make up a first-boot hook (ours, Imager's or anyone's). */
export function isFirstrunToken(token: string): boolean {
  return RUN_TOKEN.test(token) || token === UNIT_TOKEN;
}

/** The script another tool hooked into cmdline.txt, when it is not a firstrun.sh on the boot partition. */
export function foreignRunHook(cmdline: string): string | undefined {
  for (const token of cmdline.split(/\s+/)) {
    if (!token.startsWith('systemd.run=')) continue;
    const target = token.slice('systemd.run='.length);
    if (target !== FIRSTRUN_ON_PI && target !== '/boot/firstrun.sh') return target;
  }
  return undefined;
}
