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

export const ADO_RULES: ProviderHttpRules = { provider: PROVIDER, classify, retryAfterSeconds };

export function adoRequest<T>(
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
