import { createHash, randomBytes } from "node:crypto";
import type { Database } from "../../storage/database.ts";
import { inTransaction } from "../../storage/transaction.ts";
import type { AuditService } from "../audit/service.ts";
import { DomainError, ValidationError } from "../errors/domain-error.ts";
import { newId } from "../ids.ts";
import type { Mailer } from "../mail/mailer.ts";
import type { Role } from "../teams/access.ts";
import { adminRequired } from "../teams/errors.ts";
import type { MemberAdmin } from "../teams/members.ts";
import type { TeamsService } from "../teams/service.ts";
import { type InvitationRow, invitationsRepository } from "./repository.ts";

const INVITE_TTL_MS = 7 * 86_400_000;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
export const MIN_PASSWORD_LENGTH = 12;

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

export const invitationNotFound = () =>
  new DomainError(
    "invitation_not_found",
    "This invitation link is not valid. Check that you copied all of it, or ask an admin for a new invitation.",
  );

const unusable = (row: InvitationRow, now: Date) =>
  new DomainError(
    "invitation_unusable",
    row.acceptedAt
      ? "This invitation was already accepted. Sign in with the account it created."
      : row.revokedAt
        ? "This invitation was revoked. Ask a team admin for a new one."
        : row.expiresAt <= now
          ? "This invitation has expired. Ask a team admin for a new one."
          : "This invitation can no longer be used.",
  );

export type InvitationStatus = "pending" | "expired" | "accepted" | "revoked";

export function invitationView(row: InvitationRow, now = new Date()) {
  const status: InvitationStatus = row.acceptedAt
    ? "accepted"
    : row.revokedAt
      ? "revoked"
      : row.expiresAt <= now
        ? "expired"
        : "pending";
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    status,
    created_at: row.createdAt.toISOString(),
    expires_at: row.expiresAt.toISOString(),
  };
}

export type InvitationView = ReturnType<typeof invitationView>;

/**
 * Invitations to a team by email. The link carries a 256-bit secret shown once to the admin and sent
 * through the mailer; only its hash is stored. The secret alone names the team, so a link can only
 * ever join the team that issued it. Accepting claims the invitation in one statement, then creates
 * the account (or, for an existing account, the page has verified its password) and the membership,
 * in the same transaction as the audit event.
 */
