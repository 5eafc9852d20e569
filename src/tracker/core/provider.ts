import { type TProperties, type TSchema, Type } from "typebox";
import type { Credential, TrackerAdapter } from "./adapter.ts";
import type { Workspace } from "./descriptor.ts";
import type { HttpClient } from "./http.ts";
import type { OAuthClientApp, OAuthProfile } from "./oauth.ts";

/**
 * A provider, self-described: everything the host and the dashboard need to know about it, so neither
 * names a provider. `S` is the provider's server settings (API locations, this service's registrations),
 * read from the environment by `settings.fromEnv`. Registered with one line in `registry.ts`.
 */
export interface ProviderModule<S = unknown> {
  /** Stable id, stored on every row: `github`, `azure_devops`, ... */
  readonly id: string;
  readonly displayName: string;
  readonly adapter: TrackerAdapter;
  readonly settings: ProviderSettingsSpec<S>;
  readonly connect: ConnectSpec<S>;
  /** The routing metadata this provider's adapter persists on mappings, one TypeBox schema per version. */
  readonly routing: { version: number; schemas: Record<number, TSchema> };
  readonly capabilities: Capabilities;
  /** What the CLI calls a mapped resource (`resource_type` / `resource_id`), from its routing metadata. */
  readonly resourceRef: { type: string; id(routing: Record<string, unknown>): string };
  /** The issue identifiers this provider hands out, so search recognises them in free text. */
  readonly issueRefs: IssueRefForms;
  /** How connect errors tell the admin what to fix. */
  readonly hints: { newCredential: string; baseUrl: string };
  /** Kinds of resource an admin's curation rules can name (GitHub forks, Jira project types, ...). */
  readonly kinds?: ResourceKind[];
}

/**
 * One way a provider sorts its resources, read from what discovery stored in a resource's routing
 * metadata, so a rule applies to resources discovered before it existed.
 */
export interface ResourceKind {
  /** Stable name stored in rules, e.g. `fork`, `project_type`. */
  name: string;
  label: string;
  values: { value: string; label: string }[];
  /** The resource's value, or null when discovery did not record it. */
  of(routing: Record<string, unknown>): string | null;
}

/** A kind from a boolean routing-metadata field: one value when it is true, the other when false. */
export function flagKind(
  name: string,
  label: string,
  field: string,
  whenTrue: [value: string, label: string],
  whenFalse: [value: string, label: string],
): ResourceKind {
  return {
    name,
    label,
    values: [whenTrue, whenFalse].map(([value, l]) => ({ value, label: l })),
    of: (rm) => (typeof rm[field] === "boolean" ? (rm[field] ? whenTrue[0] : whenFalse[0]) : null),
  };
}

/** A kind whose value is a routing-metadata field as stored (lower-cased). */
export function fieldKind(
  name: string,
  label: string,
  field: string,
  values: [value: string, label: string][],
): ResourceKind {
  return {
    name,
    label,
    values: values.map(([value, l]) => ({ value, label: l })),
    of: (rm) => (typeof rm[field] === "string" && rm[field] ? String(rm[field]).toLowerCase() : null),
  };
}

export type Env = Record<string, string | undefined>;

export interface ProviderSettingsSpec<S> {
  fromEnv(env: Env): S;
  /** Every URL the operator configured: trusted by the outbound URL policy as given. */
  urls(s: S): string[];
  /** Where a token connect goes when the admin gives no base URL; null when the admin must always give one. */
  defaultBaseUrl(s: S): string | null;
}

export interface ConnectSpec<S> {
  /** Connect by pasting a credential (API and dashboard form). Absent: only the redirect flow. */
  token?: TokenConnect;
  /**
   * The redirect flow with this server's registration, or a string naming what an operator must
   * configure first. Absent: the provider has no redirect flow.
   */
  redirect?(s: S): RedirectConnect | string;
  /** What the dashboard says an operator must register before the redirect flow works. */
  redirectSetup?: string;
  /**
   * The server's own secrets in a credential (an App's private key): removed before storing, added
   * back before use (a string names what an operator must configure).
   */
  credentials?: {
    storable(c: Credential): Credential;
    complete(s: S, c: Credential): Credential | string;
  };
}

export interface ConnectField {
  name: string;
  label: string;
  hint?: string;
  secret?: boolean;
  required?: boolean;
  type?: "text" | "url";
}

export interface TokenConnect {
  /** Credential kinds an admin may paste; each is checked with a live provider call. */
  kinds: string[];
  /** The credential in words, e.g. "a personal access token". */
  noun: string;
  /** The dashboard form: its introduction and fields (`base_url` among them when the admin may give one). */
  intro: string;
  fields: ConnectField[];
  /** The form's values (already checked against `fields`) as a connect request's credential and options. */
  fromForm(value: (field: string) => string): {
    credential: Record<string, unknown> & { kind: string };
    options?: Record<string, string>;
  };
}

