import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

/**
 * Text compared byte by byte (`COLLATE "C"`): labels sort the same on PGlite and PostgreSQL and the same
 * as the host's own ordering, and an index on them serves ORDER BY without a locale-aware sort.
 */
const byteOrderedText = customType<{ data: string }>({ dataType: () => 'text COLLATE "C"' });

/**
 * The one storage schema. Both drivers (PGlite and a PostgreSQL server) run the same migrations
 * generated from this file by drizzle-kit (`npm run db:generate`).
 */

/**
 * SQL of `normalize` in binding/ranking.ts: ASCII letters lower-cased (translate, not the locale's
 * lower()), a trailing `.git` dropped, runs of anything but a-z, 0-9 and `/` made one `-`, `-` trimmed.
 */
const normalized = (column: string) =>
  `btrim(regexp_replace(regexp_replace(translate(coalesce(${column}, ''), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), '\\.git$', ''), '[^a-z0-9/]+', '-', 'g'), '-')`;

/** Rows bind-resolve can offer: live, not archived, issues enabled. */
const bindable = (t: { missingSince: unknown; archived: unknown; issuesDisabled: unknown }) =>
  sql`${t.missingSince} is null and not ${t.archived} and not ${t.issuesDisabled}`;

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

export const teams = pgTable("teams", {
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  isPrivateTeamspace: boolean("is_private_teamspace").notNull().default(false),
  /**
   * Bumped once per committed transaction that changes the team's installations or resources
   * (`inventory_version`) or its projects or mappings (`binding_version`), by database triggers
   * (migration 0006). Authentication reads them with the team, so the in-process snapshot of the
   * bindable inventory knows whether it is current without another query.
   */
  inventoryVersion: bigint("inventory_version", { mode: "number" }).notNull().default(0),
  bindingVersion: bigint("binding_version", { mode: "number" }).notNull().default(0),
  createdAt: createdAt(),
  /**
   * Bumped at commit whenever who may act in the team, or as whom, changes: a membership, the team's
   * slug or name, a member's name or email, a member's API token or CLI session revoked (migration
   * 0013). Cached authentications of the team are current while it stands still.
   */
  authVersion: bigint("auth_version", { mode: "number" }).notNull().default(0),
});

export const users = pgTable(
  "users",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    name: text("name").notNull(),
    /** argon2id; null for users who only use API tokens. */
    passwordHash: text("password_hash"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("users_email_lower_uq").on(sql`lower(${t.email})`)],
);

export const memberships = pgTable(
  "memberships",
  {
    teamId: text("team_id")
      .notNull()
      .references(() => teams.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: ["admin", "member"] }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("memberships_team_user_uq").on(t.teamId, t.userId),
    index("memberships_user_idx").on(t.userId),
  ],
);

export const apiTokens = pgTable(
  "api_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** SHA-256 of the token: tokens are 256-bit random, so a fast hash is enough and lookups stay indexed. */
    tokenHash: text("token_hash").notNull().unique(),
    /** First characters of the token, shown in lists so people can tell tokens apart. */
    prefix: text("prefix").notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    /** `read`: refused on every write (tokens/scope.ts); `read_write`: everything the member may do. */
    scope: text("scope", { enum: ["read", "read_write"] })
      .notNull()
      .default("read_write"),
  },
  (t) => [index("api_tokens_user_idx").on(t.userId)],
);

export const auditEvents = pgTable(
  "audit_events",
  {
    id: text("id").primaryKey(),
    teamId: text("team_id")
      .notNull()
      .references(() => teams.id, { onDelete: "cascade" }),
    actorUserId: text("actor_user_id"),
    /** e.g. `api_token.created`, `installation.connected`. */
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id").notNull(),
    before: jsonb("before"),
    after: jsonb("after"),
    requestId: text("request_id"),
    createdAt: createdAt(),
  },
  (t) => [
    index("audit_events_team_created_idx").on(t.teamId, t.createdAt, t.id),
    // "Who disconnected this installation, and when": the newest event of one action on one target.
    index("audit_events_target_idx").on(t.teamId, t.targetType, t.targetId, t.action, t.id),
    // The audit log's filters by action and by actor, newest first (and the removed members among actors).
    index("audit_events_action_idx").on(t.teamId, t.action, t.createdAt, t.id),
    index("audit_events_actor_idx").on(t.teamId, t.actorUserId, t.createdAt, t.id),
  ],
);

