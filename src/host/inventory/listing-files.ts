import { createReadStream, createWriteStream } from "node:fs";
import { type FileHandle, mkdtemp, open, rename, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import type { TeamVersions } from "./repository.ts";

/**
 * Encoded `tracker discover` answers of teams without a snapshot, kept on disk (not the heap) so a
 * team's next request within the token batch's life is a file sent as it is: the process's memory stays
 * flat whatever the number of teams. One gzip file per team and provider (the newest), and its
 * decompressed copy once a client without gzip asked, in a directory of this process (removed on
 * close), least recently used evicted past `maxBytes`.
 */
export interface ListingFile {
  path: string;
  /** Size of the gzip body. */
  bytes: number;
  /**
   * The same body decompressed, made on the first request of a client that does not take gzip: a file
   * sent as it is costs less than decompressing on every such request (measured, docs/performance.md).
   */
  plain?: { path: string; bytes: number };
  making?: Promise<{ path: string; bytes: number } | null>;
  /** The team's versions the listing was read at. */
  versions: TeamVersions;
  /** When its candidate tokens were minted. */
  mintedAt: number;
}

/** Disk the files may take by default (LISTING_CACHE_MB): ~2,000 listings of 5,000 resources. */
export const DEFAULT_LISTING_CACHE_BYTES = 1024 * 1024 * 1024;

/**
 * gzip level 1: a listing is written once per team and token batch but sent many times, and the write
 * is most of a cold answer's cost. Level 1 takes about a third of level 6's time for ~25% more bytes
 * (measured on listings of 5,000 GitHub repositories; see docs/performance.md).
 */
const GZIP_LEVEL = 1;

const sizeOf = (f: ListingFile) => f.bytes + (f.plain?.bytes ?? 0);

const covers = (have: TeamVersions, want: TeamVersions) =>
  have.inventory >= want.inventory && have.binding >= want.binding;

export function listingFiles(opts: { dir?: string; maxBytes?: number } = {}) {
  const maxBytes = opts.maxBytes ?? DEFAULT_LISTING_CACHE_BYTES;
  /** Least recently used first. */
  const files = new Map<string, ListingFile>();
  let total = 0;
  let seq = 0;
  let home: Promise<string> | undefined;
  let closed = false;
  const dir = () => {
    home ??= mkdtemp(join(opts.dir ?? tmpdir(), "skt-listings-"));
    // A directory that could not be made is tried again by the next write.
    home.catch(() => {
      home = undefined;
    });
    return home;
  };

  const remove = (key: string) => {
    const f = files.get(key);
    if (!f) return;
    files.delete(key);
    total -= sizeOf(f);
    // A reader that opened it keeps its descriptor: unlinking never cuts an answer short.
    unlink(f.path).catch(() => {});
    if (f.plain) unlink(f.plain.path).catch(() => {});
  };

  /** Least recently used first, until the files fit (the one just used last, so it goes last). */
  const evict = () => {
    for (const [key] of files) {
      if (total <= maxBytes) break;
      remove(key);
    }
  };

  /** Writes `from` to `path` through a temporary name renamed when complete; the bytes written. */
  async function writeAtomically(path: string, from: Readable, ...through: NodeJS.ReadWriteStream[]) {
    const temp = `${path}.tmp`;
    try {
      const out = createWriteStream(temp, { flags: "wx" });
      await pipeline([from, ...through, out]);
      await rename(temp, path);
      return out.bytesWritten;
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw err;
    }
  }

  return {
    /** The team's file when it covers `want` and its tokens were minted after `mintedAfter`. */
    find(key: string, want: TeamVersions, mintedAfter: number): ListingFile | undefined {
      const f = files.get(key);
      if (!f) return undefined;
      if (!covers(f.versions, want) || f.mintedAt <= mintedAfter) {
        remove(key);
        return undefined;
      }
      files.delete(key);
      files.set(key, f);
      return f;
    },

    /**
     * Writes a listing's JSON text gzipped, to a temporary name renamed when complete (a reader never
     * sees half a file), and keeps it as the team's file. Rejects when the disk refuses: the caller still
     * has the listing to answer with.
     */
    async write(key: string, versions: TeamVersions, mintedAt: number, json: Iterable<string>) {
      const path = join(await dir(), `${++seq}.json.gz`);
      const bytes = await writeAtomically(path, Readable.from(json), createGzip({ level: GZIP_LEVEL }));
      if (closed) {
        await unlink(path).catch(() => {});
        throw new Error("listing files closed");
      }
      const file: ListingFile = { path, bytes, versions, mintedAt };
      const before = files.get(key);
      // A slower build of older versions never replaces a newer file.
      if (before && covers(before.versions, versions) && before.mintedAt >= mintedAt) {
        await unlink(path).catch(() => {});
        return before;
      }
      remove(key);
      files.set(key, file);
      total += file.bytes;
      evict();
      return file;
    },

    /**
     * The decompressed copy of the team's current file, made once (concurrent callers share it); null
     * when the file is no longer the team's or the disk refused (the caller decompresses on the way).
     */
    plain(key: string, file: ListingFile): Promise<{ path: string; bytes: number } | null> {
      if (file.plain) return Promise.resolve(file.plain);
      file.making ??= (async () => {
        const path = `${file.path.slice(0, -".gz".length)}`;
        try {
          const bytes = await writeAtomically(path, createReadStream(file.path), createGunzip());
          if (closed || files.get(key) !== file) {
            await unlink(path).catch(() => {});
            return null;
          }
          file.plain = { path, bytes };
          total += bytes;
          evict();
          return file.plain;
        } catch {
          return null;
        } finally {
          file.making = undefined;
        }
      })();
      return file.making;
    },

    /** An open descriptor of a file, or null when it was evicted meanwhile. */
    async open(path: string): Promise<FileHandle | null> {
      try {
        return await open(path, "r");
      } catch {
        return null;
      }
    },

    /** Bytes of the files kept. */
    get bytes() {
      return total;
    },

    async close() {
      closed = true;
      files.clear();
      total = 0;
      if (home) await rm(await home, { recursive: true, force: true });
    },
  };
}

export type ListingFiles = ReturnType<typeof listingFiles>;