export type RedirectConnect = OAuthConnect | AppInstallConnect;

/** OAuth authorization code (+ PKCE where the profile says so), run by the host. */
export interface OAuthConnect {
  kind: "oauth";
  profile: OAuthProfile;
  app: OAuthClientApp;
  /** Origin of the consent page, of the token endpoint and of the API. */
  webBase: string;
  tokenBase: string;
  apiBase: string;
  options?: Record<string, string>;
  /** When the grant reaches several workspaces the admin must choose one; otherwise the first is taken. */
  chooseWorkspace?: boolean;
  /** Connection options that follow from the granted workspace (Jira's cloud id). */
  workspaceOptions?(workspace: Workspace): Record<string, string>;
}

/**
 * An App this service registered with the provider, installed on an account (the GitHub App). The
 * installation id in a setup redirect is forgeable, so the installing user also authorizes the App and
 * the provider says which installations that user can reach.
 */
export interface AppInstallConnect {
  kind: "app_install";
  userOAuth: OAuthProfile;
  app: OAuthClientApp;
  webBase: string;
  apiBase: string;
  installUrl(state: string): string;
  userInstallations(http: HttpClient, userToken: string): Promise<Workspace[]>;
  userLogin(http: HttpClient, userToken: string): Promise<string | null>;
  /** The credential the adapter uses for one installation. */
  credential(installationId: string): Credential;
}

export interface IssueRefForms {
  /** Whole-text forms of an issue key, e.g. `owner/repo#5`, `PAY-12`. */
  keys: RegExp[];
  /** Issue web pages: a pattern over the URL path and the key it names. */
  urls: [RegExp, (m: RegExpMatchArray) => string][];
}

/** Key shapes several providers share. */
export const ISSUE_KEYS = {
  /** `owner/repo#5`, `group/sub/project#5` */
  pathNumber: /^[\w.-]+(?:\/[\w.-]+)+#\d+$/,
  /** `PAY-12` */
  projectKey: /^[A-Za-z][A-Za-z0-9_]{0,19}-\d+$/,
  /** `5` (an issue number or work item id) */
  number: /^\d+$/,
};

export interface Capabilities {
  /** Resources are repositories with a full path, so a CLI's repo slug is evidence for binding. */
  repositoryShaped: boolean;
  /** A workspace is one grant that belongs to one team (a GitHub App installation). */
  oneTeamPerWorkspace: boolean;
  /** Issues are grouped by team keys: search results carry the mapped team (from routing metadata). */
  searchTeam?(routing: Record<string, unknown>): { key: string; name: string } | null;
}

/** The OAuth app of `PREFIX_OAUTH_CLIENT_ID` / `PREFIX_OAUTH_CLIENT_SECRET`, when both are set. */
export function oauthAppFromEnv(env: Env, prefix: string): OAuthClientApp | undefined {
  const clientId = env[`${prefix}_OAUTH_CLIENT_ID`];
  const clientSecret = env[`${prefix}_OAUTH_CLIENT_SECRET`];
  return clientId && clientSecret ? { clientId, clientSecret } : undefined;
}

/** What an OAuth provider's redirect answers when the operator registered no OAuth app. */
export const OAUTH_APP_MISSING = "OAuth app (client id and secret)";

/** Field types of routing-metadata schemas: ids may be numbers or strings; display fields may be null. */
export const Routing = {
  id: Type.Union([Type.String({ minLength: 1 }), Type.Integer()]),
  text: Type.String(),
  maybe: Type.Union([Type.String(), Type.Null()]),
};

/**
 * A provider's first (and so far only) routing-metadata version: the schema every provider starts from,
 * `provider` and `version` tagging the object, followed by the provider's own fields.
 */
export function routingV1(provider: string, fields: TProperties): ProviderModule["routing"] {
  return {
    version: 1,
    schemas: {
      1: Type.Object({ provider: Type.Literal(provider), version: Type.Literal(1), ...fields }),
    },
  };
}

/** Where an OAuth provider's consent page, token endpoint and API live, plus its profile's extras. */
type OAuthPlace = Omit<OAuthConnect, "kind" | "profile" | "app">;

/**
 * The redirect flow of a provider connected with a plain OAuth app (`PREFIX_OAUTH_CLIENT_ID/SECRET`):
 * the app from the settings, or what the operator must configure while it is missing.
 */
export function oauthRedirect<S extends { oauth?: OAuthClientApp }>(
  profile: OAuthProfile,
  place: (s: S) => OAuthPlace,
): Pick<ConnectSpec<S>, "redirect" | "redirectSetup"> {
  return {
    redirect: (s) => (s.oauth ? { kind: "oauth", profile, app: s.oauth, ...place(s) } : OAUTH_APP_MISSING),
    redirectSetup: "OAuth app",
  };
}
