import {
  type SimHandler,
  type SimReply,
  type SimRequest,
  SimRouter,
  startSimServer,
} from "../core/server.ts";
import {
  mountControlApi,
  type SeedFile,
  type SimCredential,
  type SimIssue,
  type SimResource,
  SimStore,
  type SimWorkspace,
} from "../core/store.ts";
import { type ProviderSimulator, providerSimulator, type SimulatorOptions } from "../core/types.ts";
import {
  findType,
  isProcessName,
  issueTypeOf,
  PROCESSES,
  type ProcessDef,
  type ProcessName,
  stateForStatus,
  statusForState,
  typeForIssue,
  type WorkItemTypeDef,
} from "./processes.ts";
import { parseWiql, runWiql, WIQL_FIELDS, WiqlError } from "./wiql.ts";
import {
  adoError,
  guidFrom,
  PROJECT_STATE,
  parseTagString,
  renderProject,
  renderWorkItem,
  signInPage,
  tagString,
  type WorkItemView,
  workItemFields,
} from "./wire.ts";

/**
 * Azure DevOps Services simulator: organizations (`acme`, `contoso`) with projects (GUID ids) and work
 * items (org-wide integer ids), PATs as Basic auth, `x-ms-continuationtoken` paging, WIQL, JSON Patch
 * work item writes, Boards feature state, and ADO's error envelope and rate-limit headers.
 */

const BATCH_MAX = 200;
/** The core resource area, which holds an organization's base URL (Resource Areas API). */
const CORE_AREA = "79134c72-4a58-4b42-976c-04e7115f32bf";
/** A project created without a process gets the organization's default: Basic for a new organization. */
const DEFAULT_PROCESS: ProcessName = "Basic";
const WIQL_MAX = 20_000;
/** Rate-limit window ADO documents: 200 TSTUs per sliding 5 minutes. Requests here cost 0.01 TSTU. */
const RATE_WINDOW_S = 300;
const RATE_LIMIT = 200;

interface Ctx {
  req: SimRequest;
  org: SimWorkspace;
  cred: SimCredential | null;
}

