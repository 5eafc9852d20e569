import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { Database } from "../../storage/database.ts";
import {
  adapterFor,
  httpFor,
  impatient,
  type ProviderId,
  type ProviderSettings,
  TrackerError,
} from "../../tracker/index.ts";
import type { AuditService } from "../audit/service.ts";
import { DomainError } from "../errors/domain-error.ts";
import { providerError } from "../http/provider-errors.ts";
import { newId } from "../ids.ts";
import type { InstallationRow, InstallationsService } from "../installations/service.ts";
import { installationWorkKey } from "../inventory/refresh-job.ts";
import type { InventoryService } from "../inventory/service.ts";
import type { JobContext, JobRow, JobsService } from "../jobs/service.ts";
import type { Vault } from "../secrets/vault.ts";
import type { AuthContext } from "../teams/access.ts";
import { appWideSecret, notRegisteredPerInstallation, unverified, webhooksUnsupported } from "./errors.ts";
import { deleteGitlabHook, type HookOutcome, type HookRef, registerGitlabHook } from "./gitlab-hooks.ts";
import {
  type Headers,
  isReceiverProvider,
  RECEIVERS,
  type ReceiverProvider,
  type Target,
} from "./receivers.ts";
import { type EndpointRow, webhooksRepository } from "./repository.ts";

/** The job kind that applies one accepted delivery. */
export const APPLY_JOB = "webhooks.apply";
/** How long delivery ids are remembered: providers redeliver within hours, people within days. */
export const DELIVERY_RETENTION_DAYS = 7;

/**
 * How each provider's hooks are registered (docs/webhooks.md): one App-wide hook (GitHub), a hook per
 * installation (GitLab: `automatic` when the service registered it through the API, else `manual`), or
 * none (the schedule only).
 */
export type Registration = "app" | "automatic" | "manual" | "schedule_only";
export const registrationOf = (provider: string): Registration =>
  provider === "github" ? "app" : provider === "gitlab" ? "manual" : "schedule_only";
/** Providers whose per-installation hook the service tries to register through the provider's API. */
const registersHooks = (provider: string) => provider === "gitlab";

const newSecret = () => randomBytes(24).toString("base64url");

export type EventHealthState =
  | "schedule_only"
  | "not_configured"
  | "awaiting_first_delivery"
  | "receiving"
  | "failing";

/** The vault binds a secret to what it is for: a hook secret does not decrypt as a credential. */
const secretBinding = (installationId: string) => `webhook:${installationId}`;

function healthState(
  registration: Registration,
  secretSet: boolean,
  ep: EndpointRow | undefined,
): EventHealthState {
  if (registration === "schedule_only") return "schedule_only";
  if (!secretSet) return "not_configured";
  if (ep?.lastFailureAt && (!ep.lastAppliedAt || ep.lastFailureAt > ep.lastAppliedAt)) return "failing";
  if (!ep?.lastDeliveryAt) return "awaiting_first_delivery";
  return "receiving";
}

