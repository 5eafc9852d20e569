import { hostOf, type Workspace } from "../core/descriptor.ts";
import { parseLinkHeader } from "../core/discovery.ts";
import type { HttpClient, HttpResponse } from "../core/http.ts";
import type { OAuthProfile } from "../core/oauth.ts";
import { GITHUB_HEADERS } from "./auth.ts";
import { type GhInstallation, malformed, toWorkspace } from "./map.ts";
import { GITHUB_RULES } from "./rules.ts";

/**
 * Who may connect a GitHub App installation: the person who installed it, or anyone GitHub says can
 * reach it. The installation id in a setup redirect is forgeable (GitHub's own warning), so the host
 * has the user authorize the App (web application flow), then asks `GET /user/installations` with that
 * user's token which installations they can access.
 */

/** The App's user-authorization flow (github.com / GHES web origin). GitHub Apps take no scopes. */
export const GITHUB_USER_OAUTH: OAuthProfile = {
  provider: "github",
  authorizeUrl: (web) => `${web.replace(/\/$/, "")}/login/oauth/authorize`,
  tokenUrl: (web) => `${web.replace(/\/$/, "")}/login/oauth/access_token`,
  scopes: [],
  scopeSeparator: " ",
  pkce: true,
};

/** The App's install page; with user authorization during installation on, GitHub comes back with a code. */
export function githubInstallUrl(webUrl: string, appSlug: string, state: string): string {
  const url = new URL(`${webUrl.replace(/\/$/, "")}/apps/${encodeURIComponent(appSlug)}/installations/new`);
  url.searchParams.set("state", state);
  return url.toString();
}

/** Every installation of this App the user's token can access, as workspaces (follows `link` paging). */
export async function userInstallations(
  http: HttpClient,
  apiUrl: string,
  userToken: string,
): Promise<Workspace[]> {
  const base = apiUrl.replace(/\/+$/, "");
  const out: Workspace[] = [];
  let url: string | null = `${base}/user/installations?per_page=100`;
  while (url) {
    const res: HttpResponse<{ installations?: GhInstallation[] }> = await http.request(GITHUB_RULES, {
      url,
      headers: { ...GITHUB_HEADERS, authorization: `Bearer ${userToken}` },
    });
    const list = res.body?.installations;
    if (!Array.isArray(list)) throw malformed("GET /user/installations");
    for (const inst of list) out.push(toWorkspace(inst, hostOf(base)));
    const next = parseLinkHeader(res.headers.get("link")).next;
    url = next && new URL(next).origin === new URL(base).origin ? next : null;
  }
  return out;
}

/** The login of the user a token belongs to, or null when GitHub does not say. */
export async function userLogin(http: HttpClient, apiUrl: string, userToken: string): Promise<string | null> {
  const res: HttpResponse<{ login?: unknown }> = await http.request(GITHUB_RULES, {
    url: `${apiUrl.replace(/\/+$/, "")}/user`,
    headers: { ...GITHUB_HEADERS, authorization: `Bearer ${userToken}` },
  });
  return typeof res.body?.login === "string" ? res.body.login : null;
}
