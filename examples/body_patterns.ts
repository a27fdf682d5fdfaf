/**
 * The patterns of the body inspection example (examples/body_inspect.ts), on
 * their own so that they can be imported without starting the agent. A few
 * well-known signatures of SQL injection and path traversal, to show the
 * shape of such an agent: not a complete rule set.
 *
 * @module
 */

/** What {@linkcode findAttack} reports. */
export const AttackKind = {
  /** `' OR 1=1`, `UNION SELECT`, `; DROP TABLE`, `SLEEP(5)`, a quote followed by a comment. */
  SqlInjection: "sql-injection",
  /** `../`, `..\`, and well-known system files such as `/etc/passwd`. */
  PathTraversal: "path-traversal",
} as const;

/** One kind of attack. */
export type AttackKind = typeof AttackKind[keyof typeof AttackKind];

const RULES: readonly { kind: AttackKind; pattern: RegExp }[] = [
  { kind: AttackKind.SqlInjection, pattern: /\bunion\b(?:\s|\/\*.*?\*\/)+(?:all\s+)?select\b/i },
  {
    kind: AttackKind.SqlInjection,
    pattern: /'\s*\)?\s*(?:or|and)\s+'?\w+'?\s*(?:=|<|>|like\b)\s*'?\w/i,
  },
  {
    kind: AttackKind.SqlInjection,
    pattern: /;\s*(?:drop|delete|truncate|alter|insert|update|shutdown|exec)\s/i,
  },
  { kind: AttackKind.SqlInjection, pattern: /\b(?:sleep|benchmark|pg_sleep)\s*\(\s*\d/i },
  { kind: AttackKind.SqlInjection, pattern: /'\s*\)?\s*(?:--(?:\s|$)|#|\/\*)/m },
  { kind: AttackKind.PathTraversal, pattern: /(?:^|[\/\\=\s"':])\.\.(?:[\/\\]|$)/m },
  {
    kind: AttackKind.PathTraversal,
    pattern: /\/etc\/(?:passwd|shadow|hosts)\b|\\windows\\(?:win\.ini|system32)/i,
  },
];

/** Bytes as text, one character per byte: lossless, and the patterns are ASCII. */
const latin1 = new TextDecoder("latin1");

/** `%XX` escapes decoded, one character per byte. */
function percentDecoded(text: string): string {
  return text.replace(
    /%([0-9A-Fa-f]{2})/g,
    (_, hex: string) => String.fromCharCode(parseInt(hex, 16)),
  );
}

/**
 * The first attack found in a request body, looking at its bytes as they
 * came, percent-decoded once and twice (form bodies and double encoding), and
 * with `+` read as a space.
 *
 * @param body The body (or the part HAProxy buffered).
 * @returns The kind of attack, or `undefined` when nothing matched.
 */
export function findAttack(body: Uint8Array): AttackKind | undefined {
  const raw = latin1.decode(body);
  const once = percentDecoded(raw.replaceAll("+", " "));
  const variants = [raw, once, percentDecoded(once)];
  for (const { kind, pattern } of RULES) {
    if (variants.some((text) => pattern.test(text))) return kind;
  }
  return undefined;
}
