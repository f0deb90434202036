#!/bin/sh
# revue-pi LAB STAND-IN for the K3s installer (https://get.k3s.io). This is NOT the real install.sh.
#
# It honours the documented installer contract for the parts revue-pi uses, so the cluster code can be
# tested end to end on the lab (test/lab/):
#   curl -sfL URL | ENV… sh -s - [server|agent] [flags…]
#   INSTALL_K3S_EXEC + the args after `sh -s -` are joined; empty or flag-first = server, or agent when
#   K3S_URL is set (then K3S_TOKEN or K3S_TOKEN_FILE is required); K3S_URL must be https://.
#   INSTALL_K3S_VERSION wins over INSTALL_K3S_CHANNEL (default stable); INSTALL_K3S_SKIP_DOWNLOAD,
#   INSTALL_K3S_SKIP_ENABLE, INSTALL_K3S_SKIP_START, INSTALL_K3S_FORCE_RESTART, INSTALL_K3S_BIN_DIR,
#   INSTALL_K3S_NAME, INSTALL_K3S_SYMLINK, GITHUB_URL, INSTALL_K3S_CHANNEL_URL; every K3S_* variable goes to
#   <unit>.env (0600).
#   Same binary + unit + env as before → "No change detected so skipping service start".
# Differences from the real installer (all deliberate, for the lab):
#   - downloads come from the stand-in HTTP server that served this script (test/lab/k3s-standin/server.ts)
#     and carry an X-Lab-Node header so that server can count requests and inject failures per node;
#   - no SELinux, no openrc, no iptables clean-up, no modprobe (the lab nodes share the host kernel);
#   - the unit has Restart=no: the lab's systemctl cannot show "activating (auto-restart)", so a stand-in
#     k3s that gives up (wrong token, node password rejected) leaves its unit "failed";
#   - `systemctl restart` in the lab returns at once, so this script waits for the stand-in k3s to report
#     ready (what Type=notify does for real) and fails like systemd does when the process exits first;
#   - every run appends one line to /var/lib/rancher/standin-installer.log (see server.ts installerRuns()).
set -e
set -o noglob

STANDIN_ORIGIN=${STANDIN_ORIGIN:-'@@STANDIN_ORIGIN@@'}
GITHUB_URL=${GITHUB_URL:-${STANDIN_ORIGIN}/k3s-io/k3s/releases}
STANDIN_LOG=/var/lib/rancher/standin-installer.log
STANDIN_FAIL_MARKER=/var/lib/rancher/standin-installer.fail-next
STANDIN_READY_DIR=/run/k3s-standin
read -r STANDIN_NODE < /proc/sys/kernel/hostname
STANDIN_RESULT=failed
STANDIN_READY_TIMEOUT=${STANDIN_READY_TIMEOUT:-60}
TMP_DIR=

info() { echo '[INFO] ' "$@"; }
warn() { echo '[WARN] ' "$@" >&2; }
fatal() {
    echo '[ERROR] ' "$@" >&2
    exit 1
}

standin_finish() {
    code=$?
    set +e
    trap - EXIT
    [ -z "${TMP_DIR}" ] || rm -rf "${TMP_DIR}"
    [ "$code" = 0 ] || STANDIN_RESULT=failed
    printf '%s node=%s cmd=%s version=%s result=%s exit=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "${STANDIN_NODE}" \
        "${CMD_K3S:-none}" "${VERSION_K3S:-none}" "${STANDIN_RESULT}" "$code" | write_to "${STANDIN_LOG}" -a 2> /dev/null
    exit $code
}
trap standin_finish EXIT

# write_to FILE [-a]: stdin into FILE (-a: appended). As root, with the shell's own read and printf: the lab runs ten
# installers at once on the host's cores, and every process started costs milliseconds there. Otherwise through
# `sudo tee`, as the real installer does.
write_to() {
    if [ -n "${SUDO:-}" ]; then
        if [ "${2:-}" = -a ]; then $SUDO tee -a "$1" > /dev/null; else $SUDO tee "$1" > /dev/null; fi
    elif [ "${2:-}" = -a ]; then
        copy_stdin >> "$1"
    else
        copy_stdin > "$1"
    fi
}
copy_stdin() {
    while IFS= read -r line || [ -n "${line}" ]; do printf '%s\n' "${line}"; done
}

