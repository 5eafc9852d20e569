import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CANDIDATE_TOKEN_TTL_SECONDS, candidateTokens } from "../../src/host/binding/candidate-token.ts";

const tokens = candidateTokens(randomBytes(32));
const claims = {
  teamId: "team_a",
  provider: "github",
  installationId: "inst_1",
  resourceId: "res_01J0000000000000000000000A",
};
const row = async (id: string) =>
  id === claims.resourceId ? { installationId: "inst_1", provider: "github" } : null;
const code = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e) => e.code,
  );

describe("candidate tokens", () => {
  it("round-trips for the team and provider it was minted for", async () => {
    const t = tokens.mint(claims);
    expect(t).toMatch(/^cand_res_[0-9A-Z]+\.[0-9a-z]+\.[A-Za-z0-9_-]{22}$/);
    expect(t.length).toBeLessThan(80);
    expect(await tokens.verify(t, { teamId: "team_a", provider: "github" }, row)).toEqual(claims);
  });

  it("refuses another team, another provider, another installation, a forged MAC and an expired token", async () => {
    const t = tokens.mint(claims);
    expect(await code(tokens.verify(t, { teamId: "team_b", provider: "github" }, row))).toBe(
      "invalid_candidate_token",
    );
    expect(await code(tokens.verify(t, { teamId: "team_a", provider: "gitlab" }, row))).toBe(
      "invalid_candidate_token",
    );
    const moved = async () => ({ installationId: "inst_2", provider: "github" });
    expect(await code(tokens.verify(t, { teamId: "team_a" }, moved))).toBe("invalid_candidate_token");
    const forged = t.replace(/\.[^.]+$/, `.${"A".repeat(22)}`);
    expect(await code(tokens.verify(forged, { teamId: "team_a" }, row))).toBe("invalid_candidate_token");
    const old = tokens.mint(claims, Date.now() - (CANDIDATE_TOKEN_TTL_SECONDS + 5) * 1000);
    const expired = await tokens.verify(old, { teamId: "team_a" }, row).catch((e) => e);
    expect(expired.code).toBe("invalid_candidate_token");
    expect(expired.message).toMatch(/expired/);
    expect(await code(tokens.verify("cand_not-a-token", { teamId: "team_a" }, row))).toBe(
      "invalid_candidate_token",
    );
  });
});
