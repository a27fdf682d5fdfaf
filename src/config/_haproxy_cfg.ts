/**
 * A small reader of haproxy.cfg, enough for the checks: its sections, their
 * directives without comments, and what a proxy inherits from its defaults.
 *
 * @module
 */

/** One directive line. */
export interface CfgLine {
  /** The words of the line (quotes kept). */
  readonly words: readonly string[];
  /** The line without its comment. */
  readonly text: string;
  /** 1-based line number. */
  readonly line: number;
}

/** One section: `frontend www`, `defaults`, ... */
export interface CfgSection {
  /** `global`, `defaults`, `frontend`, `backend`, `listen`, ... */
  readonly kind: string;
  /** The section name (`""` for an unnamed one). */
  readonly name: string;
  /** The defaults section it inherits from (proxies and defaults only). */
  readonly defaults: CfgSection | undefined;
  /** Its directives. */
  readonly lines: CfgLine[];
}

const SECTION_KEYWORDS = new Set([
  "global",
  "defaults",
  "frontend",
  "backend",
  "listen",
  "peers",
  "resolvers",
  "userlist",
  "mailers",
  "program",
  "http-errors",
  "ring",
  "cache",
  "log-forward",
  "crt-store",
  "traces",
  "acme",
]);

/** Strips a comment (a `#` outside quotes) and splits on blanks, keeping quoted words whole. */
function splitLine(raw: string): { text: string; words: string[] } {
  const words: string[] = [];
  let word = "";
  let quote = "";
  let inWord = false;
  let end = raw.length;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === "\\" && i + 1 < raw.length) {
      word += c + raw[++i];
      inWord = true;
    } else if (quote) {
      word += c;
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") {
      quote = c;
      word += c;
      inWord = true;
    } else if (c === "#") {
      end = i;
      break;
    } else if (c === " " || c === "\t") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return { text: raw.slice(0, end).trim(), words };
}

/**
 * Reads the sections of a haproxy.cfg.
 *
 * @param text The configuration.
 * @returns Its sections, in order.
 */
export function parseHaproxyCfg(text: string): CfgSection[] {
  const sections: CfgSection[] = [];
  let current: CfgSection | undefined;
  let lastDefaults: CfgSection | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const { text: lineText, words } = splitLine(lines[i]);
    if (words.length === 0) continue;
    if (SECTION_KEYWORDS.has(words[0])) {
      const kind = words[0];
      const name = words[1] !== undefined && words[1] !== "from" ? words[1] : "";
      const fromAt = words.indexOf("from");
      const parent = fromAt > 0
        ? sections.find((s) => s.kind === "defaults" && s.name === words[fromAt + 1])
        : lastDefaults;
      const inherits = kind === "defaults" ? fromAt > 0 : kind !== "global";
      current = { kind, name, defaults: inherits ? parent : undefined, lines: [] };
      sections.push(current);
      if (kind === "defaults") lastDefaults = current;
      continue;
    }
    current?.lines.push({ words, text: lineText, line: i + 1 });
  }
  return sections;
}

/**
 * The value of a setting in a proxy, following its defaults: the last
 * directive whose first words match wins.
 *
 * @param section The proxy.
 * @param match Picks the directives of the setting and returns its value.
 * @returns The value, or `undefined` if neither the proxy nor its defaults set it.
 */
export function effective<T>(
  section: CfgSection,
  match: (words: readonly string[]) => T | undefined,
): T | undefined {
  for (let s: CfgSection | undefined = section; s; s = s.defaults) {
    let found: T | undefined;
    for (const line of s.lines) {
      const value = match(line.words);
      if (value !== undefined) found = value;
    }
    if (found !== undefined) return found;
  }
  return undefined;
}
