import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { Domain } from "../domain.ts";
import { requireAdmin } from "../http/auth.ts";
import { PageQuery, pageOf } from "../http/pagination.ts";
import { documented, errorResponses } from "../http/schemas.ts";
import { projectView } from "./service.ts";

/** The domain services these routes call. */
type Deps = Pick<Domain, "projects">;

const Project = Type.Object({
  id: Type.String(),
  uuid: Type.Union([Type.String(), Type.Null()]),
  slug: Type.String(),
  name: Type.String(),
  repo_slug: Type.Union([Type.String(), Type.Null()]),
  node_ids: Type.Array(Type.String()),
  created_at: Type.String(),
});
documented(Project, {
  description: "A Spec Kitty project of the team.",
  examples: [
    {
      id: "prj_01JF3QF4G6H8J0K2M4N6P8Q0R2",
      uuid: "8f0c7b1e-0000-4000-8000-000000000001",
      slug: "payments",
      name: "Payments",
      repo_slug: null,
      node_ids: ["a1b2c3d4e5f6"],
      created_at: "2026-11-30T09:15:00.000Z",
    },
  ],
});

const CreateProjectBody = Type.Object(
  {
    slug: Type.String({ minLength: 1, maxLength: 128 }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
documented(CreateProjectBody, { examples: [{ slug: "payments", name: "Payments" }] });

export const projectRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (app, { services }) => {
  app.get(
    "/projects/",
    {
      schema: {
        tags: ["projects"],
        summary: "The team's Spec Kitty projects",
        querystring: PageQuery,
        response: { 200: pageOf(Project), ...errorResponses },
      },
    },
    (req) => services.projects.page(req.auth.team.id, req.query.cursor, req.query.limit),
  );
  app.post(
    "/projects/",
    {
      preHandler: requireAdmin,
      schema: {
        tags: ["projects"],
        summary: "Create a project by slug; the first CLI identity that binds it adopts it",
        body: CreateProjectBody,
        response: { 201: Project, ...errorResponses },
      },
    },
    async (req, reply) =>
      reply.code(201).send(projectView(await services.projects.create(req.auth.team.id, req.body))),
  );
};
