import { randomBytes } from "node:crypto";
import {
  adapterFor,
  buildAuthorizeUrl,
  type Connection,
  exchangeCode,
  type HttpClient,
  newPkcePair,
  OAUTH_PROFILES,
  type ProviderId,
} from "../../tracker/index.ts";
import type { AuthContext } from "../http/auth.ts";
import { ValidationError } from "../http/errors.ts";
import { callProvider } from "../http/provider-errors.ts";
import { connectStateInvalid, providerNotConfigured } from "./errors.ts";
import type { InstallationsService } from "./service.ts";
import { oauthEndpoints, type ProviderSettings } from "./settings.ts";

const STATE_TTL_MS = 10 * 60_000;

/**
 * Connect flows as the providers run them: the GitHub App install redirect with its setup callback,
 * and OAuth authorization code (+ PKCE where supported) for GitLab, Jira and Linear. `state` is
 * single-use, bound to team and user, and expires after 10 minutes.
 */
export function connectFlows(deps: {
  installations: InstallationsService;
  settings: ProviderSettings;
  http: HttpClient;
  publicUrl: () => string;
}) {
  const repo = deps.installations.repo;
  const redirectUri = (provider: ProviderId) =>
    `${deps.publicUrl()}/api/v1/installations/callback/${provider}/`;

  return {
    async start(
      auth: AuthContext,
      input: { provider: ProviderId; workspace_id?: string; return_to?: string },
    ) {
      const state = randomBytes(24).toString("base64url");
      const pkce = newPkcePair();
      let authorizeUrl: string;
      if (input.provider === "github") {
        const app = deps.settings.github.app;
        if (!app)
          throw providerNotConfigured("github", "App registration (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY)");
        authorizeUrl = `${deps.settings.github.webUrl.replace(/\/$/, "")}/apps/${encodeURIComponent(app.slug)}/installations/new?state=${state}`;
      } else if (input.provider === "azure_devops") {
        throw new ValidationError(
          "Azure DevOps connects with a personal access token: POST /api/v1/installations/.",
          [{ field: "body.provider", problem: "has no redirect flow" }],
        );
      } else {
        const ep = oauthEndpoints(deps.settings, input.provider);
        authorizeUrl = buildAuthorizeUrl(OAUTH_PROFILES[input.provider], ep.webBase, ep.app, {
          state,
          redirectUri: redirectUri(input.provider),
          codeChallenge: pkce.challenge,
        });
      }
      const expiresAt = new Date(Date.now() + STATE_TTL_MS);
      await repo.insertState({
        state,
        teamId: auth.team.id,
        userId: auth.user.id,
        provider: input.provider,
        codeVerifier: pkce.verifier,
        installationId: input.workspace_id ?? null,
        returnTo: input.return_to ?? null,
        expiresAt,
      });
      return { provider: input.provider, authorize_url: authorizeUrl, expires_at: expiresAt.toISOString() };
    },

    /** Completes a flow from the provider's redirect. Never trusts ids from the query string without asking the provider. */
    async callback(provider: ProviderId, query: Record<string, string | undefined>) {
      if (!query.state) throw connectStateInvalid();
      const st = await repo.consumeState(query.state, provider, new Date());
      if (!st) throw connectStateInvalid();
      const auth = { team: { id: st.teamId }, user: { id: st.userId } } as AuthContext;
      const wantedWorkspace = st.installationId ?? undefined;

      if (query.error) {
        throw new ValidationError(
          `${provider} did not grant access (${query.error}). Start the connection again.`,
          [{ field: "querystring.error", problem: query.error }],
        );
      }

      let conn: Connection;
      let stored: { refresh_token?: string; expires_at?: string } = {};
      if (provider === "github") {
        const app = deps.settings.github.app;
        if (!app) throw providerNotConfigured("github", "App registration");
        if (!query.installation_id || !/^[0-9]+$/.test(query.installation_id)) {
          throw new ValidationError("The GitHub callback carried no installation_id.", [
            { field: "querystring.installation_id", problem: "is required" },
          ]);
        }
        conn = {
          base_url: deps.settings.github.apiUrl,
          http: deps.http,
          credential: {
            kind: "github_app",
            app_id: app.id,
            private_key_pem: app.privateKeyPem,
            installation_id: query.installation_id,
          },
        };
      } else if (provider === "azure_devops") {
        throw connectStateInvalid();
      } else {
        if (!query.code)
          throw new ValidationError("The callback carried no authorization code.", [
            { field: "querystring.code", problem: "is required" },
          ]);
        const ep = oauthEndpoints(deps.settings, provider);
        const tokens = await callProvider(() =>
          exchangeCode(deps.http, OAUTH_PROFILES[provider], ep.tokenBase, ep.app, {
            code: query.code!,
            redirectUri: redirectUri(provider),
            codeVerifier: st.codeVerifier,
          }),
        );
        conn = {
          base_url: ep.apiBase,
          http: deps.http,
          credential: { kind: "oauth", access_token: tokens.access_token },
          options: ep.options,
        };
        stored = {
          refresh_token: tokens.refresh_token ?? undefined,
          expires_at: tokens.expires_at ?? undefined,
        };
      }

      // The provider, not the query string, says which workspace this is (a forged installation_id fails here).
      const workspaces = await callProvider(() => adapterFor(provider).listWorkspaces(conn));
      const workspace = wantedWorkspace ? workspaces.find((w) => w.id === wantedWorkspace) : workspaces[0];
      if (!workspace || (!wantedWorkspace && workspaces.length > 1 && provider === "jira")) {
        throw new ValidationError(
          `These credentials reach ${workspaces.length} workspaces (${workspaces.map((w) => `${w.name} = ${w.id}`).join(", ")}). Start again with workspace_id.`,
          [{ field: "workspace_id", problem: "choose one of the reachable workspaces" }],
        );
      }
      if (provider === "jira") conn.options = { ...conn.options, cloud_id: workspace.id };
      const saved = await deps.installations.saveConnection(auth, {
        provider,
        conn,
        workspace,
        stored: { credential: conn.credential, ...stored },
      });
      return { ...saved, teamId: st.teamId, userId: st.userId, returnTo: st.returnTo };
    },
  };
}

export type ConnectFlows = ReturnType<typeof connectFlows>;
