import { Type } from "typebox";
import { providerIds } from "../../tracker/index.ts";
import { PageQuery, pageOf } from "../http/pagination.ts";
import { REDIRECT_PATH_PATTERN } from "../http/redirect-target.ts";
import { documented } from "../http/schemas.ts";
import { Operation } from "../jobs/schemas.ts";

/** Every registered provider's id (the registry is read when this module loads). */
export const ProviderName = Type.Union(
  providerIds().map((id) => Type.Literal(id)),
  { description: "Tracker provider." },
);

const Secret = (description: string) => Type.String({ minLength: 1, maxLength: 4096, description });

/** What an admin may paste for a token-based connect. Each is checked with a live provider call before saving. */
export const CredentialInput = Type.Union([
  Type.Object(
    {
      kind: Type.Literal("github_app"),
      installation_id: Type.Union([Type.String({ pattern: "^[0-9]+$" }), Type.Integer({ minimum: 1 })]),
    },
    { additionalProperties: false, description: "GitHub: an installation of this server's GitHub App." },
  ),
  Type.Object(
    { kind: Type.Literal("private_token"), token: Secret("GitLab personal, group or project access token.") },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal("oauth"), access_token: Secret("An OAuth access token.") },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal("basic"),
      username: Type.String({ minLength: 1, maxLength: 320, description: "Jira Cloud: account email." }),
      password: Secret("Jira Cloud: API token."),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal("bearer_pat"),
      token: Secret("Jira Data Center or Azure DevOps personal access token."),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal("api_key"), api_key: Secret("Linear API key.") },
    { additionalProperties: false },
  ),
]);

export const ConnectBody = Type.Object(
  {
    provider: ProviderName,
    base_url: Type.Optional(
      Type.String({
        format: "uri",
        maxLength: 2048,
        description: "API or site URL; defaults to the provider's cloud.",
      }),
    ),
    credential: CredentialInput,
    options: Type.Optional(
      Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 512 }), {
        description:
          "Scope of discovery: `group_id` (GitLab), `deployment` / `cloud_id` (Jira), `organization` (Azure DevOps).",
      }),
    ),
    workspace_id: Type.Optional(
      Type.String({ maxLength: 256, description: "Which workspace, when the credential reaches several." }),
    ),
    display_name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
documented(ConnectBody, {
  examples: [
    {
      provider: "linear",
      credential: { kind: "api_key", api_key: "lin_api_0123456789abcdef" },
      display_name: "Acme Linear",
    },
  ],
});

