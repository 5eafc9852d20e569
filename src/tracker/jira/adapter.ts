import type { Connection, ResourcePage, TrackerAdapter } from "../core/adapter.ts";
import type { BindableResource, Workspace } from "../core/descriptor.ts";
import { probing, TrackerError } from "../core/errors.ts";
import { apiRoot, deploymentOf, jiraRequest, malformed, modeOf, PROVIDER, restUrl, trimUrl } from "./http.ts";
import { createIssue, findByMarker, getIssue, listIssues, searchIssues, updateIssue } from "./issues.ts";
import {
  checkProject,
  cloudWorkspace,
  dcWorkspace,
  type SiteFacts,
  siteFactsOf,
  toResource,
} from "./mapping.ts";

/**
 * Jira Cloud (OAuth 2.0 3LO through api.atlassian.com, or email + API token on the site) and Jira Data
 * Center (personal access token). A workspace is a Cloud site (id = cloud id) or a Data Center server
 * (id = its base URL without scheme, see `dcWorkspaceId`); a bindable resource is a project, identified by
 * its numeric id, which is only unique within its site.
 */

const PAGE_SIZE = 50;

interface AccessibleResource {
  id?: unknown;
  url?: unknown;
  name?: unknown;
  scopes?: unknown;
}

/** Sites the 3LO grant reaches. Resources whose scopes are all for another product (Confluence) are skipped. */
async function oauthSites(conn: Connection): Promise<Workspace[]> {
  const res = await jiraRequest<unknown>(conn, {
    url: `${trimUrl(conn.base_url)}/oauth/token/accessible-resources`,
  });
  if (!Array.isArray(res.body)) throw malformed("accessible-resources body (expected a list)");
  const sites: Workspace[] = [];
  for (const r of res.body as AccessibleResource[]) {
    if (typeof r?.id !== "string" || typeof r.url !== "string") throw malformed("accessible resource");
    const scopes = Array.isArray(r.scopes) ? r.scopes.map(String) : [];
    if (scopes.length > 0 && !scopes.some((s) => s.includes("jira"))) continue;
    sites.push(cloudWorkspace(r.id, typeof r.name === "string" ? r.name : r.url, r.url));
  }
  return sites;
}

/** One site: its cloud id from `/_edge/tenant_info` (public), its title from serverInfo (checks the token). */
async function apiTokenSite(conn: Connection): Promise<Workspace> {
  const site = trimUrl(conn.base_url);
  // Every Jira Cloud site answers both; a 404 or another shape means no Jira Cloud site at this URL.
  const { tenant, info } = await probing(PROVIDER, async () => {
    const tenant = await jiraRequest<{ cloudId?: unknown }>(conn, {
      url: `${site}/_edge/tenant_info`,
      anonymous: true,
    });
    if (typeof tenant.body?.cloudId !== "string") throw malformed("tenant_info body");
    const info = await jiraRequest<{ serverTitle?: unknown; baseUrl?: unknown }>(conn, {
      url: restUrl(conn, null, "/serverInfo"),
    });
    if (!info.body || typeof info.body !== "object") throw malformed("serverInfo body");
    return { tenant: tenant as { body: { cloudId: string } }, info };
  });
  const title = typeof info.body.serverTitle === "string" ? info.body.serverTitle : new URL(site).host;
  return cloudWorkspace(tenant.body.cloudId, title, site);
}

async function dataCenterServer(conn: Connection): Promise<Workspace> {
  const b = await probing(PROVIDER, async () => {
    const res = await jiraRequest<Record<string, unknown>>(conn, { url: restUrl(conn, null, "/serverInfo") });
    if (!res.body || typeof res.body !== "object") throw malformed("serverInfo body");
    return res.body;
  });
  const text = (k: string) => (typeof b[k] === "string" ? (b[k] as string) : undefined);
  return dcWorkspace(
    {
      serverTitle: text("serverTitle"),
      baseUrl: text("baseUrl"),
      version: text("version"),
      deploymentType: text("deploymentType"),
    },
    conn.base_url,
  );
}

async function listWorkspaces(conn: Connection): Promise<Workspace[]> {
  switch (modeOf(conn)) {
    case "gateway":
      return oauthSites(conn);
    case "site":
      return [await apiTokenSite(conn)];
    case "dc":
      return [await dataCenterServer(conn)];
  }
}

function siteFor(conn: Connection, workspace: Workspace): SiteFacts {
  const mode = modeOf(conn);
  const cloudId = mode === "dc" ? null : workspace.id;
  return siteFactsOf(workspace, deploymentOf(mode), apiRoot(conn, cloudId));
}

const cloudIdOf = (conn: Connection, workspace: Workspace) => (modeOf(conn) === "dc" ? null : workspace.id);

interface ProjectSearchPage {
  values?: unknown;
  isLast?: unknown;
  total?: unknown;
  startAt?: unknown;
}

/**
 * Cloud: `project/search` paged by `startAt`, archived projects included (`status=live&status=archived`),
 * until `isLast`. Data Center: `GET /rest/api/2/project` returns every visible project at once, unpaged
 * (provider-apis §3.2), so it is one page.
 */
async function* discover(conn: Connection, workspace: Workspace): AsyncIterable<ResourcePage> {
  const site = siteFor(conn, workspace);
  const cloudId = cloudIdOf(conn, workspace);
  const toPage = (values: unknown[]): ResourcePage => ({
    resources: values.map((p) => toResource(checkProject(p), workspace, site)),
  });

  if (modeOf(conn) === "dc") {
    const res = await jiraRequest<unknown>(conn, {
      url: restUrl(conn, null, "/project", { includeArchived: "true" }),
    });
    if (!Array.isArray(res.body)) throw malformed("project list (expected a list)");
    yield toPage(res.body);
    return;
  }

  let startAt = 0;
  for (;;) {
    const url = restUrl(conn, cloudId, "/project/search", {
      startAt,
      maxResults: PAGE_SIZE,
      status: ["live", "archived"],
    });
    const res = await jiraRequest<ProjectSearchPage>(conn, { url });
    const values = res.body?.values;
    if (!Array.isArray(values)) throw malformed("project/search page");
    yield toPage(values);
    const total = typeof res.body?.total === "number" ? res.body.total : null;
    startAt += values.length;
    if (res.body?.isLast === true || values.length === 0 || (total !== null && startAt >= total)) return;
  }
}

async function getResource(
  conn: Connection,
  workspace: Workspace,
  nativeId: string,
): Promise<BindableResource | null> {
  // Project ids are numeric; anything else would be looked up as a (renameable) key.
  if (!/^\d+$/.test(nativeId)) return null;
  const res = await jiraRequest<unknown>(conn, {
    url: restUrl(conn, cloudIdOf(conn, workspace), `/project/${nativeId}`),
    okStatuses: [404],
  });
  if (res.status === 404) return null;
  const project = checkProject(res.body);
  if (project.id !== nativeId)
    throw new TrackerError("malformed_response", PROVIDER, "jira answered with another project");
  return toResource(project, workspace, siteFor(conn, workspace));
}

export const jiraAdapter: TrackerAdapter = {
  provider: "jira",
  connectorParams: (r) => ({
    deployment: String(r.deployment),
    cloud_id: (r.cloud_id as string | null) ?? null,
    site_url: (r.site_url as string | null) ?? null,
    project_id: String(r.project_id),
    project_key: String(r.project_key),
    api_base_url: (r.api_base_url as string | undefined) ?? null,
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
