import type {
  BindableResource,
  ConnectorParams,
  ProviderId,
  RoutingMetadata,
  Workspace,
} from "./descriptor.ts";
import type { TrackerErrorKind } from "./errors.ts";
import type { HttpClient } from "./http.ts";

/**
 * Credentials as the host decrypts them from an installation record. The library uses them and
 * never returns or logs them.
 */
export type Credential =
  | { kind: "github_app"; app_id: string; private_key_pem: string; installation_id: string }
  | { kind: "oauth"; access_token: string }
  | { kind: "bearer_pat"; token: string }
  | { kind: "private_token"; token: string }
  | { kind: "basic"; username: string; password: string }
  | { kind: "api_key"; api_key: string };

/**
 * The `Authorization: Bearer` header of a credential that is a bearer token (an OAuth access token, a
 * bearer personal access token); null for the other kinds, which each provider sends its own way.
 */
export function bearerHeaders(c: Credential): { authorization: string } | null {
  if (c.kind === "oauth") return { authorization: `Bearer ${c.access_token}` };
  if (c.kind === "bearer_pat") return { authorization: `Bearer ${c.token}` };
  return null;
}

/** Where an adapter talks to: API base URL plus optional provider extras (Jira cloud id or site, GitLab group...). */
export interface Connection {
  /** API base URL, e.g. `https://api.github.com`, `https://gitlab.com`, `https://api.atlassian.com`. */
  base_url: string;
  credential: Credential;
  /** Provider-specific scope of discovery: GitLab group id, Jira cloud id / site URL, ADO organization. */
  options?: Record<string, string>;
  /** The HTTP client (retry policy, timeouts) to use; adapters fall back to `defaultHttpClient()` when absent. */
  http?: HttpClient;
}

/** One page of a discovery stream. */
export interface ResourcePage {
  resources: BindableResource[];
}

/** Result of a whole pass. `complete: false` means the pass stopped early and must not mark anything missing. */
export interface DiscoveryOutcome {
  complete: boolean;
  pages: number;
  count: number;
  truncated?: { reason: TrackerErrorKind | "page_limit"; message: string };
}

/** The contract's normalised issue statuses and types: every adapter maps its provider's onto these. */
export const ISSUE_STATUSES = ["todo", "in_progress", "in_review", "blocked", "done", "canceled"] as const;
export type IssueStatus = (typeof ISSUE_STATUSES)[number];
export const ISSUE_TYPES = ["epic", "story", "task", "bug", "chore", "subtask"] as const;
export type IssueType = (typeof ISSUE_TYPES)[number];

/** The normalised issue of the CLI contract §4. */
export interface NormalizedIssue {
  ref: { system: ProviderId; id: string; workspace: string; key: string | null; url: string | null };
  title: string;
  body: string | null;
  status: IssueStatus;
  issue_type: IssueType;
  priority: number;
  assignees: string[];
  labels: string[];
  created_at: string | null;
  updated_at: string | null;
  provider_metadata: Record<string, unknown>;
}

export interface IssuePage {
  issues: NormalizedIssue[];
  next_cursor: string | null;
}

export interface IssueDraft {
  title: string;
  body?: string | null;
  status?: IssueStatus;
  labels?: string[];
  /**
   * An opaque token the adapter stores with the issue where people do not see it (core/marker.ts), so
   * `findByMarker` can find the issue when the create's answer was lost.
   */
  marker?: string;
}

export interface IssuePatch {
  title?: string;
  body?: string | null;
  status?: IssueStatus;
  labels?: string[];
}

/**
 * A provider adapter. Adding a provider = one folder implementing this + one registry entry.
 * `params` for issue operations are the connector params of the descriptor (rebuilt by the host from routing metadata).
 */
export interface TrackerAdapter {
  readonly provider: ProviderId;
  /** Workspaces visible to the credential (a GitHub installation, Jira sites, the Linear org, ...). */
  listWorkspaces(conn: Connection): Promise<Workspace[]>;
  /** Streams every bindable resource of one workspace page by page. Throws TrackerError on failure. */
  discover(conn: Connection, workspace: Workspace): AsyncIterable<ResourcePage>;
  /**
   * Connector params rebuilt from a mapping's persisted routing metadata, so runtime calls act on the
   * mapped resource without asking the provider (or the inventory) again.
   */
  connectorParams(routing: RoutingMetadata): ConnectorParams;
  /** One resource by its provider-native immutable id (refresh, admin repair path). Null when it does not exist. */
  getResource(conn: Connection, workspace: Workspace, nativeId: string): Promise<BindableResource | null>;

  listIssues(
    conn: Connection,
    params: BindableResource["connector_params"],
    opts: { cursor?: string | null; limit: number },
  ): Promise<IssuePage>;
  /**
   * Issues matching a key or text. `onIncomplete` is called when the provider says its search stopped
   * before looking at everything (GitHub's `incomplete_results` after its time limit).
   */
  searchIssues(
    conn: Connection,
    params: BindableResource["connector_params"],
    query: { key?: string; text?: string; limit: number; onIncomplete?: () => void },
  ): Promise<NormalizedIssue[]>;
  getIssue(
    conn: Connection,
    params: BindableResource["connector_params"],
    idOrKey: string,
  ): Promise<NormalizedIssue | null>;
  createIssue(
    conn: Connection,
    params: BindableResource["connector_params"],
    draft: IssueDraft,
  ): Promise<NormalizedIssue>;
  updateIssue(
    conn: Connection,
    params: BindableResource["connector_params"],
    idOrKey: string,
    patch: IssuePatch,
  ): Promise<NormalizedIssue>;
  /**
   * The issue created with `marker` (`IssueDraft.marker`), among the resource's most recently created
   * issues, read in a way that sees an issue the moment it is created (a list, not a search index).
   * Null when there is none. Absent for a provider that cannot store a marker.
   */
  findByMarker?(
    conn: Connection,
    params: BindableResource["connector_params"],
    marker: string,
  ): Promise<NormalizedIssue | null>;
}
