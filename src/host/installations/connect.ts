import { createHash, randomBytes } from "node:crypto";
import type { Database } from "../../storage/database.ts";
import {
  type AppInstallConnect,
  adapterFor,
  buildAuthorizeUrl,
  type Connection,
  exchangeCode,
  type HttpClient,
  newPkcePair,
  type OAuthConnect,
  type ProviderId,
  providerModule,
  type RedirectConnect,
  type Workspace,
} from "../../tracker/index.ts";
import { ValidationError } from "../errors/domain-error.ts";
import type { BrowserCookie } from "../http/cookies.ts";
import { callProvider } from "../http/provider-errors.ts";
import { sameSecret } from "../sessions/service.ts";
import type { Actor, AuthContext } from "../teams/access.ts";
import {
  connectBrowserMismatch,
  connectStateInvalid,
  installationNotAccessible,
  installationPendingApproval,
} from "./errors.ts";
import { installationsRepository } from "./repository.ts";
import type { InstallationsService, StoredCredential } from "./service.ts";
import { type ProviderSettings, redirectFlow } from "./settings.ts";

const STATE_TTL_MS = 10 * 60_000;

/** The nonce that binds a connect flow to the browser that started it: sent only to the callback. */
export const CONNECT_COOKIE: BrowserCookie = {
  name: "sk_connect",
  path: "/api/v1/installations/callback/",
  maxAgeSeconds: STATE_TTL_MS / 1000,
};

