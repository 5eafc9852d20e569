import { type SimReply, type SimRequest, SimRouter, startSimServer } from "../core/server.ts";
import {
  bearerToken,
  mountControlApi,
  type SeedFile,
  type SimCredential,
  type SimIssue,
  type SimResource,
  SimStore,
  type SimWorkspace,
} from "../core/store.ts";
import { type ProviderSimulator, providerSimulator, type SimulatorOptions } from "../core/types.ts";
import { isBounded, JqlError, parseJql, runJql } from "./jql.ts";
import { type JiraOAuthApp, mountOAuth } from "./oauth.ts";
import { RateLimiter } from "./rate-limit.ts";
import {
  type ApiVersion,
  adfToText,
  fieldSelection,
  type IssueView,
  isAdfDoc,
  issueJson,
  issueKey,
  issueTypeJson,
  projectJson,
  transitionsJson,
} from "./render.ts";
import {
  CATEGORIES,
  issueTypeIn,
  type ProjectProfile,
  profileNamed,
  RESOLUTIONS,
  statusById,
  statusIn,
  transitionsFrom,
} from "./workflows.ts";

/**
 * Jira simulator: two Cloud sites and one Data Center server behind one HTTP server.
 *   {sim}/authorize, {sim}/oauth/token, {sim}/oauth/token/accessible-resources   Atlassian 3LO (auth + API host)
 *   {sim}/ex/jira/{cloudId}/rest/api/{2|3}/...   Cloud through the API gateway, OAuth Bearer tokens
 *   {sim}/sites/{site}/rest/api/{2|3}/...        Cloud on the site URL, Basic email:api_token
 *   {sim}/sites/{site}/_edge/tenant_info         the site's cloud id (public)
 *   {sim}/dc/rest/api/2/...                      Data Center, Bearer personal access token
 * See docs/simulators/jira.md.
 */

interface JiraSeed extends SeedFile {
  oauth_apps: JiraOAuthApp[];
  oauth_user: { account_id: string; email: string; name: string };
}

/** Seeded projects name their profile (`software` by default, `strict`, `service_desk`, `business`). */
type SeededProject = NonNullable<SeedFile["workspaces"][number]["resources"]>[number] & { profile?: string };

type Mode = "gateway" | "site" | "dc";

interface Ctx {
  req: SimRequest;
  mode: Mode;
  ws: SimWorkspace;
  v: ApiVersion;
  /** `{prefix}/rest/api/{v}`, for `self` links. */
  apiBase: string;
  siteUrl: string;
  cred: SimCredential | null;
}

type Handler = (c: Ctx) => SimReply;

const jiraError = (status: number, messages: string[], errors: Record<string, string> = {}): SimReply => ({
  status,
  json: { errorMessages: messages, errors },
});

const DC_SERVER_INFO = { version: "10.3.4", versionNumbers: [10, 3, 4], buildNumber: 10030004 };

