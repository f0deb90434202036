/**
 * Text that nodes send back — error output, journal tails, what a probe read — goes to the operator's terminal and
 * log. A node (or anything that wrote to its journal or files) could put terminal control sequences in it: clear the
 * screen, rewrite the lines above, retitle the window, hide text with bidirectional overrides. `stripControlChars` is
 * the one function that removes them before such text is shown; it keeps line breaks and tabs, and every printable
 * character (accents, CJK, emoji) as it is.
 */

/** ESC sequences: CSI (`ESC [ … final`), OSC (`ESC ] … BEL` or `ESC \`), DCS/SOS/PM/APC strings, and two-character ones. */
const ESCAPE_SEQUENCE = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[PX^_][^\u001b]*(?:\u001b\\)?|[ -~])/g;
/** The 8-bit CSI (U+009B) with its parameters. */
const C1_SEQUENCE = /\u009b[0-?]*[ -/]*[@-~]/g;
/** C0 controls but tab and line feed, DEL, C1 controls, and the invisible direction marks and overrides. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function stripControlChars(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(ESCAPE_SEQUENCE, '').replace(C1_SEQUENCE, '').replace(/\r/g, '\n').replace(CONTROL, '');
}