export async function startAzureDevOpsSimulator(opts: SimulatorOptions = {}): Promise<ProviderSimulator> {
  const store = new SimStore({
    generatedPrefix: opts.generatedPrefix,
    newResourceId: (seq) => guidFrom(`ado-project:${seq}`),
    newIssueId: (seq) => String(seq),
    resourceType: "project",
  });
  const seed = SimStore.readSeed(opts.seedFile ?? new URL("./seed.json", import.meta.url));
  store.seed(withGenerated(seed, opts.generatedResources));

  /** Each project's process (seed `process`, else the default) and each work item's own type and state. */
  const processes = new Map<string, ProcessName>();
  for (const ws of seed.workspaces)
    for (const res of ws.resources ?? []) {
      const named = (res as { process?: unknown }).process;
      const r = store.resourcesOf(ws.id).find((x) => x.name === res.name);
      if (r && isProcessName(named)) processes.set(r.id, named);
    }
  const processOf = (r: SimResource): ProcessDef => PROCESSES[processes.get(r.id) ?? DEFAULT_PROCESS];
  /** Work item relations added on create (`/relations/-`): only Hyperlink relations are modelled. */
  const relations = new Map<string, { rel: string; url: string; attributes?: unknown }[]>();
  const written = new Map<string, { type: string; state: string; status: SimIssue["status"] }>();
  /** The type and state an item shows: what a client wrote, unless `/_sim/` changed its status since. */
  function viewOf(issue: SimIssue, project: SimResource): WorkItemView & { def: WorkItemTypeDef } {
    const process = processOf(project);
    const w = written.get(issue.id);
    const def = (w && findType(process, w.type)) || typeForIssue(process, issue.issue_type);
    const state = w && w.status === issue.status ? w.state : stateForStatus(def, issue.status);
    return { type: def.name, state, initial: state === def.states[0].name, def };
  }

  const router = new SimRouter();
  mountControlApi(router, store);
  const revs = new Map<string, number>();
  const boardsOff = (r: SimResource) => r.issues_disabled;
  let base = "";

  const usage = new Map<string, { windowStart: number; used: number }>();
  function rateHeaders(token: string): Record<string, string> {
    const now = Math.floor(Date.now() / 1000);
    const u = usage.get(token);
    const w = u && now - u.windowStart < RATE_WINDOW_S ? u : { windowStart: now, used: 0 };
    w.used += 0.01;
    usage.set(token, w);
    return {
      "x-ratelimit-resource": "Core",
      "x-ratelimit-delay": "0",
      "x-ratelimit-limit": String(RATE_LIMIT),
      "x-ratelimit-remaining": String(Math.max(0, Math.floor(RATE_LIMIT - w.used))),
      "x-ratelimit-reset": String(w.windowStart + RATE_WINDOW_S),
    };
  }

  /**
   * Every ADO route: api-version present (with `-preview` where the resource is preview), the
   * organization exists, the PAT is good for it. A bad PAT gets a 203 sign-in page unless the caller
   * sent `X-TFS-FedAuthRedirect: Suppress` (then a 401). `anonymous` routes (connectionData) answer a
   * caller that sent no credential at all.
   */
  const ado =
    (handler: (ctx: Ctx) => SimReply, o: { preview?: boolean; anonymous?: boolean } = {}): SimHandler =>
    (req) => {
      const version = req.query.get("api-version");
      if (!version) {
        return adoError(
          400,
          `No api-version was supplied for the "${req.method}" request. The version must be supplied either as part of the Accept header (e.g. "application/json; api-version=1.0") or as a query parameter (e.g. '?api-version=1.0').`,
          "VssVersionNotSpecifiedException",
        );
      }
      if (!/^7\.1(-preview(\.\d+)?)?$/.test(version)) {
        return adoError(
          400,
          `The requested REST API version of ${version} is not supported by the simulator.`,
          "VssVersionOutOfRangeException",
        );
      }
      if (o.preview && !version.includes("-preview")) {
        return adoError(
          400,
          `The requested version "${version}" of the resource is under preview. The -preview flag must be supplied in the api-version for such requests. For example: "${version}-preview"`,
          "VssInvalidPreviewVersionException",
        );
      }
      const org = [...store.workspaces.values()].find(
        (w) => w.slug.toLowerCase() === req.params.org.toLowerCase(),
      );
      if (!org)
        return adoError(
          404,
          `VS800075: The organization '${req.params.org}' does not exist.`,
          "OrganizationNotFoundException",
        );
      const header = String(req.headers.authorization ?? "");
      if (!header && o.anonymous) return handler({ req, org, cred: null });
      const token = basicPassword(header);
      const cred = store.check(token);
      const suppress = String(req.headers["x-tfs-fedauthredirect"] ?? "").toLowerCase() === "suppress";
      if (cred === "expired") {
        const message = "Access Denied: The Personal Access Token used has expired.";
        return adoError(401, message, "AccessCheckException", {
          headers: { "x-tfs-serviceerror": encodeURIComponent(message) },
        });
      }
      if (typeof cred === "string" || !cred.workspaces.includes(org.id)) {
        if (!suppress) return signInPage();
        return adoError(
          401,
          "TF400813: The user '' is not authorized to access this resource.",
          "UnauthorizedRequestException",
          {
            headers: {
              "www-authenticate":
                'Bearer authorization_uri=https://login.microsoftonline.com/common, Basic realm="https://dev.azure.com/"',
              "x-tfs-fedauthredirect": "Suppress",
            },
          },
        );
      }
      const reply = handler({ req, org, cred });
      return { ...reply, headers: { ...rateHeaders(cred.token), ...reply.headers } };
    };

  const projectsOf = (org: SimWorkspace) => store.resourcesOf(org.id, "project");
  /** ADO takes a project GUID or name wherever a project goes in the path. */
  const findProject = (org: SimWorkspace, idOrName: string) =>
    projectsOf(org).find(
      (r) => r.id === idOrName.toLowerCase() || r.name.toLowerCase() === idOrName.toLowerCase(),
    );
  const projectMissing = (idOrName: string) =>
    adoError(
      404,
      `TF200016: The following project does not exist: ${idOrName}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.`,
      "ProjectDoesNotExistException",
    );
  /** A route on one project (`:param` is its GUID or name): TF200016 when the organization has none such. */
  const adoProject = (
    param: string,
    handler: (ctx: Ctx & { project: SimResource }) => SimReply,
    o: { preview?: boolean } = {},
  ): SimHandler =>
    ado((ctx) => {
      const idOrName = ctx.req.params[param];
      const project = findProject(ctx.org, idOrName);
      return project ? handler({ ...ctx, project }) : projectMissing(idOrName);
    }, o);
  const workItemMissing = (id: string) =>
    adoError(
      404,
      `TF401232: Work item ${id} does not exist, or you do not have permissions to read it.`,
      "WorkItemUnauthorizedAccessException",
      {
        errorCode: 600122,
        eventId: 3200,
      },
    );
  /** Work items are numbered org-wide; one belongs to the org its project is in. */
  const itemsOf = (org: SimWorkspace) =>
    projectsOf(org).flatMap((r) => r.issues.map((i) => ({ issue: i, project: r })));
  const findItem = (org: SimWorkspace, id: string) => itemsOf(org).find((x) => x.issue.id === id) ?? null;
  const rev = (id: string) => revs.get(id) ?? 1;

  router.on(
    "GET",
    "/:org/_apis/connectionData",
    ado(
      ({ org, cred }) => {
        const user = cred
          ? { id: guidFrom(`user:${cred.token.slice(0, 6)}`), providerDisplayName: "Sim Admin" }
          : { id: "aa442a7b-ad5e-4fa7-a1b7-97e8f0d2e16d", providerDisplayName: "Anonymous" };
        const identity = {
          ...user,
          descriptor: `Microsoft.IdentityModel.Claims.ClaimsIdentity;${user.id}`,
          isActive: true,
          properties: {},
          resourceVersion: 2,
          metaTypeId: 0,
        };
        return {
          json: {
            authenticatedUser: identity,
            authorizedUser: identity,
            instanceId: String(org.details.instance_id ?? guidFrom(`org:${org.id}`)),
            deploymentId: guidFrom(`deployment:${org.id}`),
            deploymentType: "hosted",
            locationServiceData: {
              serviceOwner: "00025394-6065-48ca-87d9-7f5672854ef7",
              defaultAccessMappingMoniker: "PublicAccessMapping",
              lastChangeId: 1,
              lastChangeId64: 1,
            },
          },
        };
      },
      { preview: true, anonymous: true },
    ),
  );

  router.on(
    "GET",
    "/:org/_apis/projects",
    ado(({ req, org }) => {
      const filter = (req.query.get("stateFilter") ?? "wellFormed").toLowerCase();
      const all = projectsOf(org).filter(
        (r) => filter === "all" || PROJECT_STATE(r).toLowerCase() === filter,
      );
      const top = clampInt(req.query.get("$top"), 100, 1, 1000);
      const start = Number(req.query.get("continuationToken") ?? req.query.get("$skip") ?? 0) || 0;
      const page = all.slice(start, start + top);
      const headers: Record<string, string> = {};
      if (start + top < all.length) headers["x-ms-continuationtoken"] = String(start + top);
      return { headers, json: { count: page.length, value: page.map((r) => renderProject(base, org, r)) } };
    }),
  );

  router.on(
    "GET",
    "/:org/_apis/projects/:id",
    adoProject("id", ({ req, org, project: r }) => {
      const project = renderProject(base, org, r, true);
      if (req.query.get("includeCapabilities") !== "true") return { json: project };
      const p = processOf(r);
      const capabilities = {
        versioncontrol: { sourceControlType: "Git" },
        processTemplate: { templateName: p.name, templateTypeId: p.typeId },
      };
      return { json: { ...project, capabilities } };
    }),
  );

  router.on(
    "POST",
    "/:org/_apis/FeatureManagement/FeatureStatesQuery/host/project/:projectId",
    adoProject(
      "projectId",
      ({ req, project: r }) => {
        const ids: string[] = Array.isArray(req.body?.featureIds) ? req.body.featureIds : [];
        const featureStates = Object.fromEntries(
          ids.map((id) => {
            const off = id === "ms.vss-work.agile" && boardsOff(r);
            return [
              id,
              {
                featureId: id,
                overridden: off,
                reason: null,
                scope: { settingScope: "project", userScoped: false },
                state: off ? 0 : 1,
              },
            ];
          }),
        );
        return { json: { featureIds: ids, featureStates, scopeValues: { project: r.id } } };
      },
      { preview: true },
    ),
  );

  router.on(
    "POST",
    "/:org/:project/_apis/wit/wiql",
    adoProject("project", ({ req, org, project }) => {
      const text = req.body?.query;
      if (typeof text !== "string")
        return adoError(400, "VS403466: The WIQL query text is required.", "ArgumentNullException");
      let rows: Record<string, unknown>[];
      let query: ReturnType<typeof parseWiql>;
      try {
        query = parseWiql(text);
        rows = runWiql(
          query,
          itemsOf(org).map((x) => workItemFields(base, x.issue, x.project, viewOf(x.issue, x.project))),
          { project: project.name },
        );
      } catch (err) {
        if (err instanceof WiqlError)
          return adoError(400, err.message, "WorkItemTrackingQueryException", { errorCode: 600171 });
        throw err;
      }
      const top = req.query.get("$top");
      if (top === null && rows.length > WIQL_MAX) {
        return adoError(
          400,
          `VS402337: The number of work items returned exceeds the size limit of ${WIQL_MAX}. Change the query to return fewer items.`,
          "WorkItemTrackingQueryResultSizeLimitExceededException",
        );
      }
      const limited = top === null ? rows : rows.slice(0, clampInt(top, WIQL_MAX, 1, WIQL_MAX));
      const projectOfItem = new Map(itemsOf(org).map((x) => [Number(x.issue.id), x.project.id]));
      const fieldRef = (f: string) => ({
        referenceName: f,
        name: WIQL_FIELDS[f],
        url: `${base}/${org.slug}/_apis/wit/fields/${f}`,
      });
      return {
        json: {
          queryType: "flat",
          queryResultType: "workItem",
          asOf: new Date().toISOString(),
          columns: query.select.map(fieldRef),
          sortColumns: query.orderBy.map((o) => ({ field: fieldRef(o.field), descending: o.descending })),
          workItems: limited.map((r) => {
            const id = Number(r["System.Id"]);
            return { id, url: `${base}/${org.slug}/${projectOfItem.get(id)}/_apis/wit/workItems/${id}` };
          }),
        },
      };
    }),
  );

  router.on(
    "GET",
    "/:org/_apis/wit/workitems",
    ado(({ req, org }) => {
      const ids = (req.query.get("ids") ?? "").split(",").filter(Boolean);
      if (ids.length === 0)
        return adoError(400, "VS403474: The ids parameter is required.", "ArgumentNullException");
      if (ids.length > BATCH_MAX) {
        return adoError(
          400,
          `VS402337: The maximum number of work items that can be requested is ${BATCH_MAX}.`,
          "WorkItemTrackingQueryResultSizeLimitExceededException",
        );
      }
      const expand = (req.query.get("$expand") ?? "none").toLowerCase();
      const fields = req.query.get("fields")?.split(",").filter(Boolean);
      if (fields && expand !== "none") {
        return adoError(
          400,
          "VS403437: The expand parameter can not be used with the fields parameter.",
          "ConflictingParametersException",
        );
      }
      const omit = (req.query.get("errorPolicy") ?? "fail").toLowerCase() === "omit";
      const value: unknown[] = [];
      for (const id of ids) {
        const hit = findItem(org, id);
        if (!hit && !omit) return workItemMissing(id);
        value.push(
          hit
            ? renderWorkItem(base, org, hit.issue, hit.project, rev(id), viewOf(hit.issue, hit.project), {
                links: expand === "links" || expand === "all",
                fields,
                relations:
                  expand === "relations" || expand === "all"
                    ? (relations.get(hit.issue.id) ?? [])
                    : undefined,
              })
            : null,
        );
      }
      return { json: { count: value.length, value } };
    }),
  );

  const getOne = ado(({ req, org }) => {
    const hit = findItem(org, req.params.id);
    if (!hit) return workItemMissing(req.params.id);
    const view = viewOf(hit.issue, hit.project);
    return {
      json: renderWorkItem(base, org, hit.issue, hit.project, rev(hit.issue.id), view, { links: true }),
    };
  });
  router.on("GET", "/:org/_apis/wit/workitems/:id", getOne);
  router.on("GET", "/:org/:project/_apis/wit/workitems/:id", getOne);

  const update = ado(({ req, org }) => {
    const bad = requirePatch(req);
    if (bad) return bad;
    const hit = findItem(org, req.params.id);
    if (!hit) return workItemMissing(req.params.id);
    const view = viewOf(hit.issue, hit.project);
    const applied = applyPatch(hit.issue, req.body, view);
    if ("error" in applied) return applied.error;
    store.updateIssue(hit.issue.id, applied.change);
    written.set(hit.issue.id, { type: view.type, state: applied.state, status: hit.issue.status });
    revs.set(hit.issue.id, rev(hit.issue.id) + 1);
    const after = viewOf(hit.issue, hit.project);
    return {
      json: renderWorkItem(base, org, hit.issue, hit.project, rev(hit.issue.id), after, { links: true }),
    };
  });
  router.on("PATCH", "/:org/_apis/wit/workitems/:id", update);
  router.on("PATCH", "/:org/:project/_apis/wit/workitems/:id", update);

  router.on(
    "POST",
    "/:org/:project/_apis/wit/workitems/:type",
    ado(({ req, org }) => {
      const bad = requirePatch(req);
      if (bad) return bad;
      const project = findProject(org, req.params.project);
      if (!project) return projectMissing(req.params.project);
      const typeName = req.params.type.replace(/^\$/, "");
      const process = processOf(project);
      const def = req.params.type.startsWith("$") ? findType(process, typeName) : null;
      if (!def) {
        return adoError(
          404,
          `VS402323: Work item type ${typeName} does not exist in project ${project.name} or you do not have permission to access it.`,
          "WorkItemTypeNotFoundException",
        );
      }
      const draft: SimIssue = {
        id: "",
        number: 0,
        resource_id: project.id,
        title: "",
        body: null,
        status: "todo",
        labels: [],
        assignees: [],
        issue_type: issueTypeOf(process, def),
        priority: 2,
        created_at: "",
        updated_at: "",
      };
      const initial: WorkItemView & { def: WorkItemTypeDef } = {
        type: def.name,
        state: def.states[0].name,
        initial: true,
        def,
      };
      // `add /relations/-` with a Hyperlink relation; other relation kinds are not modelled.
      const ops = (Array.isArray(req.body) ? req.body : []) as { op?: string; path?: string; value?: any }[];
      const links = ops.filter((o) => o.path === "/relations/-");
      for (const l of links)
        if (
          l.op !== "add" ||
          l.value?.rel !== "Hyperlink" ||
          typeof l.value?.url !== "string" ||
          !l.value.url
        )
          return adoError(400, "VS403471: The relation is not supported.", "InvalidPatchException");
      const applied = applyPatch(
        draft,
        ops.filter((o) => o.path !== "/relations/-"),
        initial,
      );
      if ("error" in applied) return applied.error;
      const fields = { ...draft, ...applied.change };
      if (!fields.title.trim()) return ruleError("Title", "InvalidEmpty");
      const { id: _id, number: _n, resource_id: _r, created_at: _c, updated_at: _u, ...input } = fields;
      const issue = store.addIssue(project.id, input);
      written.set(issue.id, { type: def.name, state: applied.state, status: issue.status });
      if (links.length > 0)
        relations.set(
          issue.id,
          links.map((l) => ({ rel: "Hyperlink", url: l.value.url, attributes: l.value.attributes ?? {} })),
        );
      const view = viewOf(issue, project);
      return { json: renderWorkItem(base, org, issue, project, 1, view, { links: true }) };
    }),
  );

  const STATE_COLORS: Record<string, string> = {
    Proposed: "b2b2b2",
    InProgress: "007acc",
    Resolved: "ff9d00",
    Completed: "339933",
    Removed: "ffffff",
  };
  const statesOf = (t: WorkItemTypeDef) =>
    t.states.map((st) => ({ name: st.name, color: STATE_COLORS[st.category], category: st.category }));

  router.on(
    "GET",
    "/:org/:project/_apis/wit/workitemtypes",
    adoProject("project", ({ org, project }) => {
      const value = processOf(project).types.map((t) => ({
        name: t.name,
        referenceName: t.referenceName,
        description: "",
        color: "009ccc",
        icon: { id: "icon_clipboard", url: `${base}/_apis/wit/workItemIcons/icon_clipboard` },
        isDisabled: false,
        states: statesOf(t),
        url: `${base}/${org.slug}/${project.id}/_apis/wit/workItemTypes/${encodeURIComponent(t.name)}`,
      }));
      return { json: { count: value.length, value } };
    }),
  );

  router.on(
    "GET",
    "/:org/:project/_apis/wit/workitemtypes/:type/states",
    adoProject("project", ({ req, project }) => {
      const t = findType(processOf(project), req.params.type);
      if (!t) {
        return adoError(
          404,
          `VS402323: Work item type ${req.params.type} does not exist in project ${project.name} or you do not have permission to access it.`,
          "WorkItemTypeNotFoundException",
        );
      }
      const value = statesOf(t);
      return { json: { count: value.length, value } };
    }),
  );

  /** Resource Areas (global, no credential): an organization's base URL by its name or its id. */
  router.on("GET", "/_apis/resourceAreas/:area", (req) => {
    const hostId = req.query.get("hostId")?.toLowerCase();
    const name = req.query.get("accountName")?.toLowerCase();
    const org = [...store.workspaces.values()].find((w) =>
      hostId ? String(w.details.instance_id).toLowerCase() === hostId : w.slug.toLowerCase() === name,
    );
    if (req.params.area.toLowerCase() !== CORE_AREA || !org) return { status: 404, json: null };
    return { json: { id: CORE_AREA.toUpperCase(), name: "Core", locationUrl: `${base}/${org.slug}/` } };
  });

  /** Control: rename an organization (its instance id stays), or move a project to another process. */
  router.on("PATCH", "/_sim/azure-devops/organizations/:id", (req) => {
    const org = store.workspaces.get(req.params.id);
    const name = req.body?.name;
    if (!org || typeof name !== "string" || !name) return { status: 404, json: { error: "organization" } };
    Object.assign(org, { name, slug: name, details: { ...org.details, organization: name } });
    return { json: org };
  });
  router.on("PUT", "/_sim/azure-devops/projects/:id/process", (req) => {
    const r = store.resources.get(req.params.id);
    const name = req.body?.process;
    if (!r || !isProcessName(name)) return { status: 400, json: { error: "project id and a process name" } };
    processes.set(r.id, name);
    return { json: { project: r.id, process: name } };
  });

  const sim = await startSimServer({
    name: "azure_devops",
    router,
    port: opts.port,
    faultBody: (status) =>
      adoError(
        status,
        status === 429
          ? "TF400733: The request has been throttled because the user exceeded the rate limit."
          : `VS800000: The service is unavailable (simulated ${status}).`,
        status === 429 ? "RequestBlockedException" : "ServiceUnavailableException",
      ).json,
  });
  base = sim.url;
  const [defaultOrg] = store.workspaces.values();
  const pat = seed.credentials?.find((c) => c.workspaces.length === 1 && c.workspaces[0] === defaultOrg.id);

  return providerSimulator("azure_devops", sim, store, {
    url: sim.url,
    organization: defaultOrg.slug,
    pat: pat?.token ?? "",
  });
}

