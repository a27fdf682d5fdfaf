/**
 * The score of the IP reputation example (examples/ip_reputation.ts), on its
 * own so that it can be imported without starting the agent.
 *
 * @module
 */

import type { Ipv4Address, Ipv6Address } from "../mod.ts";

/**
 * The reputation of an address: a stable score from 0 to 100.
 *
 * @param address The client address.
 * @returns The score.
 */
export function ipScore(address: Ipv4Address | Ipv6Address): number {
  let hash = 0;
  for (const byte of address.bytes) hash = (hash * 31 + byte) % 1_000_003;
  return hash % 101;
}
