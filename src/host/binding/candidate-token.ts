import { createHmac, timingSafeEqual } from "node:crypto";
import { DomainError } from "../errors/domain-error.ts";

/**
 * Candidate tokens (`cand_<resource id>.<expiry>.<mac>`): short-lived handles for "this resource of
 * this installation, for this team and provider". The MAC (HMAC-SHA-256, 128 bits kept) covers team,
 * provider, installation, resource and expiry, but only the resource id and expiry travel: the rest is
 * read back from the caller's team and the resource row when the token is used. That keeps a 10,000-row
 * inventory response small and cheap to mint (one short HMAC per row), and a token of another team or
 * provider, an altered one or an expired one fails the same check.
 * Lifetime: CANDIDATE_TOKEN_TTL_SECONDS (documented default 15 minutes). A `tracker/resources/` listing
 * may serve tokens minted up to 5 minutes earlier (TOKEN_REUSE_MS in inventory/listing.ts), so ≥ 10 minutes remain.
 */
export const CANDIDATE_TOKEN_TTL_SECONDS = 15 * 60;

export interface CandidateClaims {
  teamId: string;
  provider: string;
  installationId: string;
  resourceId: string;
}

export const invalidCandidateToken = (why: string) =>
  new DomainError(
    "invalid_candidate_token",
    `The candidate token is ${why}. Run \`spec-kitty tracker bind\` again to get fresh candidates.`,
    {
      userActionRequired: true,
    },
  );

const TOKEN = /^cand_([A-Za-z0-9_]{1,64})\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})$/;

export function candidateTokens(key: Buffer, ttlSeconds = CANDIDATE_TOKEN_TTL_SECONDS) {
  const mac = (c: CandidateClaims, exp: string) =>
    createHmac("sha256", key)
      .update(`${c.teamId}|${c.provider}|${c.installationId}|${c.resourceId}|${exp}`)
      .digest("base64url")
      .slice(0, 22);

  return {
    mint(c: CandidateClaims, now = Date.now()): string {
      const exp = (Math.floor(now / 1000) + ttlSeconds).toString(36);
      return `cand_${c.resourceId}.${exp}.${mac(c, exp)}`;
    },

    /**
     * Checks a token against the caller's team (and provider, when the request names one). `lookup`
     * reads the resource within that team: an unknown id, another team's, a forged MAC and an expired
     * token are all `invalid_candidate_token`.
     */
    async verify(
      token: string,
      expect: { teamId: string; provider?: string },
      lookup: (
        resourceId: string,
      ) => Promise<{ installationId: string; provider: string } | null | undefined>,
      now = Date.now(),
    ): Promise<CandidateClaims> {
      const m = TOKEN.exec(token);
      if (!m) throw invalidCandidateToken("malformed");
      const [, resourceId, exp] = m;
      const row = await lookup(resourceId);
      const claims: CandidateClaims = {
        teamId: expect.teamId,
        provider: expect.provider ?? row?.provider ?? "",
        installationId: row?.installationId ?? "",
        resourceId,
      };
      const good = Buffer.from(mac(claims, exp));
      const given = Buffer.from(m[3]);
      if (!row || !timingSafeEqual(good, given))
        throw invalidCandidateToken("not valid for this team and provider");
      if (Number.parseInt(exp, 36) * 1000 < now) throw invalidCandidateToken("expired");
      return claims;
    },
  };
}

export type CandidateTokens = ReturnType<typeof candidateTokens>;
