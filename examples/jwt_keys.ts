/**
 * The keys and verdicts of the JWT example (examples/jwt_auth.ts), on their
 * own so that they can be imported without starting the agent: the key
 * lookup (a JWKS file, a JWKS URL, or both) and the reasons a token fails.
 * The cryptography is jose's (https://github.com/panva/jose).
 *
 * @module
 */

import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type CryptoKey,
  errors,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
  jwtVerify,
} from "jose";

/** The algorithms accepted: an HMAC secret, RSA and P-256 keys. */
export const ALGORITHMS: readonly string[] = ["HS256", "RS256", "ES256"];

/** Where the keys come from. */
export interface KeySources {
  /** A JWKS file: public RSA and EC keys, and `oct` keys (the HS256 secrets). */
  readonly jwks?: JSONWebKeySet;
  /** A JWKS URL: fetched on first use and when a token names an unknown `kid`, then cached. */
  readonly jwksUrl?: URL;
  /**
   * The longest wait for the JWKS URL, in ms.
   *
   * @default {1000}
   */
  readonly timeout?: number;
}

/** What {@linkcode verifyBearer} decides. */
export type Verdict =
  | { readonly ok: true; readonly sub: string | undefined }
  | { readonly ok: false; readonly error: string };

/** A token's key lookup, as `jwtVerify` takes it. */
export type KeyLookup = (
  header: JWSHeaderParameters,
  token: FlattenedJWSInput,
) => Promise<CryptoKey | JWK>;

/**
 * Reads a key file: a JWKS (`{ "keys": [...] }`) or a single JWK.
 *
 * @param text The file's JSON.
 * @returns The keys, as a JWKS.
 * @throws {SyntaxError} For text that is not JSON.
 * @throws {TypeError} For JSON that is neither a JWKS nor a JWK.
 */
export function parseKeyFile(text: string): JSONWebKeySet {
  const json = JSON.parse(text) as Partial<JSONWebKeySet> & JWK;
  const jwks = Array.isArray(json.keys) ? json as JSONWebKeySet : { keys: [json] };
  if (jwks.keys.some((key) => typeof key?.kty !== "string")) {
    throw new TypeError("Invalid key file: expected a JWKS ({ keys: [...] }) or one JWK");
  }
  return jwks;
}

/**
 * The key lookup of a token: HS256 tokens take an `oct` key of the file
 * (the one with the token's `kid`, or the only one); RS256 and ES256 tokens a
 * public key of the file, else of the JWKS URL. jose checks that the key's
 * type fits the algorithm.
 *
 * @param sources The key file's keys and the JWKS URL.
 * @returns The lookup.
 * @throws {TypeError} When there is no key source at all.
 */
export function keyLookup(sources: KeySources): KeyLookup {
  const keys = sources.jwks?.keys ?? [];
  const secrets = keys.filter((key) => key.kty === "oct");
  const publicKeys = keys.filter((key) => key.kty !== "oct");
  const local = publicKeys.length > 0 ? createLocalJWKSet({ keys: publicKeys }) : undefined;
  const remote = sources.jwksUrl
    ? createRemoteJWKSet(sources.jwksUrl, {
      timeoutDuration: sources.timeout ?? 1000,
      cacheMaxAge: 10 * 60_000, // refetched after ten minutes
      cooldownDuration: 30_000, // at most one refetch for unknown kids every 30 s
    })
    : undefined;
  if (keys.length === 0 && !remote) throw new TypeError("No keys: give a key file or a JWKS URL");
  return async (header, token) => {
    if (header.alg === "HS256") {
      const matching = secrets.filter((key) =>
        (header.kid === undefined ? secrets.length === 1 : key.kid === header.kid) &&
        (key.alg === undefined || key.alg === "HS256") &&
        (key.use === undefined || key.use === "sig")
      );
      if (matching.length !== 1) throw new errors.JWKSNoMatchingKey();
      return matching[0];
    }
    if (local) {
      try {
        return await local(header, token);
      } catch (error) {
        if (!remote || !(error instanceof errors.JWKSNoMatchingKey)) throw error;
      }
    }
    if (!remote) throw new errors.JWKSNoMatchingKey();
    try {
      return await remote(header, token);
    } catch (error) {
      // A refused connection or a reset rejects fetch() with a plain error.
      if (error instanceof errors.JOSEError) throw error;
      throw new errors.JOSEError("Failed to fetch the JSON Web Key Set", { cause: error });
    }
  };
}

/** jose's error codes, as the short reasons the agent reports in `auth_error`. */
const REASONS: Readonly<Record<string, string>> = {
  ERR_JWT_EXPIRED: "expired",
  ERR_JWT_CLAIM_VALIDATION_FAILED: "invalid_claims",
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: "bad_signature",
  ERR_JWKS_NO_MATCHING_KEY: "unknown_key",
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: "bad_signature",
  ERR_JWKS_TIMEOUT: "jwks_timeout",
  ERR_JWKS_INVALID: "jwks_invalid",
  ERR_JOSE_ALG_NOT_ALLOWED: "alg_not_allowed",
  ERR_JOSE_NOT_SUPPORTED: "alg_not_allowed",
  ERR_JWS_INVALID: "malformed",
  ERR_JWT_INVALID: "malformed",
  ERR_JWK_INVALID: "unknown_key",
  ERR_JOSE_GENERIC: "jwks_unavailable", // the JWKS URL: refused, not 200, not JSON
};

/**
 * Checks the value of an `Authorization` header: a `Bearer` token, signed
 * with an accepted algorithm by a known key, within its `exp` and `nbf`.
 *
 * @param authorization The header's value, if any.
 * @param lookup The key lookup.
 * @returns The subject when valid, else the reason: `missing_token`,
 *   `not_bearer`, `malformed`, `alg_not_allowed`, `unknown_key`,
 *   `bad_signature`, `expired`, `invalid_claims`, `jwks_timeout`,
 *   `jwks_invalid` or `jwks_unavailable`.
 * @throws What is not a verdict on the token (a bug): the agent then sends its fallback.
 */
export async function verifyBearer(
  authorization: unknown,
  lookup: KeyLookup,
): Promise<Verdict> {
  if (typeof authorization !== "string" || authorization.trim() === "") {
    return { ok: false, error: "missing_token" };
  }
  const match = /^\s*Bearer\s+([A-Za-z0-9_.~+/-]+=*)\s*$/i.exec(authorization);
  if (!match) return { ok: false, error: "not_bearer" };
  try {
    const { payload } = await jwtVerify(match[1], lookup, { algorithms: [...ALGORITHMS] });
    return { ok: true, sub: typeof payload.sub === "string" ? payload.sub : undefined };
  } catch (error) {
    const reason = error instanceof errors.JOSEError ? REASONS[error.code] : undefined;
    if (reason === undefined) throw error;
    return { ok: false, error: reason };
  }
}
