import { createHash, randomBytes } from "node:crypto";
import {
  adapterFor,
  buildAuthorizeUrl,
  type Connection,
  exchangeCode,
  GITHUB_USER_OAUTH,
  githubInstallUrl,
  type HttpClient,
  newPkcePair,
  OAUTH_PROFILES,
  type ProviderId,
  userInstallations,
  userLogin,
  type Workspace,
} from "../../tracker/index.ts";
import { ValidationError } from "../errors/domain-error.ts";
import type { AuthContext } from "../http/auth.ts";
import { callProvider } from "../http/provider-errors.ts";
import { sameSecret } from "../sessions/service.ts";
import {
  connectBrowserMismatch,
  connectStateInvalid,
  installationNotAccessible,
  installationPendingApproval,
  providerNotConfigured,
} from "./errors.ts";
import type { InstallationsService, StoredCredential } from "./service.ts";
import { type GithubApp, oauthEndpoints, type ProviderSettings } from "./settings.ts";

const STATE_TTL_MS = 10 * 60_000;

/** HttpOnly cookie holding the nonce that binds a connect flow to the browser that started it. */
export const CONNECT_COOKIE = "sk_connect";
export const CONNECT_COOKIE_PATH = "/api/v1/installations/callback/";

/** What the callback's browser can show: the start's cookie nonce, and whose dashboard session it has. */
export interface BrowserEvidence {
  binding?: string;
  sessionUserId?: string | null;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** `Set-Cookie` for a started flow: short-lived, sent only to the callback, never readable by scripts. */
export function connectCookie(binding: string) {
  return `${CONNECT_COOKIE}=${binding}; Path=${CONNECT_COOKIE_PATH}; Max-Age=${STATE_TTL_MS / 1000}; HttpOnly; SameSite=Lax; Secure`;
}

export const clearConnectCookie = () =>
  `${CONNECT_COOKIE}=; Path=${CONNECT_COOKIE_PATH}; Max-Age=0; HttpOnly; SameSite=Lax; Secure`;

/** A flow's state row as the callback reads it. */
interface ConnectState {
  teamId: string;
  userId: string;
  codeVerifier: string | null;
  installationId: string | null;
  browserBindingHash: string | null;
}

/**
 * Connect flows as the providers run them: the GitHub App install (with user authorization, so GitHub
 * says which installations the user may connect) and OAuth authorization code (+ PKCE where supported)
 * for GitLab, Jira and Linear. `state` is single-use, bound to team and user, expires after 10 minutes,
 * and only completes in the browser that started it (its connect cookie, or the same user's session).
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

  function githubApp(): GithubApp & { oauth: NonNullable<GithubApp["oauth"]> } {
    const app = deps.settings.github.app;
    if (!app)
      throw providerNotConfigured("github", "App registration (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY)");
    if (!app.oauth)
      throw providerNotConfigured(
        "github",
        "App user authorization (GITHUB_APP_CLIENT_ID, GITHUB_APP_CLIENT_SECRET)",
      );
    return app as GithubApp & { oauth: NonNullable<GithubApp["oauth"]> };
  }

  function authorizeUrl(provider: ProviderId, state: string, challenge: string, workspaceId?: string) {
    if (provider === "github") {
      const app = githubApp();
      // Reconnecting a known installation needs no install page: the user only authorizes the App.
      return workspaceId
        ? buildAuthorizeUrl(GITHUB_USER_OAUTH, deps.settings.github.webUrl, app.oauth, {
            state,
            redirectUri: redirectUri("github"),
            codeChallenge: challenge,
          })
        : githubInstallUrl(deps.settings.github.webUrl, app.slug, state);
    }
    if (provider === "azure_devops") {
      throw new ValidationError(
        "Azure DevOps connects with a personal access token: POST /api/v1/installations/.",
        [{ field: "body.provider", problem: "has no redirect flow" }],
      );
    }
    const ep = oauthEndpoints(deps.settings, provider);
    return buildAuthorizeUrl(OAUTH_PROFILES[provider], ep.webBase, ep.app, {
      state,
      redirectUri: redirectUri(provider),
      codeChallenge: challenge,
    });
  }

  function checkBrowser(st: ConnectState, browser: BrowserEvidence) {
    const byCookie =
      Boolean(st.browserBindingHash && browser.binding) &&
      sameSecret(st.browserBindingHash!, sha256(browser.binding!));
    if (!byCookie && browser.sessionUserId !== st.userId) throw connectBrowserMismatch();
  }

  /** GitHub: the user's token says which installations they can access; the App JWT then reads it. */
  async function githubConnection(query: Record<string, string | undefined>, st: ConnectState) {
    if (query.setup_action === "request") throw installationPendingApproval();
    const app = githubApp();
    if (!query.code)
      throw new ValidationError(
        "GitHub sent no authorization code. The App must have 'Request user authorization (OAuth) during installation' turned on; an operator sets this in the App's settings.",
        [{ field: "querystring.code", problem: "is required" }],
      );
    const tokens = await callProvider(() =>
      exchangeCode(deps.http, GITHUB_USER_OAUTH, deps.settings.github.webUrl, app.oauth, {
        code: query.code!,
        redirectUri: redirectUri("github"),
        codeVerifier: st.codeVerifier,
      }),
    );
    const reachable = await callProvider(() =>
      userInstallations(deps.http, deps.settings.github.apiUrl, tokens.access_token),
    );
    const wanted = query.installation_id ?? st.installationId ?? pickOnly(reachable);
    if (!reachable.some((w) => w.id === wanted)) {
      const login = await userLogin(deps.http, deps.settings.github.apiUrl, tokens.access_token).catch(
        () => null,
      );
      throw installationNotAccessible(wanted, login);
    }
    const conn: Connection = {
      base_url: deps.settings.github.apiUrl,
      http: deps.http,
      credential: {
        kind: "github_app",
        app_id: app.id,
        private_key_pem: app.privateKeyPem,
        installation_id: wanted,
      },
    };
    return { conn, wanted, stored: {} };
  }

