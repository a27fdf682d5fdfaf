/**
 * What HAProxy would reject, or silently get wrong, in an engine declaration,
 * its agent, and (optionally) a hand-written haproxy.cfg.
 *
 * @module
 */

import { MAX_VAR_NAME_LENGTH } from "../codec/action.ts";
import { type CfgSection, effective, parseHaproxyCfg } from "./_haproxy_cfg.ts";
import { type ConfigOptions, resolveConfig, type ResolvedConfig } from "./config_options.ts";
import { type SpoeEngine, variableName } from "./define_engine.ts";
import type { SpoeMessage } from "./define_message.ts";
import { isFrontendRequestEvent, isResponseEvent, spoeEvents } from "./spoe_event.ts";

/** The kinds of problem {@linkcode checkConfig} reports. */
export const FindingCode = {
  /** An engine, agent, message, group, ACL or backend name with a character HAProxy refuses. */
  InvalidName: "invalid-name",
  /** `option var-prefix` with a character other than `[A-Za-z0-9_.]`. */
  InvalidVarPrefix: "invalid-var-prefix",
  /** A variable name with a character other than `[A-Za-z0-9_.]`: HAProxy drops it. */
  InvalidVariableName: "invalid-variable-name",
  /** `<scope>.<prefix>.<name>` longer than 63 bytes (NOTES §12), or a name over 56 characters. */
  VariableNameTooLong: "variable-name-too-long",
  /** Two different messages with one name, a message in two groups, two groups with one name. */
  DuplicateName: "duplicate-name",
  /** An argument name or sample expression that cannot be written on an `args` line. */
  InvalidArgument: "invalid-argument",
  /** A condition that does not start with `if` or `unless`, or an empty ACL. */
  InvalidCondition: "invalid-condition",
  /** An event the target HAProxy version does not have. */
  UnknownEvent: "unknown-event",
  /** An event-driven message without an event: HAProxy ignores it. */
  MissingEvent: "missing-event",
  /** A message sent only by a group has an event: it is never sent on it. */
  IgnoredEvent: "ignored-event",
  /** An engine with no message and no group. */
  EmptyEngine: "empty-engine",
  /** A declared message the agent has no handler for: it is acknowledged with no action. */
  MessageWithoutHandler: "message-without-handler",
  /** A handler for a message the configuration never sends. */
  HandlerWithoutMessage: "handler-without-message",
  /** `timeout processing` not above the agent's `processingTimeout`, or no agent deadline. */
  ProcessingTimeout: "processing-timeout",
  /** A `res` variable but no response event: HAProxy drops it. */
  ResponseVariable: "response-variable",
  /** A `proc` variable that the haproxy.cfg never mentions: HAProxy will not create it. */
  ProcVariable: "proc-variable",
  /** An argument reads the request body but the proxy lacks `option http-buffer-request`. */
  BodyWithoutBuffering: "body-without-buffering",
  /** No `filter spoe engine NAME` in the haproxy.cfg. */
  FilterMissing: "filter-missing",
  /** An event that cannot fire where the filter is (backend section, listen section, TCP mode). */
  EventNeverFires: "event-never-fires",
  /** The agents backend is missing, has no server, or has the wrong mode for the version. */
  Backend: "backend",
  /** `send-spoe-group` names an unknown group, or a declared group is never sent. */
  Group: "group",
  /** haproxy.cfg reads a variable with the engine's prefix that nobody sets. */
  UnknownVariable: "unknown-variable",
} as const;

/** One kind of problem. */
export type FindingCode = typeof FindingCode[keyof typeof FindingCode];

/** One problem found by {@linkcode checkConfig}. */
export interface Finding {
  /**
   * `error`: HAProxy rejects the configuration, or it cannot work as declared.
   * `warning`: it works, but probably not as meant.
   */
  readonly severity: "error" | "warning";
  /** The kind of problem. */
  readonly code: FindingCode;
  /** What is wrong and what to do. */
  readonly message: string;
}

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

