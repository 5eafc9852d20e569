import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * Real processes on an embedded data directory, run as `npm start`, `npm run demo` and `npm run admin`
 * run them (tsx), with no DATABASE_URL: PGlite on disk under DATA_DIR.
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Run {
  child: ChildProcess;
  /** Everything written so far to stdout and stderr. */
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
}

export function runScript(script: string, args: string[], env: Record<string, string>): Run {
  const { DATABASE_URL: _, ...inherited } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: ROOT,
    env: {
      ...inherited,
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
      REFRESH_INTERVAL_MINUTES: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<Exit>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

export interface EmbeddedService extends Run {
  pid: number;
  baseUrl: string;
  /** Sends the signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

/** `src/app/main.ts` on dataDir; resolves once it logs "service listening". */
export async function startEmbeddedService(dataDir: string): Promise<EmbeddedService> {
  const run = runScript("src/app/main.ts", [], { DATA_DIR: dataDir });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const line = run
        .stdout()
        .split("\n")
        .slice(0, -1)
        .find((l) => l.includes('"service listening"'));
      if (!line) return;
      run.child.stdout?.off("data", onData);
      resolve(JSON.parse(line).base_url);
    };
    run.child.stdout?.on("data", onData);
    run.exited.then((e) =>
      reject(
        new Error(`service exited (${e.code ?? e.signal}) before listening:\n${run.stderr()}${run.stdout()}`),
      ),
    );
  });
  return {
    ...run,
    pid: run.child.pid as number,
    baseUrl,
    async stop(signal = "SIGTERM") {
      run.child.kill(signal);
      return run.exited;
    },
  };
}

/** One `npm run admin` command; resolves with its exit and output. */
export async function runAdmin(dataDir: string, args: string[]) {
  const run = runScript("src/app/admin-cli.ts", args, { DATA_DIR: dataDir });
  const exit = await run.exited;
  return { code: exit.code, stdout: run.stdout(), stderr: run.stderr() };
}
