import { sql } from "drizzle-orm";
import { jobSettings } from "../../src/host/config.ts";
import { jobsService } from "../../src/host/jobs/service.ts";
import { createLogger } from "../../src/host/logger.ts";
import { openDatabase } from "../../src/storage/database.ts";

/**
 * A bare job worker process over DATABASE_URL, configured by the JOB_* variables like the service.
 * It runs kind `test.record`, which writes each run to `test_job_runs` (a table the test creates), so a
 * test sees every execution, including ones whose result the queue would discard.
 */
const database = await openDatabase({ databaseUrl: process.env.DATABASE_URL });
const jobs = jobsService(database.db, createLogger({ level: "warn" }), jobSettings(process.env));
jobs.register("test.record", async (job) => {
  await database.db.execute(sql`insert into test_job_runs (job_id, pid) values (${job.id}, ${process.pid})`);
  await new Promise((r) => setTimeout(r, (job.payload as { ms?: number }).ms ?? 0));
  return { pid: process.pid };
});
jobs.start();
console.log("worker ready");
process.once("SIGTERM", async () => {
  await jobs.stop();
  await database.close();
  process.exit(0);
});
