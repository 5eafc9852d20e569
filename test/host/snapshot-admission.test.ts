import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BYTES_PER_ROW, bindableSnapshots, type SnapshotBuild } from "../../src/host/inventory/snapshot.ts";
import { cloneTeams } from "../support/inventory.ts";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * A process keeps only as many teams' snapshots as its memory budget holds (SNAPSHOT_CACHE_MB), and a
 * team that is not kept is answered from indexed SQL. These tests load real teams (copies of a connected
 * GitHub installation) through the cache and count the builds: a spread over more teams than fit must
 * not rebuild snapshots in a loop, and a team that keeps coming back must win its place.
 */
let t: SimulatedApp;
let teams: string[];
let rowsPerTeam: number;

beforeAll(async () => {
  t = await createSimulatedApp({ providers: ["github"] });
  const { installationId } = await t.connect("github");
  teams = await cloneTeams(t.database.db, installationId, 12, "admit");
  const probe = bindableSnapshots(t.database.db);
  rowsPerTeam = (await probe.get(teams[0], "github")).rows.length;
});
afterAll(async () => {
  await t?.close();
});

/** A cache whose budget holds `fit` of the teams, recording its full builds. */
function cacheHolding(fit: number) {
  const builds: SnapshotBuild[] = [];
  const bytes = fit === 0 ? 0 : Math.round(fit * rowsPerTeam * BYTES_PER_ROW) + 1_000;
  const cache = bindableSnapshots(t.database.db, { maxBytes: bytes, onBuild: (b) => builds.push(b) });
  const versions = { inventory: 0, binding: 0 };
  return {
    builds: () => builds.filter((b) => b === "inventory").length,
    warm: (team: string) => cache.warm(team, "github", versions),
    get: (team: string) => cache.get(team, "github"),
  };
}

describe("snapshot cache admission", () => {
  it("has real teams to load", () => {
    expect(rowsPerTeam).toBeGreaterThan(10);
  });

  it("a uniform spread over more teams than fit builds each kept team once, not in a loop", async () => {
    const cache = cacheHolding(3);
    let warm = 0;
    let cold = 0;
    for (let round = 0; round < 20; round++)
      for (const team of teams) {
        const snap = await cache.warm(team);
        if (snap) {
          expect(snap.order.length).toBe(rowsPerTeam);
          warm++;
        } else cold++;
      }
    // The first three teams fill the budget; the other nine never displace them.
    expect(cache.builds()).toBe(3);
    expect(warm).toBe(60);
    expect(cold).toBe(180);
  });

  it("a team asked for far more often than the kept ones takes the place of one that stopped coming", async () => {
    const cache = cacheHolding(2);
    for (const team of teams.slice(0, 2)) expect(await cache.warm(team)).not.toBeNull();
    const hot = teams[5];
    expect(await cache.warm(hot)).toBeNull();
    let admittedAfter = 0;
    for (let i = 1; i <= 10 && admittedAfter === 0; i++) if (await cache.warm(hot)) admittedAfter = i;
    expect(admittedAfter).toBeGreaterThan(0);
    expect(cache.builds()).toBe(3);
    // Kept now: asked again, it is answered from memory without a build.
    expect(await cache.warm(hot)).not.toBeNull();
    expect(cache.builds()).toBe(3);
  });

  it("a caller that needs a snapshot of a team not admitted gets a full one, built but not kept", async () => {
    const cache = cacheHolding(1);
    expect(await cache.warm(teams[0])).not.toBeNull();
    const other = await cache.get(teams[1]);
    expect(other.order.length).toBe(rowsPerTeam);
    expect(other.installations.map((i) => i.teamId)).toEqual([teams[1]]);
    await cache.get(teams[1]);
    expect(cache.builds()).toBe(3);
    // The kept team is still kept.
    expect(await cache.warm(teams[0])).not.toBeNull();
    expect(cache.builds()).toBe(3);
  });

  it("with no budget nothing is kept: every team is cold", async () => {
    const cache = cacheHolding(0);
    for (const team of teams.slice(0, 3)) expect(await cache.warm(team)).toBeNull();
    expect(cache.builds()).toBe(0);
  });

  it("a team larger than the whole budget is built once, to learn its size, and then stays cold", async () => {
    const cache = cacheHolding(0.5);
    expect(await cache.warm(teams[0])).not.toBeNull();
    for (let i = 0; i < 5; i++) expect(await cache.warm(teams[0])).toBeNull();
    expect(cache.builds()).toBe(1);
  });
});