# --- quoting, as the unit's ExecStart needs it: SQ='…' (no fork unless the value holds a quote) ---
sq() {
    case $1 in
        *\'*) SQ="'$(printf '%s' "$1" | sed "s/'/'\\\\''/g")'" ;;
        *) SQ="'$1'" ;;
    esac
}

# --- INSTALL_K3S_EXEC (words, quotes honoured) followed by the script's own args ---
standin_args=
for a in "$@"; do
    sq "$a"
    standin_args="${standin_args} ${SQ}"
done
standin_exec=
[ -z "${INSTALL_K3S_EXEC}" ] || standin_exec=$(printf '%s' "${INSTALL_K3S_EXEC}" | sed -e 's/\([][!#$%&()*;<=>?\_`{|}]\)/\\\1/g')
eval "set -- ${standin_exec} ${standin_args}"

verify_system() {
    if [ -x /bin/systemctl ] || type systemctl > /dev/null 2>&1; then return; fi
    fatal 'Can not find systemd or openrc to use as a process supervisor for k3s'
}

setup_env() {
    case "$1" in
        -* | "")
            if [ -z "${K3S_URL}" ]; then
                CMD_K3S=server
            else
                if [ -z "${K3S_TOKEN}" ] && [ -z "${K3S_TOKEN_FILE}" ]; then
                    fatal "Defaulted k3s exec command to 'agent' because K3S_URL is defined, but K3S_TOKEN or K3S_TOKEN_FILE is not defined."
                fi
                CMD_K3S=agent
            fi
            ;;
        *)
            CMD_K3S=$1
            shift
            ;;
    esac
    case "${K3S_URL}" in
        "" | https://*) ;;
        *) fatal "Only https:// URLs are supported for K3S_URL (have ${K3S_URL})" ;;
    esac
    CMD_K3S_EXEC="${CMD_K3S} \\
"
    for a in "$@"; do
        sq "$a"
        CMD_K3S_EXEC="${CMD_K3S_EXEC}	${SQ} \\
"
    done
    if [ -n "${INSTALL_K3S_NAME}" ]; then
        SYSTEM_NAME=k3s-${INSTALL_K3S_NAME}
    elif [ "${CMD_K3S}" = server ]; then
        SYSTEM_NAME=k3s
    else
        SYSTEM_NAME=k3s-${CMD_K3S}
    fi
    SUDO=sudo
    # The effective uid from /proc (what `id -u` prints), without starting a program.
    while read -r key real effective rest; do
        [ "${key}" != Uid: ] || break
    done < /proc/self/status
    [ "${effective}" -ne 0 ] || SUDO=
    BIN_DIR=${INSTALL_K3S_BIN_DIR:-/usr/local/bin}
    SYSTEMD_DIR=${INSTALL_K3S_SYSTEMD_DIR:-/etc/systemd/system}
    SERVICE_K3S=${SYSTEM_NAME}.service
    UNINSTALL_K3S_SH=${BIN_DIR}/${SYSTEM_NAME}-uninstall.sh
    KILLALL_K3S_SH=${BIN_DIR}/k3s-killall.sh
    FILE_K3S_SERVICE=${SYSTEMD_DIR}/${SERVICE_K3S}
    FILE_K3S_ENV=${SYSTEMD_DIR}/${SERVICE_K3S}.env
    PRE_INSTALL_HASHES=$(installed_hashes)
    INSTALL_K3S_CHANNEL_URL=${INSTALL_K3S_CHANNEL_URL:-${STANDIN_ORIGIN}/v1-release/channels}
    INSTALL_K3S_CHANNEL=${INSTALL_K3S_CHANNEL:-stable}
    if [ -e "${STANDIN_FAIL_MARKER}" ]; then
        $SUDO rm -f "${STANDIN_FAIL_MARKER}"
        fatal "lab stand-in: injected installer failure on ${STANDIN_NODE} (${STANDIN_FAIL_MARKER} was present)"
    fi
}

