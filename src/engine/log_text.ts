/**
 * Peer-controlled text (message, argument and engine names, DISCONNECT
 * messages) made safe for a log line: control characters escaped, length
 * bounded, so a peer cannot forge or break log lines.
 *
 * @module
 */

/** C0 and C1 controls, DEL, and the two Unicode line separators. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** The longest peer text kept in a log line, in UTF-16 code units. */
const MAX_LENGTH = 200;

function escape(character: string): string {
  const code = character.charCodeAt(0);
  switch (code) {
    case 0x0a:
      return "\\n";
    case 0x0d:
      return "\\r";
    case 0x09:
      return "\\t";
  }
  return `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * Returns peer text fit for a log line: controls escaped (`\n`, `\u001b`),
 * cut after 200 characters with `…`.
 *
 * @param text The text as the peer sent it.
 * @returns The text to log.
 */
export function logText(text: string): string {
  const cut = text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH)}…` : text;
  return cut.replace(CONTROL, escape);
}