/** What the callback's browser can show: the start's cookie nonce, and whose dashboard session it has. */
export interface BrowserEvidence {
  binding?: string;
  sessionUserId?: string | null;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** A flow's state row as the callback reads it. */
interface ConnectState {
  teamId: string;
  userId: string;
  codeVerifier: string | null;
  installationId: string | null;
  browserBindingHash: string | null;
}

/**
 * Connect flows as the providers run them (each provider's module says which): an App install with
 * user authorization, so the provider says which installations the user may connect (the GitHub App),
 * and OAuth authorization code (+ PKCE where the profile supports it). `state` is single-use, bound to
 * team and user, expires after 10 minutes, and only completes in the browser that started it (its
 * connect cookie, or the same user's session).
 */
export function connectFlows(
  db: Database,
  deps: {
    installations: Pick<InstallationsService, "saveConnection">;
    settings: ProviderSettings;
    http: HttpClient;
    publicUrl: () => string;
  },
) {
  // Connect states are this feature's own rows: the flows keep them beside the installations service.
  const repo = installationsRepository(db);
  const redirectUri = (provider: ProviderId) =>
    `${deps.publicUrl()}/api/v1/installations/callback/${provider}/`;

  /** The provider's redirect flow; a provider without one connects with a token. */
  function flowOf(provider: ProviderId): RedirectConnect {
    const flow = redirectFlow(deps.settings, provider);
    if (flow) return flow;
    const { displayName, connect } = providerModule(provider);
    throw new ValidationError(
      `${displayName} connects with ${connect.token?.noun ?? "a token"}: POST /api/v1/installations/.`,
      [{ field: "body.provider", problem: "has no redirect flow" }],
    );
  }

  function authorizeUrl(provider: ProviderId, state: string, challenge: string, workspaceId?: string) {
    const flow = flowOf(provider);
    const p = { state, redirectUri: redirectUri(provider), codeChallenge: challenge };
    if (flow.kind === "oauth") return buildAuthorizeUrl(flow.profile, flow.webBase, flow.app, p);
    // Reconnecting a known installation needs no install page: the user only authorizes the App.
    return workspaceId
      ? buildAuthorizeUrl(flow.userOAuth, flow.webBase, flow.app, p)
      : flow.installUrl(state);
  }

  function checkBrowser(st: ConnectState, browser: BrowserEvidence) {
    const byCookie =
      Boolean(st.browserBindingHash && browser.binding) &&
      sameSecret(st.browserBindingHash!, sha256(browser.binding!));
    if (!byCookie && browser.sessionUserId !== st.userId) throw connectBrowserMismatch();
  }

  /** App install: the user's token says which installations they may access; the App's credential reads it. */
  async function appConnection(
    provider: ProviderId,
    flow: AppInstallConnect,
    query: Record<string, string | undefined>,
    st: ConnectState,
  ) {
    if (query.setup_action === "request") throw installationPendingApproval();
    const name = providerModule(provider).displayName;
    if (!query.code)
      throw new ValidationError(
        `${name} sent no authorization code. The App must have 'Request user authorization (OAuth) during installation' turned on; an operator sets this in the App's settings.`,
        [{ field: "querystring.code", problem: "is required" }],
      );
    const tokens = await callProvider(() =>
      exchangeCode(deps.http, flow.userOAuth, flow.webBase, flow.app, {
        code: query.code!,
        redirectUri: redirectUri(provider),
        codeVerifier: st.codeVerifier,
      }),
    );
    const reachable = await callProvider(() => flow.userInstallations(deps.http, tokens.access_token));
    const wanted = query.installation_id ?? st.installationId ?? pickOnly(name, reachable);
    if (!reachable.some((w) => w.id === wanted)) {
      const login = await flow.userLogin(deps.http, tokens.access_token).catch(() => null);
      throw installationNotAccessible(wanted, login);
    }
    const conn: Connection = { base_url: flow.apiBase, http: deps.http, credential: flow.credential(wanted) };
    return { conn, wanted, stored: {} };
  }

  async function oauthConnection(
    provider: ProviderId,
    flow: OAuthConnect,
    query: Record<string, string | undefined>,
    st: ConnectState,
  ) {
    if (!query.code)
      throw new ValidationError("The callback carried no authorization code.", [
        { field: "querystring.code", problem: "is required" },
      ]);
    const tokens = await callProvider(() =>
      exchangeCode(deps.http, flow.profile, flow.tokenBase, flow.app, {
        code: query.code!,
        redirectUri: redirectUri(provider),
        codeVerifier: st.codeVerifier,
      }),
    );
    const conn: Connection = {
      base_url: flow.apiBase,
      http: deps.http,
      credential: { kind: "oauth", access_token: tokens.access_token },
      options: flow.options,
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
      // The user who started the connect, in the team they started it in (the state says both).
      const auth: Actor = { team: { id: st.teamId }, user: { id: st.userId } };

      if (query.error) {
        throw new ValidationError(
          `${provider} did not grant access (${query.error}). Start the connection again.`,
          [{ field: "querystring.error", problem: query.error }],
        );
      }
      const flow = redirectFlow(deps.settings, provider);
      if (!flow) throw connectStateInvalid();
      const { conn, wanted, stored } =
        flow.kind === "app_install"
          ? await appConnection(provider, flow, query, st)
          : await oauthConnection(provider, flow, query, st);

      // The provider, not the query string, says which workspace this is.
      const workspaces = await callProvider(() => adapterFor(provider).listWorkspaces(conn));
      const oauth = flow.kind === "oauth" ? flow : null;
      const workspace = chooseWorkspace(workspaces, wanted, oauth?.chooseWorkspace ?? false);
      if (oauth?.workspaceOptions) conn.options = { ...conn.options, ...oauth.workspaceOptions(workspace) };
      const saved = await deps.installations.saveConnection(auth, {
        provider,
        conn,
        workspace,
        stored: { credential: conn.credential, ...stored },
      });
      return { ...saved, returnTo: st.returnTo };
    },
  };
}

export type ConnectFlows = ReturnType<typeof connectFlows>;

/** The one installation a user can reach, or a choice they have to make (installation id). */
function pickOnly(providerName: string, reachable: Workspace[]): string {
  if (reachable.length === 1) return reachable[0].id;
  throw new ValidationError(
    reachable.length
      ? `Your ${providerName} user can access ${reachable.length} installations of the App (${reachable.map((w) => `${w.name} = ${w.id}`).join(", ")}). Start again with workspace_id.`
      : `Your ${providerName} user cannot access any installation of the App. Install it on an account you administer first.`,
    [{ field: "workspace_id", problem: "choose one of the reachable installations" }],
  );
}

function chooseWorkspace(
  workspaces: Workspace[],
  wanted: string | undefined,
  mustChoose: boolean,
): Workspace {
  const workspace = wanted ? workspaces.find((w) => w.id === wanted) : workspaces[0];
  if (!workspace || (!wanted && workspaces.length > 1 && mustChoose)) {
    throw new ValidationError(
      `These credentials reach ${workspaces.length} workspaces (${workspaces.map((w) => `${w.name} = ${w.id}`).join(", ")}). Start again with workspace_id.`,
      [{ field: "workspace_id", problem: "choose one of the reachable workspaces" }],
    );
  }
  return workspace;
}