# A fresh node has none of the three files: then there is nothing to hash, and nothing can be running.
installed_hashes() {
    if [ -e "${BIN_DIR}/k3s" ] || [ -e "${FILE_K3S_SERVICE}" ] || [ -e "${FILE_K3S_ENV}" ]; then
        $SUDO sha256sum "${BIN_DIR}/k3s" "${FILE_K3S_SERVICE}" "${FILE_K3S_ENV}" 2>&1 || true
    else
        echo none
    fi
}

download() { # FILE URL
    curl -o "$1" -sfL -H "X-Lab-Node: ${STANDIN_NODE}" "$2" || fatal 'Download failed'
}

download_and_verify() {
    if [ "${INSTALL_K3S_SKIP_DOWNLOAD}" = true ] || [ "${INSTALL_K3S_SKIP_DOWNLOAD}" = binary ]; then
        info 'Skipping k3s download and verify'
        [ -x "${BIN_DIR}/k3s" ] || fatal "Executable k3s binary not found at ${BIN_DIR}/k3s"
        VERSION_K3S=$("${BIN_DIR}/k3s" --version 2> /dev/null | sed -n '1s/^k3s version \([^ ]*\).*/\1/p')
        return
    fi
    # The machine from /proc with the shell's own read (what `uname -m` prints), uname only where it is missing.
    ARCH=
    [ ! -r /proc/sys/kernel/arch ] || read -r ARCH < /proc/sys/kernel/arch || true
    [ -n "${ARCH}" ] || ARCH=$(uname -m)
    case $ARCH in
        amd64 | x86_64) ARCH=amd64 SUFFIX= ;;
        arm64 | aarch64) ARCH=arm64 SUFFIX=-arm64 ;;
        arm*) ARCH=arm SUFFIX=-armhf ;;
        *) fatal "Unsupported architecture $ARCH" ;;
    esac
    [ -x "$(command -v curl)" ] || fatal 'Can not find curl or wget for downloading files'
    TMP_DIR=$(mktemp -d -t k3s-install.XXXXXXXXXX)
    if [ -n "${INSTALL_K3S_VERSION}" ]; then
        VERSION_K3S=${INSTALL_K3S_VERSION}
    else
        info "Finding release for channel ${INSTALL_K3S_CHANNEL}"
        VERSION_K3S=$(curl -w '%{url_effective}' -L -s -S -H "X-Lab-Node: ${STANDIN_NODE}" "${INSTALL_K3S_CHANNEL_URL}/${INSTALL_K3S_CHANNEL}" -o /dev/null | sed -e 's|.*/||')
    fi
    info "Using ${VERSION_K3S} as release"
    HASH_URL=${GITHUB_URL}/download/${VERSION_K3S}/sha256sum-${ARCH}.txt
    info "Downloading hash ${HASH_URL}"
    download "${TMP_DIR}/k3s.hash" "${HASH_URL}"
    HASH_EXPECTED=
    while read -r hash file; do
        if [ "${file}" = "k3s${SUFFIX}" ]; then HASH_EXPECTED=${hash}; fi
    done < "${TMP_DIR}/k3s.hash"
    if [ -x "${BIN_DIR}/k3s" ]; then
        HASH_INSTALLED=$(sha256sum "${BIN_DIR}/k3s")
        if [ "${HASH_EXPECTED}" = "${HASH_INSTALLED%%[[:blank:]]*}" ]; then
            info 'Skipping binary downloaded, installed k3s matches hash'
            return
        fi
    fi
    BIN_URL=${GITHUB_URL}/download/${VERSION_K3S}/k3s${SUFFIX}
    info "Downloading binary ${BIN_URL}"
    download "${TMP_DIR}/k3s.bin" "${BIN_URL}"
    info 'Verifying binary download'
    HASH_BIN=$(sha256sum "${TMP_DIR}/k3s.bin")
    HASH_BIN=${HASH_BIN%%[[:blank:]]*}
    [ "${HASH_EXPECTED}" = "${HASH_BIN}" ] || fatal "Download sha256 does not match ${HASH_EXPECTED}, got ${HASH_BIN}"
    chmod 755 "${TMP_DIR}/k3s.bin"
    info "Installing k3s to ${BIN_DIR}/k3s"
    [ -d "${BIN_DIR}" ] || $SUDO mkdir -p "${BIN_DIR}"
    [ -z "${SUDO}" ] || $SUDO chown root:root "${TMP_DIR}/k3s.bin"
    $SUDO mv -f "${TMP_DIR}/k3s.bin" "${BIN_DIR}/k3s"
}

