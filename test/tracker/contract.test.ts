import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { providerSettingsFor, tokenConnectFor } from "../../src/demo/simulated.ts";
import { validateRoutingMetadata } from "../../src/host/mappings/routing-metadata.ts";
import { type ProviderSimulator, SIMULATORS, type SimProvider } from "../../src/simulators/index.ts";
import {
  adapterFor,
  type BindableResource,
  type Connection,
  PROVIDERS,
  resourceKey,
  runDiscovery,
} from "../../src/tracker/index.ts";
import { fastHttp } from "../support/tracker.ts";

/**
 * The descriptor contract, checked the same way for every registered provider: the host relies on
 * all four sections being filled, so a new adapter that leaves one empty fails here.
 */
const http = fastHttp({ timeoutMs: 5000 });
const sims = {} as Record<SimProvider, ProviderSimulator>;

beforeAll(async () => {
  for (const p of PROVIDERS) sims[p] = await SIMULATORS[p]({ generatedResources: 5 });
});
afterAll(() => Promise.all(Object.values(sims).map((s) => s.close())));

/** The connection the host would build from a token connect against the simulator. */
function connectionFor(p: SimProvider): Connection {
  const settings = providerSettingsFor(sims);
  const req = tokenConnectFor(sims[p]);
  if (!req) {
    // GitHub: what the host builds once the install flow has confirmed the installation.
    const app = settings.github.app!;
    return {
      base_url: settings.github.apiUrl,
      credential: {
        kind: "github_app",
        app_id: app.id,
        private_key_pem: app.privateKeyPem,
        installation_id: sims.github.demo.installation_id,
      },
      http,
    };
  }
  return {
    base_url: req.base_url!,
    credential: req.credential as Connection["credential"],
    options: req.options,
    http,
  };
}

describe.each([...PROVIDERS])("%s adapter contract", (provider) => {
  const resources: BindableResource[] = [];

  it("lists a workspace and discovers a complete pass", async () => {
    const adapter = adapterFor(provider);
    expect(adapter.provider).toBe(provider);
    const conn = connectionFor(provider);
    const workspaces = await adapter.listWorkspaces(conn);
    expect(workspaces.length).toBeGreaterThan(0);
    const ws = workspaces[0];
    expect(ws.provider).toBe(provider);
    expect(ws.id.length).toBeGreaterThan(0);
    const outcome = await runDiscovery(adapter, conn, ws, (page) => {
      resources.push(...page);
    });
    expect(outcome.complete).toBe(true);
    expect(resources.length).toBe(outcome.count);
    expect(resources.length).toBeGreaterThanOrEqual(10);
  });

  it("fills every descriptor section for every resource, with no secret in it", () => {
    const secrets = Object.entries(sims[provider].demo)
      .filter(([k]) => /token|key|pat|secret|password/.test(k) && !/_url$|app_id|app_slug|^url$/.test(k))
      .map(([, v]) => (v.includes("PRIVATE KEY") ? v.split("\n")[1] : v));
    expect(secrets.length).toBeGreaterThan(0);
    for (const r of resources) {
      const { resource_key, ...parts } = r.identity;
      expect(r.identity.provider).toBe(provider);
      expect(resource_key).toBe(resourceKey(parts));
      expect(r.identity.native_id.length).toBeGreaterThan(0);
      expect(r.identity.workspace_id.length).toBeGreaterThan(0);
      expect(r.display.label.length).toBeGreaterThan(0);
      expect(r.display.name.length).toBeGreaterThan(0);
      expect(r.display.context.workspace_name.length).toBeGreaterThan(0);
      expect(typeof r.flags.archived).toBe("boolean");
      expect(typeof r.flags.issues_disabled).toBe("boolean");
      expect(Object.keys(r.connector_params).length).toBeGreaterThanOrEqual(2);
      expect(r.routing_metadata).toMatchObject({ provider, version: 1 });
      // What the host persists on a mapping must pass the host's per-provider schema.
      expect(() => validateRoutingMetadata(provider, r.routing_metadata)).not.toThrow();
      const text = JSON.stringify(r);
      for (const s of secrets) expect(text.includes(s), `descriptor carries ${s.slice(0, 4)}…`).toBe(false);
    }
    expect(new Set(resources.map((r) => r.identity.resource_key)).size).toBe(resources.length);
  });

  it("looks one resource up by its native id, and answers null for an unknown one", async () => {
    const adapter = adapterFor(provider);
    const conn = connectionFor(provider);
    const [ws] = await adapter.listWorkspaces(conn);
    const one = await adapter.getResource(conn, ws, resources[0].identity.native_id);
    expect(one?.identity.resource_key).toBe(resources[0].identity.resource_key);
    const unknown =
      provider === "linear" || provider === "azure_devops"
        ? "00000000-0000-4000-8000-000000000000"
        : "987654321";
    expect(await adapter.getResource(conn, ws, unknown)).toBeNull();
  });
});
