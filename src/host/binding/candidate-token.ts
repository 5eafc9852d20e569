import { createHmac, timingSafeEqual } from "node:crypto";
import { AppError } from "../http/errors.ts";

/**
 * Candidate tokens (`cand_…`): short-lived handles for "this resource of this installation, for this
 * team". HMAC-signed so they cannot be forged or altered; one HMAC each, so minting 10,000 for an
 * inventory page costs milliseconds. Lifetime: CANDIDATE_TOKEN_TTL_SECONDS (documented default 15 minutes).
 */
export const CANDIDATE_TOKEN_TTL_SECONDS = 15 * 60;

export interface CandidateClaims {
  teamId: string;
  provider: string;
  installationId: string;
  resourceId: string;
}

export const invalidCandidateToken = (why: string) =>
  new AppError(
    400,
    "invalid_candidate_token",
    `The candidate token is ${why}. Run \`spec-kitty tracker bind\` again to get fresh candidates.`,
    {
      userActionRequired: true,
      withCategory: true,
    },
  );

export function candidateTokens(key: Buffer, ttlSeconds = CANDIDATE_TOKEN_TTL_SECONDS) {
  const sign = (body: string) => createHmac("sha256", key).update(body).digest("base64url").slice(0, 32);

  return {
    mint(c: CandidateClaims, now = Date.now()): string {
      const exp = Math.floor(now / 1000) + ttlSeconds;
      const body = Buffer.from(
        JSON.stringify([1, c.teamId, c.provider, c.installationId, c.resourceId, exp]),
      ).toString("base64url");
      return `cand_${body}.${sign(body)}`;
    },

    /** Verifies signature, expiry and team; another team's token is as invalid as a forged one. */
    verify(token: string, expect: { teamId: string; provider?: string }, now = Date.now()): CandidateClaims {
      const m = /^cand_([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{32})$/.exec(token);
      if (!m) throw invalidCandidateToken("malformed");
      const good = Buffer.from(sign(m[1]));
      const given = Buffer.from(m[2]);
      if (good.length !== given.length || !timingSafeEqual(good, given))
        throw invalidCandidateToken("not valid");
      const [v, teamId, provider, installationId, resourceId, exp] = JSON.parse(
        Buffer.from(m[1], "base64url").toString("utf8"),
      );
      if (v !== 1 || teamId !== expect.teamId) throw invalidCandidateToken("not valid");
      if (expect.provider && provider !== expect.provider)
        throw invalidCandidateToken(`for ${provider}, not ${expect.provider}`);
      if (exp * 1000 < now) throw invalidCandidateToken("expired");
      return { teamId, provider, installationId, resourceId };
    },
  };
}

export type CandidateTokens = ReturnType<typeof candidateTokens>;
