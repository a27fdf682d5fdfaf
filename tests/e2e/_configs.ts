// Renders tests/e2e/templates/{haproxy.cfg,spoe.conf} for one HAProxy version into a directory.
// Template syntax: {{NAME}} is replaced by a value; {{#legacy}}...{{/legacy}} is kept only for
// 2.6/3.0 and {{^legacy}}...{{/legacy}} only for 3.1+. A name without a value is an error.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isLegacy, REPO, type Version } from "./_env.ts";

const TEMPLATES = join(REPO, "tests/e2e/templates");

/** Arguments of the echo engine's `msg-all`: every type HAProxy sends, a null, a nameless arg. */
export const ECHO_ARGS = [
  "ip=src",
  "ip6=req.hdr_ip(x-real-ip)",
  "s=str(hello-spoa)",
  "u=req.hdr(x-utf8)",
  "ineg=int(-1)",
  "ineg2=int(-123456789)",
  "izero=int(0)",
  "ipos=int(42)",
  "i239=int(239)",
  "i240=int(240)",
  "i2287=int(2287)",
  "i2288=int(2288)",
  "imax=int(9223372036854775807)",
  "imin=int(-9223372036854775808)",
  "bt=bool(1)",
  "bf=bool(0)",
  "b=bin(deadbeef00ff)",
  "meth=method",
  "hdrs=req.hdrs",
  "body=req.body",
  "missing=req.hdr(x-missing)",
  "str(anon)",
  "uniq=req.hdr(x-uniq)",
];

/** Variables printed by fe_echo (txn.echo.NAME); `true` = printed through the `hex` converter. */
export const ECHO_FIELDS: [string, boolean][] = [
  ...ECHO_ARGS.filter((a) => a.includes("=")).map((a): [string, boolean] => {
    const name = a.split("=")[0];
    return [name, ["u", "b", "hdrs", "body"].includes(name)];
  }),
  ["path", false],
  ["m2", false],
  ["g", false],
  ["gint", false],
  ["err", false],
];

function echoResponse(): string {
  return ECHO_FIELDS.map(([n, hex]) => `${n}=%[var(txn.echo.${n})${hex ? ",hex" : ""}]\\n`).join(
    "",
  );
}

export function render(template: string, legacy: boolean, values: Record<string, string>): string {
  let out = template.replace(
    /\{\{([#^])legacy\}\}\n?([\s\S]*?)\{\{\/legacy\}\}\n?/g,
    (_m, kind: string, body: string) => (kind === "#") === legacy ? body : "",
  );
  out = out.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_m, name: string) => {
    if (!(name in values)) throw new Error(`template: no value for {{${name}}}`);
    return values[name];
  });
  if (out.includes("{{")) {
    throw new Error(`template: unparsed marker near ${out.slice(out.indexOf("{{"), 40)}`);
  }
  return out;
}

export interface Ports {
  ready: number;
  iprep: number;
  iprepSrc: number;
  echo: number;
  conc: number;
  frag: number;
  ha: number;
  agentIprep: number;
  agentEcho: number;
  agentH1: number;
  agentH2: number;
  lim: number;
  agentLim: number;
}

export interface Rendered {
  haproxyCfg: string;
  spoeConf: string;
  statsSock: string;
}

export function writeConfigs(
  dir: string,
  version: Version,
  ports: Ports,
  iprepUnixPath: string,
): Rendered {
  const legacy = isLegacy(version);
  const spoeConf = join(dir, "spoe.conf");
  const haproxyCfg = join(dir, "haproxy.cfg");
  const statsSock = join(dir, "stats.sock");
  const common = { VERSION: version };
  writeFileSync(
    spoeConf,
    render(readFileSync(join(TEMPLATES, "spoe.conf"), "utf8"), legacy, {
      ...common,
      ECHO_ARGS: ECHO_ARGS.join(" "),
    }),
  );
  writeFileSync(
    haproxyCfg,
    render(readFileSync(join(TEMPLATES, "haproxy.cfg"), "utf8"), legacy, {
      ...common,
      STATS_SOCK: statsSock,
      SPOE_CONF: spoeConf,
      SPOP_MODE: legacy ? "tcp" : "spop",
      ECHO_RESPONSE: echoResponse(),
      P_READY: String(ports.ready),
      P_IPREP: String(ports.iprep),
      P_IPREP_SRC: String(ports.iprepSrc),
      P_ECHO: String(ports.echo),
      P_CONC: String(ports.conc),
      P_FRAG: String(ports.frag),
      P_HA: String(ports.ha),
      A_IPREP: String(ports.agentIprep),
      A_IPREP_UNIX: iprepUnixPath,
      A_ECHO: String(ports.agentEcho),
      A_H1: String(ports.agentH1),
      A_H2: String(ports.agentH2),
      P_LIM: String(ports.lim),
      A_LIM: String(ports.agentLim),
    }),
  );
  return { haproxyCfg, spoeConf, statsSock };
}
