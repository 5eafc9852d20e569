/**
 * The provider-neutral bindable-resource descriptor: what the tracker library hands the host.
 * Four things are kept apart on purpose (DESIGN §3): identity never changes on rename, display
 * always does, connector params carry no secrets, routing metadata is versioned per provider.
 */

/** A provider's id as the registry knows it (`github`, `azure_devops`, ...); see `registry.ts`. */
export type ProviderId = string;

/** Stable identity. `resource_key` is derived from the other fields by `resourceKey()`. */
export interface ResourceIdentity {
  provider: ProviderId;
  /** Lower-cased host of the provider API or site, e.g. `api.github.com`, `gitlab.example.com`, `acme.atlassian.net`. */
  host: string;
  /** Immutable id of the workspace the resource lives in (GitHub installation id, Jira cloud id, Linear org id, ...). */
  workspace_id: string;
  /** e.g. `repository`, `project`, `team`. */
  resource_type: string;
  /** Provider-native immutable id (repo id, project id, team id, project GUID). Never a key, name or path. */
  native_id: string;
  resource_key: string;
}

/** Renameable display fields, refreshed on every discovery pass. */
export interface ResourceDisplay {
  /** Human label for pickers and the CLI, e.g. `acme/api`, `Payments (PAY)`. */
  label: string;
  key: string | null;
  name: string;
  full_path: string | null;
  web_url: string | null;
  /** Display strings for the CLI; always contains `workspace_name`. */
  context: Record<string, string> & { workspace_name: string };
}

export interface ResourceFlags {
  archived: boolean;
  issues_disabled: boolean;
}

/** What a hosted connector needs to act on the resource. Never credentials. */
export type ConnectorParams = Record<string, string | number | boolean | null>;

/** Persisted on mappings so the host can rebuild params and labels later without the provider. */
export interface RoutingMetadata {
  provider: ProviderId;
  version: number;
  [field: string]: unknown;
}

export interface BindableResource {
  identity: ResourceIdentity;
  display: ResourceDisplay;
  flags: ResourceFlags;
  connector_params: ConnectorParams;
  routing_metadata: RoutingMetadata;
}

export interface Workspace {
  provider: ProviderId;
  host: string;
  /** Immutable id (GitHub installation id, GitLab group id or `instance`, Jira cloud id, Linear org id, ADO org name). */
  id: string;
  name: string;
  url: string | null;
  /** Provider extras, e.g. GitHub `repository_selection`, Jira site URL, Linear url key. */
  details: Record<string, string | number | boolean | null>;
}

export function resourceKey(parts: Omit<ResourceIdentity, "resource_key">): string {
  return [parts.provider, parts.host.toLowerCase(), parts.workspace_id, parts.resource_type, parts.native_id]
    .map((p) => encodeURIComponent(p))
    .join(":");
}

export function identity(parts: Omit<ResourceIdentity, "resource_key">): ResourceIdentity {
  return { ...parts, host: parts.host.toLowerCase(), resource_key: resourceKey(parts) };
}

export function hostOf(url: string): string {
  return new URL(url).host.toLowerCase();
}
