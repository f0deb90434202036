#!/bin/bash
# revue-pi LAB STAND-IN for k3s @@VERSION@@ — NOT K3s (test/lab/k3s-standin/, assembled by server.ts).
#
# The stand-in is a Node.js program (k3s.cjs) carried at the end of this file, after a marker line; node runs it
# from here. `k3s agent` is this script alone (standin_agent below). Bash: the agent talks HTTP over /dev/tcp.
#
# `k3s kubectl` in the common case (no -f, no --kubeconfig, no KUBECONFIG, a readable k3s.yaml) is sent by
# this script too, over /dev/tcp: the same call the Node client makes, to the same stand-in API, with the same
# output and exit code. Starting Node costs about 0.1 CPU-second and curl about 0.035, the lab's nodes share the
# host's few cores, and revue-pi's converged re-run is measured with two kubectl on the first server. Anything
# else goes to the Node client.
set -u
KUBECONFIG_FILE=/etc/rancher/k3s/k3s.yaml

case ${0##*/} in
  kubectl | crictl | ctr) set -- "${0##*/}" "$@" ;;
esac

standin_kubectl() {
  [ -z "${KUBECONFIG:-}" ] && [ -r "$KUBECONFIG_FILE" ] || return 99
  # drain is a client loop over API calls (k3s-drain.cjs): the Node client runs it.
  [ "${1:-}" != drain ] || return 99
  for a do
    case $a in --kubeconfig | --kubeconfig=* | -f | --filename | --filename=*) return 99 ;; esac
  done
  local LC_ALL=C server= key= servers=0 keys=0 line form= fd status=000 code= err=
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
  for a do add a "$a"; done
  { exec {fd}<> "/dev/tcp/$host/$port"; } 2> /dev/null || {
    printf '%s\n' "The connection to the server $host_port was refused - did you specify the right host or port?" >&2
    return 1
  }
  printf 'POST /standin/kubectl-args HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
    "$host_port" "$key" "${#form}" "$form" >&"$fd"
  IFS=' ' read -r -t 30 line status line <&"$fd" || {
    exec {fd}>&-
    printf '%s\n' 'Unable to connect to the server: Client.Timeout exceeded while awaiting headers' >&2
    return 1
  }
  while IFS= read -r line <&"$fd"; do
    line=${line%$'\r'}
    [ -n "$line" ] || break
    case ${line,,} in
      x-standin-exit:*) code=${line#*: } ;;
      x-standin-stderr:*) err=${line#*: } ;;
    esac
  done
  [ "$status" = 200 ] && [ -n "$code" ] || { exec {fd}>&-; printf '%s\n' "Error from server (InternalError): HTTP $status" >&2; return 1; }
  # The body is kubectl's stdout, up to the end of the connection: cat moves it in blocks (bash reads a socket a byte at a time).
  cat <&"$fd"
  exec {fd}>&-
  # stderr comes octal-escaped (\0ooo), the form printf %b decodes.
  [ -z "$err" ] || printf '%b' "$err" >&2
  return "$code"
}

# ---- k3s agent ---------------------------------------------------------------------------------------------
# An agent is this script alone, not Node: ten lab agents starting Node at once took more of the host's shared
# cores than everything else they do, and so would a curl each (libcurl's libraries take ~30 ms to load here). It
# talks HTTP through bash's /dev/tcp. What K3s reads on the node (args, K3S_* env, config.yaml and its drop-ins, the
# token file they name, hostname, address, node password) goes to the server it joins, whose Node program resolves
# the settings exactly as K3s does, checks the token's CA hash and joins (agentStart in the program below). Then the
# kubelet's status is posted every 2 s for as long as the agent runs.
STANDIN_RUN=/run/k3s-standin
AGENT_DIR=/var/lib/rancher/k3s/agent
NODE_PASSWORD_FILE=/etc/rancher/node/password

