/**
 * An IP reputation agent: HAProxy sends each client address in the message
 * `get-ip-reputation` (argument `ip`), and the agent answers with the session
 * variable `ip_score`, an integer from 0 to 100 that the configuration can use
 * in ACLs (`http-request deny if { var(sess.iprep.ip_score) -m int lt 20 }`).
 *
 * The score here is derived from the address bytes (examples/ip_score.ts), so
 * results are reproducible; a real agent would look the address up.
 *
 * Run it (address: `HOST:PORT` or a Unix socket path; default 127.0.0.1:12345):
 *
 *     deno run --allow-net examples/ip_reputation.ts 127.0.0.1:12345
 *     bun run examples/ip_reputation.ts 127.0.0.1:12345
 *     node examples/ip_reputation.ts 127.0.0.1:12345      # Node 24
 *
 * HAProxy configurations for it are in examples/haproxy/; or write one for
 * your HAProxy version (2.6, 3.0, 3.2, ...) with a trial frontend on port 8080:
 *
 *     deno run --allow-write examples/ip_reputation.ts 127.0.0.1:12345 \
 *       --print-config /tmp/iprep --haproxy 3.2 --frontend 8080
 *
 * @module
 */

import { Agent, Ipv4Address, Ipv6Address } from "../mod.ts";
import { defineEngine, defineMessage } from "../src/config/mod.ts";
import { serve } from "./_cli.ts";
import { ipScore } from "./ip_score.ts";

/** What HAProxy sends on each new client session. */
const getIpReputation = defineMessage({
  name: "get-ip-reputation",
  args: { ip: "src" },
  event: "on-client-session",
});

/** The engine: `--print-config` generates its SPOE file and haproxy.cfg. */
const engine = defineEngine({
  name: "iprep",
  messages: [getIpReputation],
  variables: [{ scope: "sess", name: "ip_score", type: "int" }],
});

const agent = new Agent();
agent.on(getIpReputation, (message, context) => {
  const ip = message.get("ip");
  if (ip instanceof Ipv4Address || ip instanceof Ipv6Address) {
    context.setVar("sess", "ip_score", ipScore(ip));
  }
});
await serve(agent, engine, "ip_reputation agent");
