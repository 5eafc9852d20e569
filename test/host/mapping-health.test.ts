import { describe, expect, it } from "vitest";
import { mappingHealth, mappingSyncState } from "../../src/host/mappings/health.ts";

const fine = {
  installationDisconnectedAt: null as Date | null,
  resourceMissingSince: null as Date | null,
  installationStatus: "active",
};
const at = new Date("2026-01-01T00:00:00Z");
/** Every problem at once, then one fewer at a time: the answer names the first that remains. */
const everything = {
  installationDisconnectedAt: at,
  resourceMissingSince: at,
  installationStatus: "revoked",
};

describe("mapping health", () => {
  it("sync_state names the first problem in the contract order", () => {
    expect(mappingSyncState(everything)).toBe("installation_disconnected");
    expect(mappingSyncState({ ...everything, installationDisconnectedAt: null })).toBe("resource_missing");
    expect(mappingSyncState({ ...fine, installationStatus: "revoked" })).toBe("installation_revoked");
    expect(mappingSyncState({ ...fine, installationStatus: "suspended" })).toBe("installation_suspended");
    expect(mappingSyncState({ ...fine, installationStatus: "error" })).toBe("installation_error");
    expect(mappingSyncState({ ...fine, resourceMissingSince: at, installationStatus: "error" })).toBe(
      "resource_missing",
    );
    expect(mappingSyncState(fine)).toBe("idle");
  });

  it("the mapping's own state comes first, as routing refuses it before anything else", () => {
    const worst = mappingSyncState(everything);
    expect(mappingHealth({ status: "deleted", sync_state: worst })).toBe("deleted");
    expect(mappingHealth({ status: "disabled", sync_state: worst })).toBe("disabled");
    expect(mappingHealth({ status: "active", sync_state: worst })).toBe("installation_disconnected");
    expect(mappingHealth({ status: "active", sync_state: "resource_missing" })).toBe("resource_missing");
    expect(mappingHealth({ status: "active", sync_state: "idle" })).toBe("healthy");
  });
});