/**
 * A connected tracker workspace of a team (GitHub App installation, GitLab group or instance, Jira site,
 * Linear organization, Azure DevOps organization). Credentials are AES-256-GCM ciphertext, never plaintext.
 */
export const installations = pgTable(
  "installations",
  {
    id: text("id").primaryKey(),
    teamId: text("team_id")
      .notNull()
      .references(() => teams.id, { onDelete: "cascade" }),
    provider: text("provider").notNull(),
    /** API base URL the adapters call. */
    baseUrl: text("base_url").notNull(),
    /** Lower-cased host part of resource keys. */
    host: text("host").notNull(),
    workspaceId: text("workspace_id").notNull(),
    workspaceName: text("workspace_name").notNull(),
    workspaceUrl: text("workspace_url"),
    workspaceDetails: jsonb("workspace_details").notNull().default({}),
    displayName: text("display_name").notNull(),
    /** Non-secret connection options (GitLab group id, Jira deployment and cloud id, ADO organization). */
    connectionOptions: jsonb("connection_options").notNull().default({}),
    authKind: text("auth_kind").notNull(),
    credentialsCiphertext: text("credentials_ciphertext").notNull(),
    credentialsExpiresAt: timestamp("credentials_expires_at", { withTimezone: true }),
    status: text("status", { enum: ["active", "suspended", "revoked", "error", "disconnected"] })
      .notNull()
      .default("active"),
    repositorySelection: text("repository_selection"),
    lastSuccessAt: timestamp("last_success_at", { withTimezone: true }),
    lastFailureAt: timestamp("last_failure_at", { withTimezone: true }),
    lastErrorCode: text("last_error_code"),
    lastErrorMessage: text("last_error_message"),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    lastSyncAt: timestamp("last_sync_at", { withTimezone: true }),
    resourceCount: integer("resource_count").notNull().default(0),
    connectedBy: text("connected_by"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    disconnectedAt: timestamp("disconnected_at", { withTimezone: true }),
  },
  (t) => [
    // Reconnecting the same workspace finds this row again and keeps its id.
    uniqueIndex("installations_workspace_uq")
      .on(t.teamId, t.provider, t.host, t.workspaceId)
      .where(sql`${t.disconnectedAt} is null`),
    index("installations_team_provider_idx").on(t.teamId, t.provider),
    // One GitHub App installation belongs to one team (docs/decisions.md): a second team is refused.
    uniqueIndex("installations_github_owner_uq")
      .on(t.host, t.workspaceId)
      .where(sql`${t.provider} = 'github' and ${t.disconnectedAt} is null`),
  ],
);

/** The discovered inventory: one row per bindable resource per installation, keyed by resource_key. */
export const resources = pgTable(
  "resources",
  {
    id: text("id").primaryKey(),
    teamId: text("team_id").notNull(),
    installationId: text("installation_id")
      .notNull()
      .references(() => installations.id, { onDelete: "cascade" }),
    provider: text("provider").notNull(),
    resourceKey: text("resource_key").notNull(),
    resourceType: text("resource_type").notNull(),
    nativeId: text("native_id").notNull(),
    label: byteOrderedText("label").notNull(),
    key: text("key"),
    name: text("name").notNull(),
    fullPath: text("full_path"),
    webUrl: text("web_url"),
    context: jsonb("context").notNull(),
    connectorParams: jsonb("connector_params").notNull(),
    routingMetadata: jsonb("routing_metadata").notNull(),
    archived: boolean("archived").notNull().default(false),
    issuesDisabled: boolean("issues_disabled").notNull().default(false),
    /** Lower-cased label, key, name and path: what search-as-you-type matches. */
    searchText: text("search_text").notNull(),
    /** Hash of everything a pass can change; equal hash → the pass writes nothing for this row. */
    fingerprint: text("fingerprint").notNull(),
    /**
     * `normalize` (binding/ranking.ts) of name, key and full path, and the path's last non-empty
     * segment: what bind-resolve compares, so a team without a snapshot is answered by index lookups.
     * Byte for byte the JS values (test/host/cold-bind-resolve.test.ts checks it).
     */
    bindName: text("bind_name")
      .generatedAlwaysAs(sql.raw(normalized("name")))
      .notNull(),
    bindKey: text("bind_key")
      .generatedAlwaysAs(sql.raw(normalized("key")))
      .notNull(),
    bindPath: text("bind_path")
      .generatedAlwaysAs(sql.raw(normalized("full_path")))
      .notNull(),
    bindLast: text("bind_last")
      .generatedAlwaysAs(sql.raw(`coalesce(substring(${normalized("full_path")} from '([^/]+)/*$'), '')`))
      .notNull(),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
    missingSince: timestamp("missing_since", { withTimezone: true }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("resources_installation_key_uq").on(t.installationId, t.resourceKey),
    index("resources_team_provider_label_idx").on(t.teamId, t.provider, t.label, t.id),
    index("resources_installation_label_idx").on(t.installationId, t.label, t.id),
    // A webhook names a resource by its native id: one lookup per event, at 100,000 resources too.
    index("resources_installation_native_idx").on(t.installationId, t.nativeId),
    // Trigrams make `search_text like '%term%'` an index lookup instead of a scan (pg_trgm).
    index("resources_search_trgm_idx")
      .using("gin", sql`${t.searchText} gin_trgm_ops`)
      .with({ fastupdate: false }),
    // bind-resolve of a team without a snapshot, over its bindable rows only. "Contains" scans read the
    // team's slice in label order, index-only, and stop at the first rows that match; equal names are
    // one lookup per column.
    index("resources_bind_scan_idx")
      .on(t.teamId, t.provider, t.label, t.id, t.bindName, t.bindPath, t.installationId)
      .where(bindable(t)),
    index("resources_bind_name_idx").on(t.teamId, t.provider, t.bindName).where(bindable(t)),
    index("resources_bind_path_idx").on(t.teamId, t.provider, t.bindPath).where(bindable(t)),
    index("resources_bind_last_idx").on(t.teamId, t.provider, t.bindLast).where(bindable(t)),
    index("resources_bind_key_idx")
      .on(t.teamId, t.provider, t.bindKey)
      .where(sql`${bindable(t)} and ${t.bindKey} <> ''`),
  ],
);

/**
 * Which resources each inventory version changed (migration 0017), written by the same triggers that
 * move `teams.inventory_version`: a process holding the team's snapshot at version N re-reads only the
 * rows of versions N+1.. instead of the whole inventory. `resource_ids` is null when a change is too
 * broad to list (a disconnect, a reconnect, a first discovery of thousands): the snapshot is rebuilt.
 * The triggers keep the newest versions of each team only; an older snapshot rebuilds too.
 */
export const inventoryChanges = pgTable(
  "inventory_changes",
  {
    teamId: text("team_id")
      .notNull()
      .references(() => teams.id, { onDelete: "cascade" }),
    version: bigint("version", { mode: "number" }).notNull(),
    resourceIds: text("resource_ids").array(),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.version] })],
);

