import { type SimReply, type SimRequest, SimRouter, startSimServer } from "../core/server.ts";
import { mountControlApi, type SeedFile, type SimCredential, SimStore } from "../core/store.ts";
import { type ProviderSimulator, providerSimulator, type SimulatorOptions } from "../core/types.ts";
import {
  complexityOf,
  type DocumentNode,
  execute,
  GqlError,
  type OperationNode,
  parse,
  prepareOperation,
} from "./graphql.ts";
import { mountOAuth, type OAuthApp } from "./oauth.ts";
import { RateLimiter } from "./rate-limit.ts";
import { addTeamLabel, LinearSchema, type LinearSimState, uuidFrom } from "./schema.ts";

/**
 * The Linear simulator: `POST /graphql` answering the operations the Linear adapter sends (see
 * docs/simulators/linear.md), Linear's header-based auth (API key raw, OAuth token as Bearer), its
 * rate-limit and complexity headers, its GraphQL error shapes, and its OAuth endpoints. API and web
 * origins are the same server, so the host's OAuth profile points both `webUrl` and `apiUrl` here.
 */

/** `workspace_labels`: label names per organization id, shared by all its teams. */
type LinearSeed = SeedFile & { oauth_apps?: OAuthApp[]; workspace_labels?: Record<string, string[]> };

const MAX_COMPLEXITY = 10_000;
const AUTH_REQUIRED = "Authentication required, not authenticated";

interface LinearError {
  message: string;
  path?: string[];
  extensions: { type: string; code: string; userError: boolean; userPresentableMessage?: string };
}

const errorBody = (e: GqlError, path?: string[]): { errors: LinearError[] } => ({
  errors: [
    {
      message: e.message,
      ...(path ? { path } : {}),
      extensions: {
        type: e.type,
        code: e.code,
        userError: e.type !== "internal error",
        ...(e.userPresentableMessage ? { userPresentableMessage: e.userPresentableMessage } : {}),
      },
    },
  ],
});

const authError = (message: string) =>
  new GqlError(
    message,
    "authentication error",
    "AUTHENTICATION_ERROR",
    401,
    "You need to authenticate to access this operation.",
  );
const rateLimited = (message: string) =>
  new GqlError(message, "ratelimited", "RATELIMITED", 400, "Rate limit exceeded. Please try again later.");
const forbidden = (message: string) => new GqlError(message, "forbidden", "FORBIDDEN", 403, message);
const internal = () => new GqlError("Internal server error", "internal error", "INTERNAL_SERVER_ERROR", 500);

/** Linear-shaped bodies for injected faults, so a fault looks like the real failure. */
function faultBody(status: number) {
  if (status === 429) return errorBody(rateLimited("Rate limit exceeded"));
  if (status === 400) return errorBody(new GqlError("Bad request", "invalid input", "INVALID_INPUT", 400));
  if (status === 401) return errorBody(authError(AUTH_REQUIRED));
  if (status === 403) return errorBody(forbidden("Forbidden"));
  if (status >= 500) return errorBody(internal());
  return errorBody(new GqlError(`HTTP ${status}`, "unknown", "UNKNOWN", status));
}

/**
 * Who is calling. Linear reads `Authorization: <API key>` for personal keys and
 * `Authorization: Bearer <token>` for OAuth tokens, and rejects the wrong form.
 */
function authenticate(store: SimStore, header: string | string[] | undefined): SimCredential {
  const raw = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!raw) throw authError(AUTH_REQUIRED);
  const bearer = /^Bearer\s+(.+)$/i.exec(raw);
  const token = bearer ? bearer[1].trim() : raw;
  const known = store.credentials.get(token);
  if (bearer && known?.kind === "api_key") {
    throw authError(
      "It looks like you're trying to use an API key as a Bearer token. Remove the Bearer prefix from the Authorization header.",
    );
  }
  if (!bearer && known?.kind === "oauth_access") {
    throw authError("OAuth access tokens must be sent as `Authorization: Bearer <token>`.");
  }
  const checked = store.check(token);
  if (checked === "expired") throw authError("Authentication failed: access token expired");
  if (checked === "missing" || checked === "revoked") throw authError(AUTH_REQUIRED);
  if (checked.kind !== "api_key" && checked.kind !== "oauth_access") throw authError(AUTH_REQUIRED);
  return checked;
}

function rootFields(op: OperationNode): string[] {
  return op.selections.flatMap((s) => (s.kind === "field" ? [s.name] : []));
}

