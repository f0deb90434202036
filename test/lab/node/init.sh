#!/bin/sh
# PID 1 of a lab node: runs inside the fresh mount/UTS/PID namespaces `unshare` made (see ../README.md).
# Puts the node's own directories and this boot's /proc and /sys files over the host's, sets the hostname,
# starts the enabled units of /etc/systemd/system and runs sshd. When this process ends, the kernel kills
# every process of the node: that is a reboot or a power cut.
set -eu
R="$LAB_NODE_ROOT"
B="$R/lab/boot"

# Node state: everything a Pi keeps on its SD card that our tool touches. /tmp last: the lab root may be under it.
for d in etc boot home root run usr/local var/lib/rancher var/log; do
  mount --bind "$R/$d" "/$d"
done
# What the kernel and firmware report for this boot (rendered by lab.ts from cmdline.txt/config.txt).
mount --bind "$B/cmdline" /proc/cmdline
mount --bind "$B/meminfo" /proc/meminfo
mount --bind "$B/boot_id" /proc/sys/kernel/random/boot_id
mount --bind "$B/cgroup" /sys/fs/cgroup
[ ! -d "$B/firmware" ] || mount --bind "$B/firmware" /sys/firmware
[ ! -f "$B/cpuinfo" ] || mount --bind "$B/cpuinfo" /proc/cpuinfo
[ ! -f "$B/version" ] || mount --bind "$B/version" /proc/version
[ ! -f "$B/osrelease" ] || mount --bind "$B/osrelease" /proc/sys/kernel/osrelease
[ ! -d "$B/net" ] || mount --bind "$B/net" /sys/class/net
mount --bind "$R/tmp" /tmp

# Stand-ins also answer when called by absolute path (/usr/bin/systemctl, /usr/sbin/reboot -> /bin/systemctl…).
for shim in systemctl journalctl uname arch; do
  if [ -f "/usr/local/bin/$shim" ] && [ -f "/usr/bin/$shim" ] && [ ! -L "/usr/bin/$shim" ]; then
    mount --bind "/usr/local/bin/$shim" "/usr/bin/$shim"
  fi
done

printf '%s' "$(cat /etc/hostname)" > /proc/sys/kernel/hostname
mkdir -p /run/sshd /run/lock /run/user /run/lab
chmod 0755 /run/sshd
chmod 1777 /run/lock
echo up > /run/lab/state

# Enabled units installed in /etc/systemd/system start at boot, as systemd would start them.
/usr/local/bin/systemctl --lab-boot > /run/lab/boot-units.log 2>&1 &

sshd=
trap '[ -z "$sshd" ] || kill -TERM "$sshd" 2>/dev/null; exit 0' TERM INT HUP
/usr/sbin/sshd -D -e -f /etc/ssh/sshd_config &
sshd=$!
set +e
wait "$sshd"
rc=$?
echo "lab: sshd exited with status $rc" >&2
exit "$rc"
