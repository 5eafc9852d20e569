import { AppError, ConflictError, NotFoundError, ValidationError } from "../http/errors.ts";

export const installationNotFound = (id: string) =>
  new NotFoundError(
    "installation_not_found",
    `No installation '${id}' in this team. List them with GET /api/v1/installations/.`,
  );

export const installationDisconnected = (id: string, name: string) =>
  new ConflictError(
    "installation_disconnected",
    `Installation '${name}' (${id}) is disconnected. Reconnect the same workspace first (dashboard: Reconnect, or POST /api/v1/installations/ with a new credential).`,
    { userActionRequired: true },
  );

export const workspaceChoiceRequired = (workspaces: { id: string; name: string; url: string | null }[]) =>
  new ConflictError(
    "workspace_choice_required",
    "These credentials reach several workspaces. Send `workspace_id` with the one to connect.",
    {
      userActionRequired: true,
      details: { workspaces },
    },
  );

export const unknownWorkspace = (id: string) =>
  new ValidationError(`The credentials do not reach workspace '${id}'.`, [
    { field: "body.workspace_id", problem: "is not reachable with these credentials" },
  ]);

export const credentialKindNotAllowed = (provider: string, kind: string, allowed: string[]) =>
  new ValidationError(
    `${provider} cannot connect with a '${kind}' credential. Use one of: ${allowed.join(", ")}.`,
    [{ field: "body.credential.kind", problem: `must be one of ${allowed.join(", ")}` }],
  );

export const providerNotConfigured = (provider: string, what: string) =>
  new AppError(
    409,
    "provider_not_configured",
    `${provider} ${what} is not configured on this server. An operator must set it first.`,
    {
      userActionRequired: true,
    },
  );

export const connectStateInvalid = () =>
  new AppError(
    400,
    "invalid_connect_state",
    "This connect link is invalid, expired or already used. Start the connection again.",
    {
      userActionRequired: true,
    },
  );