/** HAProxy's section and ACL names (invalid_char() in src/tools.c). */
const HAPROXY_NAME = /^[A-Za-z0-9_.:-]+$/;
/** Variable names and prefixes (vars_hash_name(), "only supports [a-zA-Z0-9_.] chars"). */
const VAR_NAME = /^[A-Za-z0-9_.]+$/;
/** spoe_set_var() builds the full name in a 64-byte buffer: 63 bytes and the NUL. */
const MAX_FULL_VAR_NAME = 63;
/** NOTIFY carries the argument count in one byte (SPOE.txt §3.2.6). */
const MAX_ARGS = 255;
/** The request-body sample fetches, which need `option http-buffer-request` to see the body. */
const BODY_FETCH = /(?:^|[^A-Za-z0-9_.])req\.body(?:_param|_len|_size)?\b/;
const HTTP_EVENTS = new Set([
  "on-frontend-http-request",
  "on-backend-http-request",
  "on-http-response",
]);
const BACKEND_EVENTS = new Set(["on-backend-tcp-request", "on-backend-http-request"]);

const utf8 = new TextEncoder();

class Findings {
  readonly list: Finding[] = [];
  error(code: FindingCode, message: string): void {
    this.list.push({ severity: "error", code, message });
  }
  warning(code: FindingCode, message: string): void {
    this.list.push({ severity: "warning", code, message });
  }
}

/** Whether a message argument reads the request body (`req.body` and its relatives). */
export function readsBody(message: SpoeMessage): boolean {
  return Object.values<string>(message.args).some((expression) => BODY_FETCH.test(expression));
}

function hasNewline(text: string): boolean {
  return /[\r\n]/.test(text);
}

function checkName(findings: Findings, what: string, name: string): void {
  if (!HAPROXY_NAME.test(name)) {
    findings.error(
      FindingCode.InvalidName,
      `${what} ${JSON.stringify(name)}: HAProxy accepts only [A-Za-z0-9_.:-] in names`,
    );
  }
}

function checkVariable(findings: Findings, engine: SpoeEngine, scope: string, name: string): void {
  if (!VAR_NAME.test(name)) {
    findings.error(
      FindingCode.InvalidVariableName,
      `variable ${JSON.stringify(name)}: HAProxy accepts only [A-Za-z0-9_.] and silently ` +
        `ignores other names`,
    );
    return;
  }
  const full = variableName(engine, { scope: scope as "txn", name });
  const bytes = utf8.encode(full).length;
  if (bytes > MAX_FULL_VAR_NAME) {
    findings.error(
      FindingCode.VariableNameTooLong,
      `variable ${full}: ${bytes} bytes; HAProxy's full name must fit in ` +
        `${MAX_FULL_VAR_NAME} (shorten the name or the var-prefix)`,
    );
  } else if (name.length > MAX_VAR_NAME_LENGTH) {
    findings.error(
      FindingCode.VariableNameTooLong,
      `variable ${full}: setVar() accepts names of at most ${MAX_VAR_NAME_LENGTH} characters`,
    );
  }
}

function checkMessage(
  findings: Findings,
  message: SpoeMessage,
  events: readonly string[],
  version: string,
  grouped: boolean,
  sentOnEvent: boolean,
): void {
  const label = `message "${message.name}"`;
  checkName(findings, "message", message.name);
  const args = Object.entries<string>(message.args);
  if (args.length > MAX_ARGS) {
    findings.error(
      FindingCode.InvalidArgument,
      `${label}: ${args.length} arguments, at most ${MAX_ARGS}`,
    );
  }
  for (const [name, expression] of args) {
    if (name === "" || /[\s=]/.test(name)) {
      findings.error(
        FindingCode.InvalidArgument,
        `${label}: argument name ${JSON.stringify(name)} must be non-empty, without blanks or "="`,
      );
    }
    if (expression.trim() === "" || /\s/.test(expression)) {
      findings.error(
        FindingCode.InvalidArgument,
        `${label}: argument ${name}=${JSON.stringify(expression)} must be one sample ` +
          `expression without blanks`,
      );
    }
  }
  if (message.condition !== undefined) {
    if (!/^(?:if|unless)\s+\S/.test(message.condition) || hasNewline(message.condition)) {
      findings.error(
        FindingCode.InvalidCondition,
        `${label}: condition ${JSON.stringify(message.condition)} must start with "if " or ` +
          `"unless " and fit on one line`,
      );
    }
  }
  for (const [acl, criterion] of Object.entries(message.acls ?? {})) {
    checkName(findings, `ACL of ${label}`, acl);
    if (criterion.trim() === "" || hasNewline(criterion)) {
      findings.error(
        FindingCode.InvalidCondition,
        `${label}: ACL ${acl} needs a criterion on one line`,
      );
    }
  }
  if (message.event === undefined) {
    if (sentOnEvent) {
      findings.error(
        FindingCode.MissingEvent,
        `${label} has no event: HAProxy ignores it ("Ignore SPOE message without event")`,
      );
    }
  } else if (!events.includes(message.event)) {
    findings.error(
      FindingCode.UnknownEvent,
      `${label}: HAProxy ${version} has no event ${JSON.stringify(message.event)} ` +
        `(it has ${events.join(", ")})`,
    );
  } else if (grouped && !sentOnEvent) {
    findings.warning(
      FindingCode.IgnoredEvent,
      `${label} is only in a group, so it is sent by send-spoe-group and never on ` +
        `${message.event}; add it to the engine's messages to send it on the event too`,
    );
  }
}

