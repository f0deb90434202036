#!/bin/sh
# revue-pi LAB STAND-IN for k3s @@VERSION@@ — NOT K3s (test/lab/k3s-standin/, assembled by server.ts).
#
# The stand-in is a Node.js program (k3s.cjs) carried at the end of this file, after a marker line; node runs it
# from here. `k3s agent` is this shell alone (standin_agent below).
#
# `k3s kubectl` in the common case (no -f, no --kubeconfig, no KUBECONFIG, a readable k3s.yaml) is sent by
# curl instead: the same request the Node client sends, to the same stand-in API, with the same output and
# exit code. Starting Node costs about 0.1 CPU-second, the lab's nodes share the host's few cores, and revue-pi's
# converged re-run is measured with two kubectl on the first server. Anything else goes to the Node client.
set -u
KUBECONFIG_FILE=/etc/rancher/k3s/k3s.yaml

case ${0##*/} in
  kubectl | crictl | ctr) set -- "${0##*/}" "$@" ;;
esac

standin_kubectl() {
  [ -z "${KUBECONFIG:-}" ] && [ -r "$KUBECONFIG_FILE" ] && command -v curl > /dev/null 2>&1 || return 99
  for a do
    case $a in --kubeconfig | --kubeconfig=* | -f | --filename | --filename=*) return 99 ;; esac
  done
  server= key= servers=0 keys=0
  while IFS= read -r line; do
    case $line in
      *' server: '*) server=${line#*server: } servers=$((servers + 1)) ;;
      *' client-key-data: '*) key=${line#*client-key-data: } keys=$((keys + 1)) ;;
    esac
  done < "$KUBECONFIG_FILE"
  # More than one cluster or user: the Node client resolves the current context.
  [ "$servers" = 1 ] && [ "$keys" = 1 ] || return 99
  case $server in
    https://*:*) host_port=${server#https://} host_port=${host_port%/} ;;
    *) return 99 ;;
  esac
  host=${host_port%:*} port=${host_port##*:}
  case $host in
    127.0.0.1 | localhost)
      # K3s's own kubeconfig names 127.0.0.1; the stand-in listens on the node's address (sshd's ListenAddress).
      host=127.0.0.1
      while read -r word value rest; do
        [ "$word" = ListenAddress ] && { host=${value%:*}; break; }
      done < /etc/ssh/sshd_config
      ;;
  esac
  n=$#
  for a do set -- "$@" --data-urlencode "a=$a"; done
  shift "$n"
  # The body goes straight to this script's stdout (fd 3); what -w prints goes to curl's stderr, captured here.
  exec 3>&1
  meta=$(curl -s --max-time 30 -o - -w '%{stderr}%{http_code} %header{x-standin-exit} %header{x-standin-stderr}' \
    -H "Authorization: Bearer $key" "$@" "http://$host:$port/standin/kubectl-args" 2>&1 1>&3)
  rc=$?
  case $rc in
    0) ;;
    7) printf '%s\n' "The connection to the server $host_port was refused - did you specify the right host or port?" >&2; return 1 ;;
    28) printf '%s\n' 'Unable to connect to the server: Client.Timeout exceeded while awaiting headers' >&2; return 1 ;;
    *) printf '%s\n' "Unable to connect to the server: curl exit $rc" >&2; return 1 ;;
  esac
  set -f
  set -- $meta
  [ "$1" = 200 ] && [ $# -ge 2 ] || { printf '%s\n' "Error from server (InternalError): HTTP $1" >&2; return 1; }
  # stderr comes octal-escaped (\0ooo), the form printf %b decodes in every sh.
  [ $# -lt 3 ] || printf '%b' "$3" >&2
  return "$2"
}

# ---- k3s agent ---------------------------------------------------------------------------------------------
# An agent is this shell, not Node: ten lab agents starting Node at once took more of the host's shared cores than
# everything else they do. What K3s reads on the node (args, K3S_* env, config.yaml and its drop-ins, hostname,
# address, node password) goes to the server it joins, whose Node program resolves the settings exactly as K3s does,
# checks the token's CA hash and joins (agentStart in the program below). Then one curl posts the kubelet's status
# every 2 s for as long as the agent runs.
STANDIN_RUN=/run/k3s-standin
AGENT_DIR=/var/lib/rancher/k3s/agent
NODE_PASSWORD_FILE=/etc/rancher/node/password

agent_log() { # LEVEL MSG (no double quotes in MSG)
  printf 'time="%s" level=%s msg="%s"\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$1" "$2"
}

# The server URL and config file as K3s picks them (flags, then config.yaml and drop-ins, then K3S_*), only as far
# as needed to reach the server, which resolves everything again from what it is sent.
agent_server_and_config() {
  config=${K3S_CONFIG_FILE:-/etc/rancher/k3s/config.yaml} server= prev=
  for a do
    case $prev in --config | -c) config=$a ;; --server | -s) server=$a ;; esac
    case $a in --config=* | -c=*) config=${a#*=} ;; --server=* | -s=*) server=${a#*=} ;; esac
    prev=$a
  done
  [ -z "$server" ] || return 0
  for f in "$config" "$config.d"/*.yaml "$config.d"/*.yml; do
    [ -r "$f" ] || continue
    while IFS= read -r line; do
      case $line in server:* | server+:*) v=${line#*:} v=${v#"${v%%[! ]*}"} v=${v%"${v##*[! ]}"} v=${v#[\"\']} server=${v%[\"\']} ;; esac
    done < "$f"
  done
  [ -n "$server" ] || server=${K3S_URL:-}
}

standin_agent() {
  command -v curl > /dev/null 2>&1 || return 99
  agent_log info "Starting k3s agent @@VERSION@@ (revue-pi lab stand-in)"
  [ -d "$STANDIN_RUN" ] && [ -d "$AGENT_DIR" ] && [ -d "${NODE_PASSWORD_FILE%/*}" ] ||
    mkdir -p "$STANDIN_RUN" "$AGENT_DIR" "${NODE_PASSWORD_FILE%/*}" || return 1
  [ ! -e "$STANDIN_RUN/ready-agent" ] || rm -f "$STANDIN_RUN/ready-agent"
  for f in "$AGENT_DIR"/images/*; do
    case $f in *.tar | *.tar.gz | *.tgz | *.tar.zst | *.tar.lz4 | *.tar.bz2) [ -f "$f" ] && agent_log info "Imported images from $f (revue-pi lab stand-in: recorded, nothing loaded)" ;; esac
  done
  agent_server_and_config "$@"
  case $server in
    '') agent_log fatal 'Error: --server is required'; return 1 ;;
    https://*) ;;
    *) agent_log fatal "Error: invalid server url $server: must be https://host:port"; return 1 ;;
  esac
  host_port=${server#https://} host_port=${host_port%/}
  case $host_port in *:*) ;; *) host_port=$host_port:6443 ;; esac
  IFS= read -r hostname < /proc/sys/kernel/hostname
  address=127.0.0.1
  while read -r word value rest; do
    [ "$word" = ListenAddress ] && { address=${value%:*}; break; }
  done < /etc/ssh/sshd_config
  # What K3s would read here goes to the server as a form; file contents and the token are read by curl itself
  # (never on a command line).
  n=$#
  for a do set -- "$@" --data-urlencode "arg=$a"; done
  shift "$n"
  set -- "$@" --data-urlencode "hostname=$hostname" --data-urlencode "address=$address"
  for v in K3S_TOKEN_FILE K3S_URL K3S_NODE_NAME K3S_KUBECONFIG_MODE K3S_CLUSTER_INIT K3S_CONFIG_FILE K3S_DATA_DIR; do
    eval "val=\${$v:-}"
    [ -z "$val" ] || set -- "$@" --data-urlencode "env=$v=$val"
  done
  if [ -n "${K3S_TOKEN:-}" ]; then
    (umask 077 && printf '%s' "$K3S_TOKEN" > "$STANDIN_RUN/agent-env-token")
    set -- "$@" --data-urlencode "K3S_TOKEN@$STANDIN_RUN/agent-env-token"
  fi
  [ ! -r "$NODE_PASSWORD_FILE" ] || set -- "$@" --data-urlencode "password@$NODE_PASSWORD_FILE"
  for f in "$config" "$config.d"/*.yaml "$config.d"/*.yml; do
    if [ -r "$f" ]; then set -- "$@" --data-urlencode "f=$f" --data-urlencode "t@$f"
    elif [ "$f" = "$config" ]; then set -- "$@" --data-urlencode "absent=$f"
    fi
  done
  password= token= settings= reg= ok=0 asked=0
  while :; do
    # Retried while the server is not up yet, as K3s keeps trying (15 s here).
    answer=$(curl -s --max-time 10 --retry 15 --retry-connrefused --retry-delay 1 --retry-max-time 15 "$@" "http://$host_port/standin/agent-start")
    rc=$?
    if [ $rc != 0 ]; then
      agent_log fatal "Error: failed to get CA certs: Get $server/cacerts: dial tcp $host_port: connect: connection refused (revue-pi lab stand-in: curl exit $rc, gave up after 15 s)"
      return 1
    fi
    need=
    while IFS= read -r line; do
      case $line in
        'log '*) printf '%s\n' "${line#log }" ;;
        fatal) return 1 ;;
        ok) ok=1 ;;
        'need '*) need=${line#need } ;;
        'password '*) password=${line#password } ;;
        'token '*) token=${line#token } ;;
        'settings '*) settings=${line#settings } ;;
        'reg '*) reg=${line#reg } ;;
      esac
    done << EOF
$answer
EOF
    [ -n "$need" ] && [ $asked -lt 4 ] || break
    asked=$((asked + 1))
    if [ -r "$need" ]; then set -- "$@" --data-urlencode "f=$need" --data-urlencode "t@$need"; else set -- "$@" --data-urlencode "absent=$need"; fi
  done
  rm -f "$STANDIN_RUN/agent-env-token"
  if [ $ok != 1 ]; then
    agent_log fatal "Error: the server at $server gave no answer the revue-pi lab stand-in understands"
    return 1
  fi
  (
    umask 077
    [ -z "$password" ] || printf '%s\n' "$password" > "$NODE_PASSWORD_FILE"
    printf '%s\n' "$settings" > "$AGENT_DIR/standin-settings.json"
    printf '%s\n' "$reg" > "$STANDIN_RUN/agent-status.json"
    printf 'Authorization: Bearer %s\n' "$token" > "$STANDIN_RUN/agent-auth"
  )
  printf '%s\n' $$ > "$STANDIN_RUN/ready-agent"
  # sd_notify(READY=1) as K3s does, on the lab systemctl's FIFO; opened read-write, so it never blocks.
  [ ! -p "${LAB_NOTIFY:-}" ] || printf 'READY=1\n' 1<> "$LAB_NOTIFY"
  node=${reg#*\"node\":\"} node=${node%%\"*}
  # The kubelet's node status, every 2 s: one curl for all of them (--rate), its status codes read here.
  {
    # The codes go to stderr, which curl does not buffer (its stdout into a pipe it would).
    curl -s --rate 30/m --max-time 5 -o /dev/null -w '%{stderr}%{http_code}\n' -H "@$STANDIN_RUN/agent-auth" -H 'content-type: application/json' \
      --data-binary "@$STANDIN_RUN/agent-status.json" "http://$host_port/standin/heartbeat?beat=[1-100000000]" 2>&1 &
    printf '%s\n' $! > "$STANDIN_RUN/agent-heartbeat.pid"
    wait
  } | {
    failing=0
    while read -r code; do
      if [ "$code" = 200 ]; then
        [ $failing = 0 ] || agent_log info "Node $node status updates resumed"
        failing=0
      elif [ $failing = 0 ]; then
        case $code in 000) why="dial tcp $host_port: connect: connection refused" ;; 403) why='Node password rejected' ;; *) why="HTTP $code" ;; esac
        agent_log error "Failed to update node $node status: $why"
        failing=1
      fi
    done
  } &
  statuses=$!
  trap 'read -r beats < "$STANDIN_RUN/agent-heartbeat.pid"; kill "$beats" "$statuses" 2> /dev/null; exit 0' TERM INT
  wait
  return 0
}

if [ "${1:-}" = agent ]; then
  shift
  standin_agent "$@"
  rc=$?
  [ $rc = 99 ] || exit $rc
  set -- agent "$@"
fi

if [ "${1:-}" = kubectl ]; then
  shift
  standin_kubectl "$@"
  rc=$?
  [ $rc = 99 ] || exit $rc
  set -- kubectl "$@"
fi

# The program is read from this very file, after the marker line, and run by node (no copy to unpack, nothing to write).
STANDIN_SELF=$0 STANDIN_ARGV0=$0 exec node -e '
const self = process.env.STANDIN_SELF;
const text = require("node:fs").readFileSync(self, "utf8");
const marker = "\n__K3S_STANDIN_PAYLOAD__\n";
process.argv.splice(1, 0, "k3s"); // as if run as `k3s`: this front already turned a kubectl/crictl/ctr link name into the first arg
require("node:vm").compileFunction(text.slice(text.indexOf(marker) + marker.length), ["require", "module", "exports", "__filename", "__dirname"], { filename: self })(require, module, exports, self, require("node:path").dirname(self));
' -- "$@"
exit 1
__K3S_STANDIN_PAYLOAD__
