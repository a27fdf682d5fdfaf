/**
 * The checks of an engine against a hand-written haproxy.cfg: the filter's
 * proxy, the agents backend, `send-spoe-group` rules, the variables it reads.
 *
 * @module
 */

import { type CfgSection, effective, parseHaproxyCfg } from "./_haproxy_cfg.ts";
import { readsBody } from "./_check_declarations.ts";
import type { ResolvedConfig } from "./config_options.ts";
import { type SpoeEngine, variableName } from "./define_engine.ts";
import { FindingCode, type Findings } from "./finding.ts";
import { isFrontendRequestEvent } from "./spoe_event.ts";

const HTTP_EVENTS = new Set([
  "on-frontend-http-request",
  "on-backend-http-request",
  "on-http-response",
]);
const BACKEND_EVENTS = new Set(["on-backend-tcp-request", "on-backend-http-request"]);

function proxyMode(section: CfgSection): string {
  return effective(section, (w) => (w[0] === "mode" ? w[1] : undefined)) ?? "tcp";
}

/**
 * @internal Checks the engine against a haproxy.cfg.
 * @param findings Where findings go.
 * @param engine The engine.
 * @param config The resolved options.
 * @param text The haproxy.cfg.
 */
export function checkHaproxyCfg(
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

  checkBufsize(findings, config, sections);
  checkVariableReferences(findings, engine, sections, text);
}

/** With the `bufsize` option, the haproxy.cfg's `tune.bufsize` must be the same. */
function checkBufsize(findings: Findings, config: ResolvedConfig, sections: CfgSection[]): void {
  if (config.bufsize === undefined) return;
  let found: string | undefined;
  for (const section of sections.filter((s) => s.kind === "global")) {
    for (const { words } of section.lines) if (words[0] === "tune.bufsize") found = words[1];
  }
  if (found !== String(config.bufsize)) {
    findings.warning(
      FindingCode.FrameSize,
      `haproxy.cfg ${
        found === undefined
          ? "has no tune.bufsize (16384 by default)"
          : `sets tune.bufsize ${found}`
      }, the declaration ${config.bufsize}: add "tune.bufsize ${config.bufsize}" to global`,
    );
  }
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
