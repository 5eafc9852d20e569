import { createHash } from "node:crypto";
import { lt } from "drizzle-orm";
import { RateLimiterDrizzle, RateLimiterRes } from "rate-limiter-flexible";
import type { Database } from "../../storage/database.ts";
import { rateLimits as table } from "../../storage/schema.ts";

/**
 * Attempt counters on `rate-limiter-flexible`'s Drizzle store, in the `rate_limits` table (migration
 * 0008) that every app process shares: a limit holds across processes because the count is one row
 * incremented atomically (`insert … on conflict do update … returning`). Fixed windows per key.
 */
export interface AttemptCounter {
  /** Seconds until `key` may try again (it used up its attempts), else 0. Reads the shared store. */
  retryAfter(key: string): Promise<number>;
  /**
   * The same from what this process already learnt (a key it saw go over the limit), without a store
   * read: for checks on every request.
   */
  knownRetryAfter(key: string): number;
  /** Counts one attempt. Seconds to wait when this one went over the limit, else 0. */
  note(key: string): Promise<number>;
  /** Attempts `key` made in its current window. */
  count(key: string): Promise<number>;
  /** A success: the key starts over. */
  forget(key: string): Promise<void>;
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * Keys are hashed: the table bounds key length, and it does not become a list of the emails (or
 * passwords typed into the email field) and addresses that failed.
 */
const subject = (key: string) => createHash("sha256").update(key).digest("base64url").slice(0, 32);

/** `remember`: keep keys that went over the limit in memory, for `knownRetryAfter`. */
function counter(
  db: Database,
  name: string,
  points: number,
  minutes: number,
  opts: { remember?: boolean } = {},
): AttemptCounter {
  const limiter = new RateLimiterDrizzle({
    storeClient: db,
    schema: table,
    keyPrefix: name,
    points,
    duration: minutes * 60,
    // A key over the limit is then refused from memory until its window ends: no store read per
    // request. Only for keys nobody forgets (a forget reaches this process's memory alone).
    inMemoryBlockOnConsumed: opts.remember ? points + 1 : 0,
    // The app's housekeeping timer purges old rows (one statement for every limit).
    clearExpiredByTimeout: false,
  });
  const memory = limiter as unknown as { getInMemoryBlockMsBeforeExpire(rlKey: string): number };
  return {
    async retryAfter(key) {
      const res = await limiter.get(subject(key));
      return res && res.consumedPoints >= points ? seconds(res.msBeforeNext) : 0;
    },
    knownRetryAfter(key) {
      const ms = memory.getInMemoryBlockMsBeforeExpire(limiter.getKey(subject(key)));
      return ms > 0 ? seconds(ms) : 0;
    },
    async note(key) {
      try {
        await limiter.consume(subject(key));
        return 0;
      } catch (res) {
        if (res instanceof RateLimiterRes) return seconds(res.msBeforeNext);
        throw res;
      }
    },
    async count(key) {
      return (await limiter.get(subject(key)))?.consumedPoints ?? 0;
    },
    async forget(key) {
      await limiter.delete(subject(key));
    },
  };
}

/** Every limit of the service, per process over the shared table. */
export function rateLimits(db: Database) {
  return {
    /** Failed bearer authentications (unknown, revoked, expired tokens) per client address. */
    apiTokenFailures: counter(db, "api_token_failures", 30, 10, { remember: true }),
    /** Refused `/oauth/token` requests that mean a wrong guess, per client address. */
    oauthTokenRefusals: counter(db, "oauth_token_refusals", 30, 10),
    /** Device sign-ins started per client address (each one is a stored pending request). */
    deviceStarts: counter(db, "device_starts", 20, 10),
    /** Wrong device user codes per signed-in user. */
    deviceCodeLookups: counter(db, "device_code_lookups", 20, 15),
    /** Wrong passwords per client address, whichever accounts they name. */
    signInAddress: counter(db, "sign_in_address", 30, 15),
    /** Wrong passwords per (email, client address). */
    signInPair: counter(db, "sign_in_pair", 10, 15),
    /** Wrong passwords per account, from anywhere: only ever slows sign-in, never refuses it. */
    signInAccount: counter(db, "sign_in_account", 1_000_000, 15),
    /** Drops rows whose window ended an hour ago or more. */
    async purgeExpired(now = new Date()) {
      await db.delete(table).where(lt(table.expire, new Date(now.getTime() - 3_600_000)));
    },
  };
}

export type RateLimits = ReturnType<typeof rateLimits>;

/** Wrong passwords an account may take before sign-in slows down. */
const FREE_FAILURES = 5;
const MAX_DELAY_MS = 3_000;

/**
 * How long a sign-in to an account waits after `failures` wrong passwords for it from anywhere:
 * nothing for the first few, then 100 ms doubling per failure, at most 3 s.
 */
export function signInDelayMs(failures: number): number {
  if (failures <= FREE_FAILURES) return 0;
  return Math.min(MAX_DELAY_MS, 100 * 2 ** (failures - FREE_FAILURES - 1));
}

/** The one wording and header of a refusal for too many attempts (API envelope, OAuth body, pages). */
export function tooManyAttempts(what: string, retryAfterSeconds: number) {
  const when =
    retryAfterSeconds < 90 ? `${retryAfterSeconds} s` : `${Math.ceil(retryAfterSeconds / 60)} minutes`;
  return {
    message: `Too many ${what} from this address; try again in ${when}.`,
    retryAfterSeconds,
    headers: { "retry-after": String(retryAfterSeconds) },
  };
}
