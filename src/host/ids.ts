import { randomFillSync } from "node:crypto";
import { ulid as ulidWith } from "ulid";

/**
 * The OS's random bytes, drawn 4 KiB at a time. ulid's own generator detects a PRNG and makes a Web Crypto
 * call for each of an id's 16 random characters: on the framework floor that was about a third of the
 * service's CPU per request (request ids), for the same bytes.
 */
const pool = Buffer.alloc(4096);
let next = pool.length;
const pooledRandom = () => {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  return pool[next++] / 256; // a byte over 256: each of the 32 characters equally likely
};

/** A ULID: the time, then 80 random bits. */
export const ulid = () => ulidWith(undefined, pooledRandom);

/** Prefixed ULIDs: sortable, and the prefix says what an id names when it shows up in a log. */
export const newId = (
  prefix:
    | "team"
    | "usr"
    | "tok"
    | "aud"
    | "op"
    | "inst"
    | "res"
    | "pass"
    | "srm"
    | "prj"
    | "wpl"
    | "mol"
    | "cur"
    | "inv"
    | "fl"
    | "whd",
) => `${prefix}_${ulid()}`;