export function webhooksService(
  db: Database,
  deps: {
    vault: Vault;
    settings: ProviderSettings;
    publicUrl: () => string;
    logger: Logger;
    installations: Pick<
      InstallationsService,
      | "byId"
      | "get"
      | "getConnected"
      | "connectedForWorkspace"
      | "connectionFor"
      | "workspaceOf"
      | "recordProviderState"
      | "onLifecycle"
    >;
    inventory: Pick<InventoryService, "applyResource" | "markGone">;
    jobs: Pick<JobsService, "enqueue" | "register">;
    audit: Pick<AuditService, "record">;
  },
) {
  const repo = webhooksRepository(db);
  const appSecret = () =>
    (deps.settings as { github?: { app?: { webhookSecret?: string } } }).github?.app?.webhookSecret;

  const urlOf = (inst: Pick<InstallationRow, "id" | "provider">) => {
    const reg = registrationOf(inst.provider);
    const base = deps.publicUrl().replace(/\/$/, "");
    if (reg === "app") return `${base}/api/v1/webhooks/github/`;
    if (reg === "manual") return `${base}/api/v1/webhooks/${inst.provider}/${inst.id}/`;
    return null;
  };

  // ---- the provider's hook: registered through its API where the credential permits ------------------

  const knownHook = (ep: EndpointRow | undefined): HookRef | null =>
    ep?.hookId && (ep.hookScope === "system" || ep.hookScope === "group")
      ? { scope: ep.hookScope, id: ep.hookId }
      : null;
  /** A membership installation has no group to hook. */
  const groupOf = (inst: InstallationRow) => (inst.workspaceId === "membership" ? null : inst.workspaceId);

  /** One try at registering (or updating) the hook with `secret`; never throws for the provider's refusal. */
  async function tryRegister(inst: InstallationRow, secret: string, ep: EndpointRow | undefined) {
    let outcome: HookOutcome;
    try {
      const conn = await deps.installations.connectionFor(inst);
      // A connect waits for this: a provider asking us to slow down gets the manual instructions instead.
      const quick = { ...conn, http: impatient(httpFor(conn)) };
      outcome = await registerGitlabHook(quick, groupOf(inst), urlOf(inst) as string, secret, knownHook(ep));
    } catch (err) {
      // The message only: a provider error's cause may carry the request.
      deps.logger.warn(
        { installation: inst.id, reason: err instanceof Error ? err.message : String(err) },
        "webhook registration failed",
      );
      outcome = {
        registered: false,
        reason: `Automatic registration failed: ${err instanceof Error ? err.message : String(err)}. Paste the URL and secret into a hook by hand, or choose Register again later.`,
      };
    }
    return outcome;
  }

  /** Stores what happened; a hook that could not be updated keeps its id, so a disconnect can still remove it. */
  async function recordOutcome(
    inst: InstallationRow,
    outcome: HookOutcome,
    ep: EndpointRow | undefined,
    actorUserId?: string,
  ) {
    const known = knownHook(ep);
    if (outcome.registered && known && known.scope !== outcome.hook.scope) {
      // A new credential got a different kind of hook: the old one would deliver every event twice.
      const why = await deps.installations
        .connectionFor(inst)
        .then((conn) => deleteGitlabHook(conn, groupOf(inst), known))
        .catch((err: Error) => err.message);
      if (why)
        deps.logger.warn(
          { installation: inst.id, hook: known, why },
          "the previous hook could not be removed; delete it in GitLab",
        );
    }
    await repo.recordHook(
      inst.id,
      outcome.registered
        ? { mode: "automatic", scope: outcome.hook.scope, id: outcome.hook.id, reason: outcome.covers }
        : { mode: "manual", scope: known?.scope ?? null, id: known?.id ?? null, reason: outcome.reason },
      new Date(),
    );
    if (outcome.registered && (known?.id !== outcome.hook.id || ep?.hookMode !== "automatic"))
      await deps.audit.record({
        teamId: inst.teamId,
        actorUserId,
        action: "installation.webhook_registered",
        targetType: "installation",
        targetId: inst.id,
        after: { scope: outcome.hook.scope, hook_id: outcome.hook.id },
      });
  }

  /**
   * Registers the hook with the installation's secret (a new one when there is none yet; it is kept only if
   * the hook now carries it, so the manual instructions still start with "generate the secret").
   */
  async function register(inst: InstallationRow, actorUserId?: string) {
    const ep = await repo.endpoint(inst.id);
    const current = ep?.secretCiphertext
      ? deps.vault.decrypt<string>(ep.secretCiphertext, secretBinding(inst.id))
      : null;
    const secret = current ?? newSecret();
    const outcome = await tryRegister(inst, secret, ep);
    if (outcome.registered && !current)
      await repo.setSecret(inst.id, deps.vault.encrypt(secret, secretBinding(inst.id)), new Date());
    await recordOutcome(inst, outcome, ep, actorUserId);
    return outcome;
  }

  /** Before the credential is discarded: our hook goes, so GitLab stops calling a URL that now refuses it. */
  async function unregister(inst: InstallationRow) {
    const ep = await repo.endpoint(inst.id);
    const hook = knownHook(ep);
    if (!hook) return;
    let why: string | null;
    try {
      why = await deleteGitlabHook(await deps.installations.connectionFor(inst), groupOf(inst), hook);
    } catch (err) {
      why = err instanceof Error ? err.message : String(err);
    }
    await repo.recordHook(
      inst.id,
      why === null
        ? {
            mode: null,
            scope: null,
            id: null,
            reason: "The hook was removed from GitLab when the installation was disconnected.",
          }
        : {
            mode: "manual",
            scope: hook.scope,
            id: hook.id,
            reason: `The ${hook.scope} hook ${hook.id} could not be removed on disconnect (${why}); delete it in GitLab.`,
          },
      new Date(),
    );
  }

  /** Connect and disconnect go on whatever happens here; a failure is logged (and shown where it can be). */
  const quietly = (what: string, inst: InstallationRow, fn: () => Promise<unknown>) =>
    fn().then(
      () => undefined,
      (err: Error) =>
        deps.logger.warn({ installation: inst.id, reason: err.message }, `webhook ${what} failed`),
    );
  deps.installations.onLifecycle({
    async connected(inst, actorUserId) {
      if (registersHooks(inst.provider))
        await quietly("registration", inst, () => register(inst, actorUserId));
    },
    async disconnecting(inst) {
      if (registersHooks(inst.provider)) await quietly("removal", inst, () => unregister(inst));
    },
  });

  /** The installation a per-hook URL names and its secret, or undefined (answered like a bad signature). */
  async function hookOf(provider: ReceiverProvider, installationId: string) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(installationId)) return undefined;
    const inst = await deps.installations.byId(installationId);
    if (!inst || inst.provider !== provider || inst.disconnectedAt) return undefined;
    const ep = await repo.endpoint(inst.id);
    if (!ep?.secretCiphertext) return undefined;
    return { inst, secret: deps.vault.decrypt<string>(ep.secretCiphertext, secretBinding(inst.id)) };
  }

  /** One event's change to one installation, re-read from the provider first (nothing is taken from the body). */
  async function applyTarget(inst: InstallationRow, target: Target, lease: Pick<JobContext, "assertLease">) {
    const adapter = adapterFor(inst.provider as ProviderId);
    const conn = await deps.installations.connectionFor(inst);
    const workspace = deps.installations.workspaceOf(inst);
    if (target.kind === "installation") {
      let state: Parameters<InstallationsService["recordProviderState"]>[2];
      try {
        const [ws] = await adapter.listWorkspaces(conn);
        state = ws?.details.suspended
          ? {
              status: "suspended",
              code: "installation_suspended",
              message: `The App's installation on ${inst.workspaceName} is suspended; an owner can unsuspend it in the provider's settings.`,
            }
          : { status: "active", code: null, message: null };
      } catch (err) {
        if (!(err instanceof TrackerError && (err.kind === "not_found" || err.kind === "auth_revoked")))
          throw err;
        state = {
          status: "revoked",
          code: "installation_revoked",
          message: `The App was uninstalled from ${inst.workspaceName}; install it again to sync.`,
        };
      }
      if (state.status === inst.status && state.code === inst.lastErrorCode) return "unchanged";
      // A worker whose lease lapsed (it stalled; another process re-runs the job) must not write its older read.
      await lease.assertLease();
      await deps.installations.recordProviderState(inst.id, new Date(), state);
      await deps.audit.record({
        teamId: inst.teamId,
        action: "installation.provider_state",
        targetType: "installation",
        targetId: inst.id,
        before: { status: inst.status },
        after: { status: state.status, error_code: state.code },
      });
      return state.status;
    }
    const found = await adapter.getResource(conn, workspace, target.native_id);
    await lease.assertLease();
    if (found) return deps.inventory.applyResource(inst, found);
    // The provider confirmed it: not found (or no longer the installation's).
    return (await deps.inventory.markGone(inst.id, target.native_id)) > 0 ? "missing" : "unchanged";
  }

  async function failDelivery(deliveryId: string, installationId: string, reason: string) {
    const at = new Date();
    await repo.finish(deliveryId, "failed", reason, at);
    await repo.recordFailure(installationId, reason, at);
  }

  /**
   * One delivery's job. It holds its installation's concurrency key (`installationWorkKey`), so no pass
   * and no other event of the installation runs meanwhile, in any process: each re-read is written
   * before the next one is made, and the last event's re-read is the last write.
   */
  async function apply(job: JobRow, ctx: JobContext) {
    const { delivery } = job.payload as { delivery: string };
    const d = await repo.delivery(delivery);
    if (d?.state !== "pending" || !d.installationId) return { delivery, applied: false };
    const installationId = d.installationId;
    const inst = await deps.installations.byId(installationId);
    if (!inst || inst.disconnectedAt) {
      await repo.finish(d.id, "ignored", "installation disconnected", new Date());
      return { delivery, applied: false };
    }
    const outcomes: string[] = [];
    try {
      for (const t of d.targets as Target[]) {
        // A deleted installation answers nothing more; its resource events wait for a reinstall.
        const current = t.kind === "resource" ? await deps.installations.byId(inst.id) : inst;
        if (t.kind === "resource" && current?.status === "revoked") {
          outcomes.push("skipped");
          continue;
        }
        outcomes.push(String(await applyTarget(current ?? inst, t, ctx)));
      }
    } catch (err) {
      if (!(err instanceof TrackerError)) throw err;
      const envelope = providerError(err);
      if (envelope.retryable) throw envelope;
      await failDelivery(d.id, inst.id, `Applying ${d.event} failed: ${envelope.message}`);
      return { delivery, applied: false, error_code: envelope.code };
    }
    const at = new Date();
    await repo.finish(d.id, "applied", null, at);
    await repo.recordApplied(inst.id, at);
    return { delivery, applied: true, outcomes };
  }

  deps.jobs.register(APPLY_JOB, apply, {
    async onDead(job) {
      const d = await repo.delivery((job.payload as { delivery: string }).delivery);
      const error = job.error as { message?: string } | null;
      if (d?.installationId)
        await failDelivery(
          d.id,
          d.installationId,
          `Gave up applying ${d.event}: ${error?.message ?? "unknown error"}; the next refresh pass catches it up.`,
        );
    },
  });

  return {
    /**
     * One delivery: verified before it is parsed, then deduplicated by the provider's delivery id and
     * queued. Whatever it names, a verified delivery is acknowledged alike (an unknown installation is
     * ignored), so the answer says nothing of which installations exist.
     */
    async receive(provider: string, hook: string | null, headers: Headers, raw: Buffer): Promise<void> {
      if (!isReceiverProvider(provider)) throw unverified();
      const receiver = RECEIVERS[provider];
      let known: Awaited<ReturnType<typeof hookOf>>;
      let secret: string | undefined;
      if (registrationOf(provider) === "app") secret = appSecret();
      else if (hook) {
        known = await hookOf(provider, hook);
        secret = known?.secret;
      }
      if (!secret || !receiver.verify(headers, raw, secret)) {
        if (known)
          await repo.recordFailure(
            known.inst.id,
            "A delivery arrived whose secret did not match: set the secret shown here on the provider's hook.",
            new Date(),
          );
        throw unverified();
      }
      let body: unknown;
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        throw new DomainError("invalid_json", "The body is not valid JSON.");
      }
      if (receiver.fresh && !receiver.fresh(body, Date.now())) throw unverified();
      const deliveryId = receiver.deliveryId(headers, raw);
      const parsed = receiver.parse(headers, body);
      if (!deliveryId || !parsed) return;
      const installs = known
        ? [known.inst]
        : parsed.workspaceId
          ? await deps.installations.connectedForWorkspace(provider, parsed.workspaceId)
          : [];
      for (const inst of installs) {
        const saved = await repo.accept({
          id: newId("whd"),
          provider,
          deliveryId: installs.length > 1 ? `${deliveryId}:${inst.id}` : deliveryId,
          installationId: inst.id,
          event: parsed.event.slice(0, 100),
          targets: parsed.targets,
          state: parsed.targets.length > 0 ? "pending" : "ignored",
        });
        if (saved && parsed.targets.length > 0)
          await deps.jobs.enqueue({
            teamId: inst.teamId,
            kind: APPLY_JOB,
            payload: { delivery: saved.id },
            concurrencyKey: installationWorkKey(inst.id),
          });
      }
    },

    /** What the installation page shows: is the provider telling us of changes, and how fresh is the inventory. */
    async health(teamId: string, installationId: string) {
      const inst = await deps.installations.get(teamId, installationId);
      const ep = await repo.endpoint(inst.id);
      const kind = registrationOf(inst.provider);
      const registration: Registration =
        kind === "manual" && ep?.hookMode === "automatic" ? "automatic" : kind;
      const secretSet = kind === "app" ? Boolean(appSecret()) : Boolean(ep?.secretCiphertext);
      return {
        installation_id: inst.id,
        provider: inst.provider,
        registration,
        registration_reason: kind === "manual" ? (ep?.hookReason ?? null) : null,
        hook_scope: registration === "automatic" ? (ep?.hookScope ?? null) : null,
        hook_checked_at: ep?.hookCheckedAt?.toISOString() ?? null,
        state: healthState(registration, secretSet, ep),
        url: urlOf(inst),
        secret_set: secretSet,
        secret_rotated_at: ep?.secretRotatedAt?.toISOString() ?? null,
        deliveries: ep?.deliveries ?? 0,
        last_delivery_at: ep?.lastDeliveryAt?.toISOString() ?? null,
        last_applied_at: ep?.lastAppliedAt?.toISOString() ?? null,
        last_failure_at: ep?.lastFailureAt?.toISOString() ?? null,
        last_failure_reason: ep?.lastFailureReason ?? null,
        inventory_synced_at: inst.lastSyncAt?.toISOString() ?? null,
      };
    },

    /**
     * A new hook secret for a provider whose hooks are registered by hand: stored encrypted, answered once
     * (the admin pastes it into the provider's hook), never shown again. The old one stops verifying.
     */
    async rotateSecret(auth: AuthContext, installationId: string, requestId?: string) {
      const inst = await deps.installations.get(auth.team.id, installationId);
      const registration = registrationOf(inst.provider);
      if (registration === "app") throw appWideSecret("GitHub");
      if (registration !== "manual") throw webhooksUnsupported(inst.provider);
      const secret = newSecret();
      const ep = await repo.endpoint(inst.id);
      // Stored first: from here the old secret is refused, whatever GitLab says to the update below.
      await repo.setSecret(inst.id, deps.vault.encrypt(secret, secretBinding(inst.id)), new Date());
      await deps.audit.record({
        teamId: auth.team.id,
        actorUserId: auth.user.id,
        action: "installation.webhook_secret_rotated",
        targetType: "installation",
        targetId: inst.id,
        requestId,
      });
      let outcome: HookOutcome | null = null;
      if (registersHooks(inst.provider) && !inst.disconnectedAt) {
        outcome = await tryRegister(inst, secret, ep);
        await recordOutcome(inst, outcome, ep, auth.user.id);
      }
      return {
        installation_id: inst.id,
        url: urlOf(inst) as string,
        secret,
        hook_updated: outcome?.registered === true,
        registration_reason: outcome ? (outcome.registered ? outcome.covers : outcome.reason) : null,
      };
    },

    /**
     * Admins: try the provider's hooks API again (after giving the connected user the rights it lacked, or
     * after someone deleted the hook in GitLab). Answers the event health with the outcome.
     */
    async registerAgain(auth: AuthContext, installationId: string, requestId?: string) {
      const inst = await deps.installations.getConnected(auth.team.id, installationId);
      const kind = registrationOf(inst.provider);
      if (kind === "app") throw notRegisteredPerInstallation();
      if (!registersHooks(inst.provider)) throw webhooksUnsupported(inst.provider);
      const outcome = await register(inst, auth.user.id);
      await deps.audit.record({
        teamId: auth.team.id,
        actorUserId: auth.user.id,
        action: "installation.webhook_registration_requested",
        targetType: "installation",
        targetId: inst.id,
        after: { registered: outcome.registered },
        requestId,
      });
      return this.health(auth.team.id, inst.id);
    },

    /** Housekeeping: forget delivery ids older than the retention. */
    purge: () => repo.purge(new Date(Date.now() - DELIVERY_RETENTION_DAYS * 86_400_000)),
  };
}

export type WebhooksService = ReturnType<typeof webhooksService>;
