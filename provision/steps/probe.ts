/**
 * One probe script per node, one round trip: each section prints a marker line and its output.
 * Sections are data so cluster/ can add its own to the same round trip.
 */

export interface ProbeSection {
  name: string;
  /** POSIX sh; its stdout becomes the section's text. Must not fail the script (guard with `|| true`). */
  script: string;
}

const MARKER = '@@revue-pi@@';

export function buildProbeScript(sections: ProbeSection[]): string {
  // The `echo` after each section ends output that lacks a newline (the device-tree model ends in NUL).
  return sections.map((s) => `echo '${MARKER} ${s.name}'\n{ ${s.script}\n} 2>/dev/null || true\necho`).join('\n') + '\n';
}

export function parseProbeOutput(stdout: string): Map<string, string> {
  const result = new Map<string, string>();
  let current: string | undefined;
  let buffer: string[] = [];
  const flush = () => {
    if (current !== undefined) result.set(current, buffer.join('\n').replace(/\n+$/, ''));
  };
  for (const line of stdout.split('\n')) {
    if (line.startsWith(MARKER + ' ')) {
      flush();
      current = line.slice(MARKER.length + 1).trim();
      buffer = [];
    } else if (current !== undefined) {
      buffer.push(line);
    }
  }
  flush();
  return result;
}

/** Reads a file as base64 so any content (no trailing newline, NULs) survives the trip; empty when absent. */
export function fileSection(name: string, path: string): ProbeSection {
  return { name, script: `[ -f ${path} ] && base64 -w0 ${path}` };
}

export function decodeFileSection(sections: Map<string, string>, name: string): string | undefined {
  const value = sections.get(name);
  if (value === undefined || value === '') return undefined;
  return Buffer.from(value, 'base64').toString('utf8');
}