/** Every distinct message of the engine, with whether it is sent on an event and its groups. */
function collectMessages(engine: SpoeEngine, findings: Findings) {
  const byName = new Map<string, { message: SpoeMessage; onEvent: boolean; groups: string[] }>();
  const add = (message: SpoeMessage, group: string | undefined) => {
    const known = byName.get(message.name);
    if (known && !sameMessage(known.message, message)) {
      findings.error(
        FindingCode.DuplicateName,
        `two different messages are named "${message.name}"`,
      );
      return;
    }
    const entry = known ?? { message, onEvent: false, groups: [] };
    if (group === undefined) entry.onEvent = true;
    else entry.groups.push(group);
    byName.set(message.name, entry);
  };
  for (const message of engine.messages) add(message, undefined);
  for (const [group, members] of Object.entries(engine.groups)) {
    for (const message of members) add(message, group);
  }
  for (const { message, groups } of byName.values()) {
    if (new Set(groups).size > 1) {
      findings.error(
        FindingCode.DuplicateName,
        `message "${message.name}" is in groups ${groups.join(" and ")}: HAProxy allows one group`,
      );
    }
  }
  return byName;
}

function sameMessage(a: SpoeMessage, b: SpoeMessage): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

function checkDeclarations(
  findings: Findings,
  engine: SpoeEngine,
  options: CheckOptions,
  config: ResolvedConfig,
): void {
  checkName(findings, "engine", engine.name);
  checkName(findings, "spoe-agent", engine.agent);
  checkName(findings, "backend", config.backend);
  if (!VAR_NAME.test(engine.varPrefix)) {
    findings.error(
      FindingCode.InvalidVarPrefix,
      `var-prefix ${JSON.stringify(engine.varPrefix)}: HAProxy accepts only [A-Za-z0-9_.]`,
    );
  }
  for (const group of Object.keys(engine.groups)) checkName(findings, "group", group);
  const messages = collectMessages(engine, findings);
  if (messages.size === 0) {
    findings.error(
      FindingCode.EmptyEngine,
      `engine "${engine.name}" has no message and no group: HAProxy would send nothing`,
    );
  }
  const events = spoeEvents(config.version);
  for (const { message, onEvent, groups } of messages.values()) {
    checkMessage(findings, message, events, config.versionText, groups.length > 0, onEvent);
  }

  if (VAR_NAME.test(engine.varPrefix)) {
    for (const variable of engine.variables) {
      checkVariable(findings, engine, variable.scope, variable.name);
    }
    for (const name of [engine.setOnError, engine.setProcessTime, engine.setTotalTime]) {
      if (name !== undefined) checkVariable(findings, engine, "txn", name);
    }
  }
  const hasResponseEvent = engine.messages.some((m) => m.event && isResponseEvent(m.event));
  for (const variable of engine.variables) {
    if (variable.scope === "res" && !hasResponseEvent) {
      findings.warning(
        FindingCode.ResponseVariable,
        `variable ${variableName(engine, variable)}: no message is sent on a response ` +
          `event, and HAProxy drops res variables set in answer to a request event`,
      );
    }
  }

  const agent = options.agent;
  if (agent) {
    for (const name of agent.handlers.keys()) {
      if (!messages.has(name)) {
        findings.error(
          FindingCode.HandlerWithoutMessage,
          `the agent handles "${name}", but engine "${engine.name}" never sends it ` +
            `(declared: ${[...messages.keys()].join(", ") || "none"})`,
        );
      }
    }
    if (agent.notifyHandler === undefined) {
      for (const name of messages.keys()) {
        if (!agent.handlers.has(name)) {
          findings.error(
            FindingCode.MessageWithoutHandler,
            `message "${name}" has no handler: the agent acknowledges it with no action ` +
              `(register one with agent.on(), or handle all messages with agent.onNotify())`,
          );
        }
      }
    }
  }
  if (config.agentProcessingTimeout === 0) {
    findings.warning(
      FindingCode.ProcessingTimeout,
      `the agent has no processing deadline (processingTimeout 0): when HAProxy's ` +
        `timeout processing (${config.timeoutProcessing} ms) passes, it gives up on the ` +
        `answer while the handler keeps running`,
    );
  } else if (config.timeoutProcessing <= config.agentProcessingTimeout) {
    findings.error(
      FindingCode.ProcessingTimeout,
      `timeout processing ${config.timeoutProcessing} ms is not above the agent's ` +
        `processingTimeout ${config.agentProcessingTimeout} ms: HAProxy gives up before the ` +
        `agent's fallback answer arrives`,
    );
  }
}

