import { OAUTH_PROFILES, type OAuthClientApp } from "../core/oauth.ts";
import {
  flagKind,
  ISSUE_KEYS,
  oauthAppFromEnv,
  oauthRedirect,
  type ProviderModule,
  Routing,
  routingV1,
} from "../core/provider.ts";
import { linearAdapter } from "./adapter.ts";

export interface LinearSettings {
  apiUrl: string;
  webUrl: string;
  oauth?: OAuthClientApp;
}

export const linearProvider: ProviderModule<LinearSettings> = {
  id: "linear",
  displayName: "Linear",
  adapter: linearAdapter,
  settings: {
    fromEnv: (env) => ({
      apiUrl: env.LINEAR_API_URL ?? "https://api.linear.app",
      webUrl: env.LINEAR_WEB_URL ?? "https://linear.app",
      oauth: oauthAppFromEnv(env, "LINEAR"),
    }),
    urls: (s) => [s.apiUrl, s.webUrl],
    defaultBaseUrl: (s) => s.apiUrl,
  },
  connect: {
    token: {
      kinds: ["api_key"],
      noun: "a personal API key",
      intro: "Connect a Linear workspace with a personal API key (Settings → Security & access).",
      fields: [
        { name: "api_key", label: "API key", secret: true, required: true },
        {
          name: "base_url",
          label: "API URL",
          hint: "Leave empty for the server's default Linear API.",
          type: "url",
        },
      ],
      fromForm: (v) => ({ credential: { kind: "api_key", api_key: v("api_key") } }),
    },
    ...oauthRedirect(OAUTH_PROFILES.linear, (s: LinearSettings) => ({
      webBase: s.webUrl,
      tokenBase: s.apiUrl,
      apiBase: s.apiUrl,
    })),
  },
  routing: routingV1("linear", {
    organization_id: Routing.text,
    organization_name: Routing.text,
    url_key: Routing.maybe,
    team_id: Routing.text,
    team_key: Routing.text,
    team_name: Routing.text,
  }),
  kinds: [
    flagKind("visibility", "Visibility", "private", ["private", "Private team"], ["public", "Public team"]),
  ],
  capabilities: {
    repositoryShaped: false,
    oneTeamPerWorkspace: false,
    searchTeam: (rm) =>
      typeof rm.team_key === "string"
        ? { key: rm.team_key, name: String(rm.team_name ?? rm.team_key) }
        : null,
  },
  resourceRef: { type: "linear_team", id: (rm) => String(rm.team_id ?? "") },
  issueRefs: {
    keys: [ISSUE_KEYS.projectKey],
    urls: [[/^\/[\w.-]+\/issue\/([A-Za-z][A-Za-z0-9_]*-\d+)(?:\/[^/]*)?$/, (m) => m[1]]],
  },
  hints: {
    newCredential: "Create a new personal API key in Linear (Settings → Security & access)",
    baseUrl: "https://api.linear.app",
  },
};
