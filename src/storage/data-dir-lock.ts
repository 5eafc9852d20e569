import { randomBytes } from "node:crypto";
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";

/**
 * One process owns an embedded data directory: PGlite is a single-process database, and a second
 * process writing the same files corrupts them for good. The owner holds `lock.json` in the directory,
 * created exclusively (`open(…, "wx")`), naming who holds it and how to reach its operator channel.
 * A lock whose process is gone (kill -9, crash) is taken over, so it never blocks a restart.
 */

export const LOCK_FILE = "lock.json";

/** What the lock file says about its holder. */
export interface LockHolder {
  pid: number;
  host: string;
  /** What runs there, e.g. `npm start`. */
  program: string;
  started_at: string;
  /** Linux: the process's start time in clock ticks since boot, to tell a reused pid apart. */
  proc_start: string | null;
  /** Identifies this acquisition, so a release never removes someone else's lock. */
  nonce: string;
  base_url?: string;
  /** Where the holder takes operator commands (loopback only) and the secret it expects. */
  operator?: { url: string; secret: string };
}

export class DataDirInUseError extends Error {
  readonly dataDir: string;
  readonly holder: LockHolder;

  constructor(dataDir: string, holder: LockHolder) {
    const elsewhere = holder.host !== hostname();
    super(
      `DATA_DIR ${dataDir} is in use by ${describeHolder(holder)}. ` +
        (elsewhere
          ? `That host has to stop it; if nothing there uses the directory any more, delete ${join(dataDir, LOCK_FILE)}.`
          : "Stop that process first, or use `npm run admin`, which sends its commands to the running service."),
    );
    this.name = "DataDirInUseError";
    this.dataDir = dataDir;
    this.holder = holder;
  }
}

export interface DataDirLock {
  readonly dataDir: string;
  readonly holder: LockHolder;
  /** Adds what other processes may read (base URL, operator channel) to the lock file. */
  publish(extra: Pick<LockHolder, "base_url" | "operator">): void;
  /** Removes the lock file if it is still this acquisition's. Idempotent. */
  release(): void;
}

export interface LockOptions {
  program: string;
  /** Told when a lock left by a process that is gone is taken over. */
  onStaleTakeover?: (stale: LockHolder) => void;
}

/** Nonces of the locks this process holds: the same pid in a lock file is only ours if listed here. */
const heldHere = new Set<string>();

const ATTEMPTS = 40;
const PAUSE_MS = 50;
/** A takeover guard older than this was left by a process that died while taking over. */
const GUARD_STALE_MS = 10_000;

export function describeHolder(h: LockHolder): string {
  const where = h.base_url ? `, serving ${h.base_url}` : "";
  return `\`${h.program}\` (pid ${h.pid} on host ${h.host}, since ${h.started_at}${where})`;
}

/** Takes the directory's lock, or throws DataDirInUseError naming a live holder. */
export function lockDataDir(dataDir: string, opts: LockOptions): DataDirLock {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const mine: LockHolder = {
    pid: process.pid,
    host: hostname(),
    program: opts.program,
    started_at: new Date().toISOString(),
    proc_start: procStart(process.pid),
    nonce: randomBytes(12).toString("hex"),
  };
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (tryCreate(path, mine)) return heldLock(dir, path, mine);
    const current = readLockFile(path);
    if (current === "missing") continue;
    if (current !== "unreadable" && isAlive(current)) throw new DataDirInUseError(dir, current);
    if (takeOver(path, current, mine)) {
      if (current !== "unreadable") opts.onStaleTakeover?.(current);
      return heldLock(dir, path, mine);
    }
    pause(PAUSE_MS);
  }
  throw new Error(`Could not take the lock ${path}: other processes keep changing it. Try again.`);
}

function heldLock(dataDir: string, path: string, mine: LockHolder): DataDirLock {
  heldHere.add(mine.nonce);
  let holder = mine;
  let released = false;
  return {
    dataDir,
    get holder() {
      return holder;
    },
    publish(extra) {
      holder = { ...holder, ...extra };
      // Replaced by rename so a reader never sees a half-written file.
      const tmp = `${path}.${mine.nonce}.tmp`;
      writeFileSync(tmp, JSON.stringify(holder), { mode: 0o600 });
      renameSync(tmp, path);
    },
    release() {
      if (released) return;
      released = true;
      heldHere.delete(mine.nonce);
      const current = readLockFile(path);
      if (typeof current === "object" && current.nonce === mine.nonce) rmSync(path, { force: true });
    },
  };
}

function tryCreate(path: string, mine: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(mine));
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Replaces a dead holder's lock. Two processes may find the same stale lock; the guard file lets one
 * of them replace it, and the lock is read again under the guard so a fresh lock is never removed.
 */
function takeOver(path: string, stale: LockHolder | "unreadable", mine: LockHolder): boolean {
  const guard = `${path}.takeover`;
  let fd: number;
  try {
    fd = openSync(guard, "wx", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    if (ageMs(guard) > GUARD_STALE_MS) rmSync(guard, { force: true });
    return false;
  }
  try {
    const current = readLockFile(path);
    const unchanged =
      current === "missing" ||
      (stale === "unreadable"
        ? current === "unreadable"
        : typeof current === "object" && current.nonce === stale.nonce);
    if (!unchanged) return false;
    rmSync(path, { force: true });
    return tryCreate(path, mine);
  } finally {
    closeSync(fd);
    rmSync(guard, { force: true });
  }
}

/**
 * The lock file's holder. The file is written right after its exclusive creation, so an empty or
 * partial file is read again for a moment before it counts as unreadable (a crash in that instant).
 */
function readLockFile(path: string): LockHolder | "missing" | "unreadable" {
  for (let attempt = 0; attempt < 20; attempt++) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return "missing";
      throw err;
    }
    try {
      const parsed = JSON.parse(text) as LockHolder;
      if (typeof parsed.pid === "number" && typeof parsed.nonce === "string") return parsed;
    } catch {}
    pause(PAUSE_MS);
  }
  return "unreadable";
}

/** Whether the holder may still be running. A process on another host cannot be checked: assume it is. */
function isAlive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true;
  // Our own pid is ours only if this process took that lock; otherwise the pid was reused (pid 1 in a container).
  if (h.pid === process.pid) return heldHere.has(h.nonce);
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  const now = procStat(h.pid);
  if (!now) return true; // no /proc (macOS): the pid exists, so count it as the holder
  if (now.state === "Z" || now.state === "X") return false;
  return h.proc_start === null || now.start === h.proc_start;
}

function procStart(pid: number): string | null {
  return procStat(pid)?.start ?? null;
}

/** State and start time (field 22) from /proc/<pid>/stat; the command name may hold spaces and parentheses. */
function procStat(pid: number): { state: string; start: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0], start: fields[19] };
  } catch {
    return null;
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function pause(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
