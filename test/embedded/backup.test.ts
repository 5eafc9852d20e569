import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simulatorOrigins, tokenConnectFor } from "../../src/demo/simulated.ts";
import { type ProviderSimulator, SIMULATORS } from "../../src/simulators/index.ts";
import { runAdmin, runScript } from "../support/embedded-process.ts";

/**
 * `npm run admin -- backup` / `restore` on the embedded default, with real processes: a backup taken
 * while the service runs (and writes) restores into a fresh DATA_DIR, and the service started there
 * serves the same team, token, installation and inventory, and can still use the stored credential
 * (the backup carries DATA_DIR's key file). Restore never writes where data or a running process is.
 */
describe("backup and restore of an embedded data directory", () => {
  const root = mkdtempSync(join(tmpdir(), "skt-backup-"));
  const source = join(root, "source");
  const fresh = join(root, "restored");
  const file = join(root, "tracker.backup");
  let gitlab: ProviderSimulator;
  let env: Record<string, string>;
  const services: { stop(): Promise<unknown> }[] = [];
  let token = "";
  let installationId = "";
  let listed: unknown[] = [];

  async function serve(dataDir: string) {
    const run = runScript("src/app/main.ts", [], { ...env, DATA_DIR: dataDir });
    for (let i = 0; i < 2_400; i++) {
      const line = run
        .stdout()
        .split("\n")
        .find((l) => l.includes('"service listening"'));
      if (line) {
        const service = {
          baseUrl: JSON.parse(line).base_url as string,
          run,
          async stop() {
            run.child.kill("SIGTERM");
            return run.exited;
          },
        };
        services.push(service);
        return service;
      }
      if (run.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the service did not start:\n${run.stderr()}${run.stdout()}`);
  }
  const api = (baseUrl: string, path: string, init: RequestInit = {}) =>
    fetch(`${baseUrl}/api/v1${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, "x-team-slug": "ops", "content-type": "application/json" },
    });
  async function admin(dataDir: string, ...args: string[]) {
    const out = await runAdmin(dataDir, args);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    return JSON.parse(out.stdout);
  }
  async function completed(baseUrl: string, operationId: string) {
    for (let i = 0; i < 600; i++) {
      const op = await (await api(baseUrl, `/tracker/operations/${operationId}/`)).json();
      if (op.status === "completed") return op;
      if (op.status === "failed") throw new Error(JSON.stringify(op));
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`operation ${operationId} did not complete`);
  }
  /** What `tracker discover` lists, without the candidate tokens (minted afresh per process). */
  const resources = async (baseUrl: string) => {
    const body = await (await api(baseUrl, "/tracker/resources/?provider=gitlab")).json();
    return (body.resources ?? body.items).map(
      ({ candidate_token: _, ...r }: { candidate_token: string }) => r,
    );
  };

  beforeAll(async () => {
    gitlab = await SIMULATORS.gitlab({});
    env = { GITLAB_URL: gitlab.demo.url, OUTBOUND_ALLOW: simulatorOrigins([gitlab]).join(",") };
  });
  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await gitlab?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("backs up a running service while it serves requests", async () => {
    const running = await serve(source);
    await admin(source, "create-team", "--slug", "ops", "--name", "Ops");
    await admin(source, "create-user", "--email", "op@ops.test");
    await admin(source, "add-member", "--team", "ops", "--email", "op@ops.test", "--role", "admin");
    token = (await admin(source, "create-token", "--team", "ops", "--email", "op@ops.test")).token;
    const connected = await (
      await api(running.baseUrl, "/installations/", {
        method: "POST",
        body: JSON.stringify(tokenConnectFor(gitlab)),
      })
    ).json();
    installationId = connected.installation.id;
    await completed(running.baseUrl, connected.refresh.operation_id);
    listed = await resources(running.baseUrl);
    expect(listed.length).toBeGreaterThan(0);

    // Requests keep coming while the backup is taken; the backup waits for none of them to stop.
    let serving = true;
    const load = (async () => {
      let answered = 0;
      while (serving) {
        expect((await api(running.baseUrl, "/team/")).status).toBe(200);
        answered++;
      }
      return answered;
    })();
    const backup = await admin(source, "backup", file);
    serving = false;
    expect(await load).toBeGreaterThan(0);
    expect(backup).toEqual({ backup: file, bytes: statSync(file).size });
    expect(statSync(file).mode & 0o077).toBe(0);
    expect(running.run.stdout()).toContain('"operator_command":"backup"');
  }, 180_000);

  it("restores into a fresh DATA_DIR, and the service there serves the same data", async () => {
    const restored = await admin(fresh, "restore", file);
    expect(restored).toMatchObject({ restored: fresh, credentials_key: true });
    const service = await serve(fresh);
    const team = await api(service.baseUrl, "/team/");
    expect(team.status).toBe(200);
    expect(await team.json()).toMatchObject({ slug: "ops" });
    const installation = await (await api(service.baseUrl, `/installations/${installationId}/`)).json();
    expect(installation).toMatchObject({ id: installationId, provider: "gitlab" });
    expect(await resources(service.baseUrl)).toEqual(listed);
    // The stored credential still decrypts: a refresh here reaches the provider and completes.
    const refresh = await (
      await api(service.baseUrl, `/installations/${installationId}/refresh/`, { method: "POST", body: "{}" })
    ).json();
    await completed(service.baseUrl, refresh.operation_id);

    // Never over a running service, nor over data.
    const inUse = await runAdmin(fresh, ["restore", file]);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toMatch(/^Refusing to restore: DATA_DIR .* is in use by `npm start`/);
    await service.stop();
    const over = await runAdmin(fresh, ["restore", file]);
    expect(over.code).toBe(1);
    expect(over.stderr).toMatch(/already holds a database: restore into a fresh directory/);
  }, 180_000);

  it("backs up a directory no service runs on; refuses a file that is not a backup", async () => {
    await services[0].stop();
    const offline = join(root, "offline.backup");
    expect(await admin(source, "backup", offline)).toMatchObject({ backup: offline });
    expect(existsSync(join(source, "lock.json"))).toBe(false);
    const elsewhere = join(root, "again");
    expect(await admin(elsewhere, "restore", offline)).toMatchObject({ restored: elsewhere });

    const junk = join(root, "junk.backup");
    writeFileSync(junk, "not a backup");
    const refused = await runAdmin(join(root, "junk-target"), ["restore", junk]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/damaged or not a tar archive/);
  }, 180_000);
});
