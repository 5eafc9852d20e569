import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_BODY_LIMIT, Environment, loadConfig } from "../../src/host/config.ts";

describe("configuration from the environment", () => {
  it("gives every setting its default when nothing is set", () => {
    expect(loadConfig({})).toEqual({
      host: "127.0.0.1",
      port: 8080,
      databaseUrl: undefined,
      dataDir: ".data/default",
      logLevel: "info",
      bodyLimitBytes: DEFAULT_BODY_LIMIT,
      credentialsKeys: undefined,
      publicUrl: undefined,
      refreshIntervalMinutes: 60,
      trustProxy: false,
      jobs: {},
      jobRetentionDays: 7,
      outbound: { allowPrivateNetworks: false, allow: [] },
      jobWorker: true,
      housekeepingSeconds: 60,
      workers: 1,
      snapshotCacheBytes: 160 * 1024 * 1024,
      listingCacheBytes: 1024 * 1024 * 1024,
      metrics: undefined,
      tracing: undefined,
    });
  });

  it("types each value; surrounding spaces are dropped and an empty variable counts as unset", () => {
    const config = loadConfig({
      PORT: " 9000 ",
      BODY_LIMIT_BYTES: "2048",
      REFRESH_INTERVAL_MINUTES: "0",
      LOG_LEVEL: "debug",
      DATABASE_URL: "",
      PUBLIC_URL: "https://tracker.example.com",
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: "true",
      JOB_POLL_MS: "250",
    });
    expect(config).toMatchObject({
      port: 9000,
      bodyLimitBytes: 2048,
      refreshIntervalMinutes: 0,
      logLevel: "debug",
      databaseUrl: undefined,
      publicUrl: "https://tracker.example.com",
      outbound: { allowPrivateNetworks: true },
      jobs: { pollMs: 250 },
    });
  });

  it.each([
    ["number", { PORT: "abc" }, "PORT=abc: expected a whole number from 0 to 65535."],
    [
      "number out of range",
      { BODY_LIMIT_BYTES: "0" },
      "BODY_LIMIT_BYTES=0: expected a whole number of at least 1.",
    ],
    [
      "enum",
      { LOG_LEVEL: "loud" },
      "LOG_LEVEL=loud: expected one of fatal, error, warn, info, debug, trace, silent.",
    ],
    [
      "URL",
      { PUBLIC_URL: "tracker.example.com" },
      "PUBLIC_URL=tracker.example.com: expected an http:// or https:// URL.",
    ],
    [
      "boolean",
      { OUTBOUND_ALLOW_PRIVATE_NETWORKS: "yes" },
      "OUTBOUND_ALLOW_PRIVATE_NETWORKS=yes: expected true or false.",
    ],
    ["list", { OUTBOUND_ALLOW: "a.lan:8443, http://x/" }, "OUTBOUND_ALLOW: 'http://x/' is not a host"],
    ["list of proxies", { TRUST_PROXY: "2" }, "TRUST_PROXY=2: hop counts are not supported."],
  ])("refuses a bad %s at start, naming the variable", (_kind, env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("reads the operations variables: metrics listener, tracing, worker role, shutdown grace", () => {
    expect(
      loadConfig({
        METRICS_PORT: "9464",
        METRICS_HOST: "0.0.0.0",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
        JOB_SHUTDOWN_GRACE_SECONDS: "2.5",
        JOB_WORKER: "false",
        DATABASE_URL: "postgres://db/tracker",
      }),
    ).toMatchObject({
      metrics: { host: "0.0.0.0", port: 9464 },
      tracing: { endpoint: "http://collector:4318", serviceName: "spec-kitty-tracker" },
      jobs: { shutdownGraceMs: 2500 },
      jobWorker: false,
    });
    expect(() => loadConfig({ METRICS_PORT: "70000" })).toThrow(
      "METRICS_PORT=70000: expected a whole number from 0 to 65535.",
    );
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" })).toThrow(
      "OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318: expected an http:// or https:// URL.",
    );
    expect(() => loadConfig({ JOB_WORKER: "false" })).toThrow(/JOB_WORKER=false: the embedded database/);
  });

  it("forks WORKERS processes only on PostgreSQL, and never with a metrics port they would share", () => {
    const pg = { DATABASE_URL: "postgres://db/tracker" };
    expect(loadConfig({ ...pg, WORKERS: "4", HOUSEKEEPING_INTERVAL_SECONDS: "0.5" })).toMatchObject({
      workers: 4,
      housekeepingSeconds: 0.5,
    });
    expect(() => loadConfig({ WORKERS: "2" })).toThrow(
      "WORKERS=2: the embedded database is open in one process only. Unset WORKERS, or set DATABASE_URL.",
    );
    expect(() => loadConfig({ ...pg, WORKERS: "2", METRICS_PORT: "9464" })).toThrow(/Unset METRICS_PORT/);
    expect(() => loadConfig({ WORKERS: "0" })).toThrow("WORKERS=0: expected a whole number of at least 1.");
  });

  it("names every refused variable in one message", () => {
    expect(() => loadConfig({ PORT: "x", REFRESH_INTERVAL_MINUTES: "-1" })).toThrow(
      "PORT=x: expected a whole number from 0 to 65535.\nREFRESH_INTERVAL_MINUTES=-1: expected a number of at least 0.",
    );
  });

  it("documents every variable in its schema and in the README", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    for (const [name, schema] of Object.entries(Environment.properties)) {
      expect((schema as { description?: string }).description, name).toBeTruthy();
      expect(readme.includes(`\`${name}\``), `${name} in the README`).toBe(true);
    }
  });
});