/**
 * Changes found by a discovery pass that is still running. They reach `resources` in one transaction
 * only when the pass completes; a failed or truncated pass deletes its rows and leaves inventory untouched.
 */
export const inventoryStaging = pgTable(
  "inventory_staging",
  {
    passId: text("pass_id").notNull(),
    installationId: text("installation_id").notNull(),
    resourceKey: text("resource_key").notNull(),
    row: jsonb("row").notNull(),
    createdAt: createdAt(),
  },
  // A job's pass id is `<job id>:<lease>` (see inventory/service.ts): the purge keeps only live leases' rows.
  (t) => [
    uniqueIndex("inventory_staging_pass_key_uq").on(t.passId, t.resourceKey),
    index("inventory_staging_created_idx").on(t.createdAt),
  ],
);

/**
 * Background jobs and the operations clients poll. Claimed with `for update skip locked`, which both
 * PGlite and PostgreSQL support, so several app processes never run one job twice. A partial unique
 * index on `dedupe_key` makes a second refresh request for a busy installation join the first.
 * Each claim takes a new `lease` number (fencing): only the holder of the current lease may heartbeat,
 * record progress or finish, so a worker whose lease expired cannot overwrite its successor's result.
 */
export const jobs = pgTable(
  "jobs",
  {
    id: text("id").primaryKey(),
    teamId: text("team_id").notNull(),
    kind: text("kind").notNull(),
    payload: jsonb("payload").notNull().default({}),
    /** `dead`: retryable failures (or lost workers) used up `max_attempts`; `error` keeps the last one. */
    status: text("status", { enum: ["pending", "running", "completed", "failed", "dead"] })
      .notNull()
      .default("pending"),
    dedupeKey: text("dedupe_key"),
    /**
     * Jobs sharing this key run one at a time across every process (e.g. `installation:<id>`: an
     * installation's refresh pass and its webhook events); a pending one waits while another runs.
     */
    concurrencyKey: text("concurrency_key"),
    result: jsonb("result"),
    error: jsonb("error"),
    /** The failure of the latest attempt, kept while the job waits for its retry. */
    lastError: jsonb("last_error"),
    progress: jsonb("progress"),
    attempts: integer("attempts").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull().default(5),
    /** Fencing number: incremented by every claim; writes by a worker name the lease they hold. */
    lease: integer("lease").notNull().default(0),
    runAfter: timestamp("run_after", { withTimezone: true }).notNull().defaultNow(),
    lockedUntil: timestamp("locked_until", { withTimezone: true }),
    heartbeatAt: timestamp("heartbeat_at", { withTimezone: true }),
    /** `host:pid` of the worker process holding the lease (operators; cleared when the job ends). */
    lockedBy: text("locked_by"),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("jobs_dedupe_active_uq").on(t.dedupeKey).where(sql`${t.status} in ('pending', 'running')`),
    // At most one running job per concurrency key: two processes claiming at once cannot both win.
    uniqueIndex("jobs_concurrency_running_uq").on(t.concurrencyKey).where(sql`${t.status} = 'running'`),
    // Claim order: due pending jobs by run_after; running jobs whose lease expired.
    index("jobs_pending_due_idx").on(t.runAfter, t.id).where(sql`${t.status} = 'pending'`),
    index("jobs_running_lease_idx").on(t.lockedUntil).where(sql`${t.status} = 'running'`),
    // Retention purge of finished jobs.
    index("jobs_finished_idx").on(t.finishedAt).where(sql`${t.status} in ('completed', 'failed', 'dead')`),
  ],
);

