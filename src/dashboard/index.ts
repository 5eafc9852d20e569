import type { FastifyPluginAsync } from "fastify";
import type { Services } from "../host/services.ts";

/** Server-rendered dashboard over the domain services (never storage). */
export const dashboardRoutes: FastifyPluginAsync<{ services: Services }> = async () => {};
