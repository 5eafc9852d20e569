import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** A real app process: `src/app/main.ts` run with tsx, as `npm start` runs it. */
export interface AppProcess {
  baseUrl: string;
  pid: number;
  /** SIGTERM, then waits for the process to close its database and exit. */
  stop(): Promise<void>;
  /** SIGKILL (`kill -9`): the process dies mid-whatever, closing nothing. */
  kill(): Promise<void>;
}

/** Short leases so a killed process's job is taken over in seconds, not the production 30 s. */
export const SHORT_LEASES = {
  JOB_LEASE_SECONDS: "5",
  JOB_HEARTBEAT_SECONDS: "1",
  JOB_POLL_MS: "100",
  JOB_MAX_ATTEMPTS: "3",
  JOB_RETRY_BASE_SECONDS: "0.1",
  JOB_RETRY_MAX_SECONDS: "0.5",
};

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Starts the service on a free port against `databaseUrl` (several processes may share one database)
 * and resolves once it logs that it listens. `env` adds or overrides configuration; `entry` is the
 * script run (another entry point must print the same `service listening` line).
 */
export async function startAppProcess(
  databaseUrl: string,
  env: Record<string, string> = {},
  entry = "src/app/main.ts",
): Promise<AppProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), "skt-app-"));
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      HOST: "127.0.0.1",
      PORT: "0",
      DATA_DIR: dataDir,
      LOG_LEVEL: "info",
      REFRESH_INTERVAL_MINUTES: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    const baseUrl = await listening(child);
    return {
      baseUrl,
      pid: child.pid!,
      async stop() {
        child.kill("SIGTERM");
        await exited;
        rmSync(dataDir, { recursive: true, force: true });
      },
      async kill() {
        child.kill("SIGKILL");
        await exited;
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    child.kill("SIGKILL");
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/** The `base_url` of the process's "service listening" log line (pino JSON on stdout). */
function listening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    let found = false;
    child.stderr?.on("data", (d) => {
      if (!found) err += d;
    });
    // Keeps reading after the line is found: a full pipe would stall the process.
    child.stdout?.on("data", (d) => {
      if (found) return;
      out += d;
      const complete = out.split("\n").slice(0, -1);
      const line = complete.find((l) => l.includes('"service listening"'));
      if (!line) return;
      found = true;
      resolve(JSON.parse(line).base_url);
    });
    child.once("exit", (code) =>
      reject(new Error(`app process exited (${code}) before listening:\n${err}${out}`)),
    );
  });
}

/**
 * Team `acme` with an admin (who can also sign in with a password) and their API token, made through a
 * test's own services on the database the service processes share: the CLI's headers for that admin.
 */
export async function seedAcmeAdmin(services: {
  teams: Pick<
    import("../../src/app/compose.ts").Services["teams"],
    "createTeam" | "createUser" | "setMembership"
  >;
  tokens: Pick<import("../../src/app/compose.ts").Services["tokens"], "create">;
}) {
  const team = await services.teams.createTeam({ slug: "acme", name: "Acme" });
  const user = await services.teams.createUser({
    email: "admin@acme.test",
    password: "correct horse battery",
  });
  await services.teams.setMembership(team.id, user.id, "admin");
  const { token } = await services.tokens.create({ userId: user.id, name: "test" });
  return { team, user, token, headers: { authorization: `Bearer ${token}`, "x-team-slug": "acme" } };
}
