import { OAUTH_PROFILES, type OAuthClientApp } from "../core/oauth.ts";
import {
  fieldKind,
  ISSUE_KEYS,
  oauthAppFromEnv,
  oauthRedirect,
  type ProviderModule,
  Routing,
  routingV1,
} from "../core/provider.ts";
import { jiraAdapter } from "./adapter.ts";

export interface JiraSettings {
  apiUrl: string;
  authUrl: string;
  oauth?: OAuthClientApp;
}

export const jiraProvider: ProviderModule<JiraSettings> = {
  id: "jira",
  displayName: "Jira",
  adapter: jiraAdapter,
  settings: {
    fromEnv: (env) => ({
      apiUrl: env.JIRA_API_URL ?? "https://api.atlassian.com",
      authUrl: env.JIRA_AUTH_URL ?? "https://auth.atlassian.com",
      oauth: oauthAppFromEnv(env, "JIRA"),
    }),
    urls: (s) => [s.apiUrl, s.authUrl],
    // A site URL (API token, Data Center) or the OAuth API host: always explicit.
    defaultBaseUrl: () => null,
  },
  connect: {
    token: {
      kinds: ["basic", "bearer_pat"],
      noun: "an API token or a personal access token",
      intro:
        "Connect a Jira site. Jira Cloud uses your account email and an API token; Data Center uses a personal access token.",
      fields: [
        {
          name: "base_url",
          label: "Site URL",
          hint: "e.g. https://acme.atlassian.net",
          type: "url",
          required: true,
        },
        {
          name: "username",
          label: "Account email",
          hint: "Jira Cloud only. Leave empty for a Data Center personal access token.",
        },
        { name: "token", label: "API token or personal access token", secret: true, required: true },
      ],
      fromForm: (v) => ({
        credential: v("username")
          ? { kind: "basic", username: v("username"), password: v("token") }
          : { kind: "bearer_pat", token: v("token") },
      }),
    },
    ...oauthRedirect(OAUTH_PROFILES.jira, (s: JiraSettings) => ({
      webBase: s.authUrl,
      tokenBase: s.authUrl,
      apiBase: s.apiUrl,
      options: { deployment: "cloud" },
      // One Atlassian grant may reach several sites: the admin picks the site.
      chooseWorkspace: true,
      workspaceOptions: (workspace) => ({ cloud_id: workspace.id }),
    })),
  },
  routing: routingV1("jira", {
    deployment: Routing.text,
    cloud_id: Routing.maybe,
    site_url: Routing.maybe,
    project_id: Routing.id,
    project_key: Routing.text,
    project_name: Routing.text,
  }),
  kinds: [
    fieldKind("project_type", "Project type", "project_type_key", [
      ["software", "Software"],
      ["service_desk", "Service management"],
      ["business", "Business"],
      ["product_discovery", "Product discovery"],
    ]),
  ],
  capabilities: { repositoryShaped: false, oneTeamPerWorkspace: false },
  resourceRef: { type: "jira_project", id: (rm) => String(rm.project_key ?? rm.project_id ?? "") },
  // Data Center may put a context path before /browse/.
  issueRefs: {
    keys: [ISSUE_KEYS.projectKey],
    urls: [[/\/browse\/([A-Za-z][A-Za-z0-9_]*-\d+)\/?$/, (m) => m[1]]],
  },
  hints: {
    newCredential:
      "Create a new API token at id.atlassian.com (Jira Cloud, used with your account email) or a personal access token (Data Center)",
    baseUrl: "the site URL, e.g. https://your-site.atlassian.net, or the Data Center base URL",
  },
};
