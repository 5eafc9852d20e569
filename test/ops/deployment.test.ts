import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Environment } from "../../src/host/config.ts";
import { createPostgresDatabase } from "../support/database.ts";
import { describeOnPostgres } from "../support/postgres.ts";

/**
 * The Dockerfile and compose.yaml, checked without a Docker daemon: the files say what they should
 * (Node 20, non-root, production dependencies only, two API processes and a worker on one PostgreSQL),
 * the production dependencies are all the service imports, and the image's command is run as compose
 * runs it (three processes on one fresh database at once, each with its service's environment) until
 * each answers its health check, serves metrics and stops cleanly on SIGTERM.
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const pkg = JSON.parse(read("package.json")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Dockerfile instructions of the final stage, line continuations joined. */
function dockerfile() {
  const lines = read("Dockerfile")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const stages: { from: string; steps: { op: string; args: string }[] }[] = [];
  for (const line of lines) {
    const [op, ...rest] = line.split(/\s+/);
    const args = rest.join(" ");
    if (op.toUpperCase() === "FROM") stages.push({ from: args, steps: [] });
    else stages.at(-1)!.steps.push({ op: op.toUpperCase(), args });
  }
  return stages;
}

/** External packages reachable by imports from the service's and the admin CLI's entry points. */
function importedPackages(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const queue = entries.map((e) => join(ROOT, e));
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, "utf8").replace(/^import type [^;]+;/gms, "");
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)"([^"]+)"/g)) {
      const spec = m[1];
      if (spec.startsWith(".")) queue.push(resolve(dirname(file), spec));
      else if (!spec.startsWith("node:") && !builtinModules.includes(spec))
        packages.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);
    }
  }
  return packages;
}

/** Compose's interpolation of `${VAR}`, `${VAR:-default}` and `${VAR:?error}` (an unset or empty VAR). */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
    const v = env[name];
    if (v) return v;
    if (op === "?") throw new Error(`compose refuses to start: ${arg}`);
    return op === "-" ? (arg ?? "") : "";
  });
}

function compose() {
  return parse(read("compose.yaml"), { merge: true }) as {
    services: Record<string, Record<string, any>>;
    volumes: Record<string, unknown>;
  };
}

describe("the container image", () => {
  it("is Node 20, runs as a non-root user, installs production dependencies only, runs node itself", () => {
    const stages = dockerfile();
    for (const s of stages) expect(s.from).toMatch(/^node:20[-.\w]*(\s+AS\s+\w+)?$/i);
    const final = stages.at(-1)!;
    const user = final.steps.filter((s) => s.op === "USER").at(-1);
    expect(user?.args).toBeDefined();
    expect(["root", "0"]).not.toContain(user!.args);
    const install = stages.flatMap((s) => s.steps).find((s) => s.op === "RUN" && s.args.includes("npm ci"));
    expect(install?.args).toMatch(/npm ci --omit=dev/);
    const cmd = JSON.parse(final.steps.find((s) => s.op === "CMD")!.args);
    expect(cmd).toEqual(["node", "--import", "tsx", "src/app/main.ts"]);
    expect(final.steps.some((s) => s.op === "HEALTHCHECK" && s.args.includes("/readyz"))).toBe(true);
    // What it copies exists; what it must not carry is ignored.
    for (const step of stages
      .flatMap((s) => s.steps)
      .filter((s) => s.op === "COPY" && !s.args.includes("--from")))
      for (const path of step.args.split(/\s+/).slice(0, -1))
        expect(existsSync(join(ROOT, path)), path).toBe(true);
    const ignored = read(".dockerignore").split("\n");
    for (const path of ["node_modules", ".data", ".git", "test", "*.backup", ".env"])
      expect(ignored).toContain(path);
  });

  it("has every package the service and the admin CLI import among the production dependencies", () => {
    const imported = importedPackages(["src/app/main.ts", "src/app/admin-cli.ts"]);
    expect(imported.has("fastify")).toBe(true);
    expect(imported.has("@opentelemetry/sdk-trace-node")).toBe(true); // dynamic imports followed
    for (const name of imported) expect(pkg.dependencies[name], `${name} in dependencies`).toBeDefined();
    expect(pkg.dependencies.tsx).toBeDefined(); // the command runs the sources with it
  });
});

describe("compose.yaml", () => {
  const file = compose();
  const trackers = ["api-1", "api-2", "worker"];

  it("runs PostgreSQL, two API processes and a worker on one database, each configured by known variables", () => {
    expect(Object.keys(file.services).sort()).toEqual(["api-1", "api-2", "postgres", "worker"]);
    expect(file.services.postgres.image).toMatch(/^postgres:\d+/);
    expect(file.services.postgres.healthcheck.test.join(" ")).toContain("pg_isready");
    const urls = new Set(trackers.map((s) => file.services[s].environment.DATABASE_URL));
    expect(urls.size).toBe(1);
    expect([...urls][0]).toMatch(/^postgres:\/\/tracker:.+@postgres:5432\/tracker$/);
    expect(trackers.map((s) => file.services[s].environment.JOB_WORKER)).toEqual(["false", "false", "true"]);
    const known = Object.keys(Environment.properties);
    for (const s of trackers) {
      const service = file.services[s];
      expect(service.build).toBe(".");
      expect(service.depends_on.postgres.condition).toBe("service_healthy");
      expect(service.healthcheck.test.join(" ")).toContain("/readyz");
      for (const name of Object.keys(service.environment)) expect(known, `${s}: ${name}`).toContain(name);
      // SIGKILL comes only after the job grace and the HTTP drain had their time.
      const grace = Number(service.environment.JOB_SHUTDOWN_GRACE_SECONDS);
      expect(Number.parseInt(service.stop_grace_period, 10)).toBeGreaterThan(grace + 5);
    }
    expect(file.services["api-1"].ports).not.toEqual(file.services["api-2"].ports);
    // Secrets come from the environment compose runs in, never from the file; without them it refuses.
    const env = file.services.worker.environment as Record<string, string>;
    expect(() => interpolate(env.CREDENTIALS_KEYS, {})).toThrow(/set CREDENTIALS_KEYS/);
    expect(() => interpolate(env.DATABASE_URL, {})).toThrow(/set POSTGRES_PASSWORD/);
  });
});

