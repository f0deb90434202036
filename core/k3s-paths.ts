/** Where K3s and revue-pi keep things on a node. One place, so probes, plans and the lab agree. */
export const K3S_CONFIG_PATH = '/etc/rancher/k3s/config.yaml';
/** The cluster token as a root-only file, named in config.yaml as `token-file` (never on a command line). */
export const TOKEN_FILE_PATH = '/etc/rancher/k3s/revue-pi-token';
/** The kubeconfig K3s writes on servers (server https://127.0.0.1:6443). */
export const K3S_KUBECONFIG_PATH = '/etc/rancher/k3s/k3s.yaml';
/** `K10<sha256 of CA>::server:<secret>` on servers; the secret is what revue-pi generated. */
export const SERVER_TOKEN_PATH = '/var/lib/rancher/k3s/server/token';
/** The node's half of the node-password check; a re-imaged node has a new one. */
export const NODE_PASSWORD_PATH = '/etc/rancher/node/password';
export const K3S_BINARY_PATH = '/usr/local/bin/k3s';
/** Air-gapped installs: the images tarball goes here (K3s imports every file in it at start). */
export const AIRGAP_IMAGES_DIR = '/var/lib/rancher/k3s/agent/images';
/** Air-gapped installs: where the uploaded copy of the installer script is kept. */
export const AIRGAP_INSTALL_SCRIPT_PATH = '/usr/local/share/revue-pi/k3s-install.sh';
export const API_PORT = 6443;

export type K3sRole = 'server' | 'agent';
export type K3sUnit = 'k3s' | 'k3s-agent';

export function unitFor(role: K3sRole): K3sUnit {
  return role === 'server' ? 'k3s' : 'k3s-agent';
}
