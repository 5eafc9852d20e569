import { describe, expect, it } from "vitest";
import { fixtureProvider } from "../../src/tracker/fixture/provider.ts";
import { PROVIDERS, providerIds, providerModule, registerProvider } from "../../src/tracker/registry.ts";

describe("provider registry", () => {
  it("lists the built-in providers, each module under its own id with its adapter", () => {
    expect(PROVIDERS).toEqual(["github", "gitlab", "jira", "linear", "azure_devops"]);
    for (const id of PROVIDERS) {
      const module = providerModule(id);
      expect(module.id).toBe(id);
      expect(module.adapter.provider).toBe(id);
      expect(module.routing.schemas[module.routing.version]).toBeDefined();
    }
  });

  it("refuses a second module under a known id", () => {
    expect(() => registerProvider({ ...fixtureProvider, id: "github" })).toThrow(/already registered/);
  });

  it("refuses a registration once the ids were listed, which the host's schemas do when they load", () => {
    providerIds();
    expect(() => registerProvider(fixtureProvider)).toThrow(/before the host is loaded/);
  });
});
