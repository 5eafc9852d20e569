import type { Database } from "../../storage/database.ts";
import { isUniqueViolation } from "../../storage/errors.ts";
import { inTransaction } from "../../storage/transaction.ts";
import {
  adapterFor,
  type Connection,
  type Credential,
  configuredProvider,
  type HttpClient,
  hostOf,
  type ProviderId,
  providerModule,
  refreshTokens,
  TrackerError,
  type Workspace,
} from "../../tracker/index.ts";
import type { AuditService } from "../audit/service.ts";
import { ValidationError } from "../errors/domain-error.ts";
import { assertOutboundUrl, type OutboundPolicy } from "../http/outbound.ts";
import { decodeKeyCursor, toPage } from "../http/pagination.ts";
import { connectError } from "../http/provider-errors.ts";
import { newId } from "../ids.ts";
import { requestRefresh } from "../inventory/refresh-job.ts";
import type { JobsService } from "../jobs/service.ts";
import type { Vault } from "../secrets/vault.ts";
import type { Actor, AuthContext } from "../teams/access.ts";
import type { TeamsService } from "../teams/service.ts";
import {
  connectThroughRedirect,
  credentialKindNotAllowed,
  installationDisconnected,
  installationInUse,
  installationNotFound,
  providerNotConfigured,
  unknownWorkspace,
  workspaceChoiceRequired,
} from "./errors.ts";
import {
  type FailedPassStatus,
  type InstallationListFilter,
  type InstallationRow,
  installationsRepository,
} from "./repository.ts";
import { type ProviderSettings, redirectFlow } from "./settings.ts";

/** The rows this feature hands to others (its repository stays private). */
export type { InstallationListFilter, InstallationRow } from "./repository.ts";

/** What is stored encrypted: the tracker credential plus OAuth renewal facts. */
export interface StoredCredential {
  credential: Credential;
  refresh_token?: string;
  expires_at?: string;
}

export interface ConnectInput {
  provider: ProviderId;
  base_url?: string;
  credential: Record<string, unknown> & { kind: string };
  options?: Record<string, string>;
  workspace_id?: string;
  display_name?: string;
}

export interface SaveConnectionInput {
  provider: ProviderId;
  conn: Connection;
  workspace: Workspace;
  stored: StoredCredential;
  displayName?: string;
}

export interface Deps {
  vault: Vault;
  settings: ProviderSettings;
  outbound: OutboundPolicy;
  http: HttpClient;
  audit: Pick<AuditService, "latest" | "record">;
  teams: Pick<TeamsService, "findUser">;
  /** To queue a new connection's first inventory pass. */
  jobs: Pick<JobsService, "enqueue">;
}

/**
 * Work other features do when an installation is connected (or reconnected) and before it is
 * disconnected, while its credential still works (webhooks: register and remove the provider's hook).
 * A listener never fails the connect or the disconnect: it records its own failures.
 */
export interface InstallationLifecycle {
  connected?(row: InstallationRow, actorUserId: string): Promise<void>;
  disconnecting?(row: InstallationRow): Promise<void>;
}

const RENEW_BEFORE_MS = 5 * 60_000;

function needsRenewal(stored: StoredCredential): boolean {
  return (
    stored.credential?.kind === "oauth" &&
    Boolean(stored.refresh_token) &&
    Boolean(stored.expires_at) &&
    Date.parse(stored.expires_at!) - Date.now() < RENEW_BEFORE_MS
  );
}

