import { displayAddress } from './known-hosts.js';

/**
 * What is said when a host key is trusted or refused (pure): the sentences and the commands to check and record the key,
 * with the key type as OpenSSH and ssh-keyscan name it. known-hosts.ts decides; ssh-login.ts and connect.ts speak.
 */

/** The key type as OpenSSH names it in "ED25519 key fingerprint is …". */
export function keyTypeLabel(keyType: string): string {
  if (keyType === 'ssh-ed25519') return 'ED25519';
  if (keyType === 'ssh-rsa') return 'RSA';
  if (keyType === 'ssh-dss') return 'DSA';
  if (keyType.startsWith('ecdsa-sha2-')) return 'ECDSA';
  if (keyType.startsWith('sk-ssh-ed25519')) return 'ED25519-SK';
  if (keyType.startsWith('sk-ecdsa-')) return 'ECDSA-SK';
  return keyType.toUpperCase();
}

/** ssh-keyscan's -t name for the key type. */
function keyscanType(keyType: string): string {
  if (keyType === 'ssh-ed25519') return 'ed25519';
  if (keyType.startsWith('ecdsa-')) return 'ecdsa';
  if (keyType === 'ssh-rsa') return 'rsa';
  return keyType;
}

export interface HostKeySeen {
  /** e.g. `node pi-1` or `node pi-1 (jump host 10.0.0.1:22)`. */
  who: string;
  host: string;
  port: number;
  keyType: string;
  fingerprint: string;
  /** The tool's own known_hosts file. */
  file: string;
}

/** What accept-new prints (and logs) when it records a new key, with its fingerprint as OpenSSH shows it. */
export function describeTrustedKey(k: HostKeySeen): string {
  return (
    `Trusted the new SSH host key of ${k.who} (${displayAddress(k.host, k.port)}): ${keyTypeLabel(k.keyType)} key fingerprint is ${k.fingerprint}; ` +
    `recorded in ${k.file} (ssh.hostKeys: accept-new).`
  );
}

/** ssh.hostKeys: strict and a host in no known_hosts file: refused, with how to record the key. */
export function describeUnknownKeyRefusal(k: HostKeySeen, pinField: string | undefined): { message: string; hint: string } {
  return {
    message:
      `The SSH host key of ${k.who} (${displayAddress(k.host, k.port)}) is in no known_hosts file and ssh.hostKeys is strict, so it was not trusted: ` +
      `it presented the ${keyTypeLabel(k.keyType)} key ${k.fingerprint}.`,
    hint:
      `Check that fingerprint on the Pi itself (ssh-keygen -lf /etc/ssh/ssh_host_${keyscanType(k.keyType)}_key.pub), then record the key: ` +
      `ssh-keyscan -p ${k.port} -t ${keyscanType(k.keyType)} ${k.host} >> ${k.file}` +
      (pinField ? ` — or pin it in the inventory as ${pinField}: ${k.fingerprint}.` : '.'),
  };
}

/** A node whose key is not the one the inventory pins. */
export function describePinnedKeyMismatch(k: HostKeySeen, pinned: string, pinField: string): { message: string; hint: string } {
  return {
    message: `The SSH host key of ${k.who} (${displayAddress(k.host, k.port)}) is ${k.fingerprint}, but the inventory pins ${pinned} (${pinField}). Refusing to connect.`,
    hint: `If the Pi was re-imaged, check the new key on it (ssh-keygen -lf /etc/ssh/ssh_host_${keyscanType(k.keyType)}_key.pub) and put its fingerprint in ${pinField}; otherwise check for a man-in-the-middle.`,
  };
}
