#!/bin/sh
# revue-pi LAB STAND-IN for k3s @@VERSION@@ — NOT K3s (test/lab/k3s-standin/, assembled by server.ts).
#
# The stand-in is a Node.js program (k3s.cjs) carried at the end of this file, after a marker line; node runs it
# from here.
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
