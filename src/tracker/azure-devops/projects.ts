import type { Connection } from "../core/adapter.ts";
import { type BindableResource, hostOf, identity, type Workspace } from "../core/descriptor.ts";
import {
  API_VERSION_PREVIEW,
  adoRequest,
  adoUrl,
  malformed,
  mapLimit,
  PROVIDER,
  serviceBase,
} from "./http.ts";

/**
 * Projects are the bindable resources: `GET {org}/_apis/projects` paged with `$top` and the
 * `x-ms-continuationtoken` response header, plus the Boards feature state per project.
 */

export interface AdoProject {
  id: string;
  name: string;
  description?: string | null;
  url?: string;
  /** deleting, new, wellFormed, createPending, unchanged, deleted. */
  state?: string;
  revision?: number;
  visibility?: string;
  lastUpdateTime?: string;
}

export const PROJECT_PAGE_SIZE = 100;
/** Boards is the ADO "feature" that carries work items; a project can switch it off. */
export const BOARDS_FEATURE = "ms.vss-work.agile";
const FEATURE_QUERY_CONCURRENCY = 8;

export function isProject(p: unknown): p is AdoProject {
  const o = p as AdoProject | null;
  return typeof o?.id === "string" && o.id.length > 0 && typeof o.name === "string";
}

/** `{count, value: [...]}` → the projects, or a malformed_response. */
export function projectsOf(body: unknown, what: string): AdoProject[] {
  const value = (body as { value?: unknown } | null)?.value;
  if (!Array.isArray(value) || !value.every(isProject))
    throw malformed(`${what} (expected {count, value[]})`);
  return value;
}

/** `stateFilter=all`: the default (wellFormed) hides projects being deleted, which we flag instead. */
export function projectsPageUrl(conn: Connection, org: string, continuationToken: string | null): string {
  return adoUrl(conn, org, "/_apis/projects", {
    $top: PROJECT_PAGE_SIZE,
    stateFilter: "all",
    continuationToken: continuationToken ?? undefined,
  });
}

/**
 * Whether Boards is off for a project, from Feature Management's FeatureStatesQuery (state 0 /
 * "disabled"). A PAT without the scope to read feature states gets 403/404 there; then Boards counts
 * as on, since work item calls will report their own failure.
 */
async function boardsDisabled(conn: Connection, org: string, projectId: string): Promise<boolean> {
  const res = await adoRequest<unknown>(conn, {
    method: "POST",
    idempotent: true,
    url: adoUrl(
      conn,
      org,
      `/_apis/FeatureManagement/FeatureStatesQuery/host/project/${encodeURIComponent(projectId)}`,
      {},
      API_VERSION_PREVIEW,
    ),
    json: { featureIds: [BOARDS_FEATURE], featureStates: {}, scopeValues: { project: projectId } },
    okStatuses: [403, 404],
  });
  if (res.status !== 200) return false;
  const states = (res.body as { featureStates?: unknown } | null)?.featureStates;
  const list = Array.isArray(states) ? states : Object.values((states ?? {}) as Record<string, unknown>);
  const boards = list.find((s) => (s as { featureId?: unknown })?.featureId === BOARDS_FEATURE) as
    | { state?: unknown }
    | undefined;
  return boards?.state === 0 || boards?.state === "disabled";
}

export function boardsDisabledFor(conn: Connection, org: string, ids: string[]): Promise<boolean[]> {
  return mapLimit(ids, FEATURE_QUERY_CONCURRENCY, (id) => boardsDisabled(conn, org, id));
}

/** The organization's immutable instance id (connectionData), recorded on the workspace at connect. */
export function instanceIdOf(workspace: Workspace): string | null {
  const id = workspace.details.instance_id;
  return typeof id === "string" && id ? id.toLowerCase() : null;
}

/** The descriptor of one project. Identity is the project GUID; names and URLs are display only. */
export function toResource(
  conn: Connection,
  workspace: Workspace,
  org: string,
  p: AdoProject,
  issuesDisabled: boolean,
): BindableResource {
  const base = serviceBase(conn);
  const webUrl = `${base}/${encodeURIComponent(org)}/${encodeURIComponent(p.name)}`;
  const orgId = instanceIdOf(workspace);
  return {
    identity: identity({
      provider: PROVIDER,
      host: workspace.host || hostOf(base),
      workspace_id: workspace.id,
      resource_type: "project",
      native_id: p.id,
    }),
    display: {
      label: p.name,
      key: null,
      name: p.name,
      full_path: `${org}/${p.name}`,
      web_url: webUrl,
      context: { workspace_name: org, project: p.name },
    },
    flags: { archived: (p.state ?? "wellFormed") !== "wellFormed", issues_disabled: issuesDisabled },
    connector_params: {
      organization: org,
      organization_id: orgId,
      project_id: p.id,
      project_name: p.name,
      api_base_url: base,
    },
    routing_metadata: {
      provider: PROVIDER,
      version: 1,
      organization: org,
      organization_id: orgId,
      project_id: p.id,
      project_name: p.name,
      url: webUrl,
      state: p.state ?? null,
      visibility: p.visibility ?? null,
    },
  };
}
