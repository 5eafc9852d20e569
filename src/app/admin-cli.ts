import { renameSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { type Config, loadConfig } from "../host/config.ts";
import { DomainError } from "../host/errors/domain-error.ts";
import { BackupError } from "../host/operator/backup.ts";
import { requestOperatorBackup, sendOperatorCommand } from "../host/operator/channel.ts";
import { type CommandArgs, isCommand, missingOption, OPTIONS } from "../host/operator/commands.ts";
import {
  DataDirInUseError,
  type DataDirLock,
  describeHolder,
  lockDataDir,
} from "../storage/data-dir-lock.ts";

/**
 * Operator commands against the configured database (PGlite under DATA_DIR, or DATABASE_URL):
 *   npm run admin -- create-team --slug acme --name "Acme"
 *   npm run admin -- create-user --email admin@acme.test [--name N] [--password P]
 *   npm run admin -- add-member --team acme --email admin@acme.test --role admin
 *   npm run admin -- create-token --team acme --email admin@acme.test [--name N] [--expires-in-days D]
 *   npm run admin -- set-password --email admin@acme.test --password P
 *   npm run admin -- backup <file>     (embedded default; also while the service runs)
 *   npm run admin -- restore <file>    (into a fresh DATA_DIR that no process holds)
 *
 * On the embedded default only one process may open DATA_DIR: when a service holds it, the command is
 * sent to that service over its operator channel; otherwise this process takes the lock and opens it.
 */
const USAGE = `usage: npm run admin -- <create-team|create-user|add-member|create-token|set-password> [options]
  create-team   --slug S --name N
  create-user   --email E [--name N] [--password P]
  add-member    --team SLUG --email E --role admin|member
  create-token  --team SLUG --email E [--name N] [--expires-in-days D]
  set-password  --email E --password P
  backup        <file>   a consistent copy of the embedded database and its key file
  restore       <file>   into an empty DATA_DIR no process holds`;

/** How long to wait for a holder that cannot take commands (another admin command, a service starting). */
const WAIT_MS = 30_000;

const [command, ...rest] = process.argv.slice(2);
if (command === "backup" || command === "restore") {
  if (rest.length !== 1 || rest[0].startsWith("-")) {
    console.error(`${command} takes one file name\n${USAGE}`);
    process.exit(2);
  }
  try {
    const outcome = await backupOrRestore(command, resolve(rest[0]), loadConfig());
    console.log(JSON.stringify(outcome));
    process.exit(0);
  } catch (err) {
    if (err instanceof DomainError) console.error(`${err.wireCode}: ${err.message}`);
    else if (err instanceof DataDirInUseError || err instanceof BackupError) console.error(err.message);
    else console.error(err);
    process.exit(1);
  }
}
const { values } = parseArgs({
  args: rest,
  options: Object.fromEntries(OPTIONS.map((o) => [o, { type: "string" as const }])),
});
const args = values as CommandArgs;

if (!isCommand(command)) {
  console.error(USAGE);
  process.exit(2);
}
const missing = missingOption(command, args);
if (missing) {
  console.error(`missing --${missing}\n${USAGE}`);
  process.exit(2);
}

const config = loadConfig();
try {
  const outcome = config.databaseUrl ? await runHere(config) : await runOnDataDir(config);
  console.log(JSON.stringify(outcome));
} catch (err) {
  if (err instanceof DomainError) console.error(`${err.wireCode}: ${err.message}`);
  else if (err instanceof DataDirInUseError) console.error(err.message);
  else console.error(err);
  process.exitCode = 1;
}

/** Sends the command to the service holding DATA_DIR, or takes the directory when nobody holds it. */
async function runOnDataDir(config: Config): Promise<unknown> {
  const deadline = Date.now() + WAIT_MS;
  for (let waited = false; ; waited = true) {
    const taken = takeDataDir(config.dataDir);
    if (!(taken instanceof DataDirInUseError)) return runHere(config, taken);
    const { holder } = taken;
    if (holder.host !== hostname()) throw taken;
    const answer = holder.operator
      ? await sendOperatorCommand(holder.operator, command as string, args)
      : "unreachable";
    if (answer !== "unreachable") {
      if (answer.ok) return answer.result;
      throw answer.error;
    }
    // Another admin command, a service still starting or stopping: none of them takes commands yet.
    if (Date.now() > deadline) throw taken;
    if (!waited) console.error(`waiting for ${describeHolder(holder)} to take commands or finish`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function takeDataDir(dataDir: string): DataDirLock | DataDirInUseError {
  try {
    return lockDataDir(dataDir, {
      program: "npm run admin",
      onStaleTakeover: (stale) =>
        console.error(`took over the data directory lock of ${describeHolder(stale)}: that process is gone`),
    });
  } catch (err) {
    if (err instanceof DataDirInUseError) return err;
    throw err;
  }
}

/** Loaded only when this process opens the database: a command sent to the service needs none of it. */
async function runHere(config: Config, lock?: DataDirLock): Promise<unknown> {
  const { runDirect } = await import("./operator-direct.ts");
  return runDirect(config, lock, command as string, args);
}

/**
 * `backup`: from the service holding DATA_DIR over its operator channel (it dumps between its own
 * transactions), or from the directory itself when nobody holds it. `restore`: only into a DATA_DIR
 * nobody holds, so it never writes under a running service.
 */
async function backupOrRestore(which: "backup" | "restore", file: string, config: Config) {
  if (config.databaseUrl)
    throw new BackupError(
      `DATABASE_URL is set: ${which === "backup" ? "pg_dump" : "pg_restore"} backs up PostgreSQL (docs/operations.md).`,
    );
  const { backupHere, restoreHere } = await import("./operator-direct.ts");
  if (which === "restore") {
    const taken = takeDataDir(config.dataDir);
    if (taken instanceof DataDirInUseError)
      throw new BackupError(
        `Refusing to restore: ${taken.message.split(". ")[0]}. Restore into a fresh DATA_DIR.`,
      );
    try {
      return await restoreHere(config, taken, file);
    } finally {
      taken.release();
    }
  }
  const deadline = Date.now() + WAIT_MS;
  for (let waited = false; ; waited = true) {
    const taken = takeDataDir(config.dataDir);
    if (!(taken instanceof DataDirInUseError)) return writeBackup(file, await backupHere(config, taken));
    const { holder } = taken;
    if (holder.host !== hostname()) throw taken;
    const answer = holder.operator ? await requestOperatorBackup(holder.operator) : "unreachable";
    if (answer !== "unreachable") return writeBackup(file, answer);
    if (Date.now() > deadline) throw taken;
    if (!waited) console.error(`waiting for ${describeHolder(holder)} to take commands or finish`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Written beside the target and renamed, so a failed backup never leaves a truncated file under its name. */
function writeBackup(file: string, bytes: Buffer) {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, bytes, { mode: 0o600 });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return { backup: file, bytes: bytes.length };
}
