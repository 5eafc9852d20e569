import { describe, inject, it } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** Set by the global setup (postgres-setup.ts). */
    postgresReachable: boolean;
  }
}

/** Whether the PostgreSQL server answered the global setup (it fails the run under CI when not). */
export const postgresReachable = (): boolean => inject("postgresReachable") !== false;

/** A suite that needs the PostgreSQL server: skipped, with the setup's printed notice, when none answers. */
export const describeOnPostgres = describe.skipIf(!postgresReachable());

/** A test that needs the PostgreSQL server (see describeOnPostgres). */
export const itOnPostgres = it.skipIf(!postgresReachable());
