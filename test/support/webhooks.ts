import type { AddressInfo } from "node:net";
import { expect } from "vitest";
import type { SimProvider } from "../../src/simulators/index.ts";
import { createSimulatedApp, type SimulatedApp } from "./simulated.ts";

/**
 * The app listening on a real port with GitHub and GitLab connected and their simulators' hooks
 * registered: GitHub's App-wide hook with the App's secret, GitLab's as an admin would paste it (URL and
 * secret from the installation's secret route).
 */
export async function createHookedApp(opts: { generatedResources?: number } = {}) {
  const t: SimulatedApp = await createSimulatedApp({
    providers: ["github", "gitlab"],
    generatedResources: opts.generatedResources,
    // A deferred event (a pass was running) comes back quickly in tests.
    jobs: { maxAttempts: 20, retryBaseSeconds: 0.05, retryMaxSeconds: 0.2 },
  });
  await t.server.listen({ port: 0, host: "127.0.0.1" });
  const base = `http://127.0.0.1:${(t.server.server.address() as AddressInfo).port}`;
  const github = (await t.connect("github")).installationId;
  const gitlab = (await t.connect("gitlab")).installationId;
  await t.sim("github", "POST", "/_sim/webhooks", {
    url: `${base}/api/v1/webhooks/github/`,
    secret: t.sims.github.demo.webhook_secret,
  });
  const rotated = await t.call({
    method: "POST",
    url: `/api/v1/installations/${gitlab}/webhook/secret/`,
    as: t.admin,
  });
  expect(rotated.statusCode, rotated.body).toBe(200);
  const gitlabHook = rotated.json() as { url: string; secret: string };
  await t.sim("gitlab", "POST", "/_sim/webhooks", gitlabHook);
  return { t, base, inst: { github, gitlab }, gitlabHook };
}

/** The CLI's `tracker discover` read. */
export async function cliResources(t: SimulatedApp, provider: SimProvider) {
  const res = await t.call({
    method: "GET",
    url: `/api/v1/tracker/resources/?provider=${provider}&limit=500`,
    as: t.member,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().resources as any[];
}

/** Waits (bounded) until `read` satisfies `ok`: events are applied in the background. */
export async function eventually<T>(
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until the simulator has delivered everything queued; its delivery log. */
export const flushHooks = async (t: SimulatedApp, provider: SimProvider) =>
  (await t.sim(provider, "POST", "/_sim/webhooks/flush")).deliveries as any[];
