import type { Database } from "../../storage/database.ts";
import { inTransaction } from "../../storage/transaction.ts";
import type { AuditService } from "../audit/service.ts";
import { DomainError } from "../errors/domain-error.ts";
import type { AuthContext } from "./access.ts";
import { adminRequired } from "./errors.ts";
import { type Role, teamsRepository } from "./repository.ts";

/** The admin acting: the team comes from authentication, never from the request, so ids of other teams miss. */
export type MemberAdmin = Pick<AuthContext, "role"> & { user: { id: string }; team: { id: string } };

const memberNotFound = (userId: string) =>
  new DomainError("member_not_found", `No member '${userId}' in this team.`);

export const lastAdmin = (what: "removed" | "demoted") =>
  new DomainError(
    "last_admin",
    `The team's last admin cannot be ${what}. Make another member an admin first, then try again.`,
  );

const privateTeamspace = () =>
  new DomainError(
    "private_teamspace_members",
    "A private teamspace has exactly one member; its membership cannot change.",
  );

/**
 * Changing roles and removing members (admins only). Each change and its audit event commit together,
 * under a lock on the team's admins, so the last admin can neither be demoted nor removed, even by two
 * admins acting at once. Authentication reads membership and role on every request, so a change holds
 * from the member's next request: a removed member's sessions and tokens no longer reach the team.
 */
export function membersService(db: Database, deps: { audit: Pick<AuditService, "record"> }) {
  async function change(
    admin: MemberAdmin,
    userId: string,
    next: Role | null,
    requestId: string | undefined,
  ) {
    if (admin.role !== "admin") throw adminRequired();
    const team = await teamsRepository(db).findTeamBySlugOrId(admin.team.id);
    if (!team || team.id !== admin.team.id) throw memberNotFound(userId);
    if (team.isPrivateTeamspace) throw privateTeamspace();
    return inTransaction(db, async (tx) => {
      const repo = teamsRepository(tx);
      const admins = await repo.adminsForUpdate(team.id);
      const member = await repo.memberForUpdate(team.id, userId);
      if (!member) throw memberNotFound(userId);
      if (member.role === "admin" && next !== "admin" && admins.length <= 1)
        throw lastAdmin(next === null ? "removed" : "demoted");
      if (next === member.role) return { ...member, changed: false };
      if (next === null) await repo.deleteMembership(team.id, userId);
      else await repo.setRole(team.id, userId, next);
      await deps.audit.record(
        {
          teamId: team.id,
          actorUserId: admin.user.id,
          action: next === null ? "member.removed" : "member.role_changed",
          targetType: "member",
          targetId: userId,
          before: { email: member.email, role: member.role },
          after: next === null ? null : { email: member.email, role: next },
          requestId,
        },
        tx,
      );
      return { ...member, role: next ?? member.role, changed: true };
    });
  }

  return {
    setRole: (admin: MemberAdmin, userId: string, role: Role, requestId?: string) =>
      change(admin, userId, role, requestId),
    remove: (admin: MemberAdmin, userId: string, requestId?: string) =>
      change(admin, userId, null, requestId),
  };
}

export type MembersService = ReturnType<typeof membersService>;
