/**
 * The SPOE events a message can be sent on, and which HAProxy versions have
 * them.
 *
 * @module
 */

/**
 * The events of `spoe-message ... event NAME`. HAProxy 2.6, 3.0, 3.2 and 3.4
 * accept exactly these eight (SPOE.txt §2.3 of each version; any other name is
 * a configuration error, "unknown event").
 */
export const SpoeEvent = {
  /** A new client session; frontend or listen filters only. */
  ClientSession: "on-client-session",
  /** Before the frontend's `tcp-request content` rules. */
  FrontendTcpRequest: "on-frontend-tcp-request",
  /** Before the backend's `tcp-request content` rules; skipped in a listen section. */
  BackendTcpRequest: "on-backend-tcp-request",
  /** Before the frontend's `http-request` rules. */
  FrontendHttpRequest: "on-frontend-http-request",
  /** Before the backend's `http-request` rules; skipped in a listen section. */
  BackendHttpRequest: "on-backend-http-request",
  /** When the connection to the server is established. */
  ServerSession: "on-server-session",
  /** Before the `tcp-response content` rules. */
  TcpResponse: "on-tcp-response",
  /** Before the `http-response` rules. */
  HttpResponse: "on-http-response",
} as const;

/** One of the eight SPOE event names. */
export type SpoeEvent = typeof SpoeEvent[keyof typeof SpoeEvent];

const ALL_EVENTS: readonly SpoeEvent[] = Object.values(SpoeEvent);

/** Events that fire before the frontend's own rules are done: a frontend that answers sees them. */
const FRONTEND_REQUEST_EVENTS: ReadonlySet<string> = new Set([
  SpoeEvent.ClientSession,
  SpoeEvent.FrontendTcpRequest,
  SpoeEvent.FrontendHttpRequest,
]);

/** Events that fire on the response. */
const RESPONSE_EVENTS: ReadonlySet<string> = new Set([
  SpoeEvent.TcpResponse,
  SpoeEvent.HttpResponse,
]);

/**
 * The events a HAProxy version accepts. Every version from 2.6 to 3.4 has the
 * same eight.
 *
 * @param _version The target version (the list is the same for all supported versions).
 * @returns The event names.
 *
 * @example
 * ```ts
 * import { spoeEvents } from "@spoa/agent/config";
 * console.log(spoeEvents({ major: 3, minor: 2 }).length); // 8
 * ```
 */
export function spoeEvents(_version: { major: number; minor: number }): readonly SpoeEvent[] {
  return ALL_EVENTS;
}

/**
 * Tells whether an event fires while the frontend processes the request,
 * before its `http-request` rules end: such messages are answered even when
 * the frontend replies itself (`http-request return`).
 *
 * @param event An event name.
 * @returns `true` for `on-client-session`, `on-frontend-tcp-request` and `on-frontend-http-request`.
 *
 * @example
 * ```ts
 * import { isFrontendRequestEvent } from "@spoa/agent/config";
 * console.log(isFrontendRequestEvent("on-http-response")); // false
 * ```
 */
export function isFrontendRequestEvent(event: string): boolean {
  return FRONTEND_REQUEST_EVENTS.has(event);
}

/**
 * Tells whether an event fires on the response (`res` variables set in
 * answer to any other event are dropped by HAProxy).
 *
 * @param event An event name.
 * @returns `true` for `on-tcp-response` and `on-http-response`.
 *
 * @example
 * ```ts
 * import { isResponseEvent } from "@spoa/agent/config";
 * console.log(isResponseEvent("on-http-response")); // true
 * ```
 */
export function isResponseEvent(event: string): boolean {
  return RESPONSE_EVENTS.has(event);
}