export const UpdateBody = Type.Object(
  { display_name: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);
documented(UpdateBody, { examples: [{ display_name: "Acme Jira (EU)" }] });

export const InstallationParams = Type.Object({ installation_id: Type.String({ maxLength: 64 }) });

export const Installation = Type.Object({
  id: Type.String(),
  provider: Type.String(),
  display_name: Type.String(),
  base_url: Type.String(),
  host: Type.String(),
  workspace: Type.Object({
    id: Type.String(),
    name: Type.String(),
    url: Type.Union([Type.String(), Type.Null()]),
    details: Type.Record(Type.String(), Type.Unknown()),
  }),
  connection_options: Type.Record(Type.String(), Type.String()),
  auth_kind: Type.String(),
  status: Type.Union([
    Type.Literal("active"),
    Type.Literal("suspended"),
    Type.Literal("revoked"),
    Type.Literal("error"),
    Type.Literal("disconnected"),
  ]),
  disconnected_at: Type.Union([Type.String(), Type.Null()], {
    description: "When an admin disconnected it; reconnecting the same workspace clears it.",
  }),
  disconnected_by: Type.Optional(
    Type.Union(
      [Type.Object({ user_id: Type.String(), email: Type.Union([Type.String(), Type.Null()]) }), Type.Null()],
      {
        description: "Who disconnected it (from the audit log); on the single-installation read only.",
      },
    ),
  ),
  repository_selection: Type.Union([Type.String(), Type.Null()]),
  health: Type.Object({
    last_success_at: Type.Union([Type.String(), Type.Null()]),
    last_failure_at: Type.Union([Type.String(), Type.Null()]),
    last_error_code: Type.Union([Type.String(), Type.Null()]),
    last_error_message: Type.Union([Type.String(), Type.Null()]),
    consecutive_failures: Type.Integer(),
  }),
  last_sync_at: Type.Union([Type.String(), Type.Null()]),
  resource_count: Type.Integer(),
  created_at: Type.String(),
  updated_at: Type.String(),
});
const INSTALLATION_EXAMPLE = {
  id: "inst_01JF3Q8Z1Y2X3W4V5T6S7R8Q9P",
  provider: "jira",
  display_name: "Acme Jira",
  base_url: "https://api.atlassian.com",
  host: "acme.atlassian.net",
  workspace: {
    id: "1324a887-45db-1bf4-1e99-ef0ff456d421",
    name: "Acme",
    url: "https://acme.atlassian.net",
    details: {},
  },
  connection_options: {},
  auth_kind: "oauth",
  status: "active",
  disconnected_at: null,
  repository_selection: null,
  health: {
    last_success_at: "2026-11-30T09:15:00.000Z",
    last_failure_at: null,
    last_error_code: null,
    last_error_message: null,
    consecutive_failures: 0,
  },
  last_sync_at: "2026-11-30T09:15:00.000Z",
  resource_count: 12,
  created_at: "2026-11-01T08:00:00.000Z",
  updated_at: "2026-11-30T09:15:00.000Z",
};
documented(Installation, {
  description: "An installation: a connected provider workspace, its health and its inventory size.",
  examples: [INSTALLATION_EXAMPLE],
});

/** The refresh an installation change queues (its schema lives with the job queue). */
export { Operation };

export const ConnectResult = Type.Object({
  installation: Installation,
  reconnected: Type.Boolean(),
  refresh: Operation,
});
documented(ConnectResult, {
  description: "Connected (201) or reconnected (200): the installation and the inventory refresh it queued.",
  examples: [
    {
      installation: INSTALLATION_EXAMPLE,
      reconnected: false,
      refresh: {
        operation_id: "op_01JF3QB4N6M8K0J2H4G6F8D0S2",
        status: "pending",
        kind: "inventory.refresh",
        progress: null,
        result: null,
        error: null,
        attempts: 0,
        created_at: "2026-11-30T09:15:00.000Z",
        updated_at: "2026-11-30T09:15:00.000Z",
      },
    },
  ],
});

export const InstallationListQuery = Type.Interface(
  [PageQuery],
  {
    provider: Type.Optional(ProviderName),
    status: Type.Optional(
      Type.Union([Type.Literal("connected"), Type.Literal("disconnected"), Type.Literal("all")], {
        description: "`connected` (any status but disconnected), `disconnected`, or `all` (default).",
      }),
    ),
  },
  { additionalProperties: false },
);
export const InstallationPage = pageOf(Installation);

export const DisconnectQuery = Type.Object(
  { confirm: Type.String({ description: "Repeat the installation id to confirm the disconnect." }) },
  { additionalProperties: false },
);

export const StartConnectBody = Type.Object(
  {
    provider: ProviderName,
    workspace_id: Type.Optional(
      Type.String({
        maxLength: 256,
        description: "Which workspace (e.g. Jira cloud id) when the grant reaches several.",
      }),
    ),
    return_to: Type.Optional(
      Type.String({
        pattern: REDIRECT_PATH_PATTERN,
        maxLength: 512,
        description:
          "Path on this site to return to after the callback (one leading `/`, no backslash or control characters).",
      }),
    ),
  },
  { additionalProperties: false },
);
documented(StartConnectBody, { examples: [{ provider: "github", return_to: "/dashboard/installations" }] });

export const StartConnectResult = Type.Object({
  provider: Type.String(),
  authorize_url: Type.String({ description: "Send the admin's browser here." }),
  expires_at: Type.String(),
});
documented(StartConnectResult, {
  description: "Where to send the admin's browser to install or authorize, and until when the link works.",
  examples: [
    {
      provider: "github",
      authorize_url:
        "https://github.com/apps/spec-kitty/installations/new?state=cs_01JF3QH8J0K2M4N6P8Q0R2S4T6",
      expires_at: "2026-11-30T09:25:00.000Z",
    },
  ],
});

export const CallbackParams = Type.Object({ provider: ProviderName });
export const CallbackQuery = Type.Object(
  {
    state: Type.Optional(Type.String({ maxLength: 256 })),
    code: Type.Optional(Type.String({ maxLength: 2048 })),
    installation_id: Type.Optional(Type.String({ maxLength: 32 })),
    setup_action: Type.Optional(Type.String({ maxLength: 32 })),
    error: Type.Optional(Type.String({ maxLength: 256 })),
    error_description: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: true },
);