export async function startJiraSimulator(opts: SimulatorOptions = {}): Promise<ProviderSimulator> {
  const seed = SimStore.readSeed(opts.seedFile ?? new URL("./seed.json", import.meta.url)) as JiraSeed;
  const store = new SimStore({
    generatedPrefix: opts.generatedPrefix,
    newResourceId: (seq) => String(10000 + seq),
    newIssueId: (seq) => String(10000 + seq),
    resourceType: "project",
    // Jira keys: a letter, then letters/digits, at most 10 characters, unique per site.
    defaultKey: (name, seq) =>
      `${
        name
          .toUpperCase()
          .replace(/[^A-Z]/g, "")
          .slice(0, 3) || "P"
      }${seq}`,
  });
  // The override applies to the default (first) workspace only; the others keep their seeded counts.
  // Profiles are the simulator's own, not the store's: taken out of the seed, kept by `workspace:key`.
  const seededProfiles = new Map<string, string>();
  store.seed({
    ...seed,
    workspaces: seed.workspaces.map((w, i) => ({
      ...w,
      ...(i === 0 && opts.generatedResources !== undefined ? { generated: opts.generatedResources } : {}),
      resources: (w.resources ?? []).map(({ profile, ...r }: SeededProject) => {
        if (profile) seededProfiles.set(`${w.id}:${r.key}`, profile);
        return r;
      }),
    })),
  });
  const profileOf = (r: SimResource): ProjectProfile =>
    profileNamed(seededProfiles.get(`${r.workspace_id}:${r.key}`));
  /** The Jira issue type and resolution each issue got upstream (the store keeps neutral values only). */
  const jiraTypes = new Map<string, string>();
  const resolutions = new Map<string, string>();
  function viewOf(i: SimIssue, r: SimResource = store.resource(i.resource_id)): IssueView {
    const p = profileOf(r);
    const status = statusIn(p.workflow, i.status);
    const resolution =
      status.category === "done" ? (resolutions.get(i.id) ?? status.autoResolution ?? "Done") : null;
    return {
      typeKey: p.typeKey,
      status,
      type: issueTypeIn(p, i.issue_type, jiraTypes.get(i.id)),
      resolution,
    };
  }
  const limiter = new RateLimiter();
  const router = new SimRouter();
  let simUrl = "";

  const isCloud = (w: SimWorkspace) => w.details.deployment === "cloud";
  const siteUrlOf = (w: SimWorkspace) => (isCloud(w) ? `${simUrl}/sites/${w.slug}` : `${simUrl}/dc`);
  const prefixOf = (mode: Mode, w: SimWorkspace) =>
    mode === "gateway" ? `${simUrl}/ex/jira/${w.id}` : siteUrlOf(w);
  const workspaces = () => [...store.workspaces.values()];

  function resolveSite(mode: Mode, req: SimRequest): SimWorkspace | undefined {
    if (mode === "gateway") return workspaces().find((w) => w.id === req.params.cloudId && isCloud(w));
    if (mode === "site") return workspaces().find((w) => w.slug === req.params.site && isCloud(w));
    return workspaces().find((w) => w.details.deployment === "data_center");
  }

  /** The credential behind the request, `null` for an anonymous one, or why it was rejected. */
  function authenticate(mode: Mode, ws: SimWorkspace, req: SimRequest): SimCredential | null | "failed" {
    const header = String(req.headers.authorization ?? "");
    if (!header) return null;
    if (mode === "site") {
      const m = header.match(/^Basic\s+(.+)$/i);
      if (!m) return "failed";
      const decoded = Buffer.from(m[1], "base64").toString("utf8");
      const sep = decoded.indexOf(":");
      const c = store.check(decoded.slice(sep + 1));
      // Credentials added through `/_sim/credentials` (kind `pat` by default) carry no email: any username goes.
      const email = typeof c === "string" ? undefined : c.meta?.email;
      const ok =
        typeof c !== "string" &&
        (c.kind === "api_token" || c.kind === "pat") &&
        (!email || email.toLowerCase() === decoded.slice(0, sep).toLowerCase());
      return ok && c.workspaces.includes(ws.id) ? c : "failed";
    }
    const c = store.check(bearerToken(header));
    const kind = mode === "gateway" ? "oauth_access" : "pat";
    return typeof c !== "string" && c.kind === kind && c.workspaces.includes(ws.id) ? c : "failed";
  }

  /** Jira's answers to a rejected credential: the gateway's terse body, or the site's Seraph header. */
  function unauthorized(mode: Mode, failed: boolean): SimReply {
    if (mode === "gateway") return { status: 401, json: { code: 401, message: "Unauthorized" } };
    return {
      status: 401,
      headers: failed ? { "x-seraph-loginreason": "AUTHENTICATED_FAILED" } : {},
      json: {
        errorMessages: ["You are not authenticated. Authentication required to perform this operation."],
        errors: {},
      },
    };
  }

  function handle(mode: Mode, req: SimRequest, handler: Handler, o: RouteOptions): SimReply {
    const ws = resolveSite(mode, req);
    if (!ws)
      return mode === "gateway"
        ? { status: 404, json: { code: 404, message: "Not Found" } }
        : jiraError(404, ["Site not found"]);
    const v = req.params.v as ApiVersion;
    const versions: ApiVersion[] = mode === "dc" ? ["2"] : ["2", "3"];
    if (!versions.includes(v) || (o.modes && !o.modes.includes(mode)))
      return jiraError(404, ["null for uri: " + req.path]);
    const auth = authenticate(mode, ws, req);
    const seraph: Record<string, string> =
      auth === "failed" ? { "x-seraph-loginreason": "AUTHENTICATED_FAILED" } : {};
    if (auth === "failed" && !o.anonymous) return unauthorized(mode, true);
    if (auth === null && !o.anonymous) return unauthorized(mode, false);
    const cred = auth === "failed" ? null : auth;
    const verdict = limiter.spend(
      cred?.token ?? `anonymous:${ws.id}`,
      mode === "gateway" ? "jira-quota-tenant-based" : "jira-burst-based",
    );
    if (!verdict.ok) return { ...jiraError(429, ["Rate limit exceeded."]), headers: verdict.headers };
    const prefix = prefixOf(mode, ws);
    const reply = handler({
      req,
      mode,
      ws,
      v,
      apiBase: `${prefix}/rest/api/${v}`,
      siteUrl: siteUrlOf(ws),
      cred,
    });
    return { ...reply, headers: { ...verdict.headers, ...seraph, ...reply.headers } };
  }

  interface RouteOptions {
    anonymous?: boolean;
    modes?: Mode[];
  }

  /** Registers one REST route under the gateway, site and Data Center prefixes. */
  function api(method: string, sub: string, handler: Handler, o: RouteOptions = {}) {
    router.on(method, `/ex/jira/:cloudId/rest/api/:v${sub}`, (req) => handle("gateway", req, handler, o));
    router.on(method, `/sites/:site/rest/api/:v${sub}`, (req) => handle("site", req, handler, o));
    router.on(method, `/dc/rest/api/:v${sub}`, (req) => handle("dc", req, handler, o));
  }

  const projectsOf = (ws: SimWorkspace) => store.resourcesOf(ws.id, "project");
  const findProject = (ws: SimWorkspace, idOrKey: string) =>
    projectsOf(ws).find((r) => r.id === idOrKey || r.key?.toUpperCase() === idOrKey.toUpperCase());

  function findIssue(ws: SimWorkspace, idOrKey: string): { issue: SimIssue; project: SimResource } | null {
    if (/^\d+$/.test(idOrKey)) {
      const issue = store.issues.get(idOrKey);
      const project = issue && store.resources.get(issue.resource_id);
      return issue && project && project.workspace_id === ws.id ? { issue, project } : null;
    }
    const m = idOrKey.match(/^([A-Za-z][A-Za-z0-9_]*)-(\d+)$/);
    const project = m ? findProject(ws, m[1]) : undefined;
    const issue = project?.issues.find((i) => i.number === Number(m?.[2]));
    return project && issue ? { issue, project } : null;
  }

  const issueNotFound = () =>
    jiraError(404, ["Issue does not exist or you do not have permission to see it."]);

  /* ---- server and site facts ---- */

  router.on("GET", "/sites/:site/_edge/tenant_info", (req) => {
    const ws = workspaces().find((w) => w.slug === req.params.site && isCloud(w));
    return ws ? { json: { cloudId: ws.id } } : jiraError(404, ["Site not found"]);
  });

  api(
    "GET",
    "/serverInfo",
    (c) => {
      const now = new Date().toISOString().replace("Z", "+0000");
      const common = {
        baseUrl: c.siteUrl,
        serverTime: now,
        buildDate: "2026-03-02T00:00:00.000+0000",
        scmInfo: "5f1b2a3c4d",
        serverTitle: c.ws.name,
      };
      return isCloud(c.ws)
        ? {
            json: {
              ...common,
              version: "1001.0.0-SNAPSHOT",
              versionNumbers: [1001, 0, 0],
              deploymentType: "Cloud",
              buildNumber: 100289,
              defaultLocale: { locale: "en_US" },
              serverTimeZone: "Etc/UTC",
            },
          }
        : {
            json: {
              ...common,
              ...DC_SERVER_INFO,
              deploymentType: "DataCenter",
              databaseBuildNumber: DC_SERVER_INFO.buildNumber,
            },
          };
    },
    { anonymous: true },
  );

  api("GET", "/myself", (c) => {
    const email = c.cred?.meta?.email ?? seed.oauth_user.email;
    return {
      json: {
        accountId: seed.oauth_user.account_id,
        emailAddress: email,
        displayName: seed.oauth_user.name,
        active: true,
        timeZone: "Etc/UTC",
      },
    };
  });

  /* ---- projects ---- */

  const statusFilter = (req: SimRequest) => {
    const wanted = req.query
      .getAll("status")
      .flatMap((s) => s.split(","))
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    return wanted.length > 0 ? wanted : ["live"];
  };

  api(
    "GET",
    "/project/search",
    (c) => {
      const q = c.req.query;
      const startAt = Math.max(0, Number(q.get("startAt") ?? 0) || 0);
      const maxResults = Math.min(100, Math.max(1, Number(q.get("maxResults") ?? 50) || 50));
      const statuses = statusFilter(c.req);
      const text = (q.get("query") ?? "").toLowerCase();
      const orderBy = q.get("orderBy") ?? "key";
      const desc = orderBy.startsWith("-");
      const field = orderBy.replace(/^[+-]/, "");
      const sortKey = (r: SimResource) =>
        field === "name" ? r.name.toLowerCase() : field === "id" ? Number(r.id) : (r.key ?? "");
      const all = projectsOf(c.ws)
        .filter((r) => statuses.includes(r.archived ? "archived" : "live"))
        .filter(
          (r) => !text || r.name.toLowerCase().includes(text) || (r.key ?? "").toLowerCase().includes(text),
        )
        .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0) * (desc ? -1 : 1));
      const values = all.slice(startAt, startAt + maxResults);
      const isLast = startAt + values.length >= all.length;
      const self = new URL(`${c.apiBase}/project/search`);
      for (const [k, v] of q) self.searchParams.append(k, v);
      const next = new URL(self);
      next.searchParams.set("startAt", String(startAt + maxResults));
      next.searchParams.set("maxResults", String(maxResults));
      return {
        json: {
          self: self.toString(),
          ...(isLast ? {} : { nextPage: next.toString() }),
          maxResults,
          startAt,
          total: all.length,
          isLast,
          values: values.map((r) =>
            projectJson(r, c.apiBase, c.siteUrl, isCloud(c.ws), profileOf(r).typeKey),
          ),
        },
      };
    },
    { modes: ["gateway", "site"] },
  );

  // Every visible project, unpaged (Data Center's way; deprecated but still served on Cloud).
  api("GET", "/project", (c) => {
    const withArchived = c.req.query.get("includeArchived") === "true";
    const list = projectsOf(c.ws).filter((r) => withArchived || !r.archived);
    return {
      json: list.map((r) => projectJson(r, c.apiBase, c.siteUrl, isCloud(c.ws), profileOf(r).typeKey)),
    };
  });

  api("GET", "/project/:idOrKey", (c) => {
    const ref = c.req.params.idOrKey;
    const r = findProject(c.ws, ref);
    if (!r)
      return jiraError(404, [`No project could be found with ${/^\d+$/.test(ref) ? "id" : "key"} '${ref}'.`]);
    return { json: projectJson(r, c.apiBase, c.siteUrl, isCloud(c.ws), profileOf(r).typeKey) };
  });

  /* ---- search ---- */

  const jqlContext = (ws: SimWorkspace) => ({
    projects: projectsOf(ws),
    keyOf: (i: SimIssue) => issueKey(store.resource(i.resource_id), i),
    issueByKey: (key: string) => findIssue(ws, key)?.issue ?? null,
    statusOf: (i: SimIssue) => {
      const s = viewOf(i).status;
      return { name: s.name, category: CATEGORIES[s.category] };
    },
    typeNameOf: (i: SimIssue) => viewOf(i).type.name,
  });
  const siteIssues = (ws: SimWorkspace) => projectsOf(ws).flatMap((r) => r.issues);

  function runQuery(c: Ctx, jql: string, enhanced: boolean): SimIssue[] | SimReply {
    try {
      const q = parseJql(jql);
      if (enhanced && !isBounded(q)) {
        return jiraError(400, [
          "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.",
        ]);
      }
      return runJql(q, siteIssues(c.ws), jqlContext(c.ws));
    } catch (err) {
      if (err instanceof JqlError)
        return { status: 400, json: { errorMessages: [err.message], errors: {}, warningMessages: [] } };
      throw err;
    }
  }

  /** Issue entity properties (key → JSON value) per issue id, set on create (`properties`). */
  const issueProperties = new Map<string, Record<string, unknown>>();
  /** A search's `properties` parameter (a list, or comma-separated in a GET): which to return per issue. */
  const propertyKeys = (input: Record<string, unknown>): string[] =>
    (Array.isArray(input.properties) ? input.properties : String(input.properties ?? "").split(","))
      .map((k) => String(k).trim())
      .filter(Boolean);

  const render =
    (c: Ctx, fields: ReturnType<typeof fieldSelection>, properties: string[] = []) =>
    (i: SimIssue) => {
      const json = issueJson(i, store.resource(i.resource_id), c.apiBase, c.siteUrl, c.v, fields, viewOf(i));
      if (properties.length === 0) return json;
      const held = issueProperties.get(i.id) ?? {};
      return {
        ...json,
        properties: Object.fromEntries(properties.filter((k) => k in held).map((k) => [k, held[k]])),
      };
    };

  const pageToken = (offset: number, jql: string) =>
    Buffer.from(JSON.stringify({ o: offset, q: jql })).toString("base64url");
  function readToken(token: unknown, jql: string): number | null {
    if (token === undefined || token === null || token === "") return 0;
    try {
      const t = JSON.parse(Buffer.from(String(token), "base64url").toString("utf8"));
      return t.q === jql && Number.isInteger(t.o) && t.o >= 0 ? t.o : null;
    } catch {
      return null;
    }
  }

  /** Enhanced search (Cloud): `nextPageToken` cursor, `isLast`, and only `id` unless fields are asked for. */
  const enhancedSearch: Handler = (c) => {
    const input = c.req.method === "POST" ? (c.req.body ?? {}) : Object.fromEntries(c.req.query);
    const jql = String(input.jql ?? "");
    const offset = readToken(input.nextPageToken, jql);
    if (offset === null) return jiraError(400, ["The provided next page token is invalid or expired."]);
    const fields = fieldSelection(input.fields, "id");
    const cap = fields === "id" ? 5000 : 100;
    const maxResults = Math.min(cap, Math.max(1, Number(input.maxResults ?? 50) || 50));
    const found = runQuery(c, jql, true);
    if (!Array.isArray(found)) return found;
    const page = found.slice(offset, offset + maxResults);
    const isLast = offset + page.length >= found.length;
    return {
      json: {
        issues: page.map(render(c, fields, propertyKeys(input))),
        ...(isLast ? {} : { nextPageToken: pageToken(offset + page.length, jql) }),
        isLast,
      },
    };
  };
  api("POST", "/search/jql", enhancedSearch, { modes: ["gateway", "site"] });
  api("GET", "/search/jql", enhancedSearch, { modes: ["gateway", "site"] });

  /** Classic offset search: Data Center's; removed from Cloud (CHANGE-2046). */
  const offsetSearch: Handler = (c) => {
    if (c.mode !== "dc") {
      return jiraError(410, [
        "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046",
      ]);
    }
    const input = c.req.method === "POST" ? (c.req.body ?? {}) : Object.fromEntries(c.req.query);
    const startAt = Math.max(0, Number(input.startAt ?? 0) || 0);
    const maxResults = Math.min(1000, Math.max(0, Number(input.maxResults ?? 50) || 50));
    const found = runQuery(c, String(input.jql ?? ""), false);
    if (!Array.isArray(found)) return found;
    const fields = fieldSelection(input.fields, "all");
    return {
      json: {
        expand: "schema,names",
        startAt,
        maxResults,
        total: found.length,
        issues: found.slice(startAt, startAt + maxResults).map(render(c, fields, propertyKeys(input))),
      },
    };
  };
  api("POST", "/search", offsetSearch);
  api("GET", "/search", offsetSearch);

  /* ---- issues ---- */

  /** Field checks shared by create and edit; Jira reports them per field under `errors`. */
  function fieldErrors(c: Ctx, f: Record<string, unknown>, creating: boolean): Record<string, string> {
    const errors: Record<string, string> = {};
    if ((creating || "summary" in f) && (typeof f.summary !== "string" || f.summary.trim() === "")) {
      errors.summary = "You must specify a summary of the issue.";
    } else if (typeof f.summary === "string" && f.summary.length > 255) {
      errors.summary = "Summary must be less than 255 characters.";
    }
    if ("description" in f && f.description !== null) {
      const ok = c.v === "3" ? isAdfDoc(f.description) : typeof f.description === "string";
      if (!ok)
        errors.description =
          c.v === "3"
            ? "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
            : "Operation value must be a string";
    }
    if ("labels" in f) {
      const labels = f.labels;
      if (!Array.isArray(labels) || labels.some((l) => typeof l !== "string"))
        errors.labels = "Operation value must be an array of strings";
      else {
        const bad = labels.find((l: string) => /\s/.test(l));
        if (bad !== undefined) errors.labels = `The label '${bad}' contains spaces which is invalid.`;
      }
    }
    if ("status" in f)
      errors.status = "Field 'status' cannot be set. It is not on the appropriate screen, or unknown.";
    return errors;
  }

  const descriptionOf = (c: Ctx, v: unknown): string | null =>
    v === null || v === undefined ? null : c.v === "3" ? adfToText(v as never) : String(v) || null;

  api("POST", "/issue", (c) => {
    const f = (c.req.body?.fields ?? {}) as Record<string, any>;
    const ref = f.project?.id ?? f.project?.key;
    const project = typeof ref === "string" ? findProject(c.ws, ref) : undefined;
    const typeRef = String(f.issuetype?.id ?? f.issuetype?.name ?? "");
    const errors = fieldErrors(c, f, true);
    if (!project) errors.project = "valid project is required";
    // Only the types of the project's issue type scheme are valid (a service desk has no "Task").
    const type =
      project &&
      profileOf(project).issueTypes.find(
        (t) => t.id === typeRef || t.name.toLowerCase() === typeRef.toLowerCase(),
      );
    // Entity properties set with the create: `[{key, value}]`, key at most 255 characters, value JSON.
    const props = c.req.body?.properties;
    if (
      props !== undefined &&
      (!Array.isArray(props) ||
        props.some(
          (p: any) => typeof p?.key !== "string" || !p.key || p.key.length > 255 || p.value === undefined,
        ))
    )
      errors.properties = "Each property needs a key (at most 255 characters) and a value.";
    if (!typeRef) errors.issuetype = "Specify an issue type";
    else if (project && !type) errors.issuetype = "Specify a valid issue type";
    if (Object.keys(errors).length > 0) return jiraError(400, [], errors);
    if (project!.archived) return jiraError(400, ["You can't create issues in an archived project."]);
    const issue = store.addIssue(project!.id, {
      title: f.summary,
      body: descriptionOf(c, f.description),
      labels: f.labels ?? [],
      issue_type: type!.neutral,
      priority: f.priority?.id ? Math.min(4, Math.max(0, Number(f.priority.id) - 1)) : 2,
    });
    jiraTypes.set(issue.id, type!.id);
    if (Array.isArray(props))
      issueProperties.set(issue.id, Object.fromEntries(props.map((p: any) => [p.key, p.value])));
    return {
      status: 201,
      json: { id: issue.id, key: issueKey(project!, issue), self: `${c.apiBase}/issue/${issue.id}` },
    };
  });

  /* ---- create metadata ---- */

  const projectMissing = (ref: string) =>
    jiraError(404, [`No project could be found with ${/^\d+$/.test(ref) ? "id" : "key"} '${ref}'.`]);

  /**
   * Issue types of one project's scheme, paged. Cloud answers `{issueTypes, startAt, maxResults, total}`,
   * Data Center (8.4+) `{values, startAt, maxResults, total, isLast}`.
   */
  api("GET", "/issue/createmeta/:idOrKey/issuetypes", (c) => {
    const ref = c.req.params.idOrKey;
    const project = findProject(c.ws, ref);
    if (!project) return projectMissing(ref);
    const startAt = Math.max(0, Number(c.req.query.get("startAt") ?? 0) || 0);
    const maxResults = Math.min(200, Math.max(1, Number(c.req.query.get("maxResults") ?? 50) || 50));
    const all = profileOf(project).issueTypes.map((t) => issueTypeJson(c.apiBase, t, isCloud(c.ws)));
    const page = all.slice(startAt, startAt + maxResults);
    const paging = { maxResults, startAt, total: all.length };
    return isCloud(c.ws)
      ? { json: { ...paging, issueTypes: page } }
      : { json: { ...paging, isLast: startAt + page.length >= all.length, values: page } };
  });

  /** The older all-projects form: deprecated on Cloud but served; removed from Data Center in 9.0. */
  api(
    "GET",
    "/issue/createmeta",
    (c) => {
      const wanted = ["projectIds", "projectKeys"].flatMap((k) =>
        c.req.query.getAll(k).flatMap((v) => v.split(",").map((x) => x.trim())),
      );
      const projects = projectsOf(c.ws).filter(
        (r) => !r.archived && (wanted.length === 0 || wanted.some((w) => w === r.id || w === r.key)),
      );
      return {
        json: {
          expand: "projects",
          projects: projects.map((r) => ({
            self: `${c.apiBase}/project/${r.id}`,
            id: r.id,
            key: r.key,
            name: r.name,
            issuetypes: profileOf(r).issueTypes.map((t) => issueTypeJson(c.apiBase, t, true)),
          })),
        },
      };
    },
    { modes: ["gateway", "site"] },
  );

  api("GET", "/issue/:idOrKey", (c) => {
    const found = findIssue(c.ws, c.req.params.idOrKey);
    if (!found) return issueNotFound();
    return { json: render(c, fieldSelection(c.req.query.get("fields"), "all"))(found.issue) };
  });

  api("PUT", "/issue/:idOrKey", (c) => {
    const found = findIssue(c.ws, c.req.params.idOrKey);
    if (!found) return issueNotFound();
    const f = (c.req.body?.fields ?? {}) as Record<string, any>;
    const errors = fieldErrors(c, f, false);
    if (Object.keys(errors).length > 0) return jiraError(400, [], errors);
    let labels: string[] | undefined = f.labels;
    for (const op of (c.req.body?.update?.labels ?? []) as Record<string, string | string[]>[]) {
      const current: string[] = labels ?? found.issue.labels;
      if (op.set !== undefined) labels = [...(op.set as string[])];
      if (typeof op.add === "string") labels = current.includes(op.add) ? current : [...current, op.add];
      if (typeof op.remove === "string") labels = current.filter((l) => l !== op.remove);
    }
    store.updateIssue(found.issue.id, {
      title: f.summary,
      body: "description" in f ? descriptionOf(c, f.description) : undefined,
      labels,
    });
    return { status: 204 };
  });

  api("GET", "/issue/:idOrKey/transitions", (c) => {
    const found = findIssue(c.ws, c.req.params.idOrKey);
    if (!found) return issueNotFound();
    const withFields = (c.req.query.get("expand") ?? "").split(",").includes("transitions.fields");
    const wf = profileOf(found.project).workflow;
    const current = viewOf(found.issue, found.project).status;
    return {
      json: { expand: "transitions", transitions: transitionsJson(c.apiBase, wf, current, withFields) },
    };
  });

  /** Fields sent with a transition must be on its screen; required ones must be there and valid. */
  function transitionFieldErrors(requires: string[], fields: Record<string, any>): Record<string, string> {
    const errors: Record<string, string> = {};
    for (const k of Object.keys(fields))
      if (!requires.includes(k))
        errors[k] = `Field '${k}' cannot be set. It is not on the appropriate screen, or unknown.`;
    if (requires.includes("resolution")) {
      const r = fields.resolution;
      if (!r) errors.resolution = "Resolution is required.";
      else if (!RESOLUTIONS.some((x) => x.id === String(r.id) || x.name === r.name))
        errors.resolution = "Could not find valid 'id' or 'name' in resolution object.";
    }
    return errors;
  }

  api("POST", "/issue/:idOrKey/transitions", (c) => {
    const found = findIssue(c.ws, c.req.params.idOrKey);
    if (!found) return issueNotFound();
    const id = String(c.req.body?.transition?.id ?? "");
    const wf = profileOf(found.project).workflow;
    const current = viewOf(found.issue, found.project).status;
    const t = transitionsFrom(wf, current.id).find((x) => x.id === id);
    if (!t) return jiraError(400, [`Transition id '${id}' is not valid for this issue.`]);
    const fields = (c.req.body?.fields ?? {}) as Record<string, any>;
    const errors = transitionFieldErrors(t.requires ?? [], fields);
    if (Object.keys(errors).length > 0) return jiraError(400, [], errors);
    const to = statusById(wf, t.to)!;
    const resolution = RESOLUTIONS.find(
      (x) => x.id === String(fields.resolution?.id) || x.name === fields.resolution?.name,
    );
    if (to.category === "done" && (resolution || to.autoResolution))
      resolutions.set(found.issue.id, resolution?.name ?? to.autoResolution!);
    else resolutions.delete(found.issue.id);
    store.updateIssue(found.issue.id, { status: to.neutral });
    return { status: 204 };
  });

  mountOAuth(router, store, seed.oauth_apps, seed.oauth_user, (id) => siteUrlOf(store.workspaces.get(id)!));
  mountControlApi(router, store);
  router.on("PUT", "/_sim/rate-limit", (req) => {
    const limit = req.body?.limit_per_hour;
    limiter.configure(typeof limit === "number" && limit > 0 ? limit : null);
    return { json: { limit_per_hour: limiter.limit } };
  });

  const sim = await startSimServer({
    name: "jira",
    router,
    port: opts.port,
    faultBody: (status) => ({
      errorMessages: [
        status === 429
          ? "Rate limit exceeded."
          : status >= 500
            ? "Internal server error"
            : `Simulated ${status}`,
      ],
      errors: {},
    }),
  });
  simUrl = sim.url;

  const [acme] = workspaces();
  const apiToken = seed.credentials?.find((c) => c.kind === "api_token" && c.workspaces.includes(acme.id));
  const pat = seed.credentials?.find((c) => c.kind === "pat");
  const app = seed.oauth_apps[0];
  return providerSimulator("jira", sim, store, {
    api_url: sim.url,
    auth_url: sim.url,
    site_url: siteUrlOf(acme),
    cloud_id: acme.id,
    email: apiToken?.meta?.email ?? "",
    api_token: apiToken?.token ?? "",
    dc_url: `${sim.url}/dc`,
    pat: pat?.token ?? "",
    oauth_client_id: app.client_id,
    oauth_client_secret: app.client_secret,
  });
}