function proxyMode(section: CfgSection): string {
  return effective(section, (w) => (w[0] === "mode" ? w[1] : undefined)) ?? "tcp";
}

function checkHaproxyCfg(
  findings: Findings,
  engine: SpoeEngine,
  config: ResolvedConfig,
  text: string,
): void {
  const sections = parseHaproxyCfg(text);
  const proxies = sections.filter((s) => ["frontend", "backend", "listen"].includes(s.kind));
  const filtered = proxies.filter((proxy) =>
    proxy.lines.some(({ words }) => {
      const at = words.indexOf("engine");
      return words[0] === "filter" && words[1] === "spoe" && at > 0 &&
        words[at + 1] === engine.name;
    })
  );
  if (filtered.length === 0) {
    findings.error(
      FindingCode.FilterMissing,
      `no proxy has "filter spoe engine ${engine.name} config FILE": HAProxy never uses the engine`,
    );
  }
  const eventMessages = engine.messages.filter((m) => m.event !== undefined);
  const allMessages = [...engine.messages, ...Object.values(engine.groups).flat()];
  for (const proxy of filtered) {
    const where = `${proxy.kind} ${proxy.name}`;
    const buffered = effective(proxy, (w) =>
      w[0] === "option" && w[1] === "http-buffer-request"
        ? true
        : w[0] === "no" && w[1] === "option" && w[2] === "http-buffer-request"
        ? false
        : undefined) ?? false;
    for (const message of allMessages) {
      if (readsBody(message) && !buffered) {
        findings.error(
          FindingCode.BodyWithoutBuffering,
          `message "${message.name}" reads the request body, but ${where} lacks ` +
            `"option http-buffer-request": HAProxy sends what has arrived so far, often nothing`,
        );
      }
    }
    const mode = proxyMode(proxy);
    for (const message of eventMessages) {
      const event = message.event!;
      let why: string | undefined;
      if (mode !== "http" && HTTP_EVENTS.has(event)) {
        why = `${where} is in mode ${mode}`;
      } else if (proxy.kind === "backend" && isFrontendRequestEvent(event)) {
        why = `the filter is in a backend; frontend events need it in a frontend or listen section`;
      } else if (proxy.kind === "listen" && BACKEND_EVENTS.has(event)) {
        why = `HAProxy skips backend events for a filter in a listen section`;
      }
      if (why) {
        findings.warning(
          FindingCode.EventNeverFires,
          `message "${message.name}" is sent on ${event}, which never fires: ${why}`,
        );
      }
    }
  }

  const backend = proxies.find((s) => s.kind !== "frontend" && s.name === config.backend);
  if (!backend) {
    findings.error(
      FindingCode.Backend,
      `no backend "${config.backend}" (the spoe-agent's use-backend)`,
    );
  } else {
    const mode = proxyMode(backend);
    const allowed = config.version.mux ? ["spop", "tcp"] : ["tcp"];
    if (!allowed.includes(mode)) {
      findings.error(
        FindingCode.Backend,
        `backend ${config.backend} is in mode ${mode}: HAProxy ${config.versionText} needs ` +
          `mode ${allowed[0]}` + (config.version.mux ? "" : " (mode spop arrived in 3.1)"),
      );
    }
    if (
      !backend.lines.some(({ words }) => words[0] === "server" || words[0] === "server-template")
    ) {
      findings.warning(FindingCode.Backend, `backend ${config.backend} has no server line`);
    }
  }

  const sent = new Set<string>();
  for (const section of sections) {
    for (const { words } of section.lines) {
      const at = words.indexOf("send-spoe-group");
      if (at < 0 || words[at + 1] !== engine.name) continue;
      const group = words[at + 2];
      sent.add(group);
      if (!(group in engine.groups)) {
        findings.error(
          FindingCode.Group,
          `send-spoe-group ${engine.name} ${group}: the engine has no group "${group}"`,
        );
      }
    }
  }
  for (const group of Object.keys(engine.groups)) {
    if (!sent.has(group)) {
      findings.warning(
        FindingCode.Group,
        `group "${group}" is never sent: add "http-request send-spoe-group ${engine.name} ${group}"`,
      );
    }
  }

  checkVariableReferences(findings, engine, sections, text);
}

