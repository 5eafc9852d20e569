import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DataDirLock } from "../../storage/data-dir-lock.ts";
import { type DatabaseHandle, restorePglite } from "../../storage/database.ts";

/**
 * Backups of the embedded default: one uncompressed tar file holding
 *   manifest.json    what it is, when it was taken
 *   pglite.tar.gz    the database files (PGlite's dump, taken between transactions)
 *   credentials.key  the key file of DATA_DIR, when there is one (CREDENTIALS_KEYS unset)
 * The key makes the backup as secret as the data directory: it decrypts the stored credentials.
 */

export const BACKUP_FORMAT = "spec-kitty-tracker-backup";
const KEY_FILE = "credentials.key";

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  version: 1;
  created_at: string;
  driver: "pglite";
  credentials_key: boolean;
}

/** A refused backup or restore, in words an operator acts on. */
export class BackupError extends Error {
  override name = "BackupError";
}

/** Takes a backup of an open embedded database (the service's own handle while it runs). */
export async function createBackup(database: DatabaseHandle, dataDir: string): Promise<Buffer> {
  if (!database.dump)
    throw new BackupError(
      "This service runs on PostgreSQL (DATABASE_URL): back it up with pg_dump (docs/operations.md).",
    );
  const tarball = await database.dump();
  const keyPath = join(dataDir, KEY_FILE);
  const key = existsSync(keyPath) ? readFileSync(keyPath) : null;
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    version: 1,
    created_at: new Date().toISOString(),
    driver: "pglite",
    credentials_key: key !== null,
  };
  const entries: TarEntry[] = [
    { name: "manifest.json", data: Buffer.from(JSON.stringify(manifest, null, 2)) },
    { name: "pglite.tar.gz", data: Buffer.from(tarball) },
  ];
  if (key) entries.push({ name: KEY_FILE, data: key });
  return packTar(entries);
}

/**
 * Restores `backup` into `dataDir`, whose lock the caller holds: refused unless the directory holds
 * no database and no other key file (a restore never overwrites data).
 */
export async function restoreBackup(backup: Buffer, dataDir: string, lock: DataDirLock) {
  const entries = new Map(unpackTar(backup).map((e) => [e.name, e.data]));
  const manifest = parseManifest(entries.get("manifest.json"));
  const database = entries.get("pglite.tar.gz");
  if (!database) throw new BackupError("The backup holds no database (pglite.tar.gz is missing).");
  const pglite = join(dataDir, "pglite");
  if (existsSync(pglite) && readdirSync(pglite).length > 0)
    throw new BackupError(
      `DATA_DIR ${dataDir} already holds a database: restore into a fresh directory (move this one aside first).`,
    );
  const key = entries.get(KEY_FILE);
  const keyPath = join(dataDir, KEY_FILE);
  if (key && existsSync(keyPath) && !readFileSync(keyPath).equals(key))
    throw new BackupError(`${keyPath} exists and is not the backup's key: restore into a fresh directory.`);
  await restorePglite(dataDir, database, lock);
  if (key) writeFileSync(keyPath, key, { mode: 0o600 });
  return { restored: dataDir, created_at: manifest.created_at, credentials_key: manifest.credentials_key };
}

function parseManifest(data: Buffer | undefined): BackupManifest {
  let manifest: Partial<BackupManifest> | null = null;
  try {
    manifest = data ? JSON.parse(data.toString("utf8")) : null;
  } catch {}
  if (manifest?.format !== BACKUP_FORMAT)
    throw new BackupError("This file is not a backup made by `npm run admin -- backup`.");
  if (manifest.version !== 1)
    throw new BackupError(`Backup format version ${manifest.version} is newer than this release reads.`);
  return manifest as BackupManifest;
}

interface TarEntry {
  name: string;
  data: Buffer;
}

/** A POSIX ustar archive of regular files (names under 100 bytes). */
export function packTar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const { name, data } of entries) {
    const header = Buffer.alloc(512);
    header.write(name, 0, 100, "utf8");
    header.write("0000600\0", 100, "ascii"); // mode
    header.write("0000000\0", 108, "ascii"); // uid
    header.write("0000000\0", 116, "ascii"); // gid
    header.write(`${data.length.toString(8).padStart(11, "0")}\0`, 124, "ascii");
    header.write(
      `${Math.floor(Date.now() / 1000)
        .toString(8)
        .padStart(11, "0")}\0`,
      136,
      "ascii",
    );
    header.write("        ", 148, "ascii"); // checksum, counted as spaces
    header.write("0", 156, "ascii"); // regular file
    header.write("ustar\0", 257, "ascii");
    header.write("00", 263, "ascii");
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
    parts.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function unpackTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  const broken = () => new BackupError("The backup file is damaged or not a tar archive.");
  for (let at = 0; at + 512 <= archive.length; ) {
    const header = archive.subarray(at, at + 512);
    if (header.every((b) => b === 0)) return entries;
    if (header.toString("ascii", 257, 262) !== "ustar") throw broken();
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
    if (sum !== Number.parseInt(header.toString("ascii", 148, 156).trim(), 8)) throw broken();
    const name = header.toString("utf8", 0, 100).replace(/\0.*$/s, "");
    const size = Number.parseInt(header.toString("ascii", 124, 136).trim(), 8);
    const start = at + 512;
    if (!Number.isFinite(size) || start + size > archive.length) throw broken();
    entries.push({ name, data: archive.subarray(start, start + size) });
    at = start + Math.ceil(size / 512) * 512;
  }
  throw broken();
}