describe("docs/operations.md", () => {
  it("explains every variable the service reads, and each topic an operator needs", () => {
    const doc = read("docs/operations.md");
    for (const name of Object.keys(Environment.properties)) expect(doc, name).toContain(`| \`${name}\``);
    for (const topic of [
      "## Running N processes",
      "## Rolling restarts",
      "## Graceful shutdown",
      "## Health checks",
    ])
      expect(doc).toContain(topic);
    expect(doc).toContain("pg_dump");
  });
});

describeOnPostgres("the image's command, run as compose runs it", () => {
  const children: ChildProcess[] = [];
  let drop: (() => Promise<void>) | undefined;
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    await drop?.();
  });

  it("starts the three processes at once on one fresh PostgreSQL; each is healthy, scrapeable, and stops on SIGTERM", async () => {
    const created = await createPostgresDatabase();
    if (!created) throw new Error("PostgreSQL unreachable: start it or run under CI");
    drop = created.drop;
    const stage = dockerfile().at(-1)!;
    const [command, ...args] = JSON.parse(stage.steps.find((s) => s.op === "CMD")!.args) as string[];
    const imageEnv = Object.fromEntries(
      stage.steps
        .filter((s) => s.op === "ENV")
        .flatMap((s) => s.args.split(/\s+/))
        .map((kv) => kv.split("=")),
    );
    const healthcheck = stage.steps.find((s) => s.op === "HEALTHCHECK")!.args;
    const probe = JSON.parse(healthcheck.slice(healthcheck.indexOf("CMD") + 3)) as string[];
    const keys = `k1:${randomBytes(32).toString("base64")}`;
    const { PATH, HOME } = process.env;
    const started = ["api-1", "api-2", "worker"].map((name) => {
      const env: Record<string, string> = {
        PATH: PATH ?? "",
        HOME: HOME ?? "",
        ...imageEnv,
        ...Object.fromEntries(
          Object.entries(compose().services[name].environment as Record<string, string>).map(([k, v]) => [
            k,
            interpolate(v, { POSTGRES_PASSWORD: "secret", CREDENTIALS_KEYS: keys }),
          ]),
        ),
        // This machine's stand-ins for the container's network: loopback, free ports, the test database.
        DATABASE_URL: created.url,
        CREDENTIALS_KEYS: keys,
        HOST: "127.0.0.1",
        PORT: "0",
        METRICS_HOST: "127.0.0.1",
        METRICS_PORT: "0",
        DATA_DIR: join(tmpdir(), `skt-compose-${name}-${process.pid}`),
      };
      const child = spawn(command === "node" ? process.execPath : command, args, {
        cwd: ROOT,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      children.push(child);
      let out = "";
      child.stdout!.on("data", (d) => {
        out += d;
      });
      child.stderr!.on("data", (d) => {
        out += d;
      });
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      const ready = (async () => {
        for (let i = 0; i < 1_200; i++) {
          const lines = out.split("\n").filter((l) => l.startsWith("{"));
          const base = lines.find((l) => l.includes('"service listening"'));
          const metrics = lines.find((l) => l.includes('"metrics listening"'));
          if (base && metrics)
            return {
              baseUrl: JSON.parse(base).base_url as string,
              metricsUrl: JSON.parse(metrics).metrics_url,
            };
          if (child.exitCode !== null) throw new Error(`${name} exited:\n${out}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`${name} did not start:\n${out}`);
      })();
      return { name, child, exited, ready, output: () => out };
    });

    for (const p of started) {
      const { baseUrl, metricsUrl } = await p.ready;
      expect((await fetch(`${baseUrl}/readyz`)).status).toBe(200);
      const port = new URL(baseUrl).port;
      const health = spawn(process.execPath, probe.slice(1), { env: { PORT: port }, stdio: "ignore" });
      expect(await new Promise((r) => health.once("exit", r)), `${p.name} health check`).toBe(0);
      // Its own request and the health check's, counted by route.
      const scraped = await fetch(metricsUrl);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain(
        'skt_http_requests_total{method="GET",route="/readyz",status="200"} 2',
      );
    }
    for (const p of started) p.child.kill("SIGTERM");
    for (const p of started) expect(await p.exited, `${p.name}:\n${p.output()}`).toBe(0);
  }, 180_000);
});
