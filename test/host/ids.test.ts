import { decodeTime } from "ulid";
import { describe, expect, it } from "vitest";
import { newId, ulid } from "../../src/host/ids.ts";

describe("ids", () => {
  it("are ULIDs of the current time, all distinct across many refills of the random pool", () => {
    const before = Date.now();
    const ids = Array.from({ length: 2_000 }, () => ulid());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(decodeTime(id)).toBeGreaterThanOrEqual(before);
      expect(decodeTime(id)).toBeLessThanOrEqual(Date.now());
    }
    expect(newId("team")).toMatch(/^team_[0-9A-HJKMNP-TV-Z]{26}$/);
  });
});
