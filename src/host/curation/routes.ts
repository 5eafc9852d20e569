import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Domain } from "../domain.ts";
import { requireAdmin } from "../http/auth.ts";
import { errorResponses } from "../http/schemas.ts";
import { Curation, CurationParams, CurationPreview, CurationRulesBody } from "./schemas.ts";

/** The domain services these routes call. */
type Deps = Pick<Domain, "curation">;

const tags = ["curation"];

/** Curation rules of an installation (issue 20), admins only; another team's installation is not found. */
export const curationRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (app, { services }) => {
  app.get(
    "/installations/:installation_id/curation/",
    {
      preHandler: requireAdmin,
      schema: {
        tags,
        summary:
          "The installation's curation rules, the kinds they can name, what they hide, hidden mappings",
        params: CurationParams,
        response: { 200: Curation, ...errorResponses },
      },
    },
    (req) => services.curation.get(req.auth, req.params.installation_id),
  );

  app.post(
    "/installations/:installation_id/curation/preview/",
    {
      preHandler: requireAdmin,
      schema: {
        tags,
        summary: "How many resources a proposed rule list would hide or reveal (nothing is saved)",
        params: CurationParams,
        body: CurationRulesBody,
        response: { 200: CurationPreview, ...errorResponses },
      },
    },
    (req) => services.curation.preview(req.auth, req.params.installation_id, req.body.rules),
  );

  app.put(
    "/installations/:installation_id/curation/",
    {
      preHandler: requireAdmin,
      schema: {
        tags,
        summary: "Replace the installation's curation rules (audited; applied on the next request)",
        params: CurationParams,
        body: CurationRulesBody,
        response: { 200: Curation, ...errorResponses },
      },
    },
    (req) => services.curation.save(req.auth, req.params.installation_id, req.body.rules, req.id),
  );
};
