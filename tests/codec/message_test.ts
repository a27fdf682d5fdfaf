// Lists of messages: names come through a cache keyed by their bytes; it must never answer a name
// for other bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ByteWriter } from "../../src/codec/byte_writer.ts";
import { decodeMessages, writeMessages } from "../../src/codec/message.ts";
import { NamedValue } from "../../src/codec/kv_list.ts";
import { DataType } from "../../src/codec/typed_value.ts";

test("decodeMessages() gives each name back exactly, even names sharing a cache slot", () => {
  // 26 × 26 two-letter names (and as many argument names) overflow a 256-slot cache many times.
  const letters = "abcdefghijklmnopqrstuvwxyz";
  const names: string[] = [];
  for (const a of letters) for (const b of letters) names.push(a + b);
  for (let round = 0; round < 2; round++) {
    for (const name of names) {
      const writer = new ByteWriter(64);
      writeMessages(writer, [{
        name,
        args: [new NamedValue(name.toUpperCase(), DataType.String, name)],
      }]);
      const [message] = decodeMessages(writer.take());
      assert.equal(message.name, name);
      assert.equal(message.args[0].name, name.toUpperCase());
      assert.equal(message.get(name.toUpperCase()), name);
    }
  }
});