/** One-time `state` values of connect flows (OAuth, GitHub App install), with the PKCE verifier. */
export const connectStates = pgTable(
  "connect_states",
  {
    state: text("state").primaryKey(),
    teamId: text("team_id").notNull(),
    userId: text("user_id").notNull(),
    provider: text("provider").notNull(),
    codeVerifier: text("code_verifier"),
    /** Where to reconnect into, when the flow repairs an existing installation. */
    installationId: text("installation_id"),
    returnTo: text("return_to"),
    /** SHA-256 of the nonce in the starting browser's connect cookie: a callback elsewhere stores nothing. */
    browserBindingHash: text("browser_binding_hash"),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index("connect_states_expires_idx").on(t.expiresAt)],
);

/** Spec Kitty projects of a team, known by the CLI identity `uuid` once a CLI has bound them. */
export const projects = pgTable(
  "projects",
  {
    id: text("id").primaryKey(),
    teamId: text("team_id")
      .notNull()
      .references(() => teams.id, { onDelete: "cascade" }),
    uuid: text("uuid"),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    repoSlug: text("repo_slug"),
    /** CLI node ids seen for this project (machines that bound or resolved it). */
    nodeIds: jsonb("node_ids").notNull().default([]),
    buildIds: jsonb("build_ids").notNull().default([]),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("projects_team_slug_uq").on(t.teamId, t.slug),
    uniqueIndex("projects_team_uuid_uq").on(t.teamId, t.uuid).where(sql`${t.uuid} is not null`),
  ],
);

