import type { AnyAuthMethod, AuthenticationType } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { makeAuthHandler, Slots } from '../../../../core/remote/ssh.js';

describe('makeAuthHandler', () => {
  const methods: AnyAuthMethod[] = [
    { type: 'agent', username: 'pi', agent: '/tmp/agent.sock' },
    { type: 'publickey', username: 'pi', key: 'KEY' },
    { type: 'keyboard-interactive', username: 'pi', prompt: () => undefined },
    { type: 'password', username: 'pi', password: 'pw' },
  ];

  function offered(handler: ReturnType<typeof makeAuthHandler>, left: AuthenticationType[] | null, times: number): Array<string | false> {
    const seen: Array<string | false> = [];
    for (let i = 0; i < times; i++) handler(left, false, (m) => seen.push(m === false ? false : m.type));
    return seen;
  }

  it('offers the methods in OpenSSH order, then gives up', () => {
    expect(offered(makeAuthHandler(methods), null, 5)).toEqual(['agent', 'publickey', 'keyboard-interactive', 'password', false]);
  });

  it('skips what the server does not accept, counting agent keys as publickey', () => {
    expect(offered(makeAuthHandler(methods), ['publickey', 'password'], 4)).toEqual(['agent', 'publickey', 'password', false]);
    expect(offered(makeAuthHandler(methods), ['keyboard-interactive'], 2)).toEqual(['keyboard-interactive', false]);
  });
});

describe('Slots', () => {
  it('never runs more tasks at once than it has slots, and runs them all', async () => {
    const slots = new Slots(3);
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        slots.use(async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 5 + (i % 3)));
          running--;
          done.push(i);
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(done.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('frees the slot when a task fails', async () => {
    const slots = new Slots(1);
    await expect(slots.use(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await slots.use(async () => 'next')).toBe('next');
  });
});
