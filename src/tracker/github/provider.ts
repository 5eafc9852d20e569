import type { Credential } from "../core/adapter.ts";
import type { OAuthClientApp } from "../core/oauth.ts";
import {
  type Env,
  fieldKind,
  flagKind,
  ISSUE_KEYS,
  type ProviderModule,
  Routing,
  routingV1,
} from "../core/provider.ts";
import { githubAdapter } from "./adapter.ts";
import { GITHUB_USER_OAUTH, githubInstallUrl, userInstallations, userLogin } from "./user-auth.ts";

/**
 * This service's GitHub App registration. The App's OAuth client lets the installing user authorize
 * the App, which is how an installation's ownership is checked.
 */
export interface GithubApp {
  id: string;
  slug: string;
  privateKeyPem: string;
  oauth?: OAuthClientApp;
  /** The App's webhook secret (`GITHUB_APP_WEBHOOK_SECRET`): GitHub signs every App delivery with it. */
  webhookSecret?: string;
}

export interface GithubSettings {
  apiUrl: string;
  webUrl: string;
  app?: GithubApp;
}

function appFromEnv(env: Env): GithubApp | undefined {
  if (!env.GITHUB_APP_ID || !env.GITHUB_APP_PRIVATE_KEY) return undefined;
  const oauth =
    env.GITHUB_APP_CLIENT_ID && env.GITHUB_APP_CLIENT_SECRET
      ? { clientId: env.GITHUB_APP_CLIENT_ID, clientSecret: env.GITHUB_APP_CLIENT_SECRET }
      : undefined;
  return {
    id: env.GITHUB_APP_ID,
    slug: env.GITHUB_APP_SLUG ?? "spec-kitty",
    privateKeyPem: env.GITHUB_APP_PRIVATE_KEY.replace(/\\n/g, "\n"),
    oauth,
    ...(env.GITHUB_APP_WEBHOOK_SECRET ? { webhookSecret: env.GITHUB_APP_WEBHOOK_SECRET } : {}),
  };
}

const APP_MISSING = "App registration (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY)";

export const githubProvider: ProviderModule<GithubSettings> = {
  id: "github",
  displayName: "GitHub",
  adapter: githubAdapter,
  settings: {
    fromEnv: (env) => ({
      apiUrl: env.GITHUB_API_URL ?? "https://api.github.com",
      webUrl: env.GITHUB_WEB_URL ?? "https://github.com",
      app: appFromEnv(env),
    }),
    urls: (s) => [s.apiUrl, s.webUrl],
    defaultBaseUrl: (s) => s.apiUrl,
  },
  connect: {
    // No token connect: only the App install flow proves the user can access the installation.
    redirect(s) {
      const app = s.app;
      if (!app) return APP_MISSING;
      if (!app.oauth) return "App user authorization (GITHUB_APP_CLIENT_ID, GITHUB_APP_CLIENT_SECRET)";
      return {
        kind: "app_install",
        userOAuth: GITHUB_USER_OAUTH,
        app: app.oauth,
        webBase: s.webUrl,
        apiBase: s.apiUrl,
        installUrl: (state) => githubInstallUrl(s.webUrl, app.slug, state),
        userInstallations: (http, token) => userInstallations(http, s.apiUrl, token),
        userLogin: (http, token) => userLogin(http, s.apiUrl, token),
        credential: (installation_id) => ({
          kind: "github_app",
          app_id: app.id,
          private_key_pem: app.privateKeyPem,
          installation_id,
        }),
      };
    },
    redirectSetup:
      "GitHub App (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_APP_CLIENT_ID, GITHUB_APP_CLIENT_SECRET)",
    // The App's private key belongs to the server's registration, not to each installation row.
    credentials: {
      storable: (c) =>
        c?.kind === "github_app" ? ({ kind: "github_app", installation_id: c.installation_id } as never) : c,
      complete(s, c): Credential | string {
        if (c?.kind !== "github_app") return c;
        if (!s.app) return APP_MISSING;
        return { ...c, app_id: s.app.id, private_key_pem: s.app.privateKeyPem };
      },
    },
  },
  routing: routingV1("github", {
    installation_id: Routing.id,
    repo_id: Routing.id,
    owner: Routing.text,
    name: Routing.text,
    full_name: Routing.text,
    html_url: Routing.maybe,
    api_base_url: Routing.text,
  }),
  kinds: [
    fieldKind("visibility", "Visibility", "visibility", [
      ["public", "Public"],
      ["private", "Private"],
      ["internal", "Internal"],
    ]),
    // Recorded since issue 20: a repository discovered before has no value until its next sync.
    flagKind("fork", "Fork", "fork", ["fork", "A fork"], ["source", "Not a fork"]),
  ],
  capabilities: { repositoryShaped: true, oneTeamPerWorkspace: true },
  resourceRef: { type: "github_repo", id: (rm) => String(rm.full_name ?? rm.repo_id ?? "") },
  issueRefs: {
    keys: [ISSUE_KEYS.pathNumber, ISSUE_KEYS.number],
    urls: [[/^\/([\w.-]+)\/([\w.-]+)\/issues\/(\d+)\/?$/, (m) => `${m[1]}/${m[2]}#${m[3]}`]],
  },
  hints: {
    newCredential: "Install the App on the account again",
    baseUrl: "the GitHub API URL, e.g. https://api.github.com",
  },
};