  async function oauthConnection(
    provider: "gitlab" | "jira" | "linear",
    query: Record<string, string | undefined>,
    st: ConnectState,
  ) {
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
    const conn: Connection = {
      base_url: ep.apiBase,
      http: deps.http,
      credential: { kind: "oauth", access_token: tokens.access_token },
      options: ep.options,
    };
    const stored: Omit<StoredCredential, "credential"> = {
      refresh_token: tokens.refresh_token ?? undefined,
      expires_at: tokens.expires_at ?? undefined,
    };
    return { conn, wanted: st.installationId ?? undefined, stored };
  }

  return {
    async start(
      auth: AuthContext,
      input: { provider: ProviderId; workspace_id?: string; return_to?: string },
    ) {
      const state = randomBytes(24).toString("base64url");
      const binding = randomBytes(24).toString("base64url");
      const pkce = newPkcePair();
      const url = authorizeUrl(input.provider, state, pkce.challenge, input.workspace_id);
      const expiresAt = new Date(Date.now() + STATE_TTL_MS);
      await repo.insertState({
        state,
        teamId: auth.team.id,
        userId: auth.user.id,
        provider: input.provider,
        codeVerifier: pkce.verifier,
        installationId: input.workspace_id ?? null,
        returnTo: input.return_to ?? null,
        browserBindingHash: sha256(binding),
        expiresAt,
      });
      return {
        provider: input.provider,
        authorize_url: url,
        expires_at: expiresAt.toISOString(),
        /** For the starting browser's connect cookie only; never part of a response body. */
        binding,
      };
    },

    /** Completes a flow from the provider's redirect. Never trusts ids from the query string without asking the provider. */
    async callback(
      provider: ProviderId,
      query: Record<string, string | undefined>,
      browser: BrowserEvidence,
    ) {
      if (!query.state) throw connectStateInvalid();
      const st = await repo.consumeState(query.state, provider, new Date());
      if (!st) throw connectStateInvalid();
      checkBrowser(st, browser);
      const auth = { team: { id: st.teamId }, user: { id: st.userId } } as AuthContext;

      if (query.error) {
        throw new ValidationError(
          `${provider} did not grant access (${query.error}). Start the connection again.`,
          [{ field: "querystring.error", problem: query.error }],
        );
      }
      if (provider === "azure_devops") throw connectStateInvalid();
      const { conn, wanted, stored } =
        provider === "github"
          ? await githubConnection(query, st)
          : await oauthConnection(provider, query, st);

      // The provider, not the query string, says which workspace this is.
      const workspaces = await callProvider(() => adapterFor(provider).listWorkspaces(conn));
      const workspace = chooseWorkspace(provider, workspaces, wanted);
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

/** The one installation a user can reach, or a choice they have to make (installation id). */
function pickOnly(reachable: Workspace[]): string {
  if (reachable.length === 1) return reachable[0].id;
  throw new ValidationError(
    reachable.length
      ? `Your GitHub user can access ${reachable.length} installations of the App (${reachable.map((w) => `${w.name} = ${w.id}`).join(", ")}). Start again with workspace_id.`
      : "Your GitHub user cannot access any installation of the App. Install it on an account you administer first.",
    [{ field: "workspace_id", problem: "choose one of the reachable installations" }],
  );
}

function chooseWorkspace(provider: ProviderId, workspaces: Workspace[], wanted?: string): Workspace {
  const workspace = wanted ? workspaces.find((w) => w.id === wanted) : workspaces[0];
  if (!workspace || (!wanted && workspaces.length > 1 && provider === "jira")) {
    throw new ValidationError(
      `These credentials reach ${workspaces.length} workspaces (${workspaces.map((w) => `${w.name} = ${w.id}`).join(", ")}). Start again with workspace_id.`,
      [{ field: "workspace_id", problem: "choose one of the reachable workspaces" }],
    );
  }
  return workspace;
}
