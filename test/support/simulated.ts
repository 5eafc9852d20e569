import { expect } from "vitest";
import { providerSettingsFor, simulatorOrigins, tokenConnectFor } from "../../src/demo/simulated.ts";
import { clickThroughConsent } from "../../src/simulators/core/consent.ts";
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

/** Where the simulated GitHub App sends installs (tests hand the redirect to `app.call`). */
export const GITHUB_CALLBACK = "http://127.0.0.1/api/v1/installations/callback/github/";

/** The connect cookie a start response set in the caller's user agent, as a `Cookie` header value. */
export const connectCookieOf = (res: { headers: Record<string, unknown> }) =>
  String(res.headers["set-cookie"]).split(";")[0];

/** The provider's redirect back to our callback, opened in the browser holding `cookie`. */
export const openCallback = (app: TestApp, back: URL, cookie: string, headers: Record<string, string> = {}) =>
  app.call({ method: "GET", url: back.pathname + back.search, headers: { cookie, ...headers } });

/**
 * The GitHub App install as the admin's browser runs it: start through the API (which sets the connect
 * cookie), install and authorize on the simulator's consent page signed in as `login`, then the callback.
 */
export async function installGithubApp(
  app: TestApp,
  as: Actor,
  sim: ProviderSimulator,
  opts: { login?: string; choice?: string; cookie?: string | null } = {},
) {
  await fetch(`${sim.url}/_sim/app`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ callback_url: GITHUB_CALLBACK, signed_in_user: opts.login ?? "acme-admin" }),
  });
  const start = await app.call({
    method: "POST",
    url: "/api/v1/installations/connect/",
    as,
    payload: { provider: "github" },
  });
  expect(start.statusCode, start.body).toBe(200);
  const cookie = connectCookieOf(start);
  const back = await clickThroughConsent(start.json().authorize_url, {
    choice: opts.choice ?? sim.demo.installation_id,
  });
  return app.call({
    method: "GET",
    url: back.pathname + back.search,
    headers: opts.cookie === null ? {} : { cookie: opts.cookie ?? cookie },
  });
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
      const token = tokenConnectFor(sims[provider]);
      const res = token
        ? await app.call({ method: "POST", url: "/api/v1/installations/", as, payload: token })
        : await installGithubApp(app, as, sims.github);
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
