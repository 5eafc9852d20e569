import type { Connection } from "../core/adapter.ts";
import type { Workspace } from "../core/descriptor.ts";
import { TrackerError, type TrackerErrorKind } from "../core/errors.ts";
import { type HttpResponse, httpFor, type ProviderHttpRules, parseRetryAfterHeader } from "../core/http.ts";

/**
 * Azure DevOps Services REST 7.1 transport: PAT as Basic auth, the organization in the path,
 * `api-version` on every call, and failure classification from ADO's own signals.
 */

export const PROVIDER = "azure_devops";
export const API_VERSION = "7.1";
/** Resources ADO still ships as preview (connectionData, feature management) need the suffix. */
export const API_VERSION_PREVIEW = "7.1-preview.1";

/** ADO's error body: `{"$id","message":"VS800075: ...","typeName","typeKey","errorCode","eventId"}`. */
export function isAdoErrorBody(body: unknown): boolean {
  const b = body as { message?: unknown; typeKey?: unknown } | null;
  return (
    typeof b === "object" &&
    b !== null &&
    (typeof b.typeKey === "string" || /^(TF|VS)\d+:/.test(String(b.message ?? "")))
  );
}

export function malformed(what: string): TrackerError {
  return new TrackerError("malformed_response", PROVIDER, `azure_devops answered with an unexpected ${what}`);
}

export function invalid(message: string): TrackerError {
  return new TrackerError("invalid_request", PROVIDER, message);
}

/** `https://dev.azure.com` without a trailing slash. */
export function serviceBase(conn: Pick<Connection, "base_url">): string {
  return conn.base_url.replace(/\/+$/, "");
}

