import { Writable } from "node:stream";
import type { FastifyInstance, InjectOptions } from "fastify";
import { buildApp } from "../../src/host/app.ts";
import { createLogger } from "../../src/host/logger.ts";
import type { Services } from "../../src/host/services.ts";
import type { DatabaseHandle } from "../../src/storage/database.ts";
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
  call(opts: InjectOptions & { as?: Actor }): ReturnType<FastifyInstance["inject"]>;
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
  await services.teams.repo.upsertMembership(teamId, user.id, role);
  const { token } = await services.tokens.create({ userId: user.id, name: "test" });
  return {
    userId: user.id,
    email,
    token,
    headers: { authorization: `Bearer ${token}`, "x-team-slug": teamSlug },
  };
}

/** The real app over a real database, with team `acme` (admin + member) and team `globex` (outsider). */
export async function createTestApp(
  opts: { driver?: "postgres" | "pglite"; bodyLimitBytes?: number } = {},
): Promise<TestApp> {
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const database = await openTestDatabase({ driver: opts.driver });
  const { server, services } = await buildApp({
    database,
    logger: createLogger({ level: "debug", stream }),
    bodyLimitBytes: opts.bodyLimitBytes,
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
    call: ({ as, headers, ...rest }) => server.inject({ ...rest, headers: { ...as?.headers, ...headers } }),
    async close() {
      await server.close();
      await database.close();
    },
  };
}
