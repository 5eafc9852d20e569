import { randomUUID } from "node:crypto";
import type { ResourceChange, SimResource, SimStore } from "../core/store.ts";
import { WebhookHub } from "../core/webhooks.ts";

/**
 * GitLab hooks (docs/simulators/webhooks.md): system-hook project events (`project_create`,
 * `project_update`, `project_rename`, `project_transfer`, `project_destroy`), sent with the hook's secret
 * token as `X-Gitlab-Token` (compared as is: GitLab does not sign), `X-Gitlab-Event: System Hook`, and
 * `X-Gitlab-Event-UUID` / `Idempotency-Key`, which stay the same when a failed delivery is retried.
 * A hook registered with a `workspace_id` (a group hook) hears only that group's projects.
 */
export function gitlabWebhooks(store: SimStore, instanceUrl: () => string) {
  const hub = new WebhookHub({
    newDeliveryId: () => randomUUID(),
    sign: ({ secret, deliveryId }) => ({
      "user-agent": "GitLab/17.6.0",
      "x-gitlab-event": "System Hook",
      // GitLab sends the header only when the hook has a token.
      ...(secret ? { "x-gitlab-token": secret } : {}),
      "x-gitlab-event-uuid": deliveryId,
      "x-gitlab-instance": instanceUrl(),
      "idempotency-key": deliveryId,
    }),
  });

  const body = (event: string, r: SimResource, extra: Record<string, unknown> = {}) => ({
    created_at: r.created_at,
    updated_at: r.updated_at,
    event_name: event,
    name: r.name,
    owner_email: "",
    owner_name: store.workspaces.get(r.workspace_id)?.name ?? "",
    owners: [],
    path: (r.path ?? r.name).split("/").pop(),
    path_with_namespace: r.path ?? r.name,
    project_id: Number(r.id),
    project_namespace_id: Number(r.workspace_id),
    project_visibility: "private",
    ...extra,
  });

  store.onResourceChange((change: ResourceChange) => {
    const r = change.resource;
    const emit = (event: string, extra?: Record<string, unknown>) =>
      hub.emit({ workspace_id: r.workspace_id, event, body: body(event, r, extra) });
    if (change.type === "created") return emit("project_create");
    if (change.type === "deleted") return emit("project_destroy");
    const before = change.before;
    if (before.path !== r.path) {
      const oldNamespace = (before.path ?? "").split("/").slice(0, -1).join("/");
      const newNamespace = (r.path ?? "").split("/").slice(0, -1).join("/");
      return emit(oldNamespace === newNamespace ? "project_rename" : "project_transfer", {
        old_path_with_namespace: before.path,
      });
    }
    // Any other attribute (name, description, archived, features): project_update.
    emit("project_update");
  });

  return { hub };
}
