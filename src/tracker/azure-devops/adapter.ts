import type { Connection, ResourcePage, TrackerAdapter } from "../core/adapter.ts";
import { type BindableResource, hostOf, type Workspace } from "../core/descriptor.ts";
import { probing, TrackerError } from "../core/errors.ts";
import type { HttpResponse } from "../core/http.ts";
import {
  API_VERSION_PREVIEW,
  adoRequest,
  adoUrl,
  isAdoErrorBody,
  malformed,
  organizationNameById,
  organizationOf,
  PROVIDER,
  serviceBase,
} from "./http.ts";
import { createIssue, findByMarker, getIssue, listIssues, searchIssues, updateIssue } from "./issues.ts";
import {
  boardsDisabledFor,
  instanceIdOf,
  isProject,
  projectsOf,
  projectsPageUrl,
  toResource,
} from "./projects.ts";

/**
 * Azure DevOps Services (REST 7.1). The workspace is the organization named in
 * `conn.options.organization`, identified by its instance id (names can change); its projects are the
 * bindable resources, identified by project GUID. Work item types and states come from each project's
 * process (process.ts).
 * The credential is a personal access token (`bearer_pat`), sent as Basic auth.
 * Wire details beyond the project list (connectionData, Feature Management, WIQL, JSON Patch, error
 * signals) follow the REST 7.1 reference as remembered; docs/simulators/azure-devops.md marks them.
 */

/**
 * Checks the PAT against the organization: `connectionData` gives the org's instance id (it answers
 * anonymous callers too, so it proves nothing alone), and `projects?$top=1` proves the PAT may read.
 */
async function listWorkspaces(conn: Connection): Promise<Workspace[]> {
  const org = organizationOf(conn);
  const base = serviceBase(conn);
  // Every organization answers connectionData with its instance id; an unknown one answers ADO's
  // own 404 (VS800075). Anything else is another kind of server at this URL.
  const data = await probing(PROVIDER, () =>
    adoRequest<unknown>(conn, {
      url: adoUrl(conn, org, "/_apis/connectionData", {}, API_VERSION_PREVIEW),
      okStatuses: [404],
    }),
  );
  if (data.status === 404 && isAdoErrorBody(data.body))
    throw new TrackerError("not_found", PROVIDER, `azure_devops has no organization ${org}`, { status: 404 });
  const instanceId = (data.body as { instanceId?: unknown } | null)?.instanceId;
  if (typeof instanceId !== "string")
    throw new TrackerError(
      "not_provider",
      PROVIDER,
      `azure_devops GET /_apis/connectionData answered ${data.status} without an instance id`,
    );
  const probe = await adoRequest<unknown>(conn, { url: adoUrl(conn, org, "/_apis/projects", { $top: 1 }) });
  projectsOf(probe.body, "project list");
  // The instance id, not the name: an organization can be renamed, and its resources must keep their keys.
  return [
    {
      provider: "azure_devops",
      host: hostOf(base),
      id: instanceId.toLowerCase(),
      name: org,
      url: `${base}/${encodeURIComponent(org)}`,
      details: { organization: org, instance_id: instanceId },
    },
  ];
}

/**
 * The organization's current name. The workspace remembers the name it had; ADO answers connectionData
 * under a name with the instance id of the organization holding it. When the name is gone (VS800075) or
 * now belongs to another organization, the current name is found by the instance id.
 */
async function currentOrganization(conn: Connection, workspace: Workspace): Promise<string> {
  const known = organizationOf(conn, workspace);
  const id = instanceIdOf(workspace);
  if (!id) return known;
  const data = await adoRequest<unknown>(conn, {
    url: adoUrl(conn, known, "/_apis/connectionData", {}, API_VERSION_PREVIEW),
    okStatuses: [404],
  });
  const instanceId = (data.body as { instanceId?: unknown } | null)?.instanceId;
  if (data.status === 200 && String(instanceId).toLowerCase() === id) return known;
  const current = await organizationNameById(conn, id);
  if (current) return current;
  throw new TrackerError("not_found", PROVIDER, `azure_devops has no organization ${known} (id ${id})`, {
    status: 404,
  });
}

/** Pages of 100 projects, following `x-ms-continuationtoken` until ADO sends none. */
async function* discover(conn: Connection, workspace: Workspace): AsyncIterable<ResourcePage> {
  const org = await currentOrganization(conn, workspace);
  let token: string | null = null;
  const seen = new Set<string>();
  do {
    const res: HttpResponse<unknown> = await adoRequest<unknown>(conn, {
      url: projectsPageUrl(conn, org, token),
    });
    const projects = projectsOf(res.body, "project list");
    const disabled = await boardsDisabledFor(
      conn,
      org,
      projects.map((p) => p.id),
    );
    yield { resources: projects.map((p, i) => toResource(conn, workspace, org, p, disabled[i])) };
    token = res.headers.get("x-ms-continuationtoken") || null;
    // A token that comes back twice would loop forever; ADO never does that, so stop rather than spin.
    if (token !== null && seen.has(token)) throw malformed("continuation token (repeated)");
    if (token !== null) seen.add(token);
  } while (token !== null);
}

async function getResource(
  conn: Connection,
  workspace: Workspace,
  nativeId: string,
): Promise<BindableResource | null> {
  let org = organizationOf(conn, workspace);
  const lookup = () =>
    adoRequest<unknown>(conn, {
      url: adoUrl(conn, org, `/_apis/projects/${encodeURIComponent(nativeId)}`),
      okStatuses: [404],
    });
  let res = await lookup();
  // A 404 for the organization itself (renamed): ask again under its current name.
  const id = instanceIdOf(workspace);
  if (
    id &&
    res.status === 404 &&
    /^VS800075\b/.test(String((res.body as { message?: unknown } | null)?.message))
  ) {
    const current = await organizationNameById(conn, id);
    if (!current) return null;
    org = current;
    res = await lookup();
  }
  if (res.status === 404) return null;
  if (!isProject(res.body)) throw malformed("project");
  // ADO resolves a project *name* here too; only the GUID is an identity.
  if (res.body.id.toLowerCase() !== nativeId.toLowerCase()) return null;
  const [disabled] = await boardsDisabledFor(conn, org, [res.body.id]);
  return toResource(conn, workspace, org, res.body, disabled);
}

export const azureDevOpsAdapter: TrackerAdapter = {
  provider: "azure_devops",
  connectorParams: (r) => ({
    organization: String(r.organization),
    organization_id: typeof r.organization_id === "string" ? r.organization_id : null,
    project_id: String(r.project_id),
    project_name: String(r.project_name),
  }),
  listWorkspaces,
  discover,
  getResource,
  listIssues,
  searchIssues,
  getIssue,
  createIssue,
  findByMarker,
  updateIssue,
};
