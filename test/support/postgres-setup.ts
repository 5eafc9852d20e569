import pg from "pg";
import type { TestProject } from "vitest/node";
import { PG_URL, testDriver } from "./database.ts";

/**
 * Global setup: is the PostgreSQL server of the PostgreSQL-only suites (several processes on one
 * database) reachable? Under CI, or when `TEST_DB_DRIVER=postgres` asks for it, an unreachable server
 * fails the run. Elsewhere (a laptop with only Node and npm) those suites are skipped, and this says so
 * before and after the run, so a skip is never silent.
 */
async function reachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("select 1");
    return null;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

export default async function setup(project: TestProject) {
  const problem = await reachable();
  project.provide("postgresReachable", problem === null);
  if (problem === null) return;
  if (process.env.CI || testDriver() === "postgres")
    throw new Error(
      `PostgreSQL at ${PG_URL} is unreachable (${problem}); ${process.env.CI ? "CI" : "TEST_DB_DRIVER=postgres"} needs it.`,
    );
  const notice = () =>
    process.stderr.write(
      `\nNOTICE: PostgreSQL at ${PG_URL} is unreachable (${problem}): the PostgreSQL-only suites are ` +
        "skipped (shown as skipped below); everything else runs on embedded PGlite. CI runs them on its " +
        "server; to run them here, start PostgreSQL or set TEST_PG_URL.\n\n",
    );
  notice();
  return notice;
}
