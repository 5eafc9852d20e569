import { createHash } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Database } from "../../storage/database.ts";
import { DomainError, ValidationError } from "../errors/domain-error.ts";
import { storableJson } from "../http/storable-text.ts";
import { idempotencyRepository } from "./repository.ts";

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const TTL_HOURS = 24;
const LOCK_SECONDS = 120;

/** Canonical JSON: key order must not make an identical request look different. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

export interface IdempotentResult {
  status: number;
  body: unknown;
}

/**
 * `Idempotency-Key` for the contract's writes: same key + same body → the original status and body
 * with `Idempotency-Replayed: true`; same key + different body → 422; still running → 409. Keys are
 * scoped per team and credential and kept 24 hours. A request that fails — with any error, also when its
 * result cannot be stored — releases its key, so a retry with the same key runs again (docs/decisions.md).
 */
export function idempotencyService(db: Database) {
  const repo = idempotencyRepository(db);

  return {
    async run(request: FastifyRequest, reply: FastifyReply, handler: () => Promise<IdempotentResult>) {
      const key = request.headers["idempotency-key"];
      if (typeof key !== "string" || !KEY_PATTERN.test(key)) {
        throw new ValidationError(
          "Send an `Idempotency-Key` header (1-255 printable characters) with this write.",
          [
            {
              field: "headers.idempotency-key",
              problem: typeof key === "string" ? "must be 1-255 printable ASCII characters" : "is required",
            },
          ],
        );
      }
      const { team, tokenId } = request.auth;
      const route = `${request.method} ${request.routeOptions.url}`;
      const requestHash = createHash("sha256")
        .update(route)
        .update("\n")
        .update(canonical(request.body))
        .digest("hex");
      const existing = await repo.claim({
        teamId: team.id,
        principal: tokenId,
        key,
        route,
        requestHash,
        lockSeconds: LOCK_SECONDS,
        ttlHours: TTL_HOURS,
      });

      if (existing) {
        if (existing.requestHash !== requestHash) {
          throw new DomainError(
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request. Use a new key for a new request.",
            {
              userActionRequired: true,
            },
          );
        }
        if (existing.state === "in_flight") {
          throw new DomainError(
            "idempotency_key_in_flight",
            "A request with this Idempotency-Key is still being processed. Retry shortly.",
            {
              retryable: true,
              retryAfterSeconds: 1,
            },
          );
        }
        reply.header("idempotency-replayed", "true");
        return reply.code(existing.responseStatus ?? 200).send(existing.responseBody);
      }

      try {
        const result = await handler();
        // Provider text may hold what jsonb refuses (NUL, lone surrogates): the replay keeps U+FFFD instead.
        await repo.complete(team.id, tokenId, key, result.status, storableJson(result.body));
        return reply.code(result.status).send(result.body);
      } catch (err) {
        // Never leave the key in flight: the CLI's keys are deterministic, so its retry carries this key, and
        // every write finds what an earlier attempt did (links, mappings, origin links) instead of redoing it.
        await repo
          .release(team.id, tokenId, key)
          .catch((releaseErr) =>
            request.log.error({ err: releaseErr }, "idempotency key release failed; its lock lapses"),
          );
        throw err;
      }
    },

    purgeExpired: () => repo.purgeExpired(),
  };
}

export type IdempotencyService = ReturnType<typeof idempotencyService>;