function checkVariableReferences(
  findings: Findings,
  engine: SpoeEngine,
  sections: CfgSection[],
  text: string,
): void {
  const declared = new Map<string, string>();
  for (const variable of engine.variables) {
    declared.set(variableName(engine, variable), variable.scope);
  }
  for (const name of [engine.setOnError, engine.setProcessTime, engine.setTotalTime]) {
    if (name !== undefined) declared.set(variableName(engine, { scope: "txn", name }), "txn");
  }
  const setByConfig = new Set<string>();
  for (const match of text.matchAll(/(?:set-var|unset-var|set-var-fmt)\(\s*([A-Za-z0-9_.]+)/g)) {
    setByConfig.add(match[1]);
  }
  for (const section of sections) {
    if (section.kind !== "global") continue;
    for (const { words } of section.lines) {
      if (words[0] === "set-var" || words[0] === "set-var-fmt") setByConfig.add(words[1]);
    }
  }
  const read = new Set<string>();
  for (const match of text.matchAll(/(?<![\w-])var\(\s*([A-Za-z0-9_.]+)/g)) read.add(match[1]);
  const prefix = `.${engine.varPrefix}.`;
  const byShortName = new Map<string, string>();
  for (const full of declared.keys()) byShortName.set(full.slice(full.indexOf(prefix)), full);
  for (const name of read) {
    const dot = name.indexOf(".");
    if (dot < 0 || !name.slice(dot).startsWith(prefix)) continue;
    if (declared.has(name) || setByConfig.has(name)) continue;
    const other = byShortName.get(name.slice(dot));
    findings.warning(
      FindingCode.UnknownVariable,
      `haproxy.cfg reads ${name}, which the agent does not set` +
        (other ? ` (it sets ${other}: check the scope)` : " (check the name and the var-prefix)"),
    );
  }
  for (const variable of engine.variables) {
    const full = variableName(engine, variable);
    if (variable.scope === "proc" && !read.has(full) && !setByConfig.has(full)) {
      findings.warning(
        FindingCode.ProcVariable,
        `variable ${full}: HAProxy updates a proc variable only if it exists; reference it in ` +
          `haproxy.cfg (or set it in global) so that it does`,
      );
    }
  }
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
 * for (const finding of checkConfig(engine, { haproxy: "3.2", agent })) {
 *   console.log(finding.severity, finding.code); // error handler-without-message, ...
 * }
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