create_symlinks() {
    [ "${INSTALL_K3S_SYMLINK}" = skip ] && return
    for cmd in kubectl crictl ctr; do
        if [ ! -e "${BIN_DIR}/${cmd}" ] || [ "${INSTALL_K3S_SYMLINK}" = force ]; then
            which_cmd=
            if command -v "${cmd}" > /dev/null 2>&1; then which_cmd=$(command -v "${cmd}"); fi
            if [ -z "${which_cmd}" ] || [ "${INSTALL_K3S_SYMLINK}" = force ]; then
                info "Creating ${BIN_DIR}/${cmd} symlink to k3s"
                $SUDO ln -sf k3s "${BIN_DIR}/${cmd}"
            else
                info "Skipping ${BIN_DIR}/${cmd} symlink to k3s, command exists in PATH at ${which_cmd}"
            fi
        else
            info "Skipping ${BIN_DIR}/${cmd} symlink to k3s, already exists"
        fi
    done
}

create_killall() {
    info "Creating killall script ${KILLALL_K3S_SH}"
    write_to "${KILLALL_K3S_SH}" << \EOF
#!/bin/sh
# revue-pi lab stand-in k3s-killall.sh: stops the k3s units (the stand-in runs no containers, mounts, CNI
# interfaces or iptables rules, which the real one also cleans up). Cluster data stays.
[ $(id -u) -eq 0 ] || exec sudo --preserve-env=K3S_DATA_DIR $0 $@
set -x
for service in /etc/systemd/system/k3s*.service; do
    [ -s $service ] && systemctl stop $(basename $service)
done
rm -rf /run/k3s /run/k3s-standin
EOF
}

create_uninstall() {
    info "Creating uninstall script ${UNINSTALL_K3S_SH}"
    write_to "${UNINSTALL_K3S_SH}" << EOF
#!/bin/sh
# revue-pi lab stand-in ${SYSTEM_NAME}-uninstall.sh (the real one's steps, less SELinux, mounts and openrc)
set -x
[ \$(id -u) -eq 0 ] || exec sudo --preserve-env=K3S_DATA_DIR \$0 \$@
K3S_DATA_DIR=\${K3S_DATA_DIR:-/var/lib/rancher/k3s}
${KILLALL_K3S_SH}
if command -v systemctl; then
    systemctl disable ${SYSTEM_NAME}
    systemctl reset-failed ${SYSTEM_NAME}
    systemctl daemon-reload
fi
rm -f ${FILE_K3S_SERVICE}
rm -f ${FILE_K3S_ENV}
remove_uninstall() {
    rm -f ${UNINSTALL_K3S_SH}
}
trap remove_uninstall EXIT
if ls ${SYSTEMD_DIR}/k3s*.service > /dev/null 2>&1; then
    set +x; echo 'Additional k3s services installed, skipping uninstall of k3s'; set -x
    exit
fi
for cmd in kubectl crictl ctr; do
    if [ -L ${BIN_DIR}/\$cmd ]; then
        rm -f ${BIN_DIR}/\$cmd
    fi
done
rm -rf /etc/rancher/k3s
rm -rf /run/k3s /run/k3s-standin
rm -rf /run/flannel
rm -rf \${K3S_DATA_DIR}
rm -rf /var/lib/kubelet
rm -f ${BIN_DIR}/k3s
rm -f ${KILLALL_K3S_SH}
EOF
    # Both scripts' modes in one chmod (create_killall wrote the other just before).
    $SUDO chmod 755 "${KILLALL_K3S_SH}" "${UNINSTALL_K3S_SH}"
}

