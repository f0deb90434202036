/**
 * A real terminal for the built CLI: a tmux pane (its own tmux server and socket, so no other tmux is touched) running
 * a shell command with only the given environment. The command can pipe the CLI's output (`… 2>&1 | tee file`):
 * the CLI's stdin is still the terminal. init.test.ts drives its wizard through the same TmuxTerminal.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../fakes/temp-dir.js';

export const hasTmux = spawnSync('tmux', ['-V']).status === 0;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A tmux pane of its own (own server and socket) running one command with only the given environment (plus PATH, TERM
 * and LANG), 200×60; remain-on-exit keeps the last screen after the command ends. What both terminal tests share.
 */
export class TmuxTerminal {
  readonly dir: string;
  protected constructor() {
    this.dir = tempDir('tty');
  }

  protected launch(command: string[], opts: { cwd: string; env: Record<string, string> }): void {
    const env = Object.entries({ PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'xterm-256color', LANG: 'C.UTF-8', ...opts.env }).map(
      ([k, v]) => `${k}=${v}`,
    );
    this.tmux(
      'start-server',
      ';',
      'set-option',
      '-g',
      'remain-on-exit',
      'on',
      ';',
      'new-session',
      '-d',
      '-s',
      'w',
      '-x',
      '200',
      '-y',
      '60',
      '-c',
      opts.cwd,
      'env',
      '-i',
      ...env,
      ...command,
    );
  }

  protected tmux(...args: string[]): string {
    return execFileSync('tmux', ['-f', '/dev/null', '-S', join(this.dir, 'sock'), ...args], { encoding: 'utf8' });
  }

  /** Everything the pane shows, scrollback included, wrapped lines joined. */
  screen(): string {
    return this.tmux('capture-pane', '-p', '-J', '-S', '-', '-E', '-', '-t', 'w');
  }

  async waitFor(pattern: RegExp | string, timeoutMs = 60_000): Promise<string> {
    const re = typeof pattern === 'string' ? new RegExp(escape(pattern)) : pattern;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      if (re.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`The terminal never showed ${re}. It shows:\n${screen}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  type(text: string): void {
    this.tmux('send-keys', '-t', 'w', '-l', text);
  }

  press(...keys: string[]): void {
    for (const key of keys) this.tmux('send-keys', '-t', 'w', key);
  }

  stop(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class ShellTerminal extends TmuxTerminal {
  /**
   * Runs `sh -c script` in the pane. The script should write the exit code it cares about to `$STATUS`
   * (e.g. `{ node cli.js up …; echo $? >"$STATUS"; } 2>&1 | tee out`).
   */
  static start(script: string, opts: { cwd: string; env: Record<string, string> }): ShellTerminal {
    const t = new ShellTerminal();
    t.launch(['sh', '-c', script], { cwd: opts.cwd, env: { STATUS: t.statusFile, ...opts.env } });
    return t;
  }

  get statusFile(): string {
    return join(this.dir, 'status');
  }

  /** The exit code the script wrote to $STATUS. */
  async status(timeoutMs = 120_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (!existsSync(this.statusFile) || readFileSync(this.statusFile, 'utf8').trim() === '') {
      if (Date.now() > deadline) throw new Error(`The command did not end. The terminal shows:\n${this.screen()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return Number(readFileSync(this.statusFile, 'utf8').trim());
  }
}
