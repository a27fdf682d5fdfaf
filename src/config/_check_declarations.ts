/**
 * The checks of an engine declaration and its agent, without any
 * haproxy.cfg: names, var-prefix, variables, events, handlers, timeouts.
 *
 * @module
 */

import { MAX_VAR_NAME_LENGTH } from "../codec/action.ts";
import type { ConfigOptions, ResolvedConfig } from "./config_options.ts";
import { type SpoeEngine, variableName } from "./define_engine.ts";
import type { SpoeMessage } from "./define_message.ts";
import { FindingCode, type Findings } from "./finding.ts";
import { isResponseEvent, spoeEvents } from "./spoe_event.ts";

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

const utf8 = new TextEncoder();

/**
 * @internal Whether a message argument reads the request body (`req.body` and its relatives).
 * @param message The message.
 * @returns Whether one does.
 */
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

/**
 * @internal Checks the declarations and the agent.
 * @param findings Where findings go.
 * @param engine The engine.
 * @param options The options.
 * @param config The resolved options.
 */
export function checkDeclarations(
  findings: Findings,
  engine: SpoeEngine,
  options: ConfigOptions,
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
    const handled = new Set(agent.messageNames);
    for (const name of handled) {
      if (!messages.has(name)) {
        findings.error(
          FindingCode.HandlerWithoutMessage,
          `the agent handles "${name}", but engine "${engine.name}" never sends it ` +
            `(declared: ${[...messages.keys()].join(", ") || "none"})`,
        );
      }
    }
    if (!agent.hasNotifyHandler) {
      for (const name of messages.keys()) {
        if (!handled.has(name)) {
          findings.error(
            FindingCode.MessageWithoutHandler,
            `message "${name}" has no handler: the agent acknowledges it with no action ` +
              `(register one with agent.on(), or handle all messages with agent.onNotify())`,
          );
        }
      }
    }
  }
  checkFrameSize(findings, config);
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

/** SPOE.txt: max-frame-size is at least 256 bytes. */
const MIN_FRAME_SIZE = 256;

function checkFrameSize(findings: Findings, config: ResolvedConfig): void {
  const { maxFrameSize, frameSizeLimit, agentMaxFrameSize } = config;
  if (
    maxFrameSize !== undefined && (maxFrameSize < MIN_FRAME_SIZE || maxFrameSize > frameSizeLimit)
  ) {
    findings.error(
      FindingCode.FrameSize,
      `max-frame-size ${maxFrameSize}: HAProxy accepts ${MIN_FRAME_SIZE} to tune.bufsize - 4 ` +
        `(${frameSizeLimit}${config.bufsize === undefined ? ", with the default bufsize" : ""})`,
    );
    return;
  }
  const announced = maxFrameSize ?? frameSizeLimit;
  if (agentMaxFrameSize !== undefined && announced > agentMaxFrameSize) {
    findings.warning(
      FindingCode.FrameSize,
      `HAProxy announces max-frame-size ${announced} and the agent settles on its ` +
        `maxFrameSize ${agentMaxFrameSize}: a NOTIFY larger than that fails with ` +
        (config.version.mux
          ? `set-on-error 259`
          : `set-on-error 259 until each HAProxy thread has seen the agent's size, and ` +
            `goes in fragments after that`) +
        ` (leave the maxFrameSize option out to use the agent's)`,
    );
  }
}