export function invitationsService(
  db: Database,
  deps: {
    audit: Pick<AuditService, "record">;
    teams: Pick<
      TeamsService,
      "findTeam" | "roleOf" | "findUserByEmail" | "findUserByEmailIn" | "createUser" | "joinTeam"
    >;
    mailer: Mailer;
    publicUrl: () => string;
  },
) {
  const repo = invitationsRepository(db);
  const linkFor = (token: string) => `${deps.publicUrl()}/dashboard/invitations/${token}`;

  async function usableByToken(token: string, now: Date) {
    if (!token || token.length > 128) throw invitationNotFound();
    const row = await repo.byHash(sha256(token));
    if (!row) throw invitationNotFound();
    if (row.acceptedAt || row.revokedAt || row.expiresAt <= now) throw unusable(row, now);
    const team = await deps.teams.findTeam(row.teamId);
    if (!team) throw invitationNotFound();
    return { row, team };
  }

  return {
    async create(
      admin: MemberAdmin,
      input: { email: string; role: Role },
      requestId?: string,
      now = new Date(),
    ) {
      if (admin.role !== "admin") throw adminRequired();
      const email = input.email.trim();
      if (!EMAIL.test(email) || email.length > 254)
        throw new ValidationError("Enter the email address to invite.", [
          { field: "email", problem: "is not an email address" },
        ]);
      const team = await deps.teams.findTeam(admin.team.id);
      if (!team) throw invitationNotFound();
      if (team.isPrivateTeamspace)
        throw new DomainError(
          "private_teamspace_members",
          "A private teamspace has only you as a member. Switch to a shared team to invite people.",
        );
      const existing = await deps.teams.findUserByEmail(email);
      if (existing && (await deps.teams.roleOf(team.id, existing.id)))
        throw new DomainError("already_member", `${existing.email} is already a member of ${team.name}.`);
      const token = randomBytes(32).toString("base64url");
      const row = {
        id: newId("inv"),
        teamId: team.id,
        email,
        role: input.role,
        tokenHash: sha256(token),
        invitedBy: admin.user.id,
        expiresAt: new Date(now.getTime() + INVITE_TTL_MS),
      };
      await inTransaction(db, async (tx) => {
        const txRepo = invitationsRepository(tx);
        // A new invitation replaces an open one for the same email: only the newest link works.
        for (const old of await txRepo.revokeOpenFor(team.id, email, now))
          await deps.audit.record(
            {
              teamId: team.id,
              actorUserId: admin.user.id,
              action: "invitation.revoked",
              targetType: "invitation",
              targetId: old.id,
              before: { email: old.email, role: old.role, status: "pending" },
              after: { email: old.email, role: old.role, status: "revoked" },
              requestId,
            },
            tx,
          );
        await txRepo.insert(row);
        await deps.audit.record(
          {
            teamId: team.id,
            actorUserId: admin.user.id,
            action: "invitation.created",
            targetType: "invitation",
            targetId: row.id,
            after: { email, role: row.role, expires_at: row.expiresAt.toISOString() },
            requestId,
          },
          tx,
        );
      });
      const url = linkFor(token);
      await deps.mailer.send({
        to: email,
        subject: `You are invited to ${team.name} on Spec Kitty`,
        text: `You were invited to join the team ${team.name} as ${row.role === "admin" ? "an admin" : "a member"}.\n\nAccept the invitation (the link works once, until ${row.expiresAt.toISOString()}):\n${url}\n`,
      });
      const saved = await repo.byId(team.id, row.id);
      return { invitation: invitationView(saved!, now), url };
    },

    async open(teamId: string, now = new Date()) {
      const rows = await repo.open(teamId, 200);
      return rows.map((r) => ({ ...invitationView(r.invitation, now), invited_by: r.invitedByEmail }));
    },

    async revoke(admin: MemberAdmin, id: string, requestId?: string, now = new Date()) {
      if (admin.role !== "admin") throw adminRequired();
      const row = await repo.byId(admin.team.id, id);
      if (!row) throw invitationNotFound();
      if (row.acceptedAt || row.revokedAt) return invitationView(row, now);
      return inTransaction(db, async (tx) => {
        const revoked = await invitationsRepository(tx).revoke(row.id, now);
        if (!revoked) return invitationView(row, now);
        await deps.audit.record(
          {
            teamId: row.teamId,
            actorUserId: admin.user.id,
            action: "invitation.revoked",
            targetType: "invitation",
            targetId: row.id,
            before: { email: row.email, role: row.role, status: invitationView(row, now).status },
            after: { email: row.email, role: row.role, status: "revoked" },
            requestId,
          },
          tx,
        );
        return invitationView(revoked, now);
      });
    },

    /** What the accept page shows: the team, the email, and whether an account already has it. */
    async lookup(token: string, now = new Date()) {
      const { row, team } = await usableByToken(token, now);
      const account = await deps.teams.findUserByEmail(row.email);
      return {
        invitation: invitationView(row, now),
        team: { id: team.id, slug: team.slug, name: team.name },
        hasAccount: Boolean(account),
      };
    },

    /**
     * Accepts: `newAccount` creates the account with its password (the email must have none yet);
     * `userId` joins an existing account whose password the caller has just verified.
     */
    async accept(
      token: string,
      as: { newAccount: { name?: string; password: string } } | { userId: string },
      requestId?: string,
      now = new Date(),
    ) {
      const { row, team } = await usableByToken(token, now);
      if ("newAccount" in as && as.newAccount.password.length < MIN_PASSWORD_LENGTH)
        throw new ValidationError(`Choose a password of at least ${MIN_PASSWORD_LENGTH} characters.`, [
          { field: "password", problem: `is shorter than ${MIN_PASSWORD_LENGTH} characters` },
        ]);
      const result = await inTransaction(db, async (tx) => {
        const claimed = await invitationsRepository(tx).claim(row.tokenHash, now);
        if (!claimed) throw unusable((await invitationsRepository(tx).byId(row.teamId, row.id)) ?? row, now);
        const existing = await deps.teams.findUserByEmailIn(claimed.email, tx);
        let user: { id: string; email: string };
        if ("newAccount" in as) {
          if (existing)
            throw new DomainError(
              "email_taken",
              `An account with ${claimed.email} already exists. Sign in with its password to accept.`,
            );
          user = await deps.teams.createUser(
            { email: claimed.email, name: as.newAccount.name, password: as.newAccount.password },
            tx,
          );
        } else {
          if (!existing || existing.id !== as.userId) throw invitationNotFound();
          user = existing;
        }
        const joined = await deps.teams.joinTeam(claimed.teamId, user.id, claimed.role, tx);
        await invitationsRepository(tx).setAcceptedBy(claimed.id, user.id);
        await deps.audit.record(
          {
            teamId: claimed.teamId,
            actorUserId: user.id,
            action: "invitation.accepted",
            targetType: "invitation",
            targetId: claimed.id,
            before: { email: claimed.email, role: claimed.role, status: "pending" },
            after: { email: claimed.email, role: claimed.role, status: "accepted", joined },
            requestId,
          },
          tx,
        );
        return { user, joined };
      });
      return {
        team: { id: team.id, slug: team.slug, name: team.name },
        email: result.user.email,
        userId: result.user.id,
      };
    },
  };
}

export type InvitationsService = ReturnType<typeof invitationsService>;
