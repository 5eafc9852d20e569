import { OAUTH_PROFILES, type OAuthClientApp } from "../core/oauth.ts";
import {
  ISSUE_KEYS,
  oauthAppFromEnv,
  oauthRedirect,
  type ProviderModule,
  Routing,
  routingV1,
} from "../core/provider.ts";
import { gitlabAdapter } from "./adapter.ts";

export interface GitlabSettings {
  url: string;
  oauth?: OAuthClientApp;
}

export const gitlabProvider: ProviderModule<GitlabSettings> = {
  id: "gitlab",
  displayName: "GitLab",
  adapter: gitlabAdapter,
  settings: {
    fromEnv: (env) => ({
      url: env.GITLAB_URL ?? "https://gitlab.com",
      oauth: oauthAppFromEnv(env, "GITLAB"),
    }),
    urls: (s) => [s.url],
    defaultBaseUrl: (s) => s.url,
  },
  connect: {
    token: {
      kinds: ["private_token", "oauth"],
      noun: "an access token",
      intro:
        "Connect a GitLab group or instance with an access token that can read projects (scope read_api).",
      fields: [
        {
          name: "base_url",
          label: "GitLab URL",
          hint: "Leave empty for the server's default GitLab.",
          type: "url",
        },
        {
          name: "token",
          label: "Access token",
          hint: "Personal, group or project access token.",
          secret: true,
          required: true,
        },
        {
          name: "group_id",
          label: "Group id or path",
          hint: "Optional: discover only this group and its subgroups.",
        },
      ],
      fromForm: (v) => ({
        credential: { kind: "private_token", token: v("token") },
        options: v("group_id") ? { group_id: v("group_id") } : undefined,
      }),
    },
    ...oauthRedirect(OAUTH_PROFILES.gitlab, (s: GitlabSettings) => ({
      webBase: s.url,
      tokenBase: s.url,
      apiBase: s.url,
    })),
  },
  routing: routingV1("gitlab", {
    base_url: Routing.text,
    project_id: Routing.id,
    path_with_namespace: Routing.text,
    namespace_full_path: Routing.maybe,
    name: Routing.text,
    web_url: Routing.maybe,
  }),
  kinds: [
    {
      name: "namespace",
      label: "Namespace",
      values: [
        { value: "user", label: "Personal namespace" },
        { value: "group", label: "Top-level group" },
        { value: "subgroup", label: "Subgroup" },
      ],
      // A subgroup is a group whose full path has a parent (`group/sub`).
      of: (rm) =>
        rm.namespace_kind === "user"
          ? "user"
          : rm.namespace_kind === "group"
            ? String(rm.namespace_full_path ?? "").includes("/")
              ? "subgroup"
              : "group"
            : null,
    },
  ],
  capabilities: { repositoryShaped: true, oneTeamPerWorkspace: false },
  resourceRef: { type: "gitlab_project", id: (rm) => String(rm.path_with_namespace ?? rm.project_id ?? "") },
  issueRefs: {
    keys: [ISSUE_KEYS.pathNumber, ISSUE_KEYS.number],
    urls: [[/^\/(.+)\/-\/(?:issues|work_items)\/(\d+)\/?$/, (m) => `${m[1]}#${m[2]}`]],
  },
  hints: {
    newCredential: "Create a new personal, group or project access token with the `api` scope",
    baseUrl: "the instance URL, e.g. https://gitlab.com or https://gitlab.example.com",
  },
};
