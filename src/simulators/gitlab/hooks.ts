import { randomUUID } from "node:crypto";
import type { SimReply, SimRequest } from "../core/server.ts";
import type { SimEvent, SimHook, WebhookHub } from "../core/webhooks.ts";
import { ACCESS, type GitlabWorld, type SeedUser, type SimGroup } from "./world.ts";

/**
 * The hooks API (docs/simulators/gitlab.md, "Hooks"): system hooks under `/hooks` (administrators only,
 * GitLab's lib/api/system_hooks.rb) and group webhooks under `/groups/:id/hooks` (an administrator or the
 * group's Owner, doc/api/group_webhooks.md). Hooks live in the simulator's one webhook hub, so a hook
 * registered here is where deliveries go, exactly like one registered through `/_sim/webhooks`.
 */

type Route = (
  method: string,
  path: string,
  handler: (req: SimRequest, a: { user: SeedUser; reaches: (ws: string) => boolean }) => SimReply,
) => void;

/** What GitLab keeps of a hook besides its URL and token. */
interface HookRecord {
  kind: "system" | "group";
  group: SimGroup | null;
  name: string;
  description: string;
  created_at: string;
  flags: Record<string, boolean>;
  /** `X-Gitlab-Webhook-UUID`: the same on every delivery of this hook. */
  uuid: string;
}

/** Event flags a system hook takes; push_events defaults to true as on GitLab (the column default). */
const SYSTEM_FLAGS = [
  "push_events",
  "tag_push_events",
  "merge_requests_events",
  "repository_update_events",
  "enable_ssl_verification",
];
const GROUP_FLAGS = [
  ...SYSTEM_FLAGS,
  "issues_events",
  "confidential_issues_events",
  "note_events",
  "confidential_note_events",
  "job_events",
  "pipeline_events",
  "wiki_page_events",
  "deployment_events",
  "feature_flag_events",
  "releases_events",
  "milestone_events",
  "subgroup_events",
  "emoji_events",
  "resource_access_token_events",
  "member_events",
  "project_events",
  "vulnerability_events",
];
const DEFAULT_ON = new Set(["push_events", "enable_ssl_verification"]);

/** Group webhooks hear project events only for creations and deletions (doc/user/project/integrations/webhook_events.md). */
const GROUP_PROJECT_EVENTS = new Set(["project_create", "project_destroy"]);

const msg = (status: number, message: unknown): SimReply => ({ status, json: { message } });
const forbidden = () => msg(403, "403 Forbidden");
const hookNotFound = () => msg(404, "404 Not found");

/** A parameter from the JSON or form body, or the query string (GitLab's examples pass `?url=`). */
function param(req: SimRequest, name: string): unknown {
  const b = req.body as Record<string, unknown> | null | undefined;
  return b && typeof b === "object" && name in b ? b[name] : (req.query.get(name) ?? undefined);
}
const asBool = (v: unknown) => v === true || v === "true" || v === "1" || v === 1;

/** GitLab's URL check answers 422 with the field's messages (UrlBlocker's wording). */
function badUrl(url: unknown): SimReply | null {
  if (typeof url !== "string" || url === "") return { status: 400, json: { error: "url is missing" } };
  try {
    const u = new URL(url);
    if (u.protocol === "http:" || u.protocol === "https:") return null;
  } catch {
    // fall through
  }
  return msg(422, { url: ["is blocked: Only allowed schemes are http, https"] });
}

