#!/usr/bin/perl
# PID 1 of a lab node (see ../README.md). Runs inside the fresh mount/UTS/PID namespaces `unshare` made.
# Puts the node's own directories and this boot's /proc and /sys files over the host's, sets the hostname,
# starts the enabled units of /etc/systemd/system and runs sshd, reaping orphans like an init does. When
# this process ends, the kernel kills every process of the node: that is a reboot or a power cut.
# Perl (perl-base is part of every Debian) so the ~25 mounts are syscalls, not 25 fork+exec of mount(8).
use strict;
use warnings;
use POSIX ();

my $R = $ENV{LAB_NODE_ROOT} or die "lab init: LAB_NODE_ROOT is not set\n";
my $B = "$R/lab/boot";
my %SYS_MOUNT = (x86_64 => 165, aarch64 => 40);
my $SYS_mount = $SYS_MOUNT{(POSIX::uname())[4]} or die "lab init: unknown machine for mount(2)\n";
use constant { MS_NOSUID => 2, MS_NODEV => 4, MS_BIND => 4096 };

sub mnt {
  my ($src, $dst, $type, $flags, $data) = @_;
  my ($s, $d, $t, $o) = ($src, $dst, $type // '', $data // '');
  syscall($SYS_mount, $s, $d, $t, $flags, $data ? $o : 0) == 0 or die "lab init: mount $src on $dst: $!\n";
}
sub bindmount { mnt($_[0], $_[1], undef, MS_BIND) }
sub slurp { open(my $f, '<', $_[0]) or return undef; local $/; my $c = <$f>; close $f; $c }

# Node state: everything a Pi keeps on its SD card that our tool touches.
bindmount("$R/$_", "/$_") for qw(etc boot home root run usr/local var/lib/rancher var/lib/sudo var/log var/tmp);
# What the kernel and firmware report for this boot (rendered by lab.ts from cmdline.txt/config.txt).
bindmount("$B/cmdline", '/proc/cmdline');
bindmount("$B/meminfo", '/proc/meminfo');
bindmount("$B/boot_id", '/proc/sys/kernel/random/boot_id');
bindmount("$B/cgroup", '/sys/fs/cgroup');
bindmount("$B/firmware", '/sys/firmware') if -d "$B/firmware";
bindmount("$B/cpuinfo", '/proc/cpuinfo') if -f "$B/cpuinfo";
bindmount("$B/version", '/proc/version') if -f "$B/version";
bindmount("$B/osrelease", '/proc/sys/kernel/osrelease') if -f "$B/osrelease";
bindmount("$B/arch", '/proc/sys/kernel/arch') if -f "$B/arch" && -e '/proc/sys/kernel/arch';
bindmount("$B/net", '/sys/class/net') if -d "$B/net";
# Stand-ins also answer by absolute path (/usr/bin/systemctl, /usr/sbin/reboot -> /bin/systemctl, …).
if (-f '/usr/local/bin/ip' && -f '/usr/bin/ip') { # wifi: the ip stand-in needs the real one elsewhere
  open(my $t, '>', '/run/lab/ip.real') or die "lab init: /run/lab/ip.real: $!\n";
  close($t);
  chmod 0755, '/run/lab/ip.real';
  bindmount('/usr/bin/ip', '/run/lab/ip.real');
}
for my $shim (qw(systemctl journalctl hostnamectl uname arch ip)) {
  bindmount("/usr/local/bin/$shim", "/usr/bin/$shim") if -f "/usr/local/bin/$shim" && -f "/usr/bin/$shim" && !-l "/usr/bin/$shim";
}
# apt would change the host's /usr: its stand-in sits over apt-get and apt (from the lab files, not the node's /usr/local)
for my $apt (qw(apt-get apt)) {
  bindmount("$ENV{LAB_NODE_FILES}/apt-get", "/usr/bin/$apt") if -f "/usr/bin/$apt" && !-l "/usr/bin/$apt";
}
# Last, as the lab root may be under either: the node's own /tmp and a fresh /dev/shm.
bindmount("$R/tmp", '/tmp');
mnt('shm', '/dev/shm', 'tmpfs', MS_NOSUID | MS_NODEV, 'mode=1777');

my $hostname = slurp('/etc/hostname') // 'raspberrypi';
$hostname =~ s/\s+$//;
open(my $h, '>', '/proc/sys/kernel/hostname') or die "lab init: hostname: $!\n";
print $h $hostname;
close $h;
for (['/run/sshd', 0755], ['/run/lock', 01777], ['/run/user', 0755], ['/run/lab', 0755]) {
  mkdir $_->[0];
  chmod $_->[1], $_->[0];
}

my %children;
sub start {
  my ($name, @cmd) = @_;
  my $pid = fork() // die "lab init: fork: $!\n";
  if ($pid == 0) {
    $SIG{$_} = 'DEFAULT' for qw(TERM INT HUP CHLD);
    exec(@cmd) or die "lab init: exec $cmd[0]: $!\n";
  }
  $children{$pid} = $name;
  return $pid;
}

# Enabled units installed in /etc/systemd/system start at boot, as systemd would start them.
my @wanted = grep { my $u = (split m{/}, $_)[-1]; -f "/etc/systemd/system/$u" } glob('/etc/systemd/system/*.wants/* /etc/systemd/system/*.requires/*');
if (@wanted) {
  open(STDIN, '<', '/dev/null');
  start('units', '/bin/sh', '-c', 'exec /usr/local/bin/systemctl --lab-boot > /run/lab/boot-units.log 2>&1');
}

# A reboot/poweroff stand-in sends TERM to PID 1 (the handler is what lets it through to a namespace init).
my $sshd = 0;
$SIG{$_} = sub { kill 'TERM', $sshd if $sshd; exit 0 } for qw(TERM INT HUP);
$sshd = start('sshd', '/usr/sbin/sshd', '-D', '-e', '-f', '/etc/ssh/sshd_config');
while (1) {
  my $pid = waitpid(-1, 0); # reaps orphans too
  if ($pid == $sshd) {
    print STDERR "lab init: sshd exited with status " . ($? >> 8) . "\n";
    exit 1;
  }
  sleep 1 if $pid < 0;
}
