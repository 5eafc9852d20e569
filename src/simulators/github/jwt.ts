import { generateKeyPairSync, type KeyObject, verify } from "node:crypto";

/**
 * The simulated GitHub App's key pair and the checks GitHub applies to an app JWT: RS256 signature
 * by the app's key, `iss` = the app id, `iat` not in the future, `exp` in the future and at most
 * 10 minutes after `iat`. Failures carry GitHub's own messages.
 */

export interface AppKeys {
  privateKeyPem: string;
  publicKey: KeyObject;
}

export function generateAppKeys(): AppKeys {
  // GitHub hands out PKCS#1 PEM files ("BEGIN RSA PRIVATE KEY").
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { privateKeyPem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(), publicKey };
}

const CLOCK_SKEW_S = 60;
const MAX_LIFETIME_S = 600;
const UNDECODABLE = "A JSON web token could not be decoded";

export function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
}

/** Null when the JWT is valid for this app, else GitHub's 401 message. */
export function jwtProblem(token: string, keys: AppKeys, appId: string, nowMs = Date.now()): string | null {
  if (!looksLikeJwt(token)) return UNDECODABLE;
  const [h, p, s] = token.split(".");
  let header: { alg?: string };
  let claims: { iat?: unknown; exp?: unknown; iss?: unknown };
  try {
    header = JSON.parse(Buffer.from(h, "base64url").toString("utf8"));
    claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8"));
  } catch {
    return UNDECODABLE;
  }
  if (header.alg !== "RS256") return UNDECODABLE;
  const signed = verify("sha256", Buffer.from(`${h}.${p}`), keys.publicKey, Buffer.from(s, "base64url"));
  if (!signed) return UNDECODABLE;
  if (String(claims.iss) !== appId) return "'Issuer' claim ('iss') must be an Integer";
  const now = Math.floor(nowMs / 1000);
  if (typeof claims.iat !== "number" || claims.iat > now + CLOCK_SKEW_S) {
    return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.";
  }
  if (typeof claims.exp !== "number" || claims.exp <= now) {
    return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.";
  }
  if (claims.exp - claims.iat > MAX_LIFETIME_S + CLOCK_SKEW_S || claims.exp > now + MAX_LIFETIME_S) {
    return "'Expiration time' claim ('exp') is too far in the future";
  }
  return null;
}