/**
 * ServiceResourceMapping: one discovered resource bound to one project, named for life by its
 * binding_ref (`srm_<ULID>`, the primary key). Deletion is soft so a ref is never reused.
 */
export const mappings = pgTable(
  "mappings",
  {
    bindingRef: text("binding_ref").primaryKey(),
    teamId: text("team_id")
      .notNull()
      .references(() => teams.id, { onDelete: "cascade" }),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id),
    installationId: text("installation_id")
      .notNull()
      .references(() => installations.id),
    resourceId: text("resource_id")
      .notNull()
      .references(() => resources.id),
    resourceKey: text("resource_key").notNull(),
    provider: text("provider").notNull(),
    routingMetadata: jsonb("routing_metadata").notNull(),
    routingVersion: integer("routing_version").notNull(),
    displayLabel: text("display_label").notNull(),
    providerContext: jsonb("provider_context").notNull(),
    status: text("status", { enum: ["active", "disabled"] })
      .notNull()
      .default("active"),
    createdVia: text("created_via", { enum: ["cli", "dashboard", "api"] }).notNull(),
    createdBy: text("created_by"),
    boundAt: timestamp("bound_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
    /** Why it was deleted: `deleted`, `rebound` (replaced by another mapping), `resource_changed`. */
    deletedReason: text("deleted_reason"),
  },
  (t) => [
    uniqueIndex("mappings_installation_resource_live_uq")
      .on(t.installationId, t.resourceKey)
      .where(sql`${t.deletedAt} is null`),
    uniqueIndex("mappings_project_provider_live_uq")
      .on(t.projectId, t.provider)
      .where(sql`${t.deletedAt} is null`),
    index("mappings_team_provider_idx").on(t.teamId, t.provider),
    index("mappings_resource_idx").on(t.resourceId),
  ],
);

