import { createHmac, randomUUID } from "node:crypto";
import type { ResourceChange, SimResource, SimStore, SimWorkspace } from "../core/store.ts";
import { WebhookHub } from "../core/webhooks.ts";
import { installation, repository, type SimApp, type Urls, user } from "./shapes.ts";

/**
 * GitHub App webhooks (docs/simulators/webhooks.md): one App-wide hook receives the events of every
 * installation, signed `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>` with the App's secret,
 * named by `X-GitHub-Event` and `X-GitHub-Delivery` (a GUID, the same on a redelivery).
 */
export function githubWebhooks(
  store: SimStore,
  ctx: {
    app: SimApp;
    urls: () => Urls;
    visibilityOf: (r: SimResource) => string;
    /** Whether the installation can see the repository (all, or selected and given). */
    granted: (r: SimResource) => boolean;
  },
) {
  const hub = new WebhookHub({
    newDeliveryId: () => randomUUID(),
    sign: ({ raw, secret, deliveryId, event }) => ({
      "user-agent": "GitHub-Hookshot/sim",
      "x-github-event": event,
      "x-github-delivery": deliveryId,
      "x-github-hook-installation-target-type": "integration",
      "x-github-hook-installation-target-id": ctx.app.id,
      "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`,
      "x-hub-signature": `sha1=${createHmac("sha1", secret).update(raw).digest("hex")}`,
    }),
  });

  const live = (ws: SimWorkspace | undefined): ws is SimWorkspace => Boolean(ws && !ws.details.uninstalled);
  const common = (ws: SimWorkspace) => ({
    installation: { id: Number(ws.id), node_id: `MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u${ws.id}` },
    sender: user(`${ws.slug}-admin`, ctx.urls()),
  });
  const repoOf = (ws: SimWorkspace, r: SimResource) => repository(ws, r, ctx.visibilityOf(r), ctx.urls());

  /** `repository` events for a change made through the control API. */
  store.onResourceChange((change: ResourceChange) => {
    const ws = store.workspaces.get(change.resource.workspace_id);
    if (!live(ws) || !ctx.granted(change.resource)) return;
    const r = change.resource;
    const emit = (action: string, extra: Record<string, unknown> = {}) =>
      hub.emit({
        workspace_id: ws.id,
        event: "repository",
        body: { action, repository: repoOf(ws, r), ...extra, ...common(ws) },
      });
    if (change.type === "created") return emit("created");
    if (change.type === "deleted") return emit("deleted");
    const before = change.before;
    if (before.name !== r.name) emit("renamed", { changes: { repository: { name: { from: before.name } } } });
    if (before.archived !== r.archived) emit(r.archived ? "archived" : "unarchived");
    if (before.description !== r.description || before.issues_disabled !== r.issues_disabled)
      emit("edited", {
        changes: {
          ...(before.description !== r.description ? { description: { from: before.description } } : {}),
          ...(before.issues_disabled !== r.issues_disabled
            ? { has_issues: { from: !before.issues_disabled } }
            : {}),
        },
      });
  });

  return {
    hub,
    /** `installation` events: deleted, suspend, unsuspend (the control routes call these). */
    installationEvent(ws: SimWorkspace, action: "deleted" | "suspend" | "unsuspend" | "created") {
      hub.emit({
        workspace_id: ws.id,
        event: "installation",
        body: {
          action,
          installation: installation(ws, ctx.app, ctx.urls()),
          sender: user(`${ws.slug}-admin`, ctx.urls()),
        },
      });
    },
    /** `installation_repositories` added / removed: a selected installation given or losing repositories. */
    selectionEvent(ws: SimWorkspace, action: "added" | "removed", repos: SimResource[]) {
      const brief = (r: SimResource) => {
        const full = repoOf(ws, r);
        return {
          id: full.id,
          node_id: full.node_id,
          name: full.name,
          full_name: full.full_name,
          private: full.private,
        };
      };
      hub.emit({
        workspace_id: ws.id,
        event: "installation_repositories",
        body: {
          action,
          repository_selection: String(ws.details.repository_selection ?? "selected"),
          repositories_added: action === "added" ? repos.map(brief) : [],
          repositories_removed: action === "removed" ? repos.map(brief) : [],
          requester: null,
          ...common(ws),
        },
      });
    },
  };
}
