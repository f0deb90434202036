import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RemoteCommandError, RevuePiError, trimOutput } from '../../../../core/errors.js';
import { RunLog } from '../../../../core/log.js';
import type { RunReport } from '../../../../core/report.js';
import { runStatusCommand } from '../../../../cli/commands/status.js';
import { FakeTransport, fail, ok } from '../../../fakes/fake-transport.js';
import { parseFacts } from '../../../../provision/facts.js';
import { parseProbeOutput } from '../../../../core/remote/probe.js';
import { stripControlChars } from '../../../../core/remote/remote-text.js';
import { ProgressRenderer, formatSummary } from '../../../../cli/ui/renderer.js';
import { tempDir } from '../../../fakes/temp-dir.js';

/** What a hostile node (or a program logging to its journal) could print to take over the operator's terminal. */
const NASTY = [
  '\u001b]0;owned\u0007', // retitle the window
  '\u001b]8;;http://evil.example/\u001b\\link\u001b]8;;\u001b\\', // a hyperlink
  '\u001b[2J\u001b[H', // clear the screen, cursor home
  '\u001b[1A\u001b[2K', // up a line and erase it: rewrite what was printed
  '\u001bc', // full reset
  '\u001bP+q544e\u001b\\', // DCS (terminal queries)
  '\u009b31m', // 8-bit CSI
  '\u0007\u0008\u0000\u007f\u0085', // bell, backspace, NUL, DEL, NEL
  '\u202eevil\u202c', // right-to-left override
].join('');

const PROBE = readFileSync(new URL('../../../fixtures/probe/pi5-bookworm-fresh.txt', import.meta.url), 'utf8');

const SHOWN_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('stripControlChars', () => {
  it.each<[string, string]>([
    ['plain text', 'plain text'],
    ['lines\nand\ttabs', 'lines\nand\ttabs'],
    ['accents é, CJK 中文, emoji ✓🍓', 'accents é, CJK 中文, emoji ✓🍓'],
    ['\u001b[31mred\u001b[0m text', 'red text'],
    ['title \u001b]0;owned\u0007 gone', 'title  gone'],
    ['link \u001b]8;;http://x/\u001b\\text\u001b]8;;\u001b\\', 'link text'],
    ['reset\u001bc!', 'reset!'],
    ['\u009b2Jcleared', 'cleared'],
    ['crlf\r\nline', 'crlf\nline'],
    ['progress 10%\rprogress 20%', 'progress 10%\nprogress 20%'],
    ['bell\u0007 back\u0008space nul\u0000 del\u007f', 'bell backspace nul del'],
    ['\u202eevil\u202c and \u2066isolate\u2069', 'evil and isolate'],
    ['lone escape \u001b', 'lone escape '],
  ])('%j → %j', (input, output) => {
    expect(stripControlChars(input)).toBe(output);
  });

  it('leaves nothing a terminal would act on, from every sequence at once', () => {
    expect(stripControlChars(NASTY)).not.toMatch(SHOWN_CONTROL);
    expect(stripControlChars(NASTY)).toBe('linkevil');
  });
});

describe('applied where what nodes send back is shown', () => {
  it('error output kept in a message (trimOutput) and every RevuePiError message and hint', () => {
    expect(trimOutput(`k3s: starting\n${NASTY}\nfatal: boom`)).toBe('k3s: starting\nlinkevil\nfatal: boom');
    const error = new RevuePiError(`Preparing node pi-1 failed: ${NASTY}`, { code: 'X', hint: `see ${NASTY}` });
    expect(error.message).not.toMatch(SHOWN_CONTROL);
    expect(error.hint).not.toMatch(SHOWN_CONTROL);
    expect(new RemoteCommandError('pi-1', 'Installing K3s', 'true', 1, `journal:\n${NASTY}`).message).not.toMatch(SHOWN_CONTROL);
  });

  it('what the probe read for display: model, OS, kernel', () => {
    const dump = (text: string) =>
      text
        .split('\n')
        .map((l) => `|${l}`)
        .join('\n');
    const facts = parseFacts(
      parseProbeOutput(
        [
          '@@revue-pi@@ model',
          `~Raspberry Pi 5${NASTY}`,
          '@@revue-pi@@ uname',
          `6.12.47\u001b[2J aarch64`,
          '@@revue-pi@@ os',
          dump(`PRETTY_NAME="Debian\u001b]0;owned\u0007 12"\nID=debian`),
          '',
        ].join('\n'),
      ),
    );
    expect([facts.model, facts.kernel, facts.os.prettyName]).toEqual(['Raspberry Pi 5linkevil', '6.12.47', 'Debian 12']);
  });

  it('the run summary, the progress lines and the status tables', () => {
    const report: RunReport = {
      command: 'up',
      cluster: 'lab',
      ok: false,
      exitCode: 1,
      durationMs: 1,
      nodes: [{ name: 'pi-1', host: '10.0.0.1', role: 'server', status: 'failed', steps: [], warnings: [`odd ${NASTY}`], error: `failed: ${NASTY}` }],
    };
    expect(formatSummary(report)).not.toMatch(SHOWN_CONTROL);

    const err = new PassThrough();
    let printed = '';
    err.on('data', (d) => (printed += String(d)));
    const renderer = new ProgressRenderer('plain', false, err);
    renderer.handle({ type: 'node-done', node: 'pi-1', status: 'failed', error: `boom ${NASTY}` });
    renderer.handle({ type: 'warning', message: `journal: ${NASTY}` });
    expect(printed).toContain('boom linkevil');
    expect(printed).not.toMatch(SHOWN_CONTROL);
  });

  it('the run log', () => {
    const dir = tempDir('log');
    try {
      const log = new RunLog(dir, 'up');
      log.write(`[pi-1] journal: ${NASTY}`);
      expect(readFileSync(log.path!, 'utf8')).toMatch(/\[pi-1\] journal: linkevil\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the status tables: a model and a kubectl error full of escape sequences are printed without them', async () => {
    const dir = tempDir('status-text');
    try {
      const inventory = join(dir, 'inventory.yaml');
      writeFileSync(
        inventory,
        'cluster: {name: lab}\nnodes: [{name: pi-1, host: 127.0.0.21, role: server}]\nworkloads: {revue: false, monitoring: false}\nnetwork: {metallb: {enabled: false}}\n',
      );
      const probe = PROBE.replace('~Raspberry Pi 5 Model B Rev 1.0', `~Raspberry Pi 5 ${NASTY}`);
      const node = new FakeTransport('pi-1')
        .on('@@revue-pi@@', ok(`${probe}@@revue-pi@@ k3s_version\nk3s version v1.33.5+k3s1\n@@revue-pi@@ k3s_units\nk3s active\n`))
        .on('k3s kubectl get', fail(1, `error: ${NASTY}`));
      const out = new PassThrough();
      let printed = '';
      out.on('data', (d) => (printed += String(d)));
      const code = await runStatusCommand({
        inventory,
        stateDir: dir,
        out,
        openTransport: async () => node,
        kubeconfig: join(dir, 'none'),
        env: { PATH: '/nonexistent' },
      });
      expect(code).toBe(1);
      expect(printed).toContain('Pi 5 linkevil');
      expect(printed).toMatch(/k3s kubectl exited 1: error:\s+linkevil/);
      expect(printed).not.toMatch(SHOWN_CONTROL);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