/** The generated-resource override applies to the default (first) organization only. */
function withGenerated(seed: SeedFile, generated: number | undefined): SeedFile {
  if (generated === undefined) return seed;
  return { ...seed, workspaces: seed.workspaces.map((w, i) => (i === 0 ? { ...w, generated } : w)) };
}

function basicPassword(header: string): string | null {
  const m = header.match(/^Basic\s+(.+)$/i);
  if (!m) return null;
  const decoded = Buffer.from(m[1].trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon >= 0 ? decoded.slice(colon + 1) : null;
}

function clampInt(value: string | null, fallback: number, lo: number, hi: number): number {
  const n = Number(value);
  return value === null || !Number.isInteger(n) ? fallback : Math.min(hi, Math.max(lo, n));
}

function requirePatch(req: SimRequest): SimReply | null {
  const ctype = String(req.headers["content-type"] ?? "");
  if (!ctype.includes("application/json-patch+json")) {
    return adoError(
      415,
      "VS402388: The request content type is not supported. Use application/json-patch+json for work item changes.",
      "VssRequestContentTypeNotSupportedException",
    );
  }
  if (!Array.isArray(req.body))
    return adoError(
      400,
      "VS403472: The request body must be a JSON Patch document (an array of operations).",
      "InvalidPatchException",
    );
  return null;
}

/**
 * ADO's rule error: `TF401320` naming the field, with the flags and a readable reason in
 * `customProperties` (`RuleValidationErrors` holds one entry per failing field).
 */
function ruleError(field: string, code: string, detail?: string): SimReply {
  const ref = field === "State" ? "System.State" : field === "Title" ? "System.Title" : field;
  const reply = adoError(
    400,
    `TF401320: Rule Error for field ${field}. Error code: ${code}.`,
    "RuleValidationException",
    { errorCode: 600171, eventId: 3200 },
  );
  const body = reply.json as Record<string, unknown>;
  const flags = code.toLowerCase();
  const rule = { fieldReferenceName: ref, fieldStatusFlags: flags, errorMessage: detail ?? body.message };
  reply.json = {
    $id: "1",
    customProperties: {
      FieldReferenceName: ref,
      FieldStatusFlags: flags,
      ErrorMessage: rule.errorMessage,
      RuleValidationErrors: [rule],
    },
    ...body,
  };
  return reply;
}

/**
 * Applies JSON Patch operations on `/fields/...` to a work item of the type in `view`. Returns the store
 * changes and the state written, or an error reply (unknown field, a state the type lacks, bad op).
 */
function applyPatch(
  issue: SimIssue,
  ops: { op?: string; path?: string; value?: unknown }[],
  view: WorkItemView & { def: WorkItemTypeDef },
): { change: Partial<SimIssue>; state: string } | { error: SimReply } {
  const change: Partial<SimIssue> = {};
  let state: string | null = null;
  let tags: string[] | null = null;
  for (const o of ops) {
    const m = /^\/fields\/(.+)$/.exec(o.path ?? "");
    if (!m || !["add", "replace", "remove"].includes(o.op ?? "")) {
      return {
        error: adoError(
          400,
          `VS403471: The operation ${o.op} on ${o.path} is not supported.`,
          "InvalidPatchException",
        ),
      };
    }
    const value = o.op === "remove" ? "" : o.value;
    switch (m[1]) {
      case "System.Title":
        if (typeof value !== "string" || !value.trim()) return { error: ruleError("Title", "InvalidEmpty") };
        if (value.length > 255) return { error: ruleError("Title", "InvalidTooLong") };
        change.title = value;
        break;
      case "System.Description":
        change.body = typeof value === "string" && value ? value : null;
        break;
      case "System.State": {
        const known = view.def.states.find((s) => s.name.toLowerCase() === String(value).toLowerCase());
        if (!known) {
          return {
            error: ruleError(
              "State",
              "Required, HasValues, LimitedToValues, AllowsOldValue, InvalidListValue",
              `The field 'State' contains the value '${String(value)}' that is not in the list of supported values`,
            ),
          };
        }
        state = known.name;
        break;
      }
      case "System.Tags":
        tags = parseTagString(String(value ?? ""));
        break;
      case "Microsoft.VSTS.Common.Priority":
        if (![1, 2, 3, 4].includes(Number(value))) return { error: ruleError("Priority", "LimitedToValues") };
        change.priority = Number(value);
        break;
      case "System.AssignedTo":
        change.assignees = value ? [String(value)] : [];
        break;
      default:
        return {
          error: adoError(400, `TF51535: Cannot find field ${m[1]}.`, "WorkItemFieldInvalidException"),
        };
    }
  }
  const nextState = state ?? view.state;
  // State and tags together carry the store's status and labels (blocked = in progress + the Blocked tag).
  if (state !== null || tags !== null) {
    const nextTags = tags ?? parseTagString(tagString(issue));
    const blocked = nextTags.some((t) => t.toLowerCase() === "blocked");
    change.labels = nextTags.filter((t) => t.toLowerCase() !== "blocked");
    change.status = statusForState(view.def, nextState, blocked);
  }
  return { change, state: nextState };
}
