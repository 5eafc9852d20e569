import type { ProviderId } from "../../tracker/index.ts";
import { providerNotConfigured } from "./errors.ts";

/** Server-side provider settings: API locations and the service's own OAuth / GitHub App registrations. */
export interface OAuthApp {
  clientId: string;
  clientSecret: string;
}

/**
 * The service's GitHub App registration. The OAuth client of the App (its client id and secret) lets the
 * installing user authorize the App, which is how an installation's ownership is checked.
 */
export interface GithubApp {
  id: string;
  slug: string;
  privateKeyPem: string;
  oauth?: OAuthApp;
}

export interface ProviderSettings {
  github: { apiUrl: string; webUrl: string; app?: GithubApp };
  gitlab: { url: string; oauth?: OAuthApp };
  jira: { apiUrl: string; authUrl: string; oauth?: OAuthApp };
  linear: { apiUrl: string; webUrl: string; oauth?: OAuthApp };
  azure_devops: { url: string };
}

const oauthFrom = (env: NodeJS.ProcessEnv, prefix: string): OAuthApp | undefined =>
  env[`${prefix}_OAUTH_CLIENT_ID`] && env[`${prefix}_OAUTH_CLIENT_SECRET`]
    ? { clientId: env[`${prefix}_OAUTH_CLIENT_ID`]!, clientSecret: env[`${prefix}_OAUTH_CLIENT_SECRET`]! }
    : undefined;

export function providerSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ProviderSettings {
  return {
    github: {
      apiUrl: env.GITHUB_API_URL ?? "https://api.github.com",
      webUrl: env.GITHUB_WEB_URL ?? "https://github.com",
      app:
        env.GITHUB_APP_ID && env.GITHUB_APP_PRIVATE_KEY
          ? {
              id: env.GITHUB_APP_ID,
              slug: env.GITHUB_APP_SLUG ?? "spec-kitty",
              privateKeyPem: env.GITHUB_APP_PRIVATE_KEY.replace(/\\n/g, "\n"),
              oauth:
                env.GITHUB_APP_CLIENT_ID && env.GITHUB_APP_CLIENT_SECRET
                  ? { clientId: env.GITHUB_APP_CLIENT_ID, clientSecret: env.GITHUB_APP_CLIENT_SECRET }
                  : undefined,
            }
          : undefined,
    },
    gitlab: { url: env.GITLAB_URL ?? "https://gitlab.com", oauth: oauthFrom(env, "GITLAB") },
    jira: {
      apiUrl: env.JIRA_API_URL ?? "https://api.atlassian.com",
      authUrl: env.JIRA_AUTH_URL ?? "https://auth.atlassian.com",
      oauth: oauthFrom(env, "JIRA"),
    },
    linear: {
      apiUrl: env.LINEAR_API_URL ?? "https://api.linear.app",
      webUrl: env.LINEAR_WEB_URL ?? "https://linear.app",
      oauth: oauthFrom(env, "LINEAR"),
    },
    azure_devops: { url: env.AZURE_DEVOPS_URL ?? "https://dev.azure.com" },
  };
}

/** Every provider URL the operator configured: trusted by the outbound URL policy as given. */
export function configuredProviderUrls(settings: ProviderSettings): string[] {
  return [
    settings.github.apiUrl,
    settings.github.webUrl,
    settings.gitlab.url,
    settings.jira.apiUrl,
    settings.jira.authUrl,
    settings.linear.apiUrl,
    settings.linear.webUrl,
    settings.azure_devops.url,
  ];
}

/** Where a token-based connect sends its first call when the admin gives no base URL. */
export function defaultBaseUrl(settings: ProviderSettings, provider: ProviderId): string | null {
  switch (provider) {
    case "github":
      return settings.github.apiUrl;
    case "gitlab":
      return settings.gitlab.url;
    case "jira":
      return null; // a site URL (API token, Data Center) or the OAuth API host: always explicit
    case "linear":
      return settings.linear.apiUrl;
    case "azure_devops":
      return settings.azure_devops.url;
  }
}

/** Credential kinds an admin may paste for a token-based connect, per provider. */
export const TOKEN_CONNECT_KINDS: Record<ProviderId, string[]> = {
  github: [], // only through the App install flow, which proves the user can access the installation
  gitlab: ["private_token", "oauth"],
  jira: ["basic", "bearer_pat"],
  linear: ["api_key"],
  azure_devops: ["bearer_pat"],
};

export type OAuthProvider = "gitlab" | "jira" | "linear";

interface OAuthEndpoints {
  app: OAuthApp;
  webBase: string;
  tokenBase: string;
  apiBase: string;
  options?: Record<string, string>;
}

export function oauthEndpoints(settings: ProviderSettings, provider: OAuthProvider): OAuthEndpoints {
  const s = settings[provider];
  if (!s.oauth) throw providerNotConfigured(provider, "OAuth app (client id and secret)");
  switch (provider) {
    case "gitlab":
      return {
        app: s.oauth,
        webBase: settings.gitlab.url,
        tokenBase: settings.gitlab.url,
        apiBase: settings.gitlab.url,
      };
    case "jira":
      return {
        app: s.oauth,
        webBase: settings.jira.authUrl,
        tokenBase: settings.jira.authUrl,
        apiBase: settings.jira.apiUrl,
        options: { deployment: "cloud" },
      };
    case "linear":
      return {
        app: s.oauth,
        webBase: settings.linear.webUrl,
        tokenBase: settings.linear.apiUrl,
        apiBase: settings.linear.apiUrl,
      };
  }
}

/** The origin of a provider's consent page: the dashboard's connect form is redirected there. */
export function authorizeOrigin(settings: ProviderSettings, provider: ProviderId): string | null {
  const web: Record<ProviderId, string | null> = {
    github: settings.github.webUrl,
    gitlab: settings.gitlab.url,
    jira: settings.jira.authUrl,
    linear: settings.linear.webUrl,
    azure_devops: null,
  };
  return web[provider] ? new URL(web[provider]!).origin : null;
}
