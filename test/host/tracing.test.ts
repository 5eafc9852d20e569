import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildApp } from "../../src/app/server.ts";
import { providerSettingsFor, simulatorOrigins, tokenConnectFor } from "../../src/demo/simulated.ts";
import { createLogger } from "../../src/host/logger.ts";
import { vaultFromConfig } from "../../src/host/secrets/vault.ts";
import { type ProviderSimulator, SIMULATORS } from "../../src/simulators/index.ts";
import { type DatabaseHandle, openDatabase } from "../../src/storage/database.ts";
import { createPostgresDatabase } from "../support/database.ts";
import { type Run, runScript } from "../support/embedded-process.ts";
import { describeOnPostgres } from "../support/postgres.ts";

/**
 * Traces of a real `npm start` process on PostgreSQL, exported over OTLP/HTTP (JSON) to a collector
 * this test runs: a request is one trace holding the HTTP server span, Fastify's route span and the
 * database spans of its queries, and the provider calls it makes; the request's log lines name that trace.
 */

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}

const attr = (span: OtlpSpan, key: string) => {
  const v = span.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? v?.intValue;
};

describeOnPostgres("OpenTelemetry traces", () => {
  let collector: Server;
  const spans: OtlpSpan[] = [];
  const paths: string[] = [];
  let app: Run;
  let baseUrl: string;
  let drop: (() => Promise<void>) | undefined;
  let gitlab: ProviderSimulator;
  let database: DatabaseHandle;
  let token: string;

  /** The root span of the request to `route`, and every span of its trace, once they have arrived. */
  async function traceOf(route: string, complete: (spans: OtlpSpan[]) => boolean) {
    for (let i = 0; i < 200; i++) {
      const server = spans.find((s) => attr(s, "http.route") === route && !s.parentSpanId);
      const inTrace = server ? spans.filter((s) => s.traceId === server.traceId) : [];
      if (server && complete(inTrace)) return { server, inTrace };
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no complete trace of ${route}: ${JSON.stringify(spans.map((s) => s.name))}`);
  }

  beforeAll(async () => {
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        paths.push(`${req.method} ${req.url} ${req.headers["content-type"]}`);
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
        for (const r of body.resourceSpans ?? [])
          for (const s of r.scopeSpans ?? []) spans.push(...(s.spans ?? []));
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((r) => collector.listen(0, "127.0.0.1", () => r()));
    const created = await createPostgresDatabase();
    if (!created) throw new Error("PostgreSQL unreachable: start it or run under CI");
    drop = created.drop;
    const { port } = collector.address() as AddressInfo;
    gitlab = await SIMULATORS.gitlab({});
    const keys = `k1:${randomBytes(32).toString("base64")}`;
    database = await openDatabase({ databaseUrl: created.url });
    const { services } = await buildApp({
      database,
      logger: createLogger({ level: "silent" }),
      vault: vaultFromConfig({ keys, keyFile: "/nonexistent" }),
      settings: providerSettingsFor({ gitlab }),
      worker: false,
    });
    const team = await services.teams.createTeam({ slug: "acme", name: "Acme" });
    const user = await services.teams.createUser({ email: "admin@acme.test" });
    await services.teams.setMembership(team.id, user.id, "admin");
    ({ token } = await services.tokens.create({ userId: user.id, name: "test" }));
    app = runScript("src/app/main.ts", [], {
      DATABASE_URL: created.url,
      CREDENTIALS_KEYS: keys,
      GITLAB_URL: gitlab.demo.url,
      OUTBOUND_ALLOW: simulatorOrigins([gitlab]).join(","),
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_BSP_SCHEDULE_DELAY: "100",
    });
    for (let i = 0; i < 600 && !baseUrl; i++) {
      const line = app
        .stdout()
        .split("\n")
        .find((l) => l.includes('"service listening"'));
      if (line) baseUrl = JSON.parse(line).base_url;
      else await new Promise((r) => setTimeout(r, 50));
    }
    if (!baseUrl) throw new Error(`the service did not start:\n${app.stderr()}${app.stdout()}`);
  });
  afterAll(async () => {
    app?.child.kill("SIGTERM");
    await app?.exited;
    await database?.close();
    await gitlab?.close();
    await drop?.();
    await new Promise((r) => collector?.close(r));
  });

  it("a request's trace holds the route and its database queries", async () => {
    const res = await fetch(`${baseUrl}/readyz`);
    expect(res.status).toBe(200);
    let server: OtlpSpan | undefined;
    let db: OtlpSpan | undefined;
    for (let i = 0; i < 200 && !(server && db); i++) {
      await new Promise((r) => setTimeout(r, 50));
      server = spans.find((s) => attr(s, "http.route") === "/readyz" && !s.parentSpanId);
      db =
        server &&
        spans.find(
          (s) =>
            s.traceId === server!.traceId &&
            (attr(s, "db.system.name") ?? attr(s, "db.system")) === "postgresql" &&
            (attr(s, "db.query.text") ?? attr(s, "db.statement")) !== undefined,
        );
    }
    expect(paths[0]).toBe("POST /v1/traces application/json");
    expect(server, JSON.stringify(spans.map((s) => s.name))).toBeDefined();
    expect(attr(server!, "http.response.status_code") ?? attr(server!, "http.status_code")).toBe(200);
    const inTrace = spans.filter((s) => s.traceId === server!.traceId);
    // Fastify's own span for the request, under the server span, names the route; its handler's span too.
    const route = inTrace.find((s) => s.parentSpanId === server!.spanId && attr(s, "fastify.root"));
    expect(route && attr(route, "http.route")).toBe("/readyz");
    expect(inTrace.some((s) => s.name.startsWith("handler - ") && s.parentSpanId === route!.spanId)).toBe(
      true,
    );
    expect(db, JSON.stringify(inTrace.map((s) => s.name))).toBeDefined();
    expect(String(attr(db!, "db.query.text") ?? attr(db!, "db.statement"))).toMatch(/drizzle/);
    // The request's log lines carry its request id and its trace id.
    const logged = app
      .stdout()
      .split("\n")
      .filter((l) => l.includes('"url":"/readyz"'))
      .map((l) => JSON.parse(l));
    expect(logged.length).toBeGreaterThan(0);
    expect(logged[0]).toMatchObject({
      trace_id: server!.traceId,
      request_id: expect.stringMatching(/^req_/),
    });
  });

  it("a request that calls the provider holds the provider calls in its trace", async () => {
    const res = await fetch(`${baseUrl}/api/v1/installations/`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "x-team-slug": "acme",
        "content-type": "application/json",
      },
      body: JSON.stringify(tokenConnectFor(gitlab)),
    });
    expect(res.status).toBe(201);
    const toProvider = (s: OtlpSpan) => String(attr(s, "url.full") ?? "").startsWith(gitlab.url);
    const { inTrace } = await traceOf("/api/v1/installations/", (all) => all.some(toProvider));
    const calls = inTrace.filter(toProvider);
    expect(calls.length).toBeGreaterThan(0);
    // Each call carries GitLab's answer: the connect's reads succeed; registering the hook, which the
    // demo's Maintainer may not do, may be among them as GitLab's refusal (docs/webhooks.md).
    const statuses = calls.map((c) => attr(c, "http.response.status_code"));
    expect(
      statuses.every((s) => s === 200 || s === 403),
      JSON.stringify(statuses),
    ).toBe(true);
    expect(statuses).toContain(200);
    // Never the credential: the token the connect sent is in no span.
    expect(JSON.stringify(inTrace)).not.toContain(gitlab.demo.token);
  });
});