/**
 * Idempotency-Key records for contract writes, scoped per team and credential, kept 24 hours. The
 * row is claimed before the write runs (in flight), then completed with the response to replay.
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    teamId: text("team_id").notNull(),
    principal: text("principal").notNull(),
    key: text("key").notNull(),
    route: text("route").notNull(),
    requestHash: text("request_hash").notNull(),
    state: text("state", { enum: ["in_flight", "completed"] }).notNull(),
    responseStatus: integer("response_status"),
    responseBody: jsonb("response_body"),
    lockedUntil: timestamp("locked_until", { withTimezone: true }).notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.teamId, t.principal, t.key] }),
    index("idempotency_keys_expires_idx").on(t.expiresAt),
  ],
);

/** Dashboard sign-in sessions. The cookie carries a random id; only its SHA-256 is stored. */
export const sessions = pgTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    tokenHash: text("token_hash").notNull().unique(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** The team the dashboard shows; switched with the team switcher. */
    currentTeamId: text("current_team_id"),
    csrfSecret: text("csrf_secret").notNull(),
    createdAt: createdAt(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    userAgent: text("user_agent"),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

/**
 * Work-package ↔ issue links recorded by push (and run): one row per work package per mapping, naming
 * the issue of the mapped resource it is linked to. `GET /tracker/mappings/` lists them.
 */
export const workPackageLinks = pgTable(
  "work_package_links",
  {
    id: text("id").primaryKey(),
    teamId: text("team_id")
      .notNull()
      .references(() => teams.id, { onDelete: "cascade" }),
    bindingRef: text("binding_ref")
      .notNull()
      .references(() => mappings.bindingRef),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id),
    provider: text("provider").notNull(),
    wpId: text("wp_id").notNull(),
    /** The issue's scope as the provider names it (`ref.workspace`: repo path, project key, team key...). */
    workspace: text("workspace"),
    externalId: text("external_id").notNull(),
    externalKey: text("external_key"),
    externalUrl: text("external_url"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("work_package_links_mapping_wp_uq").on(t.bindingRef, t.wpId),
    index("work_package_links_team_provider_idx").on(t.teamId, t.provider, t.wpId),
  ],
);

/**
 * Held by the push that is creating a work package's issue, so a concurrent push of the same work
 * package (another process, a retried job) waits for that issue instead of creating a second one. The
 * lease lets a claim left by a crashed process expire.
 */
export const workPackageCreateClaims = pgTable(
  "work_package_create_claims",
  {
    bindingRef: text("binding_ref").notNull(),
    wpId: text("wp_id").notNull(),
    claimedUntil: timestamp("claimed_until", { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.bindingRef, t.wpId] })],
);

/**
 * MissionOriginLink: the tracker issue a mission started from. One origin per mission (v1); the issue
 * was checked to belong to the mapped resource when the link was written.
 */
export const missionOriginLinks = pgTable(
  "mission_origin_links",
  {
    id: text("id").primaryKey(),
    teamId: text("team_id")
      .notNull()
      .references(() => teams.id, { onDelete: "cascade" }),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id),
    bindingRef: text("binding_ref")
      .notNull()
      .references(() => mappings.bindingRef),
    provider: text("provider").notNull(),
    missionId: text("mission_id").notNull(),
    missionSlug: text("mission_slug"),
    externalIssueId: text("external_issue_id").notNull(),
    externalIssueKey: text("external_issue_key"),
    externalIssueUrl: text("external_issue_url"),
    title: text("title").notNull(),
    status: text("status").notNull(),
    resourceType: text("resource_type").notNull(),
    resourceId: text("resource_id").notNull(),
    createdBy: text("created_by"),
    boundAt: timestamp("bound_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("mission_origin_links_project_mission_uq").on(t.projectId, t.missionId)],
);

/**
 * CLI sign-in sessions (OAuth 2.0 for the public client `cli_native`). One row per sign-in: the refresh
 * token family. It lasts until sign-out or revocation; `generation` counts refresh rotations.
 */
export const oauthSessions = pgTable(
  "oauth_sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    clientId: text("client_id").notNull(),
    /** `authorization_code` (browser + PKCE) or `device_code` (headless). */
    authMethod: text("auth_method", { enum: ["authorization_code", "device_code"] }).notNull(),
    scope: text("scope").notNull(),
    generation: integer("generation").notNull().default(1),
    /** Browser user agent that approved the sign-in, shown in the session list. */
    approvedUserAgent: text("approved_user_agent"),
    createdIp: text("created_ip"),
    createdAt: createdAt(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    /** `signed_out`, `revoked_by_user`, `refresh_token_reuse`, `authorization_code_reuse`. */
    revokedReason: text("revoked_reason"),
  },
  (t) => [index("oauth_sessions_user_idx").on(t.userId, t.createdAt)],
);

/** Refresh tokens by SHA-256. Rotated tokens stay (with `rotated_at`) so a replay is recognised. */
export const oauthRefreshTokens = pgTable(
  "oauth_refresh_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => oauthSessions.id, { onDelete: "cascade" }),
    generation: integer("generation").notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    rotatedAt: timestamp("rotated_at", { withTimezone: true }),
  },
  (t) => [index("oauth_refresh_tokens_session_idx").on(t.sessionId)],
);

/** Short-lived bearer access tokens by SHA-256; valid only while their session is. */
export const oauthAccessTokens = pgTable(
  "oauth_access_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => oauthSessions.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    index("oauth_access_tokens_session_idx").on(t.sessionId),
    index("oauth_access_tokens_expires_idx").on(t.expiresAt),
  ],
);

