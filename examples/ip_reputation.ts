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
 * HAProxy configurations for it are in examples/haproxy/.
 *
 * @module
 */

import { Agent, Ipv4Address, Ipv6Address } from "../mod.ts";
import { closeOnSignals, parseAddress, scriptArgs } from "./_cli.ts";
import { ipScore } from "./ip_score.ts";

const agent = new Agent();
agent.on("get-ip-reputation", (message, context) => {
  const ip = message.get("ip");
  if (ip instanceof Ipv4Address || ip instanceof Ipv6Address) {
    context.setVar("sess", "ip_score", ipScore(ip));
  }
});
const server = await agent.listen(parseAddress(scriptArgs()[0]));
console.log("ip_reputation agent listening on", JSON.stringify(server.address));
closeOnSignals(server);