export function mountHooksApi(api: Route, world: GitlabWorld, hub: WebhookHub) {
  const records = new Map<string, HookRecord>();

  /** Hooks registered through the control API get GitLab's view too: system hook, or a group hook of the workspace. */
  function recordOf(hook: SimHook): HookRecord {
    let rec = records.get(hook.id);
    if (!rec) {
      const ws = hook.workspace_id ? world.store.workspaces.get(hook.workspace_id) : undefined;
      rec = {
        kind: ws ? "group" : "system",
        group: ws ? world.topGroup(ws) : null,
        name: "",
        description: "",
        created_at: new Date().toISOString(),
        flags: Object.fromEntries((ws ? GROUP_FLAGS : SYSTEM_FLAGS).map((f) => [f, DEFAULT_ON.has(f)])),
        uuid: randomUUID(),
      };
      records.set(hook.id, rec);
    }
    return rec;
  }

  const hookJson = (hook: SimHook) => {
    const rec = recordOf(hook);
    return {
      id: Number(hook.id),
      url: hook.url,
      name: rec.name,
      description: rec.description,
      created_at: rec.created_at,
      ...rec.flags,
      alert_status: "executable",
      disabled_until: null,
      url_variables: [],
      push_events_branch_filter: null,
      branch_filter_strategy: "wildcard",
      custom_webhook_template: "",
      custom_headers: [],
      ...(rec.group ? { group_id: rec.group.id } : {}),
    };
  };

  const inScope = (kind: "system" | "group", group: SimGroup | null) => (hook: SimHook) => {
    const rec = recordOf(hook);
    return rec.kind === kind && (kind === "system" || rec.group?.id === group?.id);
  };

  /** Which events a hook made here hears: a system hook every project event, a group hook its projects' creations and deletions. */
  function acceptsFor(rec: HookRecord): ((e: SimEvent) => boolean) | undefined {
    if (rec.kind === "system") return undefined;
    const prefix = `${rec.group?.full_path.toLowerCase()}/`;
    return (e) => {
      const path = String((e.body as { path_with_namespace?: unknown })?.path_with_namespace ?? "");
      return (
        rec.flags.project_events && GROUP_PROJECT_EVENTS.has(e.event) && path.toLowerCase().startsWith(prefix)
      );
    };
  }

  function create(req: SimRequest, kind: "system" | "group", group: SimGroup | null): SimReply {
    const url = param(req, "url");
    const bad = badUrl(url);
    if (bad) return bad;
    const names = kind === "system" ? SYSTEM_FLAGS : GROUP_FLAGS;
    const rec: HookRecord = {
      kind,
      group,
      name: String(param(req, "name") ?? ""),
      description: String(param(req, "description") ?? ""),
      created_at: new Date().toISOString(),
      flags: Object.fromEntries(
        names.map((f) => {
          const v = param(req, f);
          return [f, v === undefined ? DEFAULT_ON.has(f) : asBool(v)];
        }),
      ),
      uuid: randomUUID(),
    };
    const token = param(req, "token");
    const hook = hub.register({
      url: url as string,
      secret: typeof token === "string" ? token : "",
      workspace_id: group?.workspace_id ?? null,
      accepts: acceptsFor(rec),
      headers: {
        "x-gitlab-event": kind === "system" ? "System Hook" : "Project Hook",
        "x-gitlab-webhook-uuid": rec.uuid,
      },
    });
    records.set(hook.id, rec);
    return { status: 201, json: hookJson(hook) };
  }

  /** PUT: changing the URL without a token resets the token (doc/api/group_webhooks.md, "Edit group hook"). */
  function update(req: SimRequest, hook: SimHook): SimReply {
    const rec = recordOf(hook);
    const url = param(req, "url");
    if (url !== undefined) {
      const bad = badUrl(url);
      if (bad) return bad;
    }
    const token = param(req, "token");
    if (typeof token === "string") hook.secret = token;
    else if (url !== undefined && url !== hook.url) hook.secret = "";
    if (typeof url === "string") hook.url = url;
    for (const f of Object.keys(rec.flags)) {
      const v = param(req, f);
      if (v !== undefined) rec.flags[f] = asBool(v);
    }
    for (const f of ["name", "description"] as const) {
      const v = param(req, f);
      if (v !== undefined) rec[f] = String(v);
    }
    return { json: hookJson(hook) };
  }

  /** The hook behind `:hook_id` in this scope, or GitLab's 404. */
  function find(req: SimRequest, scope: (h: SimHook) => boolean): SimHook | SimReply {
    const hook = hub.hooks.get(String(Number(req.params.hook_id)));
    return hook && scope(hook) ? hook : hookNotFound();
  }
  const isHook = (x: SimHook | SimReply): x is SimHook => "secret" in x;

  // ---- system hooks: administrators only -----------------------------------------------------------------

  const system = inScope("system", null);
  const asAdmin =
    (fn: (req: SimRequest) => SimReply) =>
    (req: SimRequest, a: { user: SeedUser }): SimReply =>
      a.user.admin ? fn(req) : forbidden();

  api(
    "GET",
    "/hooks",
    asAdmin(() => ({ json: [...hub.hooks.values()].filter(system).map(hookJson) })),
  );
  api(
    "POST",
    "/hooks",
    asAdmin((req) => create(req, "system", null)),
  );
  api(
    "GET",
    "/hooks/:hook_id",
    asAdmin((req) => {
      const h = find(req, system);
      return isHook(h) ? { json: hookJson(h) } : h;
    }),
  );
  api(
    "PUT",
    "/hooks/:hook_id",
    asAdmin((req) => {
      const h = find(req, system);
      return isHook(h) ? update(req, h) : h;
    }),
  );
  api(
    "DELETE",
    "/hooks/:hook_id",
    asAdmin((req) => {
      const h = find(req, system);
      if (!isHook(h)) return h;
      hub.hooks.delete(h.id);
      return { status: 204 };
    }),
  );

  // ---- group hooks: the group's Owner or an administrator ------------------------------------------------

  const asOwner =
    (fn: (req: SimRequest, group: SimGroup) => SimReply) =>
    (req: SimRequest, a: { user: SeedUser; reaches: (ws: string) => boolean }): SimReply => {
      const group = world.findGroup(req.params.id);
      if (!group || !(a.user.admin || a.reaches(group.workspace_id))) return msg(404, "404 Group Not Found");
      return world.accessLevel(a.user, group) >= ACCESS.owner ? fn(req, group) : forbidden();
    };

  api(
    "GET",
    "/groups/:id/hooks",
    asOwner((_req, g) => ({ json: [...hub.hooks.values()].filter(inScope("group", g)).map(hookJson) })),
  );
  api(
    "POST",
    "/groups/:id/hooks",
    asOwner((req, g) => create(req, "group", g)),
  );
  api(
    "GET",
    "/groups/:id/hooks/:hook_id",
    asOwner((req, g) => {
      const h = find(req, inScope("group", g));
      return isHook(h) ? { json: hookJson(h) } : h;
    }),
  );
  api(
    "PUT",
    "/groups/:id/hooks/:hook_id",
    asOwner((req, g) => {
      const h = find(req, inScope("group", g));
      return isHook(h) ? update(req, h) : h;
    }),
  );
  api(
    "DELETE",
    "/groups/:id/hooks/:hook_id",
    asOwner((req, g) => {
      const h = find(req, inScope("group", g));
      if (!isHook(h)) return h;
      hub.hooks.delete(h.id);
      return { status: 204 };
    }),
  );
}
