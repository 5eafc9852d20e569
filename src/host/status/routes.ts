import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { RoutedQuery } from "../binding/schemas.ts";
import type { Domain } from "../domain.ts";
import { ROUTING_ERRORS } from "../http/error-schemas.ts";
import { cliRoute } from "../http/schemas.ts";
import { TrackerStatus } from "./schemas.ts";

/** The domain services these routes call. */
type Deps = Pick<Domain, "status">;

export const statusRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (app, { services }) => {
  app.get(
    "/tracker/status/",
    cliRoute(
      "Project status (with binding_ref or project_slug) or installation-wide status (provider only)",
      {
        querystring: RoutedQuery,
        response: { 200: TrackerStatus },
        errors: [...ROUTING_ERRORS, "resource_missing"],
      },
    ),
    (req) => {
      const { provider, binding_ref, project_slug } = req.query;
      if (!binding_ref && !project_slug) return services.status.installationWide(req.auth, provider);
      return services.status.project(req.auth, { provider, binding_ref, project_slug });
    },
  );
};