/** The organization of a connection (workspace details win: they were read back from the provider). */
export function organizationOf(conn: Connection, workspace?: Workspace): string {
  const fromWorkspace = workspace?.details.organization;
  const org = typeof fromWorkspace === "string" && fromWorkspace ? fromWorkspace : conn.options?.organization;
  if (!org?.trim()) {
    throw invalid(
      "azure_devops needs options.organization (the name in https://dev.azure.com/{organization})",
    );
  }
  if (/[/?#\s]/.test(org.trim())) throw invalid("azure_devops organization must be a bare name, not a URL");
  return org.trim();
}

/** `{base}/{org}{path}?...&api-version=...`; `path` starts with `/`. */
export function adoUrl(
  conn: Pick<Connection, "base_url">,
  org: string,
  path: string,
  query: Record<string, string | number | undefined> = {},
  apiVersion = API_VERSION,
): string {
  const url = new URL(`${serviceBase(conn)}/${encodeURIComponent(org)}${path}`);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
  url.searchParams.set("api-version", apiVersion);
  return url.toString();
}

/**
 * ADO takes a PAT as HTTP Basic with an empty user name. `X-TFS-FedAuthRedirect: Suppress` asks it to
 * answer a bad credential with a plain 401 instead of a 203 + HTML sign-in page.
 */
function authHeaders(conn: Connection): Record<string, string> {
  const c = conn.credential;
  if (c.kind !== "bearer_pat") {
    throw invalid(`azure_devops connects with a personal access token, not ${c.kind} credentials`);
  }
  return {
    authorization: `Basic ${Buffer.from(`:${c.token}`).toString("base64")}`,
    "x-tfs-fedauthredirect": "Suppress",
  };
}

/**
 * - 203 Non-Authoritative (an HTML sign-in page) or a redirect to sign-in: the credential was not
 *   accepted. ADO does this without the Suppress header; it is never a success.
 * - 401 whose message (body or `X-TFS-ServiceError`) says the PAT "has expired" → auth_expired; any
 *   other 401 (revoked, deleted, mistyped, wrong organization) → auth_revoked: a PAT cannot be renewed.
 * - The rest falls through to the core defaults (403, 404, 429, 5xx, other 4xx → invalid_request).
 */
function classify(res: Response, body: unknown): TrackerErrorKind | null {
  if (res.status === 203) return "auth_expired";
  if (
    res.status >= 300 &&
    res.status < 400 &&
    /signin|login|_signin/i.test(res.headers.get("location") ?? "")
  ) {
    return "auth_expired";
  }
  if (res.status !== 401) return null;
  const message = String((body as { message?: unknown } | null)?.message ?? "");
  const serviceError = decodeHeader(res.headers.get("x-tfs-serviceerror"));
  return /expired/i.test(`${message} ${serviceError}`) ? "auth_expired" : "auth_revoked";
}

function decodeHeader(value: string | null): string {
  if (!value) return "";
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * `Retry-After` (seconds) on a 429; otherwise `X-RateLimit-Reset` (epoch seconds) or `X-RateLimit-Delay`.
 * ADO also sends the X-RateLimit-* headers on successful but delayed answers; only a 429 is a refusal.
 */
function retryAfterSeconds(res: Response): number | null {
  const retryAfter = parseRetryAfterHeader(res.headers.get("retry-after"));
  if (retryAfter !== null || res.status !== 429) return retryAfter;
  const reset = res.headers.get("x-ratelimit-reset");
  if (reset && Number.isFinite(Number(reset)))
    return Math.max(0, Math.ceil(Number(reset) - Date.now() / 1000));
  const delay = res.headers.get("x-ratelimit-delay");
  return delay && Number.isFinite(Number(delay)) ? Math.max(0, Number(delay)) : null;
}

/** 4xx answers whose body says why (TF/VS messages). */
const EXPLAINED = [400, 404, 409];

export const ADO_RULES: ProviderHttpRules = {
  provider: PROVIDER,
  classify,
  retryAfterSeconds,
  reason: (res, body) => (EXPLAINED.includes(res.status) ? reasonOf(body) : null),
};

export async function adoRequest<T>(
  conn: Connection,
  req: {
    method?: string;
    url: string;
    json?: unknown;
    okStatuses?: number[];
    jsonPatch?: boolean;
    idempotent?: boolean;
  },
): Promise<HttpResponse<T>> {
  const headers = authHeaders(conn);
  // Work item create/update take RFC 6902 JSON Patch; the core client keeps a content-type set here.
  if (req.jsonPatch) headers["content-type"] = "application/json-patch+json";
  const { jsonPatch: _, ...rest } = req;
  return httpFor(conn).request<T>(ADO_RULES, { ...rest, headers });
}

/**
 * ADO's own message (`TF401320: Rule Error for field State. ...`), with the reason it gives per field
 * (the core client removes credentials and token-shaped text from it, as for every provider).
 */
function reasonOf(body: unknown): string | null {
  const b = body as { message?: unknown; customProperties?: { ErrorMessage?: unknown } } | null;
  if (typeof b?.message !== "string" || !b.message.trim()) return null;
  const detail = b.customProperties?.ErrorMessage;
  return typeof detail === "string" && detail && !b.message.includes(detail)
    ? `${b.message} ${detail}`
    : b.message;
}

/** The organization under this name is gone (renamed or deleted): ADO's `VS800075`. */
export function isOrganizationMissing(err: unknown): boolean {
  return err instanceof TrackerError && err.kind === "not_found" && /^VS800075\b/.test(err.reason ?? "");
}

/** The core resource area: its location for an organization is the organization's base URL. */
const CORE_AREA = "79134C72-4A58-4B42-976C-04E7115F32BF";

/**
 * The current name of the organization with this id (Resource Areas by `hostId`, which needs no
 * credential), or null where the server has no such lookup (Azure DevOps Server) or no such organization.
 */
export async function organizationNameById(conn: Connection, instanceId: string): Promise<string | null> {
  const url = new URL(`${serviceBase(conn)}/_apis/resourceAreas/${CORE_AREA}`);
  url.searchParams.set("hostId", instanceId);
  url.searchParams.set("api-version", API_VERSION_PREVIEW);
  const res = await adoRequest<unknown>(conn, { url: url.toString(), okStatuses: [404, 400] });
  const location = (res.body as { locationUrl?: unknown } | null)?.locationUrl;
  if (res.status !== 200 || typeof location !== "string") return null;
  return organizationInUrl(conn, location);
}

/** `https://dev.azure.com/{org}/` or the legacy `https://{org}.visualstudio.com/` → the org name. */
function organizationInUrl(conn: Connection, location: string): string | null {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return null;
  }
  const legacy = /^([^.]+)\.visualstudio\.com$/i.exec(url.hostname);
  if (legacy) return legacy[1];
  const base = new URL(serviceBase(conn));
  if (url.host.toLowerCase() !== base.host.toLowerCase()) return null;
  const rest = url.pathname.slice(base.pathname.replace(/\/+$/, "").length).split("/").filter(Boolean);
  return rest[0] ? decodeURIComponent(rest[0]) : null;
}

/** Runs `fn` over `items` with at most `limit` calls in flight, keeping the input order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