systemd_disable() {
    # Nothing installed yet (a fresh node): nothing to disable or remove.
    [ -e "${FILE_K3S_SERVICE}" ] || [ -e "${FILE_K3S_ENV}" ] || return 0
    $SUDO systemctl disable "${SYSTEM_NAME}" > /dev/null 2>&1 || true
    $SUDO rm -f "${FILE_K3S_SERVICE}" "${FILE_K3S_ENV}" || true
}

create_env_file() {
    info "env: Creating environment file ${FILE_K3S_ENV}"
    [ -d "${SYSTEMD_DIR}" ] || $SUDO mkdir -p "${SYSTEMD_DIR}"
    if [ -z "${SUDO}" ] && [ ! -e "${FILE_K3S_ENV}" ]; then
        # As root and new: created 0600 by the umask of a subshell, no chmod to start.
        (umask 077 && env_lines > "${FILE_K3S_ENV}")
        return
    fi
    if [ -n "${SUDO}" ]; then $SUDO touch "${FILE_K3S_ENV}"; else : >> "${FILE_K3S_ENV}"; fi
    $SUDO chmod 0600 "${FILE_K3S_ENV}"
    if [ -n "${SUDO}" ]; then env_lines | $SUDO tee "${FILE_K3S_ENV}" > /dev/null; else env_lines > "${FILE_K3S_ENV}"; fi
}

# The K3S_*/CONTAINERD_* variables, then the proxy ones, as NAME='value' lines: what the real installer keeps of
# `sh -c export`, read here from the shell's own `export -p`.
env_lines() {
    standin_env=$(export -p)
    while read -r x v; do
        case $v in K3S_* | CONTAINERD_*) printf '%s\n' "$v" ;; esac
    done << EOF
${standin_env}
EOF
    while read -r x v; do
        case $v in [Nn][Oo]_[Pp][Rr][Oo][Xx][Yy]=* | [Hh][Tt][Tt][Pp]_[Pp][Rr][Oo][Xx][Yy]=* | [Hh][Tt][Tt][Pp][Ss]_[Pp][Rr][Oo][Xx][Yy]=*) printf '%s\n' "$v" ;; esac
    done << EOF
${standin_env}
EOF
}

create_service_file() {
    info "systemd: Creating service file ${FILE_K3S_SERVICE}"
    write_to "${FILE_K3S_SERVICE}" << EOF
[Unit]
Description=Lightweight Kubernetes (revue-pi lab stand-in)
Documentation=https://k3s.io
Wants=network-online.target
After=network-online.target

[Install]
WantedBy=multi-user.target

[Service]
Type=notify
EnvironmentFile=-/etc/default/%N
EnvironmentFile=-/etc/sysconfig/%N
EnvironmentFile=-${FILE_K3S_ENV}
KillMode=process
Delegate=yes
User=root
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
# lab stand-in: the real unit has Restart=always (see the header of install.sh)
Restart=no
RestartSec=5s
ExecStart=${BIN_DIR}/k3s \\
    ${CMD_K3S_EXEC}

EOF
}

# Type=notify stand-in: the lab's systemctl hands the unit a FIFO (LAB_NOTIFY) on which the stand-in k3s says READY=1,
# as K3s does to systemd, and the unit's wrapper says EXIT=<code> if it ends first. Opened before the restart, so nothing
# said is lost; read without polling (ten nodes install at once on the lab's cores).
notify_open() {
    STANDIN_NOTIFY=/run/lab/systemd/${SERVICE_K3S}.notify
    [ -d /run/lab/systemd ] || $SUDO mkdir -p /run/lab/systemd
    [ -p "${STANDIN_NOTIFY}" ] || $SUDO mkfifo -m 600 "${STANDIN_NOTIFY}"
    # Not root: the FIFO becomes the caller's, so it can read it (the unit, as root, can write it anyway).
    [ -z "${SUDO}" ] || $SUDO chown "$(id -u)" "${STANDIN_NOTIFY}"
    exec 8<> "${STANDIN_NOTIFY}"
}