agent_log() { # LEVEL MSG (no double quotes in MSG): K3s's line, its time from bash's clock
  local now=$EPOCHREALTIME ts
  TZ=UTC0 printf -v ts '%(%Y-%m-%dT%H:%M:%S)T' "${now%.*}"
  now=${now#*.}
  printf 'time="%s.%sZ" level=%s msg="%s"\n' "$ts" "${now:0:3}" "$1" "$2"
}

# http_post PATH BODY [HEADER…]: one request over /dev/tcp to $host:$port → $status, $answer (the body); 1 when
# nothing answers. Bytes, not characters: the agent runs with LC_ALL=C.
http_post() {
  local path=$1 body=$2 fd line len=0 headers=
  shift 2
  for line; do headers+="$line"$'\r\n'; done
  status=000 answer=
  exec {fd}<> "/dev/tcp/$host/$port" || return 1
  printf 'POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Length: %d\r\n%sConnection: close\r\n\r\n%s' "$path" "$host" "$port" "${#body}" "$headers" "$body" >&"$fd"
  IFS=' ' read -r line status line <&"$fd"
  while IFS= read -r line <&"$fd"; do
    line=${line%$'\r'}
    [ -n "$line" ] || break
    case ${line,,} in content-length:*) len=${line#*:} len=${len// /} ;; esac
  done
  [ "$len" = 0 ] || IFS= read -r -N "$len" answer <&"$fd"
  exec {fd}>&-
  return 0
}

# add NAME VALUE: one field of the agent-start form ("NAME LENGTH\n" then the bytes and a newline)
add() { form+="$1 ${#2}"$'\n'"$2"$'\n'; }
add_file() { # PATH: its content (read by bash itself), or that it is absent
  local content
  if [ -r "$1" ]; then
    IFS= read -r -d '' content < "$1"
    add f "$1"
    add t "$content"
  else
    add absent "$1"
  fi
}

standin_agent() {
  export LC_ALL=C
  # A server that goes down mid-request must not kill the agent: a write to a closed socket fails, not SIGPIPE.
  trap '' PIPE
  agent_log info "Starting k3s agent @@VERSION@@ (revue-pi lab stand-in)"
  [ -d "$STANDIN_RUN" ] && [ -d "$AGENT_DIR" ] && [ -d "${NODE_PASSWORD_FILE%/*}" ] ||
    mkdir -p "$STANDIN_RUN" "$AGENT_DIR" "${NODE_PASSWORD_FILE%/*}" || return 1
  [ ! -e "$STANDIN_RUN/ready-agent" ] || rm -f "$STANDIN_RUN/ready-agent"
  local f line v server= prev= token_file=${K3S_TOKEN_FILE:-} config=${K3S_CONFIG_FILE:-/etc/rancher/k3s/config.yaml}
  for f in "$AGENT_DIR"/images/*; do
    case $f in *.tar | *.tar.gz | *.tgz | *.tar.zst | *.tar.lz4 | *.tar.bz2) [ -f "$f" ] && agent_log info "Imported images from $f (revue-pi lab stand-in: recorded, nothing loaded)" ;; esac
  done
  # The server URL (and the token file to send up front) as K3s picks them: flags, then config.yaml and its
  # drop-ins, then K3S_*; only to reach the server, which resolves everything again from what it is sent.
  for v; do
    case $prev in --config | -c) config=$v ;; --server | -s) server=$v ;; --token-file) token_file=$v ;; esac
    case $v in --config=* | -c=*) config=${v#*=} ;; --server=* | -s=*) server=${v#*=} ;; --token-file=*) token_file=${v#*=} ;; esac
    prev=$v
  done
  local from_config= file_token=
  for f in "$config" "$config.d"/*.yaml "$config.d"/*.yml; do
    [ -r "$f" ] || continue
    while IFS= read -r line; do
      case $line in
        server:* | token-file:*)
          v=${line#*:} v=${v#"${v%%[! ]*}"} v=${v%"${v##*[! ]}"} v=${v#[\"\']} v=${v%[\"\']}
          case $line in server:*) from_config=$v ;; *) file_token=$v ;; esac ;;
      esac
    done < "$f"
  done
  server=${server:-${from_config:-${K3S_URL:-}}}
  [ -n "$token_file" ] || token_file=$file_token
  case $server in
    '') agent_log fatal 'Error: --server is required'; return 1 ;;
    https://*) ;;
    *) agent_log fatal "Error: invalid server url $server: must be https://host:port"; return 1 ;;
  esac
  local host_port=${server#https://}
  host_port=${host_port%/}
  case $host_port in *:*) ;; *) host_port=$host_port:6443 ;; esac
  host=${host_port%:*} port=${host_port##*:}
  local hostname address=127.0.0.1 word rest
  IFS= read -r hostname < /proc/sys/kernel/hostname
  while read -r word v rest; do
    [ "$word" = ListenAddress ] && { address=${v%:*}; break; }
  done < /etc/ssh/sshd_config
  form=
  for v; do add arg "$v"; done
  add hostname "$hostname"
  add address "$address"
  # The kubelet reports its own version (Node status.nodeInfo.kubeletVersion), not the server's that joins it.
  add version "@@VERSION@@"
  for v in K3S_TOKEN_FILE K3S_URL K3S_NODE_NAME K3S_KUBECONFIG_MODE K3S_CLUSTER_INIT K3S_CONFIG_FILE K3S_DATA_DIR; do
    [ -z "${!v:-}" ] || add env "$v=${!v}"
  done
  [ -z "${K3S_TOKEN:-}" ] || add K3S_TOKEN "$K3S_TOKEN"
  if [ -r "$NODE_PASSWORD_FILE" ]; then IFS= read -r v < "$NODE_PASSWORD_FILE"; add password "$v"; fi
  for f in "$config" "$config.d"/*.yaml "$config.d"/*.yml; do
    [ -r "$f" ] || [ "$f" = "$config" ] || continue
    add_file "$f"
  done
  [ -z "$token_file" ] || add_file "$token_file"
  local password= token= settings= reg= ok=0 asked=0 need tries=0
  while :; do
    # Retried while the server is not up yet, as K3s keeps trying (15 s here).
    until http_post /standin/agent-start "$form" 2> /dev/null; do
      tries=$((tries + 1))
      if [ $tries -ge 15 ]; then
        agent_log fatal "Error: failed to get CA certs: Get $server/cacerts: dial tcp $host_port: connect: connection refused (revue-pi lab stand-in: gave up after 15 s)"
        return 1
      fi
      [ $tries -gt 1 ] || agent_log error "Failed to validate connection to cluster at $server: failed to get CA certs: dial tcp $host_port: connect: connection refused"
      read -r -t 1 -u "$pause" line || true
    done
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
    done <<< "$answer"
    [ -n "$need" ] && [ $asked -lt 4 ] || break
    asked=$((asked + 1))
    add_file "$need"
  done
  if [ $ok != 1 ]; then
    agent_log fatal "Error: the server at $server gave no answer the revue-pi lab stand-in understands (HTTP $status)"
    return 1
  fi
  (
    umask 077
    [ -z "$password" ] || printf '%s\n' "$password" > "$NODE_PASSWORD_FILE"
    printf '%s\n' "$settings" > "$AGENT_DIR/standin-settings.json"
  )
  printf '%s\n' $$ > "$STANDIN_RUN/ready-agent"
  # sd_notify(READY=1) as K3s does, on the lab systemctl's FIFO; opened read-write, so it never blocks.
  [ ! -p "${LAB_NOTIFY:-}" ] || printf 'READY=1\n' 1<> "$LAB_NOTIFY"
  local node=${reg#*\"node\":\"} failing=0 why list= at=0
  node=${node%%\"*}
  # The agent's load balancer: every server's address (each heartbeat answer lists them); the next one is tried when
  # the current one does not answer, as K3s agents keep a connection to every apiserver.
  local -a endpoints=("$host:$port")
  trap 'exit 0' TERM INT
  # The kubelet's node status every 2 s (the wait: a read that times out on a pipe nobody writes).
  while :; do
    read -r -t 2 -u "$pause" line || true
    if http_post /standin/heartbeat "$reg" "Authorization: Bearer $token" 'Content-Type: application/json' 2> /dev/null && [ "$status" = 200 ]; then
      [ $failing = 0 ] || agent_log info "Node $node status updates resumed"
      failing=0
      case $answer in
        *'"servers":"'*)
          line=${answer#*'"servers":"'} line=${line%%'"'*}
          # Split by the shell (addresses hold no glob characters), no here-string: it would write a file every 2 s.
          [ -z "$line" ] || [ "$line" = "$list" ] || { list=$line endpoints=($line) at=0; }
          ;;
      esac
    else
      if [ $failing = 0 ]; then
        case $status in 000) why="dial tcp $host:$port: connect: connection refused" ;; 403) why='Node password rejected' ;; 404) why="nodes $node not found" ;; *) why="HTTP $status" ;; esac
        agent_log error "Failed to update node $node status: $why"
        failing=1
      fi
      if [ "$status" = 000 ] && [ ${#endpoints[@]} -gt 1 ]; then
        at=$(((at + 1) % ${#endpoints[@]}))
        host=${endpoints[$at]%:*} port=${endpoints[$at]##*:}
      fi
    fi
  done
}

if [ "${1:-}" = agent ]; then
  shift
  # A pipe whose write end only this shell holds, for read -t: a timed wait without starting sleep.
  exec {pause}<> <(:)
  standin_agent "$@"
  exit $?
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
