import { randomBytes } from 'node:crypto';
import type { SFTPWrapper } from 'ssh2';
import { ConnectionError, RemoteCommandError } from '../errors.js';
import type { OpenConnection } from './ssh-dial.js';

/**
 * File transfer: one SFTP session per connection (node-ssh's requestSFTP), kept open, for files too big to travel
 * inline in a script. Why the writes use ssh2's SFTP handle rather than node-ssh's putFile: see ssh.ts.
 */

function sftpOf(conn: OpenConnection): Promise<SFTPWrapper> {
  conn.sftp ??= conn.ssh.requestSFTP();
  conn.sftp.catch(() => {
    conn.sftp = undefined;
  });
  return conn.sftp;
}

/** Uploads bytes to a fresh file (mode 0600) in the login user's home; returns its absolute path. */
export async function upload(conn: OpenConnection, nodeName: string, content: Buffer): Promise<string> {
  const sftp = await sftpOf(conn).catch((err: Error) => {
    throw new ConnectionError(nodeName, `Could not open an SFTP session to node ${nodeName}: ${err.message}.`, {
      cause: err,
      hint: 'The SSH server must allow the sftp subsystem (Subsystem sftp in sshd_config).',
    });
  });
  conn.home ??= new Promise<string>((resolve, reject) => sftp.realpath('.', (err, p) => (err ? reject(err) : resolve(p))));
  const home = await conn.home;
  const path = `${home.replace(/\/$/, '')}/.revue-pi-upload-${randomBytes(8).toString('hex')}`;
  await new Promise<void>((resolve, reject) => {
    sftp.open(path, 'wx', { mode: 0o600 }, (err, handle) => {
      if (err) return reject(err);
      const finish = (e?: Error | null) => sftp.close(handle, (e2) => (e || e2 ? reject(e ?? e2) : resolve()));
      if (content.length === 0) return finish();
      writeAll(sftp, handle, content).then(() => finish(), finish);
    });
  }).catch((err: Error) => {
    throw new RemoteCommandError(
      nodeName,
      `Uploading a file to ${home}`,
      `sftp put ${path}`,
      null,
      err.message,
      'Check free space in the home folder of the SSH user on the node.',
    );
  });
  return path;
}

/** Writes in 32 KiB chunks with up to 16 requests in flight (SFTP writes carry offsets, so order does not matter). */
async function writeAll(sftp: SFTPWrapper, handle: Buffer, data: Buffer): Promise<void> {
  const chunk = 32 * 1024;
  let next = 0;
  const worker = async () => {
    while (next < data.length) {
      const pos = next;
      next += chunk;
      const len = Math.min(chunk, data.length - pos);
      await new Promise<void>((resolve, reject) => sftp.write(handle, data, pos, len, pos, (err) => (err ? reject(err) : resolve())));
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}
