import { and, desc, eq, isNull, sql } from "drizzle-orm";
import type { Database } from "../../storage/database.ts";
import { findOne } from "../../storage/find.ts";
import { invitations, users } from "../../storage/schema.ts";

export type InvitationRow = typeof invitations.$inferSelect;

export function invitationsRepository(db: Database) {
  return {
    async insert(row: typeof invitations.$inferInsert) {
      await db.insert(invitations).values(row);
    },
    byHash: (tokenHash: string) => findOne(db, invitations, eq(invitations.tokenHash, tokenHash)),
    /** Team-scoped: an id of another team's invitation finds nothing. */
    byId: (teamId: string, id: string) =>
      findOne(db, invitations, and(eq(invitations.id, id), eq(invitations.teamId, teamId))),
    /** Open (not accepted, not revoked) invitations of the team, newest first, with the inviter's email. */
    async open(teamId: string, limit: number) {
      return db
        .select({ invitation: invitations, invitedByEmail: users.email })
        .from(invitations)
        .leftJoin(users, eq(users.id, invitations.invitedBy))
        .where(
          and(eq(invitations.teamId, teamId), isNull(invitations.acceptedAt), isNull(invitations.revokedAt)),
        )
        .orderBy(desc(invitations.createdAt), desc(invitations.id))
        .limit(limit);
    },
    /** Revokes the team's open invitations of one email (a new invitation replaces them). */
    async revokeOpenFor(teamId: string, email: string, at: Date) {
      return db
        .update(invitations)
        .set({ revokedAt: at })
        .where(
          and(
            eq(invitations.teamId, teamId),
            sql`lower(${invitations.email}) = lower(${email})`,
            isNull(invitations.acceptedAt),
            isNull(invitations.revokedAt),
          ),
        )
        .returning();
    },
    async revoke(id: string, at: Date) {
      const [row] = await db
        .update(invitations)
        .set({ revokedAt: at })
        .where(and(eq(invitations.id, id), isNull(invitations.acceptedAt), isNull(invitations.revokedAt)))
        .returning();
      return row;
    },
    /** Claims an open, unexpired invitation in one statement: of two racing accepts, one wins. */
    async claim(tokenHash: string, now: Date) {
      const [row] = await db
        .update(invitations)
        .set({ acceptedAt: now })
        .where(
          and(
            eq(invitations.tokenHash, tokenHash),
            isNull(invitations.acceptedAt),
            isNull(invitations.revokedAt),
            sql`${invitations.expiresAt} > ${now.toISOString()}`,
          ),
        )
        .returning();
      return row;
    },
    async setAcceptedBy(id: string, userId: string) {
      await db.update(invitations).set({ acceptedBy: userId }).where(eq(invitations.id, id));
    },
  };
}
