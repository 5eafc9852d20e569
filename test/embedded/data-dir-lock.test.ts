import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { DataDirInUseError, LOCK_FILE, lockDataDir } from "../../src/storage/data-dir-lock.ts";
import { openDatabase } from "../../src/storage/database.ts";

/** The data directory lock on its own: what a crashed or killed holder leaves, and racing processes. */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "skt-lock-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The lock file a holder with this pid leaves behind when it is killed. */
function leftBehind(dir: string, pid: number) {
  const holder = {
    pid,
    host: hostname(),
    program: "npm start",
    started_at: new Date().toISOString(),
    proc_start: null,
    nonce: "0123456789abcdef01234567",
  };
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify(holder), { mode: 0o600 });
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((r) => child.once("exit", r));
  return child.pid as number;
}

function lines(child: ChildProcess, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d) => {
      out += d;
      const done = out.split("\n").slice(0, -1);
      if (done.length >= count) resolve(done);
    });
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

describe("the data directory lock", () => {
  it("refuses a second open of the directory in the same process, and is released on close", async () => {
    const dir = tempDir();
    const first = await openDatabase({ dataDir: dir, program: "first" });
    expect(() => lockDataDir(dir, { program: "second" })).toThrow(DataDirInUseError);
    await expect(openDatabase({ dataDir: dir })).rejects.toThrow(`in use by \`first\` (pid ${process.pid}`);
    await first.close();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    lockDataDir(dir, { program: "after" }).release();
  });

  it("takes over a lock whose process is gone, and says whose it was", async () => {
    const dir = tempDir();
    const pid = await deadPid();
    leftBehind(dir, pid);
    const stale: number[] = [];
    const lock = lockDataDir(dir, { program: "restart", onStaleTakeover: (h) => stale.push(h.pid) });
    expect(stale).toEqual([pid]);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8"))).toMatchObject({ pid: process.pid });
    lock.release();
  });

  it("takes over a lock naming this process's pid that this process never took (a pid reused after a restart)", () => {
    const dir = tempDir();
    leftBehind(dir, process.pid);
    const lock = lockDataDir(dir, { program: "restart" });
    expect(lock.holder.nonce).not.toBe("0123456789abcdef01234567");
    lock.release();
  });

  it("of four processes taking over one stale lock at once, exactly one gets it; the others name it", async () => {
    const dir = tempDir();
    leftBehind(dir, await deadPid());
    const racer = `import { lockDataDir } from "./src/storage/data-dir-lock.ts";
      console.log("ready");
      process.stdin.once("data", () => {
        try { lockDataDir(process.env.DIR, { program: "racer" }); console.log("won"); }
        catch (e) { console.log(e.holder ? "refused " + e.holder.pid : "error " + e.message); }
        process.stdin.resume();
      });`;
    const racers = [0, 1, 2, 3].map(() =>
      spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", racer], {
        cwd: ROOT,
        env: { ...process.env, DIR: dir },
        stdio: ["pipe", "pipe", "inherit"],
      }),
    );
    const answers = racers.map((r) => lines(r, 2));
    await Promise.all(racers.map((r) => lines(r, 1)));
    for (const r of racers) r.stdin?.write("go\n");
    const outcomes = (await Promise.all(answers)).map((l) => l[1]);
    const winners = racers.filter((_, i) => outcomes[i] === "won");
    expect(winners).toHaveLength(1);
    expect(outcomes.filter((o) => o === `refused ${winners[0].pid}`)).toHaveLength(3);
    for (const r of racers) r.stdin?.end();
    await Promise.all(racers.map((r) => new Promise((done) => r.once("exit", done))));
  });
});
