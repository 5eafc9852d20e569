import { Writable } from "node:stream";
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from "fastify";
import type { Services } from "../../src/app/compose.ts";
import { buildApp } from "../../src/app/server.ts";
import type { OutboundConfig } from "../../src/host/http/outbound.ts";
import { type ProviderSettings, providerSettingsFromEnv } from "../../src/host/installations/settings.ts";
import type { JobQueueOptions } from "../../src/host/jobs/service.ts";
import { createLogger } from "../../src/host/logger.ts";
import { randomVault, type Vault } from "../../src/host/secrets/vault.ts";
import { type DatabaseHandle, openDatabase } from "../../src/storage/database.ts";
import type { HttpClient, RetryPolicy } from "../../src/tracker/index.ts";
import { openTestDatabase } from "./database.ts";

export interface Actor {
  userId: string;
  email: string;
  token: string;
  headers: Record<string, string>;
}

export interface TestApp {
  server: FastifyInstance;
  services: Services;
  database: DatabaseHandle;
  /** Every log line the app wrote, raw JSON text. */
  logs: string[];
  team: { id: string; slug: string };
  otherTeam: { id: string; slug: string };
  admin: Actor;
  member: Actor;
  /** Admin of another team only. */
  outsider: Actor;
  call(opts: InjectOptions & { as?: Actor }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

async function actor(
  services: Services,
  email: string,
  teamId: string,
  role: "admin" | "member",
  teamSlug: string,
): Promise<Actor> {
  const user = await services.teams.createUser({ email, password: "correct horse battery staple" });
  await services.teams.setMembership(teamId, user.id, role);
  const { token } = await services.tokens.create({ userId: user.id, name: "test" });
  return {
    userId: user.id,
    email,
    token,
    headers: { authorization: `Bearer ${token}`, "x-team-slug": teamSlug },
  };
}

/** The real app over a real database, with team `acme` (admin + member) and team `globex` (outsider). */
export interface TestAppOptions {
  driver?: "postgres" | "pglite";
  bodyLimitBytes?: number;
  /** Provider settings (e.g. simulator URLs and app registrations); defaults to the public providers. */
  settings?: ProviderSettings;
  http?: HttpClient;
  /** Outbound URL policy; default: public addresses only (as `npm start`). */
  outbound?: OutboundConfig;
  vault?: Vault;
  /** Job worker settings; by default one attempt per job, so a failure is final at once. */
  jobs?: JobQueueOptions;
  /** An existing PostgreSQL database (shared with other app processes); not dropped on close. */
  databaseUrl?: string;
  /** Overrides of the provider client's retry policy (e.g. a short timeout). */
  retry?: Partial<RetryPolicy>;
}

export async function createTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const database = opts.databaseUrl
    ? await openDatabase({ databaseUrl: opts.databaseUrl })
    : await openTestDatabase({ driver: opts.driver });
  const { server, services } = await buildApp({
    database,
    logger: createLogger({ level: "debug", stream }),
    bodyLimitBytes: opts.bodyLimitBytes,
    vault: opts.vault ?? randomVault(),
    settings: opts.settings ?? providerSettingsFromEnv({}),
    http: opts.http,
    // The app's own guarded client, with short backoffs so tests of retries do not sleep for long.
    retry: { baseDelayMs: 1, maxDelayMs: 10, maxRetries: 2, maxRetryAfterMs: 2_000, ...opts.retry },
    outbound: opts.outbound,
    jobPollMs: 50,
    jobs: { maxAttempts: 1, ...opts.jobs },
  });
  const team = await services.teams.createTeam({ slug: "acme", name: "Acme" });
  const otherTeam = await services.teams.createTeam({ slug: "globex", name: "Globex" });
  const admin = await actor(services, "admin@acme.test", team.id, "admin", "acme");
  const member = await actor(services, "member@acme.test", team.id, "member", "acme");
  const outsider = await actor(services, "admin@globex.test", otherTeam.id, "admin", "globex");

  return {
    server,
    services,
    database,
    logs,
    team,
    otherTeam,
    admin,
    member,
    outsider,
    call: ({ as, headers, ...rest }) =>
      server.inject({ ...rest, headers: { ...as?.headers, ...headers } } as InjectOptions),
    async close() {
      await server.close();
      await database.close();
    },
  };
}
