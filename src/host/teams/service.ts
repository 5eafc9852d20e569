import { hash as argon2Hash, verify as argon2Verify } from "@node-rs/argon2";
import type { Database } from "../../storage/database.ts";
import { inTransaction } from "../../storage/transaction.ts";
import { DomainError, ValidationError } from "../errors/domain-error.ts";
import { decodeTextCursor, toPage } from "../http/pagination.ts";
import { newId } from "../ids.ts";
import { emailTaken, slugTaken } from "./errors.ts";
import { type Role, teamsRepository } from "./repository.ts";

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

export function teamsService(db: Database) {
  const repo = teamsRepository(db);

  return {
    /** Lookups other features need (authentication, the operator channel, the audit page, seeds). */
    findTeam: (ref: string) => repo.findTeamBySlugOrId(ref),
    findUserByEmail: (email: string) => repo.findUserByEmail(email),
    findUser: (id: string) => repo.findUserById(id),
    /** The user's teams with their role in each. */
    teamsOf: (userId: string) => repo.teamsOfUser(userId),
    roleOf: (teamId: string, userId: string) => repo.roleOf(teamId, userId),
    setMembership: (teamId: string, userId: string, role: Role) =>
      repo.upsertMembership(teamId, userId, role),
    /** Joins a team unless already a member (an existing role is kept); `tx` to join inside a transaction. */
    joinTeam: (teamId: string, userId: string, role: Role, tx?: Database) =>
      teamsRepository(tx ?? db).joinIfAbsent(teamId, userId, role),
    findUserByEmailIn: (email: string, tx: Database) => teamsRepository(tx).findUserByEmail(email),

    async createTeam(input: { slug: string; name: string; isPrivateTeamspace?: boolean }) {
      if (!SLUG.test(input.slug)) {
        throw new ValidationError("Team slug must be lower-case letters, digits and dashes.", [
          { field: "slug", problem: "must match ^[a-z0-9-]+$" },
        ]);
      }
      if (await repo.findTeamBySlugOrId(input.slug)) throw slugTaken(input.slug);
      const team = {
        id: newId("team"),
        slug: input.slug,
        name: input.name,
        isPrivateTeamspace: input.isPrivateTeamspace ?? false,
      };
      await repo.insertTeam(team);
      return team;
    },

    /**
     * Every user gets a private teamspace with the account (the CLI requires one, auth contract §7).
     * Pass `tx` to create the account inside a caller's transaction (accepting an invitation).
     */
    async createUser(input: { email: string; name?: string; password?: string }, tx?: Database) {
      const email = input.email.trim();
      if (!EMAIL.test(email))
        throw new ValidationError("Email is not valid.", [{ field: "email", problem: "is not an email" }]);
      if (await teamsRepository(tx ?? db).findUserByEmail(email)) throw emailTaken(email);
      const user = {
        id: newId("usr"),
        email,
        name: input.name?.trim() || email.split("@")[0],
        passwordHash: input.password ? await argon2Hash(input.password) : null,
      };
      const create = async (t: Database) => {
        const txRepo = teamsRepository(t);
        await txRepo.insertUser(user);
        const privateTeam = {
          id: newId("team"),
          slug: `private-${user.id.slice(4).toLowerCase()}`,
          name: `${user.name} (private)`,
          isPrivateTeamspace: true,
        };
        await txRepo.insertTeam(privateTeam);
        await txRepo.upsertMembership(privateTeam.id, user.id, "admin");
      };
      await (tx ? create(tx) : inTransaction(db, create));
      return { id: user.id, email: user.email, name: user.name };
    },

    async setPassword(email: string, password: string) {
      const user = await repo.findUserByEmail(email);
      if (!user) throw new DomainError("user_not_found", `No user with email '${email}'.`);
      await repo.setPasswordHash(user.id, await argon2Hash(password));
    },

    async verifyPassword(email: string, password: string) {
      const user = await repo.findUserByEmail(email);
      if (!user?.passwordHash) return null;
      return (await argon2Verify(user.passwordHash, password)) ? user : null;
    },

    async addMember(teamRef: string, email: string, role: Role) {
      const team = await repo.findTeamBySlugOrId(teamRef);
      if (!team) throw new DomainError("team_not_found", `No team '${teamRef}'.`);
      const user = await repo.findUserByEmail(email);
      if (!user) throw new DomainError("user_not_found", `No user with email '${email}'.`);
      await repo.upsertMembership(team.id, user.id, role);
      return { team, user, role };
    },

    async me(userId: string) {
      const user = await repo.findUserById(userId);
      if (!user) throw new DomainError("user_not_found", "The signed-in user no longer exists.");
      const rows = await repo.teamsOfUser(userId);
      // `user_id` is the email on purpose: the CLI records its local project admission under the email
      // and compares it with `user_id` before every tracker call (CLI auth contract §7.4).
      return {
        user_id: user.email,
        email: user.email,
        name: user.name,
        teams: rows.map((r) => ({
          id: r.team.id,
          slug: r.team.slug,
          name: r.team.name,
          role: r.role,
          is_private_teamspace: r.team.isPrivateTeamspace,
        })),
      };
    },

    async membersPage(teamId: string, cursor: string | null, limit: number) {
      const rows = await repo.membersPage(teamId, decodeTextCursor(cursor), limit);
      return toPage(
        rows,
        limit,
        (m) => ({
          user_id: m.id,
          email: m.email,
          name: m.name,
          role: m.role,
          joined_at: m.joinedAt.toISOString(),
        }),
        (m) => m.email.toLowerCase(),
      );
    },
  };
}

export type TeamsService = ReturnType<typeof teamsService>;
