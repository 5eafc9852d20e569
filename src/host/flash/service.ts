import type { Database } from "../../storage/database.ts";
import { newId } from "../ids.ts";
import type { Vault } from "../secrets/vault.ts";
import { flashRepository } from "./repository.ts";

/** A flash not shown within this time is dropped (the redirect that shows it follows at once). */
const FLASH_TTL_MS = 10 * 60_000;

/**
 * One-time messages across a post-redirect-get: a POST stores what the next page shows once (a new
 * API token, an invite link) and redirects with the flash id; rendering the page takes (deletes) it, so
 * a reload shows nothing and creates nothing. Payloads are secrets: stored as vault ciphertext bound to
 * the flash's id and session, and only the session that stored one can take it.
 */
export function flashService(db: Database, deps: { vault: Pick<Vault, "encrypt" | "decrypt"> }) {
  const repo = flashRepository(db);
  const bound = (id: string, sessionId: string, kind: string) => `flash:${kind}:${sessionId}:${id}`;
  return {
    async put(sessionId: string, kind: string, payload: unknown, now = new Date()): Promise<string> {
      const id = newId("fl");
      await repo.insert({
        id,
        sessionId,
        kind,
        ciphertext: deps.vault.encrypt(payload, bound(id, sessionId, kind)),
        expiresAt: new Date(now.getTime() + FLASH_TTL_MS),
      });
      if (Math.random() < 0.05) await repo.purgeExpired(now).catch(() => undefined);
      return id;
    },
    /** The payload once; `null` when it was already shown, expired, or is another session's. */
    async take<T>(
      sessionId: string,
      kind: string,
      id: string | undefined,
      now = new Date(),
    ): Promise<T | null> {
      if (!id || id.length > 64) return null;
      const row = await repo.take(id, sessionId, kind, now);
      return row ? deps.vault.decrypt<T>(row.ciphertext, bound(id, sessionId, kind)) : null;
    },
  };
}

export type FlashService = ReturnType<typeof flashService>;