/** One-time authorization codes (PKCE S256) by SHA-256; `session_id` is set once exchanged. */
export const oauthAuthorizationCodes = pgTable(
  "oauth_authorization_codes",
  {
    codeHash: text("code_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    clientId: text("client_id").notNull(),
    redirectUri: text("redirect_uri").notNull(),
    codeChallenge: text("code_challenge").notNull(),
    scope: text("scope").notNull(),
    approvedUserAgent: text("approved_user_agent"),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
    sessionId: text("session_id"),
  },
  (t) => [index("oauth_authorization_codes_expires_idx").on(t.expiresAt)],
);

/** RFC 8628 device authorizations: device code and user code stored as SHA-256 only. */
export const oauthDeviceCodes = pgTable(
  "oauth_device_codes",
  {
    deviceCodeHash: text("device_code_hash").primaryKey(),
    userCodeHash: text("user_code_hash").notNull().unique(),
    clientId: text("client_id").notNull(),
    scope: text("scope").notNull(),
    status: text("status", { enum: ["pending", "approved", "denied", "consumed"] }).notNull(),
    intervalSeconds: integer("interval_seconds").notNull(),
    userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
    approvedUserAgent: text("approved_user_agent"),
    sessionId: text("session_id"),
    lastPolledAt: timestamp("last_polled_at", { withTimezone: true }),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("oauth_device_codes_expires_idx").on(t.expiresAt)],
);

/**
 * Project sync admission (CLI auth contract §9.1): one row per (account, Private Teamspace, project
 * UUID). `generation` is server-owned and rises with every state change.
 */
export const syncAdmissions = pgTable(
  "sync_admissions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    privateTeamId: text("private_team_id")
      .notNull()
      .references(() => teams.id, { onDelete: "cascade" }),
    projectUuid: text("project_uuid").notNull(),
    state: text("state", { enum: ["admitted", "revoked"] }).notNull(),
    generation: integer("generation").notNull(),
    bindingAudience: text("binding_audience").notNull(),
    projectSlug: text("project_slug"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("sync_admissions_scope_uq").on(t.userId, t.privateTeamId, t.projectUuid)],
);

/** Idempotency-Key outcomes of admission operations, kept for good: the first outcome is immutable. */
export const syncAdmissionOperations = pgTable(
  "sync_admission_operations",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    idempotencyKey: text("idempotency_key").notNull(),
    requestHash: text("request_hash").notNull(),
    responseStatus: integer("response_status").notNull(),
    responseBody: jsonb("response_body").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.idempotencyKey] })],
);

/**
 * Attempt counters of `rate-limiter-flexible` (its Drizzle store), shared by every app process: failed
 * sign-ins and token guesses per address, per (email, address) and per account. `key` is
 * `<limit>:<subject>`; `expire` ends the row's fixed window. Rows past their window are purged by the
 * housekeeping timer.
 */
export const rateLimits = pgTable(
  "rate_limits",
  {
    key: text("key").primaryKey(),
    points: integer("points").notNull(),
    expire: timestamp("expire", { withTimezone: true }),
  },
  (t) => [index("rate_limits_expire_idx").on(t.expire)],
);

/**
 * Curation rules of an installation (issue 20): which discovered resources the CLI and the dashboard
 * picker offer. No row: everything bindable is offered. Evaluated by `src/host/curation/rules.ts`;
 * a change bumps `teams.binding_version` (trigger, migration 0014), so every process re-applies the
 * rules to its snapshot's rows without re-reading them.
 */
export const curationRules = pgTable(
  "curation_rules",
  {
    id: text("id").primaryKey(),
    teamId: text("team_id").notNull(),
    installationId: text("installation_id")
      .notNull()
      .references(() => installations.id, { onDelete: "cascade" }),
    /** Display order; evaluation does not depend on it. */
    position: integer("position").notNull(),
    /** `include` | `exclude` */
    effect: text("effect").notNull(),
    /** `pattern` (glob over path, name, key, label) | `kind` (a provider kind) | `resource` (one resource) */
    match: text("match").notNull(),
    pattern: text("pattern"),
    kind: text("kind"),
    kindValue: text("kind_value"),
    resourceId: text("resource_id").references(() => resources.id, { onDelete: "cascade" }),
    createdBy: text("created_by"),
    createdAt: createdAt(),
  },
  (t) => [index("curation_rules_installation_idx").on(t.installationId, t.position)],
);