function graphqlHandler(state: LinearSimState, limiter: RateLimiter) {
  return (req: SimRequest): SimReply => {
    let credential: SimCredential;
    try {
      credential = authenticate(state.store, req.headers.authorization);
    } catch (e) {
      const err = e as GqlError;
      return { status: err.httpStatus, headers: limiter.headers("anonymous"), json: errorBody(err) };
    }
    const key = credential.token;
    const body = req.body as { query?: unknown; variables?: unknown; operationName?: unknown } | null;

    let doc: DocumentNode;
    let op: OperationNode;
    let vars: Record<string, unknown>;
    try {
      if (!body || typeof body.query !== "string") {
        throw new GqlError("Must provide query string.", "graphql error", "BAD_REQUEST", 400);
      }
      doc = parse(body.query);
      ({ op, vars } = prepareOperation(
        doc,
        typeof body.operationName === "string" ? body.operationName : null,
        (body.variables ?? {}) as Record<string, unknown>,
      ));
    } catch (e) {
      if (!(e instanceof GqlError)) throw e;
      return { status: e.httpStatus, headers: limiter.headers(key), json: errorBody(e) };
    }

    const roots = rootFields(op);
    const endpoint = roots.includes("searchIssues") ? "searchIssues" : undefined;
    const complexity = complexityOf(op.selections, doc, vars);
    if (complexity > MAX_COMPLEXITY) {
      const e = new GqlError(
        `Query too complex - complexity is ${Math.ceil(complexity)}, maximum allowed is ${MAX_COMPLEXITY}`,
        "invalid input",
        "INVALID_INPUT",
        400,
      );
      return { status: 400, headers: limiter.headers(key, complexity), json: errorBody(e) };
    }
    const verdict = limiter.spend(key, complexity, endpoint);
    if (!verdict.ok)
      return { status: 400, headers: verdict.headers, json: errorBody(rateLimited(verdict.message)) };

    if (op.type === "mutation" && credential.kind === "oauth_access") {
      const scopes = (credential.meta?.scope ?? "").split(/[ ,]+/);
      if (!scopes.includes("write") && !scopes.includes("admin")) {
        const e = forbidden("Invalid scope: `write` required");
        return { status: 403, headers: verdict.headers, json: errorBody(e, roots.slice(0, 1)) };
      }
    }

    const schema = new LinearSchema({ sim: state, credential, orgId: credential.workspaces[0] });
    try {
      const root = op.type === "mutation" ? schema.mutation() : schema.query();
      return { status: 200, headers: verdict.headers, json: { data: execute(root, op, doc, vars) } };
    } catch (e) {
      const err = e instanceof GqlError ? e : internal();
      const path = err.httpStatus === 200 ? roots.slice(0, 1) : undefined;
      return {
        status: err.httpStatus,
        headers: verdict.headers,
        json: { ...errorBody(err, path), ...(err.httpStatus === 200 ? { data: null } : {}) },
      };
    }
  };
}

export async function startLinearSimulator(opts: SimulatorOptions = {}): Promise<ProviderSimulator> {
  const seed = SimStore.readSeed(opts.seedFile ?? new URL("./seed.json", import.meta.url)) as LinearSeed;
  const store = new SimStore({
    generatedPrefix: opts.generatedPrefix,
    newResourceId: (seq) => uuidFrom(`linear-team:${seq}`),
    newIssueId: (seq) => uuidFrom(`linear-issue:${seq}`),
    resourceType: "team",
    // Team keys are short and upper-case; filler teams get T + the sequence in base 36.
    defaultKey: (_name, seq) => `T${seq.toString(36).toUpperCase()}`,
  });
  // The generated-resource override applies to the default organization only.
  const [primary, ...others] = seed.workspaces;
  store.seed({ workspaces: [primary], credentials: seed.credentials }, opts.generatedResources);
  store.seed({ workspaces: others });

  const router = new SimRouter();
  mountControlApi(router, store);
  const sim = await startSimServer({ name: "linear", router, port: opts.port, faultBody });

  const state: LinearSimState = {
    store,
    webUrl: sim.url,
    createdLabels: new Map(),
    workspaceLabels: new Map(Object.entries(seed.workspace_labels ?? {})),
    stateOverride: new Map(),
    defaultWorkflowTeams: new Set(
      seed.workspaces.flatMap((w) =>
        (w.resources ?? [])
          .filter((r) => (r as { workflow?: string }).workflow === "default")
          .map((r) => r.id!),
      ),
    ),
    syncId: 1000,
  };
  const limiter = new RateLimiter();
  router.on("POST", "/graphql", graphqlHandler(state, limiter));
  mountOAuth(router, store, seed.oauth_apps ?? [], () => primary.id);

  // Linear-specific control: shape a credential's rate-limit budget (remaining, reset time).
  router.on("POST", "/_sim/linear/rate-limit", (req) => {
    const b = (req.body ?? {}) as { token?: string; reset?: boolean } & Parameters<RateLimiter["set"]>[1];
    if (b.reset) {
      limiter.reset();
      return { status: 204 };
    }
    if (typeof b.token !== "string") return { status: 400, json: { error: "token is required" } };
    return { json: { headers: limiter.set(b.token, b) } };
  });

  // Linear-specific control: add labels in bulk (a team's when `team_id` is given, else the organization's).
  router.on("POST", "/_sim/linear/labels", (req) => {
    const b = (req.body ?? {}) as { organization_id?: string; team_id?: string; names?: unknown };
    if (!Array.isArray(b.names) || b.names.some((n) => typeof n !== "string" || n.trim() === "")) {
      return { status: 400, json: { error: "names must be a list of non-empty strings" } };
    }
    const names = b.names as string[];
    if (b.team_id) {
      if (store.resources.get(b.team_id)?.type !== "team")
        return { status: 404, json: { error: "no such team" } };
      for (const n of names) addTeamLabel(state, b.team_id, n);
    } else {
      const org = b.organization_id ?? primary.id;
      state.workspaceLabels.set(org, [...(state.workspaceLabels.get(org) ?? []), ...names]);
    }
    return { status: 204 };
  });

  const apiKey = seed.credentials?.find((c) => c.kind === "api_key" && c.workspaces.includes(primary.id));
  const app = seed.oauth_apps?.[0];
  return providerSimulator("linear", sim, store, {
    api_url: sim.url,
    web_url: sim.url,
    api_key: apiKey?.token ?? "",
    organization_id: primary.id,
    oauth_client_id: app?.client_id ?? "",
    oauth_client_secret: app?.client_secret ?? "",
  });
}
