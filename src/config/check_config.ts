/**
 * What HAProxy would reject, or silently get wrong, in an engine declaration,
 * its agent, and (optionally) a hand-written haproxy.cfg.
 *
 * @module
 */

import { checkDeclarations } from "./_check_declarations.ts";
import { checkHaproxyCfg } from "./_check_haproxy_cfg.ts";
import { type ConfigOptions, resolveConfig } from "./config_options.ts";
import type { SpoeEngine } from "./define_engine.ts";
import { type Finding, Findings } from "./finding.ts";

/** Options of {@linkcode checkConfig}: those of the generator, plus a haproxy.cfg to check. */
export interface CheckOptions extends ConfigOptions {
  /**
   * An existing haproxy.cfg (its text) to check the engine against: the
   * filter's proxy, the agents backend, `send-spoe-group` rules and the
   * variables it reads. Leave it out to check the declarations alone, as the
   * generated configuration uses them.
   */
  readonly haproxyConfig?: string;
}

/**
 * Checks an engine declaration for what HAProxy would reject or silently get
 * wrong: names and var-prefix HAProxy refuses, variable names over 63 bytes,
 * events the target version does not have, messages without a handler and
 * handlers without a message (when `agent` is given), `timeout processing`
 * against the agent's deadline; and, with `haproxyConfig`, a hand-written
 * haproxy.cfg: the filter line, `option http-buffer-request` for body
 * arguments, the agents backend's mode, `send-spoe-group` rules, and the
 * variables it reads.
 *
 * @param engine The engine.
 * @param options The target version, the agent, and optionally a haproxy.cfg.
 * @returns The findings, errors first; empty when all is well.
 * @throws {RangeError} For an unsupported version or an invalid timeout.
 * @throws {TypeError} For an agent address that cannot be read.
 *
 * @example
 * ```ts
 * import { Agent } from "@spoa/agent";
 * import { checkConfig, defineEngine, defineMessage } from "@spoa/agent/config";
 *
 * const check = defineMessage({ name: "check", args: { ip: "src" }, event: "on-client-session" });
 * const engine = defineEngine({ name: "waf", messages: [check] });
 * const agent = new Agent().on("chek", () => {});
 * const findings = checkConfig(engine, { haproxy: "3.2", agent });
 * console.log(findings.length, findings[0].severity, findings[0].code); // 2 error handler-without-message
 * console.log(findings[1].code); // message-without-handler
 * ```
 */
export function checkConfig(engine: SpoeEngine, options: CheckOptions): Finding[] {
  const config = resolveConfig(engine, options);
  const findings = new Findings();
  checkDeclarations(findings, engine, options, config);
  if (options.haproxyConfig !== undefined) {
    checkHaproxyCfg(findings, engine, config, String(options.haproxyConfig));
  }
  return [
    ...findings.list.filter((f) => f.severity === "error"),
    ...findings.list.filter((f) => f.severity === "warning"),
  ];
}

/** Thrown by {@linkcode assertConfig} and {@linkcode generateConfig} when a check finds errors. */
export class SpoeConfigError extends Error {
  /** Every finding: the errors, then the warnings. */
  readonly findings: readonly Finding[];

  /**
   * Creates the error.
   *
   * @param engine The engine name.
   * @param findings The findings (at least one error).
   */
  constructor(engine: string, findings: readonly Finding[]) {
    const errors = findings.filter((f) => f.severity === "error");
    super(
      `SPOE engine "${engine}": ${errors.length} problem${errors.length === 1 ? "" : "s"}:\n` +
        errors.map((f) => `  - ${f.message} [${f.code}]`).join("\n"),
    );
    this.name = "SpoeConfigError";
    this.findings = findings;
  }
}

/**
 * Like {@linkcode checkConfig}, but throws when there is an error, for
 * scripts and start-up code. Warnings are returned.
 *
 * @param engine The engine.
 * @param options The target version, the agent, and optionally a haproxy.cfg.
 * @returns The warnings.
 * @throws {SpoeConfigError} When a check finds an error; `findings` lists everything.
 *
 * @example
 * ```ts
 * import { Agent } from "@spoa/agent";
 * import { assertConfig, defineEngine, defineMessage } from "@spoa/agent/config";
 *
 * const check = defineMessage({ name: "check", args: { ip: "src" }, event: "on-client-session" });
 * const agent = new Agent().on(check, () => {});
 * const warnings = assertConfig(defineEngine({ name: "waf", messages: [check] }), { haproxy: "2.6", agent });
 * console.log(warnings.length); // 0
 * ```
 */
export function assertConfig(engine: SpoeEngine, options: CheckOptions): Finding[] {
  const findings = checkConfig(engine, options);
  if (findings.some((f) => f.severity === "error")) {
    throw new SpoeConfigError(engine.name, findings);
  }
  return findings;
}
