import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase } from "../support/database.ts";
import { type Run, runScript } from "../support/embedded-process.ts";

/**
 * Traces of a real `npm start` process on PostgreSQL, exported over OTLP/HTTP (JSON) to a collector
 * this test runs: a request is one trace holding the HTTP server span, Fastify's route span and the
 * database spans of its queries; the request's log lines name that trace.
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

describe("OpenTelemetry traces", () => {
  let collector: Server;
  const spans: OtlpSpan[] = [];
  const paths: string[] = [];
  let app: Run;
  let baseUrl: string;
  let drop: (() => Promise<void>) | undefined;

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
    app = runScript("src/app/main.ts", [], {
      DATABASE_URL: created.url,
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
});
