import type { Services } from "../app/compose.ts";
import type { AuthContext } from "../host/teams/access.ts";
import { clickThroughConsent } from "../simulators/core/consent.ts";
import type { ProviderSimulator, SimProvider } from "../simulators/index.ts";
import type { BuiltInSettings } from "../tracker/index.ts";

/**
 * How the service reaches the provider simulators: the server-side provider settings (API locations,
 * the simulated GitHub App and OAuth apps) and, per provider, the token-connect request an admin would
 * send for the seeded default workspace. Shared by `npm run demo`, the tests and the benchmarks.
 */
export function providerSettingsFor(sims: Partial<Record<SimProvider, ProviderSimulator>>): BuiltInSettings {
  const oauth = (d?: Record<string, string>) =>
    d?.oauth_client_id ? { clientId: d.oauth_client_id, clientSecret: d.oauth_client_secret } : undefined;
  const gh = sims.github?.demo;
  const gl = sims.gitlab?.demo;
  const jira = sims.jira?.demo;
  const lin = sims.linear?.demo;
  const ado = sims.azure_devops?.demo;
  return {
    github: {
      apiUrl: gh?.api_url ?? "https://api.github.com",
      webUrl: gh?.web_url ?? "https://github.com",
      app: gh
        ? {
            id: gh.app_id,
            slug: gh.app_slug,
            privateKeyPem: gh.private_key_pem,
            oauth: { clientId: gh.client_id, clientSecret: gh.client_secret },
            webhookSecret: gh.webhook_secret,
          }
        : undefined,
    },
    gitlab: { url: gl?.url ?? "https://gitlab.com", oauth: oauth(gl) },
    jira: {
      apiUrl: jira?.api_url ?? "https://api.atlassian.com",
      authUrl: jira?.auth_url ?? "https://auth.atlassian.com",
      oauth: oauth(jira),
    },
    linear: {
      apiUrl: lin?.api_url ?? "https://api.linear.app",
      webUrl: lin?.web_url ?? "https://linear.app",
      oauth: oauth(lin),
    },
    azure_devops: { url: ado?.url ?? "https://dev.azure.com" },
  };
}

export interface TokenConnectRequest {
  provider: SimProvider;
  base_url?: string;
  credential: Record<string, unknown> & { kind: string };
  options?: Record<string, string>;
  display_name?: string;
}

/**
 * The body of `POST /api/v1/installations/` for a simulator's default workspace; null for GitHub, which
 * connects only through the App install flow (`connectSimulated`).
 */
export function tokenConnectFor(sim: ProviderSimulator): TokenConnectRequest | null {
  const d = sim.demo;
  switch (sim.provider) {
    case "github":
      return null;
    case "gitlab":
      return {
        provider: "gitlab",
        base_url: d.url,
        credential: { kind: "private_token", token: d.token },
        options: { group_id: d.group_id },
      };
    case "jira":
      return {
        provider: "jira",
        base_url: d.site_url,
        credential: { kind: "basic", username: d.email, password: d.api_token },
      };
    case "linear":
      return { provider: "linear", base_url: d.api_url, credential: { kind: "api_key", api_key: d.api_key } };
    case "azure_devops":
      return {
        provider: "azure_devops",
        base_url: d.url,
        credential: { kind: "bearer_pat", token: d.pat },
        options: { organization: d.organization },
      };
  }
}

/**
 * Connects a simulator's default workspace the way its admin would: a token connect, or for GitHub the
 * App install through the simulator's consent page (signed in as the installation's owner), handing
 * GitHub's redirect to the connect callback. `callbackUrl` is where the simulated App sends installs.
 * Either way the first inventory sync is queued and returned as `refresh`.
 */
export async function connectSimulated(
  services: Pick<Services, "installations" | "connect">,
  auth: AuthContext,
  sim: ProviderSimulator,
  callbackUrl: string,
) {
  const token = tokenConnectFor(sim);
  if (token) return services.installations.connectWithCredential(auth, token as never);
  await fetch(`${sim.url}/_sim/app`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ callback_url: callbackUrl }),
  });
  const started = await services.connect.start(auth, { provider: "github" });
  const back = await clickThroughConsent(started.authorize_url, { choice: sim.demo.installation_id });
  return services.connect.callback("github", Object.fromEntries(back.searchParams), {
    binding: started.binding,
  });
}

/** `host:port` of each simulator, for the outbound URL policy's allow-list (they listen on loopback). */
export function simulatorOrigins(sims: Iterable<ProviderSimulator>): string[] {
  return [...sims].map((s) => new URL(s.url).host);
}