export function installationView(row: InstallationRow) {
  return {
    id: row.id,
    provider: row.provider,
    display_name: row.displayName,
    base_url: row.baseUrl,
    host: row.host,
    workspace: {
      id: row.workspaceId,
      name: row.workspaceName,
      url: row.workspaceUrl,
      details: row.workspaceDetails as Record<string, unknown>,
    },
    connection_options: row.connectionOptions as Record<string, string>,
    auth_kind: row.authKind,
    // Rows disconnected before `disconnected` was a status still say `revoked`; disconnected_at decides.
    status: row.disconnectedAt ? ("disconnected" as const) : row.status,
    disconnected_at: row.disconnectedAt?.toISOString() ?? null,
    repository_selection: row.repositorySelection,
    health: {
      last_success_at: row.lastSuccessAt?.toISOString() ?? null,
      last_failure_at: row.lastFailureAt?.toISOString() ?? null,
      last_error_code: row.lastErrorCode,
      last_error_message: row.lastErrorMessage,
      consecutive_failures: row.consecutiveFailures,
    },
    last_sync_at: row.lastSyncAt?.toISOString() ?? null,
    resource_count: row.resourceCount,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export type InstallationView = ReturnType<typeof installationView>;

export function installationsService(db: Database, deps: Deps) {
  const repo = installationsRepository(db);
  const lifecycle: InstallationLifecycle[] = [];
  /** A listener's own failure is its business: connect and disconnect go on. */
  const notify = (fn: (l: InstallationLifecycle) => Promise<void> | undefined) =>
    Promise.all(lifecycle.map((l) => fn(l)?.catch(() => undefined)));

  /** Pasted credentials only, of the kinds the provider takes; an App connects through its install flow. */
  function completeCredential(provider: ProviderId, input: ConnectInput["credential"]): Credential {
    const allowed = providerModule(provider).connect.token?.kinds ?? [];
    if (allowed.length === 0) throw connectThroughRedirect(provider);
    if (!allowed.includes(input.kind)) throw credentialKindNotAllowed(provider, input.kind, allowed);
    return input as unknown as Credential;
  }

  /** The server's own secrets (an App's private key) belong to its registration, not to each row. */
  function storable(provider: ProviderId, stored: StoredCredential): StoredCredential {
    return { ...stored, credential: configuredProvider(provider, deps.settings).storable(stored.credential) };
  }

  function withRegistration(provider: ProviderId, credential: Credential): Credential {
    const usable = configuredProvider(provider, deps.settings).completeCredential(credential);
    if (typeof usable === "string") throw providerNotConfigured(provider, usable);
    return usable;
  }

  function pickWorkspace(workspaces: Workspace[], wanted?: string): Workspace {
    if (wanted) {
      const ws = workspaces.find((w) => w.id === wanted);
      if (!ws) throw unknownWorkspace(wanted);
      return ws;
    }
    if (workspaces.length === 1) return workspaces[0];
    if (workspaces.length === 0)
      throw new ValidationError("These credentials reach no workspace.", [
        { field: "body.credential", problem: "reaches no workspace" },
      ]);
    throw workspaceChoiceRequired(workspaces.map((w) => ({ id: w.id, name: w.name, url: w.url })));
  }

  /**
   * Renews an OAuth access token shortly before it expires. Providers rotate refresh tokens, so when
   * another process renewed first (our refresh token is then spent), its stored result is used instead.
   */
  async function renew(row: InstallationRow, stored: StoredCredential): Promise<StoredCredential> {
    const flow = redirectFlow(deps.settings, row.provider);
    if (flow?.kind !== "oauth") throw providerNotConfigured(row.provider, "OAuth app (client id and secret)");
    try {
      const tokens = await refreshTokens(
        deps.http,
        flow.profile,
        flow.tokenBase,
        flow.app,
        stored.refresh_token!,
      );
      const next: StoredCredential = {
        credential: { kind: "oauth", access_token: tokens.access_token },
        refresh_token: tokens.refresh_token ?? stored.refresh_token,
        expires_at: tokens.expires_at ?? undefined,
      };
      await inTransaction(db, async (tx) => {
        await installationsRepository(tx).update(row.id, {
          credentialsCiphertext: deps.vault.encrypt(next, row.id),
          credentialsExpiresAt: next.expires_at ? new Date(next.expires_at) : null,
        });
        await deps.audit.record(
          {
            teamId: row.teamId,
            action: "installation.credentials_renewed",
            targetType: "installation",
            targetId: row.id,
            after: { expires_at: next.expires_at ?? null },
          },
          tx,
        );
      });
      return next;
    } catch (err) {
      const latest = await repo.byId(row.id);
      if (latest && latest.credentialsCiphertext !== row.credentialsCiphertext)
        return deps.vault.decrypt<StoredCredential>(latest.credentialsCiphertext, row.id);
      throw err;
    }
  }

  /** An admin's change to one installation and its audit event, committed together. */
  function changeAudited(
    auth: AuthContext,
    before: InstallationRow,
    action: string,
    requestId: string | undefined,
    patch: Partial<InstallationRow>,
  ) {
    return inTransaction(db, async (tx) => {
      const row = await installationsRepository(tx).update(before.id, patch);
      await deps.audit.record(
        {
          teamId: auth.team.id,
          actorUserId: auth.user.id,
          action,
          targetType: "installation",
          targetId: before.id,
          before: installationView(before),
          after: installationView(row),
          requestId,
        },
        tx,
      );
      return row;
    });
  }

  async function saveOnce(auth: Actor, input: SaveConnectionInput, requestId?: string) {
    const { provider, conn, workspace, stored } = input;
    const host = workspace.host || hostOf(conn.base_url);
    if (
      // A GitHub App installation is a single object on the provider, so two teams sharing it would
      // share its repositories (docs/decisions.md); token connects bring each team's own credential.
      providerModule(provider).capabilities.oneTeamPerWorkspace &&
      (await repo.activeInOtherTeam(auth.team.id, provider, host, workspace.id))
    )
      throw installationInUse();
    const existing = await repo.findWorkspace(auth.team.id, provider, host, workspace.id);
    const id = existing?.id ?? newId("inst");
    const fields = {
      baseUrl: conn.base_url,
      host,
      workspaceName: workspace.name,
      workspaceUrl: workspace.url,
      workspaceDetails: workspace.details,
      connectionOptions: conn.options ?? {},
      authKind: stored.credential.kind,
      credentialsCiphertext: deps.vault.encrypt(storable(provider, stored), id),
      credentialsExpiresAt: stored.expires_at ? new Date(stored.expires_at) : null,
      status: "active" as const,
      repositorySelection:
        typeof workspace.details.repository_selection === "string"
          ? workspace.details.repository_selection
          : null,
    };
    const row = await inTransaction(db, async (tx) => {
      const txRepo = installationsRepository(tx);
      const saved = existing
        ? await txRepo.update(id, {
            ...fields,
            displayName: input.displayName ?? existing.displayName,
            consecutiveFailures: 0,
            lastErrorCode: null,
            lastErrorMessage: null,
            disconnectedAt: null,
          })
        : await txRepo.insert({
            id,
            teamId: auth.team.id,
            provider,
            workspaceId: workspace.id,
            displayName: input.displayName ?? workspace.name,
            connectedBy: auth.user.id,
            ...fields,
          });
      await deps.audit.record(
        {
          teamId: auth.team.id,
          actorUserId: auth.user.id,
          action: existing ? "installation.reconnected" : "installation.connected",
          targetType: "installation",
          targetId: id,
          before: existing ? installationView(existing) : null,
          after: installationView(saved),
          requestId,
        },
        tx,
      );
      return saved;
    });
    return { installation: row, reconnected: Boolean(existing) };
  }

  return {
    /** Subscribes another feature to connects and disconnects (see InstallationLifecycle). */
    onLifecycle: (listener: InstallationLifecycle) => {
      lifecycle.push(listener);
    },

    /** Any team's installation by id, for background work that names it (jobs, runtime targets). */
    byId: (id: string) => repo.byId(id),

    /** A connected installation of the team, or undefined (a candidate token's installation may be gone). */
    findConnected: (teamId: string, id: string) => repo.get(teamId, id),

    /** Health after a discovery pass (see the repository for which states a pass may change). */
    recordPassSucceeded: (id: string, at: Date, resourceCount: number | null) =>
      repo.recordSuccess(id, at, resourceCount),
    recordPassFailed: (id: string, at: Date, code: string, message: string, status?: FailedPassStatus) =>
      repo.recordFailure(id, at, code, message, status),

    /** The installation's own state as the provider reported it (webhooks: deleted, suspended, unsuspended). */
    recordProviderState: (
      id: string,
      at: Date,
      state: { status: "active" | "suspended" | "revoked"; code: string | null; message: string | null },
    ) => repo.recordProviderState(id, at, state),
    /** Connected installations of a provider workspace in any team (a webhook names the workspace). */
    connectedForWorkspace: (provider: string, workspaceId: string) =>
      repo.connectedForWorkspace(provider, workspaceId),

    /** Connected installations not synced since `olderThan` (the scheduled refresh). */
    dueForRefresh: (olderThan: Date) => repo.dueForRefresh(olderThan),

    /** Any installation of the team, disconnected ones included (their page and API answer stay). */
    async get(teamId: string, id: string) {
      const row = await repo.getAny(teamId, id);
      if (!row) throw installationNotFound(id);
      return row;
    },

    /** For work that needs the provider (sync, lookups): a disconnected installation answers 409. */
    async getConnected(teamId: string, id: string) {
      const row = await this.get(teamId, id);
      if (row.disconnectedAt) throw installationDisconnected(row.id, row.displayName);
      return row;
    },

    async page(
      teamId: string,
      cursor: string | undefined,
      limit: number,
      filter: InstallationListFilter = { state: "all" },
    ) {
      const rows = await repo.page(teamId, decodeKeyCursor(cursor, ["name", "id"]), limit, filter);
      return toPage(rows, limit, installationView, (r) => ({ name: r.displayName, id: r.id }));
    },

    /** Connected installations unless the filter says otherwise. */
    listForTeam: (teamId: string, provider?: string, state: InstallationListFilter["state"] = "connected") =>
      repo.listForTeam(teamId, { provider, state }),

    /** Token-based connect: the credential is checked with a live provider call before anything is saved. */
    async connectWithCredential(auth: AuthContext, input: ConnectInput, requestId?: string) {
      const baseUrl = input.base_url ?? configuredProvider(input.provider, deps.settings).defaultBaseUrl();
      if (!baseUrl) {
        throw new ValidationError(`${input.provider} needs a base_url (the site or server URL).`, [
          { field: "body.base_url", problem: "is required for this provider" },
        ]);
      }
      // Only the admin's URL is policed here; the operator's configured URLs are trusted as given.
      if (input.base_url) await assertOutboundUrl(deps.outbound, input.base_url, "body.base_url");
      const credential = completeCredential(input.provider, input.credential);
      const conn: Connection = { base_url: baseUrl, credential, options: input.options, http: deps.http };
      const workspaces = await adapterFor(input.provider)
        .listWorkspaces(conn)
        .catch((err) => {
          throw err instanceof TrackerError ? connectError(err, baseUrl) : err;
        });
      const workspace = pickWorkspace(workspaces, input.workspace_id);
      return this.saveConnection(
        auth,
        {
          provider: input.provider,
          conn,
          workspace,
          stored: { credential },
          displayName: input.display_name,
        },
        requestId,
      );
    },

    /**
     * Creates the installation, or reconnects the team's existing one for the same workspace (provider +
     * host + workspace id), connected or disconnected: same id, so its inventory and mappings come back.
     * Shared by token connect and the OAuth / GitHub App callbacks. Queues the installation's inventory
     * pass and returns that operation as `refresh` (joined with one already pending or running).
     */
    async saveConnection(auth: Actor, input: SaveConnectionInput, requestId?: string) {
      const saved = await saveOnce(auth, input, requestId).catch((err) => {
        // Another team took this GitHub installation between our check and the write.
        if (isUniqueViolation(err, "installations_github_owner_uq")) throw installationInUse();
        // Two connects of one new workspace at once: the partial unique index lets one insert win;
        // the other finds that row on its second try and reconnects it.
        if (!isUniqueViolation(err)) throw err;
        return saveOnce(auth, input, requestId);
      });
      await notify((l) => l.connected?.(saved.installation, auth.user.id));
      // A connection is only useful with an inventory: every connect queues its first pass.
      const { job } = await requestRefresh(deps.jobs, auth.team.id, saved.installation.id, auth.user.id);
      return { ...saved, refresh: job };
    },

    async update(auth: AuthContext, id: string, patch: { display_name?: string }, requestId?: string) {
      const before = await this.get(auth.team.id, id);
      return changeAudited(auth, before, "installation.updated", requestId, {
        displayName: patch.display_name ?? before.displayName,
      });
    },

    /**
     * Discards the credential and stops sync; the row, its inventory and its mappings stay, so the
     * installation stays visible and a reconnect of the same workspace brings it back. Repeating it
     * changes nothing.
     */
    async disconnect(auth: AuthContext, id: string, requestId?: string) {
      const before = await this.get(auth.team.id, id);
      if (before.disconnectedAt) return before;
      await notify((l) => l.disconnecting?.(before));
      return changeAudited(auth, before, "installation.disconnected", requestId, {
        disconnectedAt: new Date(),
        status: "disconnected",
        credentialsCiphertext: deps.vault.encrypt({ credential: null }, id),
      });
    },

    /** Who disconnected the installation (from the audit log), or null while it is connected. */
    async disconnectedBy(row: InstallationRow) {
      if (!row.disconnectedAt) return null;
      const event = await deps.audit.latest(row.teamId, "installation", row.id, "installation.disconnected");
      if (!event?.actorUserId) return null;
      const user = await deps.teams.findUser(event.actorUserId);
      return { user_id: event.actorUserId, email: user?.email ?? null };
    },

    /** The adapter connection for an installation, with credentials decrypted (and re-encrypted under the current key). */
    async connectionFor(row: InstallationRow): Promise<Connection> {
      let stored = deps.vault.decrypt<StoredCredential>(row.credentialsCiphertext, row.id);
      if (needsRenewal(stored)) stored = await renew(row, stored);
      else if (!deps.vault.isCurrent(row.credentialsCiphertext)) {
        await repo.update(row.id, { credentialsCiphertext: deps.vault.encrypt(stored, row.id) });
      }
      return {
        base_url: row.baseUrl,
        credential: withRegistration(row.provider, stored.credential),
        options: row.connectionOptions as Record<string, string>,
        http: deps.http,
      };
    },

    workspaceOf(row: InstallationRow): Workspace {
      return {
        provider: row.provider,
        host: row.host,
        id: row.workspaceId,
        name: row.workspaceName,
        url: row.workspaceUrl,
        details: row.workspaceDetails as Workspace["details"],
      };
    },
  };
}

export type InstallationsService = ReturnType<typeof installationsService>;
