import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Domain } from "../domain.ts";
import {
  BindConfirmBody,
  BindResolveBody,
  BindResolveResult,
  BindResult,
  BindValidateBody,
  BindValidateResult,
} from "./schemas.ts";

/** The domain services these routes call. */
type Deps = Pick<Domain, "binding" | "idempotency">;

const tags = ["tracker"];

export const bindingRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (app, { services }) => {
  app.post(
    "/tracker/bind-resolve/",
    {
      schema: {
        tags,
        summary: "Resolve a CLI project identity: exact mapping, ranked candidates, or none",
        body: BindResolveBody,
        response: { 200: BindResolveResult },
      },
    },
    (req) => services.binding.resolve(req.auth, req.body.provider, req.body.project_identity),
  );

  app.post(
    "/tracker/bind-confirm/",
    {
      schema: {
        tags,
        summary: "Bind the project to the resource a candidate token names (requires Idempotency-Key)",
        body: BindConfirmBody,
        response: { 200: BindResult },
      },
    },
    (req, reply) =>
      services.idempotency.run(req, reply, async () => {
        const { body } = await services.binding.confirm(req.auth, req.body, "cli", req.id);
        return { status: 200, body };
      }),
  );

  app.post(
    "/tracker/bind-validate/",
    {
      schema: {
        tags,
        summary: "Check a stored binding_ref (always 200; `valid` says)",
        body: BindValidateBody,
        response: { 200: BindValidateResult },
      },
    },
    (req) => services.binding.validate(req.auth, req.body),
  );
};