# Ends the watchdog and waits for it: its trap kills its sleep, so no `sleep` outlives the install (a caller that looks
# at the node's processes right after, as the stand-in's test does, would otherwise race the trap).
stop_watchdog() {
    kill "${watchdog}" 2> /dev/null || true
    wait "${watchdog}" 2> /dev/null || true
}

wait_ready() {
    # The watchdog's stdio is not the installer's: a session would otherwise stay open until it ends.
    # Killed, it takes its sleep along (an orphaned `sleep` would otherwise outlive the install).
    (
        trap 'kill "${nap}" 2> /dev/null; exit 0' TERM
        sleep "${STANDIN_READY_TIMEOUT}" &
        nap=$!
        wait "${nap}" && echo TIMEOUT >&8
    ) < /dev/null > /dev/null 2>&1 &
    watchdog=$!
    while read -r status <&8; do
        case ${status} in
            READY=1)
                stop_watchdog
                exec 8<&-
                return 0
                ;;
            EXIT=*)
                stop_watchdog
                echo "Job for ${SERVICE_K3S} failed because the control process exited with error code." >&2
                echo "See \"systemctl status ${SERVICE_K3S}\" and \"journalctl -xeu ${SERVICE_K3S}\" for details." >&2
                exit 1
                ;;
            TIMEOUT) fatal "lab stand-in: ${SYSTEM_NAME} did not report ready within ${STANDIN_READY_TIMEOUT}s (the real installer would wait forever)" ;;
        esac
    done
}

service_enable_and_start() {
    controllers=
    if [ -r /sys/fs/cgroup/cgroup.controllers ]; then read -r controllers < /sys/fs/cgroup/cgroup.controllers || true; fi
    case " ${controllers} " in
        *" memory "*) ;;
        *) info 'Failed to find memory cgroup, you may need to add "cgroup_memory=1 cgroup_enable=memory" to your linux cmdline (/boot/cmdline.txt on a Raspberry Pi)' ;;
    esac
    if [ "${INSTALL_K3S_SKIP_ENABLE}" = true ]; then
        STANDIN_RESULT=skip-enable
        return
    fi
    info "systemd: Enabling ${SYSTEM_NAME} unit"
    $SUDO systemctl enable "${SYSTEM_NAME}" > /dev/null
    $SUDO systemctl daemon-reload > /dev/null
    if [ "${INSTALL_K3S_SKIP_START}" = true ]; then
        STANDIN_RESULT=skip-start
        return
    fi
    # Nothing was installed before this run: it changed, no need to hash what it wrote.
    POST_INSTALL_HASHES=new
    [ "${PRE_INSTALL_HASHES}" = none ] || POST_INSTALL_HASHES=$(installed_hashes)
    if [ "${PRE_INSTALL_HASHES}" = "${POST_INSTALL_HASHES}" ] && [ "${INSTALL_K3S_FORCE_RESTART}" != true ]; then
        info 'No change detected so skipping service start'
        STANDIN_RESULT=unchanged
        return
    fi
    STANDIN_RESULT=started
    [ "${PRE_INSTALL_HASHES}" = none ] || [ "$($SUDO systemctl is-active "${SYSTEM_NAME}" 2> /dev/null)" != active ] || STANDIN_RESULT=restarted
    info "systemd: Starting ${SYSTEM_NAME}"
    [ ! -e "${STANDIN_READY_DIR}/ready-${CMD_K3S}" ] || $SUDO rm -f "${STANDIN_READY_DIR}/ready-${CMD_K3S}"
    notify_open
    $SUDO systemctl restart "${SYSTEM_NAME}"
    wait_ready
}

{
    verify_system
    setup_env "$@"
    download_and_verify
    create_symlinks
    create_killall
    create_uninstall
    systemd_disable
    create_env_file
    create_service_file
    service_enable_and_start
}
