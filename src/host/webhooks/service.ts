import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { Database } from "../../storage/database.ts";
import { adapterFor, type ProviderId, type ProviderSettings, TrackerError } from "../../tracker/index.ts";
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
import { appWideSecret, unverified, webhooksUnsupported } from "./errors.ts";
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

/** How each provider's hooks are registered (docs/webhooks.md). */
export type Registration = "app" | "manual" | "schedule_only";
export const registrationOf = (provider: string): Registration =>
  provider === "github" ? "app" : provider === "gitlab" ? "manual" : "schedule_only";

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
      "byId" | "get" | "connectedForWorkspace" | "connectionFor" | "workspaceOf" | "recordProviderState"
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
      const registration = registrationOf(inst.provider);
      const ep = await repo.endpoint(inst.id);
      const secretSet = registration === "app" ? Boolean(appSecret()) : Boolean(ep?.secretCiphertext);
      return {
        installation_id: inst.id,
        provider: inst.provider,
        registration,
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
      const secret = randomBytes(24).toString("base64url");
      await repo.setSecret(inst.id, deps.vault.encrypt(secret, secretBinding(inst.id)), new Date());
      await deps.audit.record({
        teamId: auth.team.id,
        actorUserId: auth.user.id,
        action: "installation.webhook_secret_rotated",
        targetType: "installation",
        targetId: inst.id,
        requestId,
      });
      return { installation_id: inst.id, url: urlOf(inst) as string, secret };
    },

    /** Housekeeping: forget delivery ids older than the retention. */
    purge: () => repo.purge(new Date(Date.now() - DELIVERY_RETENTION_DAYS * 86_400_000)),
  };
}

export type WebhooksService = ReturnType<typeof webhooksService>;
