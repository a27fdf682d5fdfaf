// The limits of tests/e2e/_limits_agent.ts, shared with the cases that check them.

/** Small on purpose: real HAProxy meets the deadline and the shedding with a few requests. */
export const LIMITS = { processingTimeout: 300, maxInFlight: 2 } as const;
