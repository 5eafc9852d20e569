/**
 * Every error code the service raises, in one place. A domain error names its code; each surface reads
 * here what the code means for it: the API envelope its HTTP status (cli-wire-contract §10), the OAuth
 * routes whether it is an RFC 6749 `error`, the HTML pages a title. Codes are part of the wire contract:
 * never rename one.
 */
export interface CodeEntry {
  /** HTTP status when the code answers an API, OAuth or page request. */
  status: number;
  meaning: string;
  /** The user (or an admin) must act before a retry can succeed, unless the throw site says otherwise. */
  userAction?: true;
  /** The CLI wraps these codes itself and reads them from `error_category` (contract §10.1). */
  category?: true;
  /** An RFC 6749 / 8628 / 7009 `error` value: the OAuth routes render it as is. */
  oauth?: true;
  /** One of the sync-admission contract's eight `error_category` values (CLI auth contract §9.1). */
  admission?: true;
  /** Page title when a dashboard or sign-in page shows the error; otherwise one is chosen by status. */
  title?: string;
  /** The code on the wire, when one wire code means different things in different places. */
  wire?: string;
}

const entries = {
  // ── request shape (raised by the HTTP layer from Fastify's own errors) ───────────────
  validation_error: { status: 400, meaning: "The input does not match the schema.", userAction: true },
  invalid_json: { status: 400, meaning: "The body is not valid JSON.", userAction: true },
  bad_request: { status: 400, meaning: "The request could not be processed as sent.", userAction: true },
  unsupported_media_type: {
    status: 415,
    meaning: "The body's content type is not accepted.",
    userAction: true,
  },
  payload_too_large: {
    status: 413,
    meaning: "The body is larger than the documented limit.",
    userAction: true,
  },
  uri_too_long: { status: 414, meaning: "A path segment is longer than accepted.", userAction: true },
  not_found: { status: 404, meaning: "No such route, or no such operator target." },
  internal_error: { status: 500, meaning: "An unexpected failure; the effect is unknown." },
  not_ready: { status: 503, meaning: "The database is unreachable or not migrated." },

  // ── callers and teams ───────────────────────────────────────────────────────────────
  unauthorized: { status: 401, meaning: "No valid API token or CLI access token.", userAction: true },
  access_token_expired: {
    status: 401,
    wire: "unauthorized",
    meaning: "A CLI access token reached its routine end: refresh it (not a guess the limiter counts).",
    userAction: true,
  },
  too_many_requests: { status: 429, meaning: "Too many failed attempts from this address.", oauth: true },
  missing_team: { status: 400, meaning: "The X-Team-Slug header is missing.", userAction: true },
  team_access_denied: { status: 403, meaning: "The caller is not a member of the team.", userAction: true },
  admin_required: { status: 403, meaning: "Only team admins can do this.", userAction: true },
  team_not_found: { status: 404, meaning: "No such team." },
  user_not_found: { status: 404, meaning: "No such user." },
  team_slug_taken: { status: 409, meaning: "A team already has this slug." },
  email_taken: { status: 409, meaning: "A user already has this email." },
  token_not_found: { status: 404, meaning: "No such API token." },
  cli_session_not_found: { status: 404, meaning: "No such CLI session." },
  project_slug_taken: { status: 409, meaning: "A project already has this slug." },
  idempotency_key_in_flight: {
    status: 409,
    meaning: "A request with this Idempotency-Key is still running.",
  },
  idempotency_key_reused: { status: 422, meaning: "The Idempotency-Key was used with another request." },
  operation_not_found: { status: 404, meaning: "No such operation in this team." },

  // ── installations and connecting ────────────────────────────────────────────────────
  installation_not_found: { status: 404, meaning: "No such installation in this team." },
  installation_disconnected: {
    status: 409,
    meaning: "The installation is disconnected: reconnect it before acting on it.",
    userAction: true,
  },
  workspace_choice_required: {
    status: 409,
    meaning: "The credentials reach several workspaces.",
    userAction: true,
  },
  provider_not_configured: {
    status: 409,
    meaning: "An operator has not configured the provider.",
    userAction: true,
  },
  invalid_connect_state: {
    status: 400,
    meaning: "The connect link is invalid, expired or used.",
    userAction: true,
  },
  installation_not_accessible: {
    status: 403,
    meaning: "The signed-in provider user cannot access the installation.",
    userAction: true,
  },
  installation_in_use: {
    status: 409,
    meaning: "Another team has connected this installation.",
    userAction: true,
  },
  installation_pending_approval: {
    status: 409,
    meaning: "An organization owner has yet to approve the installation.",
    userAction: true,
  },
  connect_browser_mismatch: {
    status: 403,
    meaning: "The connect callback came back in another browser or for another user.",
    userAction: true,
  },
  no_installation: {
    status: 403,
    meaning: "The team has no installation of the provider.",
    userAction: true,
  },

  // ── bindings, mappings and runtime routing ──────────────────────────────────────────
  binding_not_found: {
    status: 404,
    meaning: "The binding_ref no longer names a mapping of this team (stale binding).",
    category: true,
  },
  mapping_disabled: {
    status: 403,
    meaning: "A team admin disabled the mapping (or every mapping of the provider).",
    userAction: true,
    category: true,
  },
  project_mismatch: {
    status: 403,
    meaning: "The binding belongs to another project.",
    userAction: true,
    category: true,
  },
  invalid_candidate_token: {
    status: 400,
    meaning: "The bind candidate token is malformed, expired or for another team.",
    userAction: true,
    category: true,
  },
  no_mapping: { status: 404, meaning: "No mapping of the provider for the project or team." },
  already_bound: { status: 409, meaning: "The resource is bound to another project." },
  resource_not_bindable: { status: 409, meaning: "The resource cannot be bound." },
  mapping_not_found: { status: 404, meaning: "No such mapping in this team." },
  resource_not_found: { status: 404, meaning: "No such discovered resource in this team." },
  invalid_routing: { status: 400, meaning: "Both routing keys were sent." },
  invalid_query: { status: 422, meaning: "An issue search without a query." },
  mapping_needs_repair: { status: 409, meaning: "The mapping's stored routing cannot be used." },
  binding_installation_disconnected: {
    status: 403,
    wire: "installation_disconnected",
    meaning: "The installation behind a binding is disconnected: a runtime call cannot use it.",
    userAction: true,
  },
  installation_revoked: {
    status: 403,
    meaning: "The provider refused the installation's credential twice in a row.",
    userAction: true,
  },
  resource_missing: { status: 404, meaning: "The bound resource is gone upstream." },
  // Per-item errors of a push (runtime/push.ts writes them into the item's outcome; the batch goes on).
  invalid_item: { status: 400, meaning: "A push item is malformed." },
  link_not_found: { status: 404, meaning: "A push item names a work package linked to no issue." },
  create_in_progress: {
    status: 409,
    meaning: "Another push is creating this work package's issue right now: retry in 5 s.",
  },
  origin_conflict: { status: 409, meaning: "The mission already has another origin issue." },
  issue_not_found: { status: 404, meaning: "The issue is not in the bound resource." },
  provider_not_found: {
    status: 404,
    meaning: "The provider has no such resource, or the installation cannot see it.",
  },

  // ── the provider's answers (provider-errors.ts) ─────────────────────────────────────
  provider_auth_expired: { status: 424, meaning: "The provider rejected the installation's credentials." },
  provider_auth_revoked: { status: 424, meaning: "Access to the provider was revoked." },
  provider_forbidden: { status: 424, meaning: "The provider refused: a scope or permission is missing." },
  rate_limited: { status: 429, meaning: "The provider is rate limiting the installation." },
  upstream_malformed: { status: 502, meaning: "The provider's answer could not be read." },
  upstream_rejected: { status: 502, meaning: "The provider rejected the request." },
  upstream_tls_failed: { status: 502, meaning: "TLS to the provider failed." },
  upstream_unavailable: { status: 502, meaning: "The provider is unavailable." },
  outbound_url_refused: { status: 400, meaning: "The outbound policy does not allow the destination." },
  provider_credential_refused: { status: 422, meaning: "Connect: the provider refused the token." },
  provider_scope_missing: { status: 422, meaning: "Connect: the token lacks a required scope." },
  provider_tls_failed: { status: 422, meaning: "Connect: TLS to the given URL failed." },
  provider_unreachable: { status: 422, meaning: "Connect: the given URL cannot be reached." },
  not_a_provider_server: { status: 422, meaning: "Connect: the URL does not answer like the provider." },
  provider_workspace_not_found: { status: 422, meaning: "Connect: no such workspace for the token." },

  // ── webhooks (src/host/webhooks) ────────────────────────────────────────────────────
  webhook_unverified: {
    status: 401,
    meaning: "A webhook delivery whose signature, token or timestamp did not verify (no detail given).",
  },
  webhook_secret_app_wide: {
    status: 409,
    meaning:
      "The provider signs with one App-wide secret from the server settings, not one per installation.",
    userAction: true,
  },
  webhook_registration_app_wide: {
    status: 409,
    meaning: "The provider's hook is the App's one webhook, set on the App's settings, not per installation.",
    userAction: true,
  },
  webhooks_unsupported: {
    status: 409,
    meaning: "The provider has no webhook this service receives; its inventory follows the schedule.",
  },
  installation_suspended: {
    status: 403,
    meaning: "The provider suspended the installation: nothing can sync until it is unsuspended.",
    userAction: true,
  },

  // ── background work ─────────────────────────────────────────────────────────────────
  refresh_in_progress: { status: 409, meaning: "A refresh of the installation is already running." },
  worker_lost: {
    status: 500,
    meaning: "A job's worker stopped on its last attempt (written by jobs/repository.ts, never thrown).",
  },

  // ── operator channel (`npm run admin`) ──────────────────────────────────────────────
  unknown_command: { status: 404, meaning: "No such operator command." },
  operator_channel_failed: { status: 502, meaning: "The running service did not answer the command." },

  // ── OAuth 2.0 (RFC 6749 §5.2, RFC 8628 §3.5, RFC 7009): the CLI reads only `error` ──
  invalid_request: { status: 400, meaning: "A parameter is missing, repeated or malformed.", oauth: true },
  invalid_client: { status: 400, meaning: "Unknown client_id.", oauth: true },
  invalid_grant: {
    status: 400,
    meaning: "The code, refresh token or device code is not valid.",
    oauth: true,
  },
  unsupported_grant_type: { status: 400, meaning: "The grant type is not supported.", oauth: true },
  authorization_pending: { status: 400, meaning: "The user has not approved the device yet.", oauth: true },
  slow_down: { status: 400, meaning: "The device polls too fast.", oauth: true },
  access_denied: { status: 400, meaning: "The user denied the sign-in.", oauth: true },
  expired_token: { status: 400, meaning: "The device code expired.", oauth: true },
  session_invalid: { status: 400, meaning: "The CLI session was signed out or revoked.", oauth: true },
  refresh_replay_benign_retry: {
    status: 409,
    meaning: "The refresh token was rotated just now by a concurrent request: retry.",
    oauth: true,
  },

  // ── project sync admission (CLI auth contract §9.1): never retryable ─────────────────
  invalid_project_uuid: {
    status: 400,
    meaning: "The path's project UUID is not canonical.",
    admission: true,
  },
  invalid_admission_request: {
    status: 400,
    meaning: "A header or the body of an admission request is invalid.",
    admission: true,
  },
  authentication_required: { status: 401, meaning: "No valid bearer token.", admission: true },
  admission_mutation_forbidden: {
    status: 403,
    meaning: "The caller may not admit projects (no Private Teamspace).",
    admission: true,
  },
  project_sync_admission_not_found: { status: 404, meaning: "No admission to revoke.", admission: true },
  admission_generation_conflict: {
    status: 409,
    meaning: "If-Match-Admission-Generation is not the current generation.",
    admission: true,
  },
  admission_operation_conflict: {
    status: 409,
    meaning: "The Idempotency-Key was used for another admission request.",
    admission: true,
  },
  project_tombstoned: {
    status: 409,
    meaning: "The project was tombstoned (a contract value this service does not raise yet).",
    admission: true,
  },

  // ── pages only (dashboard and CLI sign-in) ──────────────────────────────────────────
  signed_out: { status: 403, meaning: "The browser session ended.", title: "Signed out" },
  form_refused: {
    status: 403,
    meaning: "The form did not come from this site or its CSRF token is wrong.",
    title: "Request refused",
  },
  page_not_found: { status: 404, meaning: "No such page, asset or record.", title: "Not found" },
  no_team: { status: 403, meaning: "The account is in no team.", title: "No team" },
  not_a_member: { status: 403, meaning: "The account is not in that team.", title: "Not a member" },
  admins_only: { status: 403, meaning: "Only team admins can change this.", title: "Admins only" },
  not_confirmed: {
    status: 400,
    meaning: "A destructive form lacks its confirmation.",
    title: "Not confirmed",
  },
  invalid_form: { status: 400, meaning: "A form value is not one of the choices.", title: "Request refused" },
  unknown_provider: { status: 400, meaning: "No provider was picked.", title: "Unknown provider" },
  invalid_return_address: {
    status: 400,
    meaning: "The sign-in return address is not a dashboard path.",
    title: "Invalid return address",
  },
  mapping_deleted: { status: 409, meaning: "The mapping was deleted.", title: "Mapping deleted" },

  // ── members, invitations and token scope ────────────────────────────────────────────
  last_admin: {
    status: 409,
    meaning: "The team's last admin cannot be removed or demoted.",
    userAction: true,
    title: "Last admin",
  },
  member_not_found: { status: 404, meaning: "No such member of the team.", title: "Not found" },
  already_member: { status: 409, meaning: "The email already belongs to a member of the team." },
  private_teamspace_members: {
    status: 409,
    meaning: "A private teamspace has exactly one member: nobody can be invited or removed.",
  },
  invitation_not_found: {
    status: 404,
    meaning: "No such invitation (or the link is wrong).",
    title: "Invitation not found",
  },
  invitation_unusable: {
    status: 410,
    meaning: "The invitation expired, was revoked or was already accepted.",
    userAction: true,
    title: "Invitation no longer valid",
  },
  token_read_only: {
    status: 403,
    meaning: "A read-only API token was used for a write.",
    userAction: true,
  },
} satisfies Record<string, CodeEntry>;

export type ErrorCode = keyof typeof entries;

export const ERROR_CODES: Readonly<Record<ErrorCode, CodeEntry>> = entries;

export const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(entries, code);

/** The HTTP status a code answers with on every surface. */
export const httpStatusOf = (code: ErrorCode): number => ERROR_CODES[code].status;
