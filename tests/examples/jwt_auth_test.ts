// examples/jwt_auth.ts as a process, with keys made here: an HS256 secret and an ES256 key in a key
// file, an RS256 key in a JWKS served over HTTP; valid tokens give the subject, bad ones the reason;
// a missing key source is a usage error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, generateSecret, SignJWT } from "jose";
import { Value } from "../../src/codec/mod.ts";
import { HaproxySimulator } from "../../src/testing/mod.ts";
import { ExampleProcess } from "./_example_process.ts";

function sign(
  key: Parameters<SignJWT["sign"]>[0],
  alg: string,
  kid: string,
  sub: string,
  exp: number,
): Promise<string> {
  return new SignJWT({}).setProtectedHeader({ alg, kid }).setSubject(sub).setExpirationTime(exp)
    .sign(key);
}

test("examples/jwt_auth verifies HS256, ES256 (key file) and RS256 (JWKS URL) tokens", async () => {
  const secret = await generateSecret("HS256", { extractable: true });
  const ec = await generateKeyPair("ES256", { extractable: true });
  const rsa = await generateKeyPair("RS256", { extractable: true });
  const dir = await mkdtemp(join(tmpdir(), "spoa-jwt-"));
  const keyFile = join(dir, "keys.json");
  await writeFile(
    keyFile,
    JSON.stringify({
      keys: [
        { ...(await exportJWK(secret)), kid: "hs" },
        { ...(await exportJWK(ec.publicKey)), kid: "ec", alg: "ES256" },
      ],
    }),
  );
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(rsa.publicKey)), kid: "rsa" }] });
  let fetched = 0;
  const server = http.createServer((_, res) => {
    fetched++;
    res.writeHead(200, { "content-type": "application/json" }).end(jwks);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  const soon = Math.floor(Date.now() / 1000) + 300;
  try {
    const example = await ExampleProcess.start("jwt_auth", {
      args: ["--key", keyFile, "--jwks", url],
      permissions: ["--allow-read"],
    });
    try {
      const haproxy = await HaproxySimulator.connectSocket({ port: example.port });
      const check = async (authorization: string | null) =>
        (await haproxy.notify([{
          name: "check-jwt",
          args: { authorization: authorization === null ? Value.null() : authorization },
        }])).vars;
      try {
        await haproxy.hello();
        const ok = (sub: string) => ({ "txn.auth_ok": true, "txn.auth_sub": sub });
        const refused = (error: string) => ({ "txn.auth_ok": false, "txn.auth_error": error });
        assert.deepEqual(
          await check(`Bearer ${await sign(secret, "HS256", "hs", "alice", soon)}`),
          ok("alice"),
        );
        assert.deepEqual(
          await check(`Bearer ${await sign(ec.privateKey, "ES256", "ec", "bob", soon)}`),
          ok("bob"),
        );
        assert.deepEqual(
          await check(`Bearer ${await sign(rsa.privateKey, "RS256", "rsa", "carol", soon)}`),
          ok("carol"),
        );
        assert.equal(fetched, 1);
        assert.deepEqual(
          await check(`Bearer ${await sign(secret, "HS256", "hs", "dave", soon - 600)}`),
          refused("expired"),
        );
        // An HS256 token whose kid names the EC key: no HMAC secret has that kid.
        assert.deepEqual(
          await check(`Bearer ${await sign(secret, "HS256", "ec", "eve", soon)}`),
          refused("unknown_key"),
        );
        assert.deepEqual(await check(null), refused("missing_token"));
        assert.deepEqual(await check("Token abc"), refused("not_bearer"));
      } finally {
        haproxy.close();
      }
      assert.deepEqual(await example.stop(), { code: 0, signal: null }, example.output);
    } finally {
      example.kill();
    }
    await assert.rejects(
      ExampleProcess.start("jwt_auth"),
      /exited \(2\) before listening[\s\S]*needs --key FILE \(a JWKS file\), --jwks URL, or both/,
    );
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
