import { AppError, ConflictError, ForbiddenError } from "../http/errors.ts";

export const teamAccessDenied = () =>
  new ForbiddenError(
    "team_access_denied",
    "You are not a member of this team. Check the X-Team-Slug header, or ask a team admin to invite you.",
  );

export const missingTeamHeader = () =>
  new AppError(400, "missing_team", "Send the team slug or id in the `X-Team-Slug` header.", {
    userActionRequired: true,
  });

export const adminRequired = () =>
  new ForbiddenError("admin_required", "Only team admins can do this. Ask an admin of the team.");

export const slugTaken = (slug: string) =>
  new ConflictError("team_slug_taken", `A team with slug '${slug}' already exists.`);
export const emailTaken = (email: string) =>
  new ConflictError("email_taken", `A user with email '${email}' already exists.`);
