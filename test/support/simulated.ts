import { expect } from "vitest";
import { providerSettingsFor, simulatorOrigins, tokenConnectFor } from "../../src/demo/simulated.ts";
import { type ProviderSimulator, SIMULATORS, type SimProvider } from "../../src/simulators/index.ts";
import { type Actor, createTestApp, type TestApp, type TestAppOptions } from "./app.ts";

export const ALL_PROVIDERS: SimProvider[] = ["github", "gitlab", "jira", "linear", "azure_devops"];

export interface SimulatedApp extends TestApp {
  sims: Record<SimProvider, ProviderSimulator>;
  /** Token-connects the simulator's default workspace as the admin and waits for the first sync. */
  connect(provider: SimProvider, as?: Actor): Promise<{ installationId: string; refresh: any }>;
  /** Calls a simulator's `/_sim/` control API over HTTP. */
  sim(provider: SimProvider, method: string, path: string, body?: unknown): Promise<any>;
  /** Requests a refresh through the API and waits for the operation to end. */
  refresh(installationId: string): Promise<any>;
}

/** The real app wired to real provider simulators over loopback HTTP. */
export async function createSimulatedApp(
  opts: TestAppOptions & { providers?: SimProvider[]; generatedResources?: number } = {},
): Promise<SimulatedApp> {
  const providers = opts.providers ?? ALL_PROVIDERS;
  const started = await Promise.all(
    providers.map((p) => SIMULATORS[p]({ generatedResources: opts.generatedResources })),
  );
  const sims = Object.fromEntries(started.map((s) => [s.provider, s])) as Record<
    SimProvider,
    ProviderSimulator
  >;
  // The simulators listen on loopback: allowed by name and port, as an operator would allow them.
  const app = await createTestApp({
    ...opts,
    settings: opts.settings ?? providerSettingsFor(sims),
    outbound: {
      ...opts.outbound,
      allow: [...simulatorOrigins(started), ...(opts.outbound?.allow ?? [])],
    },
  });

  async function waitOperation(id: string) {
    const job = await app.services.jobs.waitFor(id, 60_000);
    return job;
  }

  return {
    ...app,
    sims,
    async connect(provider, as = app.admin) {
      const res = await app.call({
        method: "POST",
        url: "/api/v1/installations/",
        as,
        payload: tokenConnectFor(sims[provider]),
      });
      expect(res.statusCode, res.body).toBeLessThan(300);
      const body = res.json();
      const refresh = await waitOperation(body.refresh.operation_id ?? body.refresh.id);
      return { installationId: body.installation.id as string, refresh };
    },
    async sim(provider, method, path, body) {
      const res = await fetch(`${sims[provider].url}${path}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`simulator ${provider} ${method} ${path} → ${res.status} ${text}`);
      return text ? JSON.parse(text) : null;
    },
    async refresh(installationId) {
      const res = await app.call({
        method: "POST",
        url: `/api/v1/installations/${installationId}/refresh/`,
        as: app.admin,
      });
      expect(res.statusCode, res.body).toBe(202);
      return waitOperation(res.json().operation_id ?? res.json().id);
    },
    async close() {
      await app.close();
      await Promise.all(started.map((s) => s.close()));
    },
  };
}
