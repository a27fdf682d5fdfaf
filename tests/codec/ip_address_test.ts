// IPv4 and IPv6 addresses: the IPv4-mapped form of RFC 5952, where a dotted IPv4 tail may appear,
// and the errors (more cases in typed_value_test.ts, with the typed values that carry them).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Ipv4Address, Ipv6Address, parseIpAddress } from "../../src/codec/ip_address.ts";

test("Ipv6Address prints the dotted IPv4-mapped form only for ::ffff:0:0/96", () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["::ffff:1.2.3.4", "::ffff:1.2.3.4"],
    ["0:0:0:0:0:ffff:102:304", "::ffff:1.2.3.4"],
    // One non-zero word anywhere in the first five, or another sixth word: plain hex words.
    ["1::ffff:102:304", "1::ffff:102:304"],
    ["0:1::ffff:102:304", "0:1::ffff:102:304"],
    ["0:0:1::ffff:102:304", "::1:0:0:ffff:102:304"],
    ["::1:0:ffff:102:304", "::1:0:ffff:102:304"],
    ["::1:ffff:102:304", "::1:ffff:102:304"],
    ["::fffe:102:304", "::fffe:102:304"],
    ["::102:304", "::102:304"],
  ];
  for (const [input, printed] of cases) {
    assert.equal(String(Ipv6Address.parse(input)), printed, input);
  }
});

test("Ipv6Address.parse() takes a dotted IPv4 tail only as the last part", () => {
  assert.equal(String(Ipv6Address.parse("0:0:0:0:0:ffff:192.0.2.1")), "::ffff:192.0.2.1");
  assert.equal(String(Ipv6Address.parse("1:2:3:4:5:6:1.2.3.4")), "1:2:3:4:5:6:102:304");
  for (const text of ["1.2.3.4::", "1.2.3.4::1", "1:1.2.3.4::", "1.2.3.4:1::", "::1.2.3.4:1"]) {
    assert.throws(() => Ipv6Address.parse(text), {
      name: "TypeError",
      message: `Not an IPv6 address: "${text}"`,
    });
  }
});

test("Ipv6Address.parse() and Ipv4Address.parse() name the text they reject", () => {
  for (const text of ["zz::1", "1::zz", "::1.2.3", "::300.1.1.1", "1:2:3:4:5:6:7:8:9", "::-1"]) {
    assert.throws(() => Ipv6Address.parse(text), {
      name: "TypeError",
      message: `Not an IPv6 address: "${text}"`,
    });
  }
  for (const text of ["1.2.3", "1.2.3.256", "01.2.3.4", "a.b.c.d", ""]) {
    assert.throws(() => Ipv4Address.parse(text), {
      name: "TypeError",
      message: `Not an IPv4 address: "${text}"`,
    });
  }
  assert.throws(() => parseIpAddress("1::2::3"), { message: 'Not an IPv6 address: "1::2::3"' });
});

test("the address constructors take exactly 4 or 16 bytes", () => {
  assert.throws(() => new Ipv4Address(new Uint8Array(16)), {
    name: "RangeError",
    message: "An IPv4 address has 4 bytes, not 16",
  });
  assert.throws(() => new Ipv6Address(new Uint8Array(4)), {
    name: "RangeError",
    message: "An IPv6 address has 16 bytes, not 4",
  });
  const bytes = new Uint8Array([192, 0, 2, 7]);
  assert.equal(new Ipv4Address(bytes).bytes, bytes, "not copied");
});
