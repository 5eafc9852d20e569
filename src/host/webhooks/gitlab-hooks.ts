import { apiUrl, glRequest } from "../../tracker/gitlab/http.ts";
import { type Connection, TrackerError } from "../../tracker/index.ts";
import { providerError } from "../http/provider-errors.ts";

/**
 * Registers the installation's hook through GitLab's hooks API (docs/webhooks.md, "GitLab: automatic
 * registration"). A system hook (`/hooks`, administrators of a self-managed instance) hears every project
 * event; a group webhook (`/groups/:id/hooks`, the group's Owner, Premium or Ultimate) hears only project
 * creations and deletions. The first one the credential may create wins; a refusal becomes the reason the
 * installation page gives for manual setup.
 */

export type HookScope = "system" | "group";
export interface HookRef {
  scope: HookScope;
  id: string;
}
export type HookOutcome =
  | { registered: true; hook: HookRef; covers: string }
  | { registered: false; reason: string };

/** What each kind of hook tells us (GitLab's "System hooks" and "Webhook events" pages). */
export const COVERS: Record<HookScope, string> = {
  system:
    "A system hook registered through GitLab's API: every project creation, update, rename, transfer and deletion arrives as an event.",
  group:
    "A group webhook registered through GitLab's API: project creations and deletions arrive as events; renames, archives and transfers follow the scheduled refresh (GitLab sends group webhooks no project update events).",
};

/** Only the project events: every other flag off (push events are on by default on GitLab). */
const QUIET = {
  push_events: false,
  tag_push_events: false,
  merge_requests_events: false,
  enable_ssl_verification: true,
  name: "Spec Kitty tracker",
  description:
    "Inventory events for Spec Kitty (registered by the service; it removes the hook on disconnect).",
};
const FLAGS: Record<HookScope, Record<string, unknown>> = {
  system: { ...QUIET, repository_update_events: false },
  group: { ...QUIET, project_events: true },
};

interface Answer {
  status: number;
  body: unknown;
}

const collection = (scope: HookScope, groupId: string | null) =>
  scope === "system" ? "/hooks" : `/groups/${encodeURIComponent(groupId ?? "")}/hooks`;

/** A call whose 403 and 404 are answers to explain, not failures. */
async function call(conn: Connection, method: string, path: string, json?: unknown): Promise<Answer> {
  const res = await glRequest<unknown>(conn, {
    method,
    url: apiUrl(conn, path, method === "GET" ? { per_page: 100 } : {}),
    json,
    okStatuses: [403, 404],
  });
  return { status: res.status, body: res.body };
}

/** GitLab's refusal in words an admin can act on. */
function refusal(scope: HookScope, groupId: string | null, a: Answer): string {
  const b = a.body as { error?: unknown } | null;
  if (a.status === 403 && b?.error === "insufficient_scope")
    return "the token lacks the `api` scope GitLab requires to manage hooks";
  if (scope === "system")
    return a.status === 403
      ? "the connected user is not an administrator of this GitLab instance (system hooks need one; GitLab.com has none for customers)"
      : `GitLab answered ${a.status} for system hooks (POST /hooks)`;
  return a.status === 403
    ? `the connected user is not an Owner of group ${groupId} (group webhooks need the Owner role)`
    : `GitLab answered 404 for the webhooks of group ${groupId}: the token does not see the group, or its plan has no group webhooks (Premium or Ultimate)`;
}

const hookId = (body: unknown): string | null => {
  const id = (body as { id?: unknown } | null)?.id;
  return typeof id === "number" || typeof id === "string" ? String(id) : null;
};

/** Updates our hook (or the one already carrying our URL, e.g. pasted by hand) or creates it. */
async function inScope(
  conn: Connection,
  scope: HookScope,
  groupId: string | null,
  body: Record<string, unknown>,
  known: HookRef | null,
): Promise<HookRef | string> {
  const base = collection(scope, groupId);
  if (known?.scope === scope) {
    const put = await call(conn, "PUT", `${base}/${encodeURIComponent(known.id)}`, body);
    if (put.status < 300) return known;
    if (put.status === 403) return refusal(scope, groupId, put);
    // 404: someone deleted it in GitLab; look for ours or create it again.
  }
  const list = await call(conn, "GET", base);
  if (list.status >= 300) return refusal(scope, groupId, list);
  const same = Array.isArray(list.body)
    ? list.body.find((h) => (h as { url?: unknown })?.url === body.url)
    : undefined;
  const sameId = hookId(same);
  if (sameId) {
    const put = await call(conn, "PUT", `${base}/${encodeURIComponent(sameId)}`, body);
    if (put.status < 300) return { scope, id: sameId };
    return refusal(scope, groupId, put);
  }
  const post = await call(conn, "POST", base, body);
  if (post.status >= 300) return refusal(scope, groupId, post);
  const id = hookId(post.body);
  return id ? { scope, id } : "GitLab created the hook but answered no id";
}

/**
 * Registers (or updates) the hook delivering to `url` with `token` as its secret token. `groupId` is the
 * installation's group (null for a membership installation: only a system hook can cover it).
 */
export async function registerGitlabHook(
  conn: Connection,
  groupId: string | null,
  url: string,
  token: string,
  known: HookRef | null,
): Promise<HookOutcome> {
  const order: HookScope[] = groupId ? ["system", "group"] : ["system"];
  // The kind we registered before is tried first, so a rotation stays on the same hook.
  if (known?.scope === "group" && groupId) order.reverse();
  const refusals: string[] = [];
  for (const scope of order) {
    try {
      const got = await inScope(conn, scope, groupId, { url, token, ...FLAGS[scope] }, known);
      if (typeof got !== "string") return { registered: true, hook: got, covers: COVERS[scope] };
      refusals.push(got);
    } catch (err) {
      if (!(err instanceof TrackerError)) throw err;
      refusals.push(`GitLab refused the ${scope} hook: ${providerError(err).message}`);
    }
  }
  if (!groupId)
    refusals.push("this installation follows the user's memberships, so there is no group to hook");
  return {
    registered: false,
    reason: `Automatic registration was not possible: ${refusals.join("; ")}. Paste the URL and secret into a hook by hand, or reconnect with an administrator's or the group Owner's token and choose Register again.`,
  };
}

/** Removes our hook; one already gone counts as removed (DELETE is idempotent on GitLab). */
export async function deleteGitlabHook(
  conn: Connection,
  groupId: string | null,
  hook: HookRef,
): Promise<string | null> {
  try {
    const res = await call(
      conn,
      "DELETE",
      `${collection(hook.scope, groupId)}/${encodeURIComponent(hook.id)}`,
    );
    return res.status === 403 ? refusal(hook.scope, groupId, res) : null;
  } catch (err) {
    if (!(err instanceof TrackerError)) throw err;
    return providerError(err).message;
  }
}
