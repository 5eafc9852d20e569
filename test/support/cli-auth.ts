import { createHash, randomBytes } from "node:crypto";
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from "fastify";
import type { Services } from "../../src/app/compose.ts";
import { buildApp } from "../../src/app/server.ts";
import { providerSettingsFromEnv } from "../../src/host/installations/settings.ts";
import { createLogger } from "../../src/host/logger.ts";
import type { OAuthOptions } from "../../src/host/oauth/service.ts";
import { randomVault } from "../../src/host/secrets/vault.ts";
import type { DatabaseHandle } from "../../src/storage/database.ts";
import { createHttpClient } from "../../src/tracker/index.ts";
import { openTestDatabase } from "./database.ts";

/**
 * The real app for CLI sign-in tests, with shortened OAuth lifetimes, team `acme` and a user `dana`
 * (member of acme, plus the private teamspace every account gets), and an API token for comparison.
 */
export interface CliAuthApp {
  server: FastifyInstance;
  services: Services;
  database: DatabaseHandle;
  team: { id: string; slug: string };
  user: { id: string; email: string; password: string; apiToken: string };
  call(opts: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export const PASSWORD = "correct horse battery staple";

export async function createCliAuthApp(
  oauth: OAuthOptions = {},
  opts: { listen?: boolean } = {},
): Promise<CliAuthApp> {
  const database = await openTestDatabase();
  const { server, services } = await buildApp({
    database,
    logger: createLogger({ level: "silent" }),
    vault: randomVault(),
    settings: providerSettingsFromEnv({}),
    http: createHttpClient({
      retry: { baseDelayMs: 1, maxDelayMs: 10, maxRetries: 1, maxRetryAfterMs: 100 },
    }),
    worker: false,
    oauth,
  });
  if (opts.listen) await server.listen({ host: "127.0.0.1", port: 0 });
  const team = await services.teams.createTeam({ slug: "acme", name: "Acme" });
  const email = "dana@example.test";
  const created = await services.teams.createUser({ email, name: "Dana", password: PASSWORD });
  await services.teams.setMembership(team.id, created.id, "member");
  const { token } = await services.tokens.create({ userId: created.id, name: "comparison" });
  return {
    server,
    services,
    database,
    team,
    user: { id: created.id, email, password: PASSWORD, apiToken: token },
    call: (o) => server.inject(o),
    async close() {
      await server.close();
      await database.close();
    },
  };
}

/** What the CLI generates before opening the browser (contract §3.1). */
export function pkce() {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const state = randomBytes(32).toString("base64url");
  return { verifier, challenge, state };
}

export const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
export const FORM_HEADERS = { "content-type": "application/x-www-form-urlencoded" };
