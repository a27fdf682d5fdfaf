// A small agent for the mutual TLS case: listens with TLS on the address given, asks HAProxy for
// a client certificate signed by the CA at $SPOA_TLS_DIR/ca.pem, and scores get-ip-reputation
// with the last byte of the address. Run: RUNTIME tests/e2e/_tls_agent.ts HOST:PORT
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { Agent, Ipv4Address, stopOnSignals } from "../../mod.ts";

const dir = process.env.SPOA_TLS_DIR ?? ".";
const [host, port] = (process.argv.at(-1) ?? "127.0.0.1:12345").split(":");
const agent = new Agent().on("check", (message, context) => {
  const ip = message.get("ip");
  if (ip instanceof Ipv4Address) context.setVar("sess", "ip_score", ip.bytes[3]);
});
const server = await agent.listen({
  hostname: host,
  port: Number(port),
  tls: {
    cert: readFileSync(join(dir, "server.pem"), "utf8"),
    key: readFileSync(join(dir, "server.key"), "utf8"),
    ca: readFileSync(join(dir, "ca.pem"), "utf8"),
  },
});
stopOnSignals(server);
console.log("tls agent listening on", JSON.stringify(server.address));
