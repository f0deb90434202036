import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { joinShell, rawShell, sh, shAssign, shComment, shHeredoc, shQuote, ShellScript } from '../../../../core/remote/shell.js';

/** Runs a script in /bin/sh (dash here, as on Raspberry Pi OS) and returns what it printed. */
function run(script: ShellScript): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('/bin/sh', ['-c', script.text], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Values an inventory, a node or a user could hand over, meant to break out of a command. */
const HOSTILE = [
  'wlan0; touch /tmp/revue-pi-pwned',
  'a\nreboot',
  '$(id -u)',
  '`id -u`',
  "it's",
  '"double"',
  'two words',
  'tab\there',
  '-rf',
  '*',
  '~root',
  'a|b&c>d<e',
  '\\',
  '',
  'ｗｌａｎ０', // full-width look-alikes
  'wlan0\u00a0', // a no-break space
  'e\u0301', // a combining accent
  "'; exec sh; '",
];

describe('sh`…` quotes every value', () => {
  it.each(HOSTILE)('a string is one word, unchanged, in a real dash: %j', (value) => {
    expect(run(sh`printf '%s|' ${value}`)).toEqual({ code: 0, stdout: `${value}|`, stderr: '' });
  });

  it('an array is one word per item; numbers are their digits', () => {
    expect(run(sh`printf '<%s>' ${HOSTILE} ${42}`).stdout).toBe(HOSTILE.map((v) => `<${v}>`).join('') + '<42>');
    expect(sh`ls ${['a', 'b c']}`.text).toBe("ls a 'b c'");
    expect(sh`x ${[]} y`.text).toBe('x  y');
  });

  it('leaves plain words bare, so the commands stay readable and stable', () => {
    expect(sh`journalctl -u ${'k3s-agent'} -n ${20}`.text).toBe('journalctl -u k3s-agent -n 20');
    expect(shQuote('/var/lib/rancher/k3s/server/node-token')).toBe('/var/lib/rancher/k3s/server/node-token');
    expect(shQuote("it's")).toBe(`'it'\\''s'`);
    expect(shQuote('')).toBe("''");
  });

  it('a ShellScript goes in as it is: scripts compose without being quoted twice', () => {
    const inner = sh`echo ${'a b'}`;
    expect(sh`${inner} && ${inner}`.text).toBe("echo 'a b' && echo 'a b'");
    expect(joinShell([inner, sh`exit 3`]).text).toBe("echo 'a b'\nexit 3");
    expect(joinShell([inner, inner], ' && ').text).toBe("echo 'a b' && echo 'a b'");
  });

  it('refuses what it cannot quote: a value inside quotes or a comment of the template, a number that is not finite', () => {
    expect(() => sh`echo "x${'a b'}"`).toThrow(/inside quotes/);
    expect(() => sh`echo 'x${'$(id)'}'`).toThrow(/inside quotes/);
    expect(() => sh`# node ${'x\nreboot'}`).toThrow(/inside quotes/);
    expect(() => sh`echo "${sh`id`}"`).toThrow(/inside quotes/);
    expect(() => sh`sleep ${Number.NaN}`).toThrow(/finite/);
    expect(() => sh`x ${undefined as unknown as string}`).toThrow(/neither/);
    // Words that need no quoting, and numbers, are fine there: they hold no quote, $, ` or \.
    expect(sh`echo "$dst${1}" "v=${'1.2.3'}"`.text).toBe('echo "$dst1" "v=1.2.3"');
    // A command substitution inside double quotes quotes afresh.
    expect(run(sh`echo "$(printf %s ${'a b'})"`).stdout).toBe('a b\n');
    // After a comment's line ends, values are quoted again; a `#` inside a word is no comment.
    expect(sh`# it's\necho ${'a b'}`.text).toBe("# it's\necho 'a b'");
    expect(sh`echo a#${'b c'}`.text).toBe("echo a#'b c'");
  });

  it('only this module makes a ShellScript', () => {
    expect(() => new ShellScript('id', Symbol('ShellScript'))).toThrow(/made by sh/);
  });
});

describe('the other builders', () => {
  it('shAssign checks the name and quotes the value', () => {
    expect(shAssign('INSTALL_K3S_VERSION', 'v1.33.5+k3s1').text).toBe('INSTALL_K3S_VERSION=v1.33.5+k3s1');
    expect(run(sh`${shAssign('V', '$(id) x')} sh -c 'printf %s "$V"'`).stdout).toBe('$(id) x');
    expect(() => shAssign('PATH=/tmp; X', 'y')).toThrow(/variable name/);
  });

  it('shHeredoc carries any text as data, and refuses a body line equal to its delimiter', () => {
    const body = "ssh-ed25519 AAAA it's $(id) `x`\n\\ last";
    expect(run(sh`cat ${shHeredoc(body)}`).stdout).toBe(`${body}\n`);
    expect(() => shHeredoc('a\nEOF\nreboot')).toThrow(/delimiter/);
    expect(() => shHeredoc('x', 'E OF')).toThrow(/delimiter/);
  });

  it('shComment is one line', () => {
    expect(shComment("node pi-1's script").text).toBe("# node pi-1's script");
    expect(() => shComment('x\nreboot')).toThrow(/one line/);
  });

  it("rawShell is text taken as it is (for the project's own scripts)", () => {
    expect(rawShell('echo $HOME').text).toBe('echo $HOME');
  });
});