/**
 * An invitation to join a team, sent by email. The link carries a 256-bit random token; only its
 * SHA-256 is stored. Accepted, revoked and expired invitations stay as history (never reused).
 */
export const invitations = pgTable(
  "invitations",
  {
    id: text("id").primaryKey(),
    teamId: text("team_id")
      .notNull()
      .references(() => teams.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    role: text("role", { enum: ["admin", "member"] }).notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    invitedBy: text("invited_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    acceptedAt: timestamp("accepted_at", { withTimezone: true }),
    acceptedBy: text("accepted_by").references(() => users.id, { onDelete: "set null" }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [index("invitations_team_idx").on(t.teamId, t.createdAt)],
);

/**
 * One-time messages of a dashboard session across a redirect (a new API token, an invite link): the
 * payload is vault ciphertext bound to the row, deleted when the page that shows it is rendered.
 */
export const dashboardFlashes = pgTable(
  "dashboard_flashes",
  {
    id: text("id").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    kind: text("kind").notNull(),
    ciphertext: text("ciphertext").notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("dashboard_flashes_expires_idx").on(t.expiresAt)],
);

/**
 * Webhook receiving per installation (docs/webhooks.md): the installation's own signing secret where the
 * provider signs per hook (GitLab, Linear; GitHub uses the App-wide secret of the provider settings),
 * encrypted with the credentials vault and bound to the installation id, and what the dashboard shows
 * of the event stream: last delivery, last failure and why.
 */
export const webhookEndpoints = pgTable("webhook_endpoints", {
  installationId: text("installation_id")
    .primaryKey()
    .references(() => installations.id, { onDelete: "cascade" }),
  secretCiphertext: text("secret_ciphertext"),
  secretRotatedAt: timestamp("secret_rotated_at", { withTimezone: true }),
  lastDeliveryAt: timestamp("last_delivery_at", { withTimezone: true }),
  lastAppliedAt: timestamp("last_applied_at", { withTimezone: true }),
  lastFailureAt: timestamp("last_failure_at", { withTimezone: true }),
  lastFailureReason: text("last_failure_reason"),
  deliveries: integer("deliveries").notNull().default(0),
  /**
   * How the provider's hook came to be: `automatic` (the service registered it through the provider's API;
   * `hook_scope` and `hook_id` say which), `manual` (an admin pastes URL and secret; `hook_reason` says why
   * the service could not), or null (never tried).
   */
  hookMode: text("hook_mode"),
  /** GitLab: `system` (instance-wide, `/hooks`) or `group` (`/groups/:id/hooks`). */
  hookScope: text("hook_scope"),
  hookId: text("hook_id"),
  /** In automatic mode what the hook covers; in manual mode why it could not be registered (the provider's answer). */
  hookReason: text("hook_reason"),
  hookCheckedAt: timestamp("hook_checked_at", { withTimezone: true }),
  createdAt: createdAt(),
});

/**
 * One row per accepted delivery, keyed by the provider's delivery id: a redelivery (or a duplicate) finds
 * its row and is acknowledged without being applied twice. `targets` is what the parser read from the
 * verified body (native ids and the installation action), never the body itself.
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    provider: text("provider").notNull(),
    deliveryId: text("delivery_id").notNull(),
    installationId: text("installation_id").references(() => installations.id, { onDelete: "cascade" }),
    event: text("event").notNull(),
    targets: jsonb("targets").notNull().default([]),
    state: text("state", { enum: ["pending", "applied", "ignored", "failed"] }).notNull(),
    error: text("error"),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
    appliedAt: timestamp("applied_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_delivery_uq").on(t.provider, t.deliveryId),
    index("webhook_deliveries_installation_idx").on(t.installationId, t.receivedAt),
  ],
);
