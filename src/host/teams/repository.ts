import { and, eq, or, sql } from "drizzle-orm";
import type { Database } from "../../storage/database.ts";
import { findOne } from "../../storage/find.ts";
import { memberships, teams, users } from "../../storage/schema.ts";

export type Role = "admin" | "member";
export type TeamRow = typeof teams.$inferSelect;
export type UserRow = typeof users.$inferSelect;

export function teamsRepository(db: Database) {
  return {
    async findTeamBySlugOrId(ref: string): Promise<TeamRow | undefined> {
      return findOne(db, teams, or(eq(teams.slug, ref), eq(teams.id, ref)));
    },
    async insertTeam(row: typeof teams.$inferInsert) {
      await db.insert(teams).values(row);
    },
    async findUserByEmail(email: string): Promise<UserRow | undefined> {
      return findOne(db, users, sql`lower(${users.email}) = lower(${email})`);
    },
    async findUserById(id: string): Promise<UserRow | undefined> {
      return findOne(db, users, eq(users.id, id));
    },
    async insertUser(row: typeof users.$inferInsert) {
      await db.insert(users).values(row);
    },
    async setPasswordHash(userId: string, hash: string) {
      await db.update(users).set({ passwordHash: hash }).where(eq(users.id, userId));
    },
    async roleOf(teamId: string, userId: string): Promise<Role | undefined> {
      const [row] = await db
        .select({ role: memberships.role })
        .from(memberships)
        .where(and(eq(memberships.teamId, teamId), eq(memberships.userId, userId)))
        .limit(1);
      return row?.role;
    },
    async upsertMembership(teamId: string, userId: string, role: Role) {
      await db
        .insert(memberships)
        .values({ teamId, userId, role })
        .onConflictDoUpdate({ target: [memberships.teamId, memberships.userId], set: { role } });
    },
    async teamsOfUser(userId: string) {
      return db
        .select({ team: teams, role: memberships.role })
        .from(memberships)
        .innerJoin(teams, eq(teams.id, memberships.teamId))
        .where(eq(memberships.userId, userId))
        .orderBy(teams.slug);
    },
    async membersPage(teamId: string, afterEmail: string | null, limit: number) {
      return db
        .select({
          id: users.id,
          email: users.email,
          name: users.name,
          role: memberships.role,
          joinedAt: memberships.createdAt,
        })
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .where(
          and(
            eq(memberships.teamId, teamId),
            afterEmail ? sql`lower(${users.email}) > ${afterEmail}` : undefined,
          ),
        )
        .orderBy(sql`lower(${users.email})`)
        .limit(limit + 1);
    },
    /** Adds a membership unless one exists (never changes an existing member's role); true when added. */
    async joinIfAbsent(teamId: string, userId: string, role: Role) {
      const rows = await db
        .insert(memberships)
        .values({ teamId, userId, role })
        .onConflictDoNothing()
        .returning({ userId: memberships.userId });
      return rows.length > 0;
    },
    /** One member with their account, locked for the rest of the transaction. */
    async memberForUpdate(teamId: string, userId: string) {
      const [row] = await db
        .select({ id: users.id, email: users.email, name: users.name, role: memberships.role })
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .where(and(eq(memberships.teamId, teamId), eq(memberships.userId, userId)))
        .for("update", { of: memberships })
        .limit(1);
      return row;
    },
    /**
     * The team's admins, locked: two admins demoting each other at once serialise here, and the second
     * sees one admin left (PostgreSQL re-checks `role` on the rows it waited for).
     */
    async adminsForUpdate(teamId: string) {
      return db
        .select({ userId: memberships.userId })
        .from(memberships)
        .where(and(eq(memberships.teamId, teamId), eq(memberships.role, "admin")))
        .for("update");
    },
    async setRole(teamId: string, userId: string, role: Role) {
      await db
        .update(memberships)
        .set({ role })
        .where(and(eq(memberships.teamId, teamId), eq(memberships.userId, userId)));
    },
    async deleteMembership(teamId: string, userId: string) {
      await db.delete(memberships).where(and(eq(memberships.teamId, teamId), eq(memberships.userId, userId)));
    },
    async countMembers(teamId: string) {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(memberships)
        .where(eq(memberships.teamId, teamId));
      return row?.n ?? 0;
    },
  };
}

export type TeamsRepository = ReturnType<typeof teamsRepository>;
