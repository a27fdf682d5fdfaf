// Independent re-implementation of ipScore() from examples/ip_score.ts (the test does not
// import the example): over the address bytes in network order (4 for IPv4, 16 for IPv6),
// hash = (hash * 31 + byte) mod 1_000_003; score = hash mod 101.
import { isIPv4, isIPv6 } from "node:net";

export function addressBytes(addr: string): number[] {
  if (isIPv4(addr)) return addr.split(".").map(Number);
  if (!isIPv6(addr) || addr.includes(".")) throw new Error(`unsupported address ${addr}`);
  const [head, tail] = addr.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.flatMap((g) => {
    const v = parseInt(g, 16);
    return [v >> 8, v & 0xff];
  });
}

export function expectedScore(addr: string): number {
  let hash = 0;
  for (const byte of addressBytes(addr)) hash = (hash * 31 + byte) % 1_000_003;
  return hash % 101;
}
