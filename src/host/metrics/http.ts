import type { FastifyInstance } from "fastify";
import type { Metrics } from "./registry.ts";

/**
 * Counts and times every answered request by its route pattern (`/api/v1/installations/:id/`), so one
 * label value stands for a route however many ids it serves; requests no route matched are `unmatched`.
 */
export function recordRequests(server: FastifyInstance, metrics: Pick<Metrics, "http">) {
  server.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    metrics.http.answered(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });
}
