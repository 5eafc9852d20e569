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
  };
}

export type TeamsRepository = ReturnType<typeof teamsRepository>;
