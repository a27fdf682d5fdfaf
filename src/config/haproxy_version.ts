/**
 * The HAProxy version a configuration is generated for.
 *
 * @module
 */

/** A parsed HAProxy version. */
export interface HaproxyVersion {
  /** The major number: 2 in 2.6. */
  readonly major: number;
  /** The minor number: 6 in 2.6. */
  readonly minor: number;
  /**
   * `true` from 3.1 on, where SPOE runs on a multiplexer: `mode spop`
   * backends, `timeout hello`/`timeout idle` ignored. `false` for 2.6 and 3.0.
   */
  readonly mux: boolean;
}

/** The oldest version the generator targets (the oldest one tested). */
const OLDEST = { major: 2, minor: 6 };

/**
 * Reads a version such as `"2.6"`, `"3.0"`, `"3.2"` or `"3.4.7"`.
 *
 * @param text The version; only major and minor count.
 * @returns The parsed version.
 * @throws {RangeError} For text that is not a version, or a version older than 2.6.
 *
 * @example
 * ```ts
 * import { parseHaproxyVersion } from "@spoa/agent/config";
 * console.log(parseHaproxyVersion("3.0").mux, parseHaproxyVersion("3.2").mux); // false true
 * ```
 */
export function parseHaproxyVersion(text: string): HaproxyVersion {
  const match = /^\s*(\d+)\.(\d+)(?:\.\d+)?(?:[-+~.\w]*)\s*$/.exec(String(text));
  if (!match) {
    throw new RangeError(`Invalid HAProxy version "${text}": expected MAJOR.MINOR, like 3.2`);
  }
  const major = Number(match[1]);
  const minor = Number(match[2]);
  if (major < OLDEST.major || (major === OLDEST.major && minor < OLDEST.minor)) {
    throw new RangeError(
      `Unsupported HAProxy version ${major}.${minor}: the generator targets 2.6 and later`,
    );
  }
  return { major, minor, mux: major > 3 || (major === 3 && minor >= 1) };
}
