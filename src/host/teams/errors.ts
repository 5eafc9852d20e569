import { DomainError } from "../errors/domain-error.ts";

export const teamAccessDenied = () =>
  new DomainError(
    "team_access_denied",
    "You are not a member of this team. Check the X-Team-Slug header, or ask a team admin to invite you.",
  );

export const missingTeamHeader = () =>
  new DomainError("missing_team", "Send the team slug or id in the `X-Team-Slug` header.", {
    userActionRequired: true,
  });

export const adminRequired = () =>
  new DomainError("admin_required", "Only team admins can do this. Ask an admin of the team.");

export const slugTaken = (slug: string) =>
  new DomainError("team_slug_taken", `A team with slug '${slug}' already exists.`);
export const emailTaken = (email: string) =>
  new DomainError("email_taken", `A user with email '${email}' already exists.`);
