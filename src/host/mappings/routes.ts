import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { RoutedQuery } from "../binding/schemas.ts";
import type { Domain } from "../domain.ts";
import { ValidationError } from "../errors/domain-error.ts";
import { requireAdmin } from "../http/auth.ts";
import { ROUTING_ERRORS } from "../http/error-schemas.ts";
import { cliRoute } from "../http/schemas.ts";
import { Resource } from "../inventory/schemas.ts";
import { enrichment } from "../status/service.ts";
import {
  ChangeMappingBody,
  CreateMappingBody,
  DeleteQuery,
  Mapping,
  MappingListQuery,
  MappingPage,
  RefParams,
  RepairLookupBody,
  TrackerMappings,
} from "./schemas.ts";

/** The domain services these routes call. */
type Deps = Pick<Domain, "binding" | "links" | "mappingAdmin" | "mappings">;

export const mappingRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (app, { services }) => {
  app.get(
    "/tracker/mappings/",
    cliRoute(
      "Work-package links of a bound project, or (provider only) the team's mappings for the provider",
      { querystring: RoutedQuery, response: { 200: TrackerMappings }, errors: ROUTING_ERRORS },
    ),
    async (req) => {
      const { provider, binding_ref, project_slug } = req.query;
      if (binding_ref || project_slug) {
        const m = await services.binding.route(req.auth, { provider, binding_ref, project_slug });
        // Work-package ↔ issue links of this mapping, recorded by push.
        return { ...enrichment(m), mappings: await services.links.listForMapping(m) };
      }
      // Provider only: the links of every live mapping the team has for the provider.
      return { provider, mappings: await services.links.listForProvider(req.auth.team.id, provider) };
    },
  );
};

const tags = ["mappings"];

export const mappingAdminRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (
  app,
  { services },
) => {
  app.get(
    "/mappings/",
    {
      schema: {
        tags,
        summary: "The team's mappings, with filters",
        querystring: MappingListQuery,
        response: { 200: MappingPage },
      },
    },
    (req) => {
      const { provider, project_id, installation_id, status, cursor, limit } = req.query;
      return services.mappings.page(
        {
          teamId: req.auth.team.id,
          provider,
          projectId: project_id,
          installationId: installation_id,
          status,
        },
        cursor,
        limit,
      );
    },
  );

  app.get(
    "/mappings/:binding_ref/",
    {
      schema: {
        tags,
        summary: "One mapping by binding_ref (deleted ones too)",
        params: RefParams,
        response: { 200: Mapping },
      },
    },
    (req) => services.mappingAdmin.view(req.auth.team.id, req.params.binding_ref),
  );

  app.post(
    "/mappings/",
    {
      preHandler: requireAdmin,
      schema: {
        tags,
        summary: "Create a mapping by picking a discovered resource and a project",
        body: CreateMappingBody,
        response: { 201: Mapping, 200: Mapping },
      },
    },
    async (req, reply) => {
      const { created, mapping } = await services.mappingAdmin.create(req.auth, req.body, "api", req.id);
      return reply.code(created ? 201 : 200).send(mapping);
    },
  );

  app.patch(
    "/mappings/:binding_ref/",
    {
      preHandler: requireAdmin,
      schema: {
        tags,
        summary: "Disable, enable, or move the project to another resource",
        params: RefParams,
        body: ChangeMappingBody,
        response: { 200: Mapping },
      },
    },
    (req) => services.mappingAdmin.change(req.auth, req.params.binding_ref, req.body, req.id),
  );

  app.delete(
    "/mappings/:binding_ref/",
    {
      preHandler: requireAdmin,
      schema: {
        tags,
        summary: "Delete (requires ?confirm=<binding_ref>); the ref then answers as deleted, never reused",
        params: RefParams,
        querystring: DeleteQuery,
        response: { 200: Mapping },
      },
    },
    async (req) => {
      if (req.query.confirm !== req.params.binding_ref) {
        throw new ValidationError("Confirm the delete by sending ?confirm=<binding_ref>.", [
          { field: "querystring.confirm", problem: "must equal the binding_ref" },
        ]);
      }
      return services.mappingAdmin.remove(req.auth, req.params.binding_ref, req.id);
    },
  );

  app.post(
    "/mappings/repair-lookup/",
    {
      preHandler: requireAdmin,
      schema: {
        tags,
        summary:
          "Admin repair path: look a provider-native id up with the provider; the result can then be picked",
        body: RepairLookupBody,
        response: { 200: Resource },
      },
    },
    (req) => services.mappingAdmin.repairLookup(req.auth, req.body),
  );
};
