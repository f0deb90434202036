import { checkbox, confirm, input, select } from '@inquirer/prompts';
import { textPrompt } from './text-prompt.js';

/**
 * Every question revue-pi asks goes through this module: the wizards take a `Prompts` and never import
 * @inquirer/prompts themselves, so a test can hand them scripted answers. `terminalPrompts` asks on the
 * terminal. Ctrl-C in any prompt rejects with inquirer's ExitPromptError (see isPromptExit).
 */

export interface Choice<T> {
  name: string;
  value: T;
  /** Shown after the answer instead of the name. */
  short?: string;
  description?: string;
}

/** Returns the sentence to show under the prompt when the answer is refused, undefined when it is fine. */
export type Check = (answer: string) => string | undefined | Promise<string | undefined>;

export interface Prompts {
  /** A line of text, trimmed. Enter on an empty line takes `default`, Tab puts it on the line to edit; it cannot be erased. */
  text(q: { message: string; default?: string; validate?: Check }): Promise<string>;
  confirm(q: { message: string; default?: boolean }): Promise<boolean>;
  select<T>(q: { message: string; choices: Choice<T>[]; default?: T }): Promise<T>;
  checkbox<T>(q: { message: string; choices: (Choice<T> & { checked?: boolean })[] }): Promise<T[]>;
}

export const terminalPrompts: Prompts = {
  async text(q) {
    // Our own line prompt: @inquirer/input loses its default for good after a Backspace on an empty line.
    const answer = await textPrompt({
      message: q.message,
      ...(q.default !== undefined && q.default !== '' ? { default: q.default } : {}),
      ...(q.validate ? { validate: async (value: string) => (await q.validate!(value.trim())) ?? true } : {}),
    });
    return answer.trim();
  },
  confirm(q) {
    return confirm({ message: q.message, default: q.default ?? false });
  },
  select(q) {
    return select({ message: q.message, choices: q.choices, ...(q.default !== undefined ? { default: q.default } : {}) });
  },
  checkbox(q) {
    return checkbox({ message: q.message, choices: q.choices });
  },
};

/** True for the rejection inquirer raises when the user presses Ctrl-C (or the terminal closes) in a prompt. */
export function isPromptExit(error: unknown): boolean {
  return error instanceof Error && error.name === 'ExitPromptError';
}

/**
 * `up`'s two questions, on stderr (stdout carries the report, JSON with --json). The answer is No unless given: Enter
 * declines, and Ctrl-C or a closed terminal count as No.
 */
export const upPrompts = {
  async confirm(message: string): Promise<boolean> {
    try {
      return await confirm({ message, default: false }, { output: process.stderr });
    } catch (error) {
      if (isPromptExit(error)) return false;
      throw error;
    }
  },
  /** A line typed at the terminal ('' on Ctrl-C). */
  async typed(message: string): Promise<string> {
    try {
      return await input({ message }, { output: process.stderr });
    } catch (error) {
      if (isPromptExit(error)) return '';
      throw error;
    }
  },
};
