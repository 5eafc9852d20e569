import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Database } from "../../storage/database.ts";
import { inTransaction } from "../../storage/transaction.ts";
import type { AuditService } from "../audit/service.ts";
import { DomainError, UnauthorizedError } from "../errors/domain-error.ts";
import { decodeTextCursor, toPage } from "../http/pagination.ts";
import { newId } from "../ids.ts";
import { type ApiTokenRow, tokensRepository } from "./repository.ts";

const TOKEN_PREFIX = "skt_";
const TOUCH_INTERVAL_MS = 60_000;

const staleBefore = (now: Date) => new Date(now.getTime() - TOUCH_INTERVAL_MS);

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

export interface AuthenticatedToken {
  tokenId: string;
  user: { id: string; email: string; name: string };
}

function view(t: ApiTokenRow) {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    created_at: t.createdAt.toISOString(),
    expires_at: t.expiresAt?.toISOString() ?? null,
    last_used_at: t.lastUsedAt?.toISOString() ?? null,
    revoked_at: t.revokedAt?.toISOString() ?? null,
  };
}

/** Why a stored API token does not authenticate at `now`, or null when it does. */
export function apiTokenRefusal(
  token: { revokedAt: Date | null; expiresAt: Date | null },
  now: Date,
): UnauthorizedError | null {
  if (token.revokedAt)
    return new UnauthorizedError("This API token was revoked. Create a new one in the dashboard.");
  if (token.expiresAt && token.expiresAt <= now)
    return new UnauthorizedError("This API token has expired. Create a new one in the dashboard.");
  return null;
}

/** Whether a token last used at `lastUsedAt` is due its once-a-minute `last_used_at` write. */
export const touchDue = (lastUsedAt: Date | null, now: Date) =>
  !lastUsedAt || lastUsedAt.getTime() < now.getTime() - TOUCH_INTERVAL_MS;

export function tokensService(db: Database, audit: Pick<AuditService, "record">) {
  const repo = tokensRepository(db);

  return {
    /**
     * Mints a personal API token. The secret is returned once here and stored only as a hash.
     * `plaintext` lets operators seed a known token (the demo's DEMO_API_TOKEN).
     */
    async create(input: {
      userId: string;
      name: string;
      expiresAt?: Date | null;
      plaintext?: string;
      teamId?: string;
      requestId?: string;
    }) {
      const secret = input.plaintext ?? TOKEN_PREFIX + randomBytes(32).toString("base64url");
      const row = {
        id: newId("tok"),
        userId: input.userId,
        name: input.name,
        tokenHash: sha256(secret),
        prefix: secret.slice(0, 10),
        expiresAt: input.expiresAt ?? null,
      };
      await inTransaction(db, async (tx) => {
        await tokensRepository(tx).insert(row);
        if (!input.teamId) return;
        await audit.record(
          {
            teamId: input.teamId,
            actorUserId: input.userId,
            action: "api_token.created",
            targetType: "api_token",
            targetId: row.id,
            after: { name: row.name, prefix: row.prefix, expires_at: row.expiresAt?.toISOString() ?? null },
            requestId: input.requestId,
          },
          tx,
        );
      });
      const saved = await repo.findForUser(row.id, input.userId);
      return { token: secret, ...view(saved!) };
    },

    async authenticate(secret: string, now = new Date()): Promise<AuthenticatedToken> {
      const digest = sha256(secret);
      const found = await repo.findByHash(digest);
      // The lookup is by hash, so timing cannot reveal a prefix of a valid token; compare anyway.
      if (!found || !timingSafeEqual(Buffer.from(found.token.tokenHash), Buffer.from(digest)))
        throw new UnauthorizedError();
      const refusal = apiTokenRefusal(found.token, now);
      if (refusal) throw refusal;
      // The row just read says whether the once-a-minute write is due: no statement when it is not.
      if (touchDue(found.token.lastUsedAt, now)) await repo.touch(found.token.id, now, staleBefore(now));
      return { tokenId: found.token.id, user: found.user };
    },

    /** Records the token's use (the statement writes only when the stored time is a minute old). */
    touch: (tokenId: string, now = new Date()) => repo.touch(tokenId, now, staleBefore(now)),

    async page(userId: string, cursor: string | undefined, limit: number) {
      const rows = await repo.pageForUser(userId, decodeTextCursor(cursor), limit);
      return toPage(rows, limit, view, (t) => t.id);
    },

    async revoke(input: { userId: string; tokenId: string; teamId: string; requestId?: string }) {
      const row = await repo.findForUser(input.tokenId, input.userId);
      if (!row) throw new DomainError("token_not_found", `No API token '${input.tokenId}' of yours.`);
      const now = new Date();
      await inTransaction(db, async (tx) => {
        await tokensRepository(tx).revoke(row.id, now);
        await audit.record(
          {
            teamId: input.teamId,
            actorUserId: input.userId,
            action: "api_token.revoked",
            targetType: "api_token",
            targetId: row.id,
            before: { revoked_at: row.revokedAt?.toISOString() ?? null },
            after: { revoked_at: (row.revokedAt ?? now).toISOString() },
            requestId: input.requestId,
          },
          tx,
        );
      });
      return view({ ...row, revokedAt: row.revokedAt ?? now });
    },
  };
}

export type TokensService = ReturnType<typeof tokensService>;
