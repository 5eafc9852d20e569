import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type EmbeddedService,
  runAdmin,
  runScript,
  startEmbeddedService,
} from "../support/embedded-process.ts";

/**
 * One owner per embedded data directory, with real processes: PGlite on disk corrupts when two
 * processes open it, so the service locks DATA_DIR, `npm run admin` sends its commands to the service
 * that holds it, and a killed service leaves a directory the next start takes over with its data.
 * The steps share one directory and run in order.
 */
describe("an embedded data directory has one owner", () => {
  const dir = mkdtempSync(join(tmpdir(), "skt-datadir-"));
  let service: EmbeddedService | undefined;
  let token = "";
  afterAll(async () => {
    await service?.stop("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  const api = (path: string, bearer: string, init: RequestInit = {}) =>
    fetch(`${service?.baseUrl}/api/v1${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${bearer}`,
        "x-team-slug": "ops",
        "content-type": "application/json",
      },
    });

  async function admin(...args: string[]) {
    const out = await runAdmin(dir, args);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    return JSON.parse(out.stdout);
  }

  it("runs admin commands beside the running service, which sees their writes at once", async () => {
    service = await startEmbeddedService(dir);
    expect(await admin("create-team", "--slug", "ops", "--name", "Ops")).toMatchObject({ slug: "ops" });
    await admin("create-user", "--email", "op@ops.test");
    await admin("add-member", "--team", "ops", "--email", "op@ops.test", "--role", "admin");
    const created = await admin("create-token", "--team", "ops", "--email", "op@ops.test");
    expect(Object.keys(created).sort()).toEqual(["expires_at", "id", "team", "token"]);
    token = created.token;

    const team = await api("/team/", token);
    expect(team.status).toBe(200);
    expect(await team.json()).toMatchObject({ slug: "ops" });
    expect(service.stdout()).toContain('"operator_command":"create-token"');
    expect(service.stdout()).not.toContain(token);

    // A refusal reads as it does when the CLI opens the database itself.
    const again = await runAdmin(dir, ["create-team", "--slug", "ops", "--name", "Ops"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^team_slug_taken: /);
  });

  it("refuses a second service and a demo on the same directory, naming the holder", async () => {
    const holder = `pid ${service?.pid}`;
    const second = runScript("src/app/main.ts", [], { DATA_DIR: dir });
    expect((await second.exited).code).toBe(1);
    expect(second.stderr()).toContain(`is in use by \`npm start\` (${holder} on host`);
    expect(second.stdout()).not.toContain("service listening");

    const demo = runScript("src/demo/demo.ts", [], { DATA_DIR: dir, SIM_PORT_BASE: "0" });
    expect((await demo.exited).code).toBe(1);
    expect(demo.stderr()).toContain(holder);

    // The holder was not disturbed.
    expect((await api("/team/", token)).status).toBe(200);
  });

  it("stops cleanly on SIGTERM; the CLI then opens the directory itself; a restart keeps everything", async () => {
    expect(await service?.stop("SIGTERM")).toEqual({ code: 0, signal: null });
    expect(existsSync(join(dir, "lock.json"))).toBe(false);

    const direct = await admin("create-token", "--team", "ops", "--email", "op@ops.test", "--name", "direct");
    expect(Object.keys(direct).sort()).toEqual(["expires_at", "id", "team", "token"]);
    expect(existsSync(join(dir, "lock.json"))).toBe(false);

    service = await startEmbeddedService(dir);
    expect(service.stdout()).not.toContain("took over");
    for (const bearer of [token, direct.token]) expect((await api("/team/", bearer)).status).toBe(200);
  });

  it("after kill -9 during a stream of writes, the next start takes over and has every acknowledged write", async () => {
    const killed = service as EmbeddedService;
    const acknowledged: string[] = [];
    let kill: Promise<unknown> | undefined;
    // Four writers keep requests in flight, so the kill lands between a write's start and its answer.
    const writer = async (w: number) => {
      for (let i = 0; !kill; i++) {
        const res = await api("/tokens/", token, {
          method: "POST",
          body: JSON.stringify({ name: `stream-${w}-${i}` }),
        }).catch(() => null);
        if (res?.status !== 201) return;
        acknowledged.push(((await res.json()) as { id: string }).id);
        if (acknowledged.length >= 40 && !kill) kill = killed.stop("SIGKILL");
      }
    };
    await Promise.all([0, 1, 2, 3].map(writer));
    expect(await kill).toEqual({ code: null, signal: "SIGKILL" });
    expect(existsSync(join(dir, "lock.json"))).toBe(true);

    service = await startEmbeddedService(dir);
    expect(service.stdout()).toContain(
      `took over the data directory lock of \`npm start\` (pid ${killed.pid}`,
    );
    const ids = new Set<string>();
    for (let cursor: string | null = ""; cursor !== null; ) {
      const res = await api(`/tokens/?limit=200${cursor ? `&cursor=${cursor}` : ""}`, token);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: { id: string }[]; next_cursor: string | null };
      for (const t of page.items) ids.add(t.id);
      cursor = page.next_cursor;
    }
    expect(acknowledged.filter((id) => !ids.has(id))).toEqual([]);
    expect(await service.stop("SIGINT")).toEqual({ code: 0, signal: null });
  });
});
