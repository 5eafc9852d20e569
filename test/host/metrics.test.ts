import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MetricsListener, startMetricsListener } from "../../src/host/metrics/listener.ts";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * The Prometheus endpoint, scraped over HTTP while the app serves real HTTP requests and talks to a
 * provider simulator: every family an operator alerts on moves when the thing it counts happens.
 */

/** `name{labels} value` lines of a scrape, as a lookup by the exact series text. */
function parse(text: string) {
  const series = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

describe("metrics endpoint", () => {
  let t: SimulatedApp;
  let listener: MetricsListener;
  let base: string;
  let installationId: string;
  const scrape = async () => {
    const res = await fetch(listener.url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    return { text, series: parse(text) };
  };
  const value = (series: Map<string, number>, key: string) => series.get(key) ?? 0;
  const get = (path: string) => fetch(`${base}${path}`, { headers: t.admin.headers });

  beforeAll(async () => {
    t = await createSimulatedApp({
      providers: ["gitlab"],
      jobs: { maxAttempts: 3, retryBaseSeconds: 0.01, retryMaxSeconds: 0.02 },
    });
    await t.server.listen({ host: "127.0.0.1", port: 0 });
    const address = t.server.server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    listener = await startMetricsListener(t.services.metrics, { host: "127.0.0.1", port: 0 });
    ({ installationId } = await t.connect("gitlab"));
  });
  afterAll(async () => {
    await listener?.close();
    await t?.close();
  });

  it("counts and times requests per route pattern, never per raw URL", async () => {
    const route = 'method="GET",route="/api/v1/installations/:installation_id/"';
    const before = (await scrape()).series;
    expect((await get(`/api/v1/installations/${installationId}/`)).status).toBe(200);
    expect((await get("/api/v1/installations/inst_doesnotexist/")).status).toBe(404);
    expect((await get("/no/such/page")).status).toBe(404);
    const { text, series } = await scrape();
    const key = (status: number) => `skt_http_requests_total{${route},status="${status}"}`;
    expect(value(series, key(200)) - value(before, key(200))).toBe(1);
    expect(value(series, key(404)) - value(before, key(404))).toBe(1);
    const histogram = `skt_http_request_duration_seconds_count{${route},status="200"}`;
    expect(value(series, histogram) - value(before, histogram)).toBe(1);
    const unmatched = 'skt_http_requests_total{method="GET",route="unmatched",status="404"}';
    expect(value(series, unmatched) - value(before, unmatched)).toBe(1);
    expect(text).not.toContain(installationId);
    expect(text).not.toContain("/no/such/page");
  });

  it("counts provider calls with their status and latency, and the waits a rate limit imposes", async () => {
    const before = (await scrape()).series;
    await t.sim("gitlab", "POST", "/_sim/faults", { status: 429, retry_after: 0, count: 1 });
    expect((await t.refresh(installationId)).status).toBe("completed");
    const { series } = await scrape();
    const ok = [...series.keys()].find((k) =>
      /^skt_provider_requests_total\{provider="gitlab",method="GET",status="200"\}$/.test(k),
    )!;
    expect(value(series, ok) - value(before, ok)).toBeGreaterThan(0);
    const limited = 'skt_provider_requests_total{provider="gitlab",method="GET",status="429"}';
    expect(value(series, limited) - value(before, limited)).toBe(1);
    const waits = 'skt_provider_waits_total{provider="gitlab",reason="rate_limit"}';
    expect(value(series, waits) - value(before, waits)).toBe(1);
    const timed = 'skt_provider_request_duration_seconds_count{provider="gitlab",status="200"}';
    expect(value(series, timed) - value(before, timed)).toBeGreaterThan(0);
  });

  it("shows a running job from the database, then counts a retry", async () => {
    const refresh = async () => {
      const res = await fetch(`${base}/api/v1/installations/${installationId}/refresh/`, {
        method: "POST",
        headers: t.admin.headers,
      });
      expect(res.status).toBe(202);
      return (await res.json()).operation_id as string;
    };
    const running = 'skt_jobs_running{kind="inventory.refresh"}';
    // The provider hangs a moment: the refresh is running meanwhile, in every process's view.
    await t.sim("gitlab", "POST", "/_sim/faults", { latency_ms: 1_500, count: 1 });
    const slow = await refresh();
    let during = (await scrape()).series;
    for (let i = 0; i < 100 && value(during, running) === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      during = (await scrape()).series;
    }
    expect(value(during, running)).toBe(1);
    expect(during.has('skt_jobs_oldest_due_age_seconds{kind="inventory.refresh"}')).toBe(true);
    expect((await t.services.jobs.waitFor(slow, 30_000)).status).toBe("completed");
    expect(value((await scrape()).series, running)).toBe(0);

    // Three 503s exhaust the client's attempts of one call: the job fails retryably and runs again.
    const before = (await scrape()).series;
    await t.sim("gitlab", "POST", "/_sim/faults", { status: 503, count: 3 });
    const job = await t.services.jobs.waitFor(await refresh(), 30_000);
    await t.sim("gitlab", "DELETE", "/_sim/faults");
    expect(job).toMatchObject({ status: "completed", attempts: 2 });
    const { series } = await scrape();
    const retries = 'skt_job_retries_total{kind="inventory.refresh"}';
    expect(value(series, retries) - value(before, retries)).toBe(1);
    const unavailable = 'skt_provider_requests_total{provider="gitlab",method="GET",status="503"}';
    expect(value(series, unavailable) - value(before, unavailable)).toBe(3);
    expect(value(series, 'skt_jobs_pending{kind="inventory.refresh"}')).toBe(0);
  });

  it("shows the inventory's size and counts bindable snapshot builds", async () => {
    const before = (await scrape()).series;
    expect(value(before, 'skt_inventory_resources{provider="gitlab"}')).toBeGreaterThan(0);
    const listed = await get("/api/v1/tracker/resources/?provider=gitlab");
    expect(listed.status).toBe(200);
    const after = (await scrape()).series;
    const built = 'skt_inventory_snapshot_builds_total{part="inventory"}';
    expect(value(after, built) - value(before, built)).toBe(1);
    // Kept in memory (the default budget holds this team), and counted as such.
    const kept = 'skt_inventory_snapshot_lookups_total{answer="kept"}';
    expect(value(after, kept) - value(before, kept)).toBe(1);
    expect(value(after, "skt_inventory_snapshot_cache_teams")).toBeGreaterThanOrEqual(1);
    expect(value(after, "skt_inventory_snapshot_cache_bytes")).toBeGreaterThan(0);
    // The same listing again is answered from the snapshot: no rebuild.
    expect((await get("/api/v1/tracker/resources/?provider=gitlab")).status).toBe(200);
    expect(value((await scrape()).series, built)).toBe(value(after, built));
  });

  it("registers the webhook families and the process metrics, and answers only GET /metrics", async () => {
    const { text } = await scrape();
    expect(text).toContain("# TYPE skt_webhook_deliveries_total counter");
    expect(text).toContain("# TYPE skt_webhook_signature_failures_total counter");
    expect(text).toContain("# TYPE skt_process_resident_memory_bytes gauge");
    t.services.metrics.webhooks.signatureFailed("github");
    expect(parse((await scrape()).text).get('skt_webhook_signature_failures_total{provider="github"}')).toBe(
      1,
    );
    expect((await fetch(listener.url.replace("/metrics", "/"))).status).toBe(404);
  });
});
