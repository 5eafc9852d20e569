import cluster from "node:cluster";
import type { Logger } from "pino";

/**
 * `WORKERS=N` (N > 1): this process is the primary of N service processes forked with node:cluster,
 * which all listen on the one `PORT` (the primary accepts connections and hands them to the workers in
 * turn). Each worker is a whole service process, as if started on its own against the same PostgreSQL:
 * its own connection pool, authentication cache and job worker. The primary serves nothing itself.
 *
 * A worker that dies after it listened is replaced; one that dies before (it could not start, e.g. the
 * database refused it) stops the whole service with exit 1, rather than forking forever. SIGTERM or
 * SIGINT stops every worker gracefully (each drains like a single process), then the primary exits 0.
 */
export function runWorkers(
  count: number,
  logger: Logger,
  /** Called once, when all `count` workers listen, with the address they share. */
  onListening: (baseUrl: string) => void,
) {
  const listening = new Set<number>();
  let stopping = false;
  let exitCode = 0;
  let announced = false;

  const remaining = () => Object.keys(cluster.workers ?? {}).length;
  function stop(code: number) {
    exitCode = Math.max(exitCode, code);
    if (stopping) return;
    stopping = true;
    logger.info({ workers: remaining() }, "stopping the workers");
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
    if (remaining() === 0) process.exit(exitCode);
  }

  cluster.on("listening", (worker, address) => {
    listening.add(worker.id);
    if (announced || listening.size < count) return;
    announced = true;
    const host = !address.address || address.address === "0.0.0.0" ? "127.0.0.1" : address.address;
    onListening(`http://${host}:${address.port}`);
  });
  cluster.on("exit", (worker, code, signal) => {
    const served = listening.delete(worker.id);
    if (stopping) {
      if (remaining() === 0) process.exit(exitCode);
      return;
    }
    const why = { worker_pid: worker.process.pid, exit_code: code, signal };
    if (!served) {
      logger.error(why, "a worker exited before it listened; stopping the service");
      return stop(1);
    }
    logger.error(why, "a worker exited; starting another");
    cluster.fork();
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => stop(0));
  for (let i = 0; i < count; i++) cluster.fork();
}
