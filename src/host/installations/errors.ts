import { DomainError, ValidationError } from "../errors/domain-error.ts";

export const installationNotFound = (id: string) =>
  new DomainError(
    "installation_not_found",
    `No installation '${id}' in this team. List them with GET /api/v1/installations/.`,
  );

export const installationDisconnected = (id: string, name: string) =>
  new DomainError(
    "installation_disconnected",
    `Installation '${name}' (${id}) is disconnected. Reconnect the same workspace first (dashboard: Reconnect, or POST /api/v1/installations/ with a new credential).`,
    { userActionRequired: true },
  );

export const workspaceChoiceRequired = (workspaces: { id: string; name: string; url: string | null }[]) =>
  new DomainError(
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
  new DomainError(
    "provider_not_configured",
    `${provider} ${what} is not configured on this server. An operator must set it first.`,
    {
      userActionRequired: true,
    },
  );

export const connectStateInvalid = () =>
  new DomainError(
    "invalid_connect_state",
    "This connect link is invalid, expired or already used. Start the connection again.",
    {
      userActionRequired: true,
    },
  );

export const connectThroughRedirect = (provider: string) =>
  new ValidationError(
    `${provider} connects through its install flow, so ${provider} itself confirms that you may access the installation: POST /api/v1/installations/connect/ {"provider":"${provider}"} and open the authorize_url it returns (or use Connect in the dashboard).`,
    [{ field: "body.provider", problem: "connects through the install flow, not with a pasted credential" }],
  );

/** GitHub did not list the installation among those the signing-in user can access. */
export const installationNotAccessible = (id: string, login: string | null) =>
  new DomainError(
    "installation_not_accessible",
    `GitHub says ${login ? `the GitHub user ${login}` : "the signed-in GitHub user"} cannot access installation ${id}. Sign in to GitHub as someone who administers that account, or install the App on an account you administer, then connect again.`,
  );

/** One installation, one team: a GitHub App installation active in another team is refused. */
export const installationInUse = () =>
  new DomainError(
    "installation_in_use",
    "This GitHub App installation is already connected to another Spec Kitty team. An admin of that team must disconnect it there first, or install the App on another account.",
    { userActionRequired: true },
  );

export const installationPendingApproval = () =>
  new DomainError(
    "installation_pending_approval",
    "GitHub is waiting for an organization owner to approve the App installation. Connect again once an owner has approved it.",
    { userActionRequired: true },
  );

/** The callback came back in a browser other than the one that started the flow. */
export const connectBrowserMismatch = () =>
  new DomainError(
    "connect_browser_mismatch",
    "This connect link was started in another browser or by another user, so nothing was connected. Start the connection again from the dashboard in this browser, signed in as yourself.",
  );
