import { createPrompt, isBackspaceKey, isEnterKey, isTabKey, makeTheme, useKeypress, usePrefix, useState, type Status } from '@inquirer/core';

/**
 * A line of text with a default that cannot be lost. @inquirer/input forgets its default for good once Backspace is
 * pressed on an empty line (or Tab has pasted it and the text was then erased), so a slip leaves no way back to
 * it. Here the default stays shown while the line is empty: Enter on an empty line takes it, Tab puts it on the
 * line to edit, again as often as needed. Otherwise as @inquirer/input: the typed text is kept when the answer is
 * refused, with the reason below.
 */
export interface TextPromptConfig {
  message: string;
  default?: string;
  validate?: (value: string) => boolean | string | Promise<boolean | string>;
}

export const textPrompt = createPrompt<string, TextPromptConfig>((config, done) => {
  const theme = makeTheme();
  const [status, setStatus] = useState<Status>('idle');
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | undefined>();
  const prefix = usePrefix({ status, theme });
  const fallback = config.default ?? '';

  useKeypress(async (key, rl) => {
    if (status !== 'idle') return;
    if (isEnterKey(key)) {
      const answer = value || fallback;
      setStatus('loading');
      const verdict = config.validate ? await config.validate(answer) : true;
      if (verdict === true) {
        setValue(answer);
        setStatus('done');
        done(answer);
      } else {
        // readline clears its line on Enter: put back what was typed, to fix rather than retype.
        rl.write(value);
        setError(typeof verdict === 'string' ? verdict : 'You must provide a valid value');
        setStatus('idle');
      }
    } else if (isTabKey(key) && !value && fallback) {
      rl.clearLine(0); // the tab character itself
      rl.write(fallback);
      setValue(fallback);
    } else if (isBackspaceKey(key) && !value) {
      // Nothing to erase: the default stays.
    } else {
      setValue(rl.line);
      setError(undefined);
    }
  });

  const message = theme.style.message(config.message, status);
  const shown = status === 'done' ? theme.style.answer(value) : value;
  const hint = fallback && status !== 'done' && !value ? theme.style.defaultAnswer(fallback) : undefined;
  return [[prefix, message, hint, shown].filter((part) => part !== undefined).join(' '), error ? theme.style.error(error) : ''];
});
