import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Domain } from "../domain.ts";
import { cliRoute, IdempotencyKeyHeaders } from "../http/schemas.ts";
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

export const bindingRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (app, { services }) => {
  app.post(
    "/tracker/bind-resolve/",
    cliRoute("Resolve a CLI project identity: exact mapping, ranked candidates, or none", {
      body: BindResolveBody,
      response: { 200: BindResolveResult },
    }),
    (req) => services.binding.resolve(req.auth, req.body.provider, req.body.project_identity),
  );

  app.post(
    "/tracker/bind-confirm/",
    cliRoute("Bind the project to the resource a candidate token names (requires Idempotency-Key)", {
      body: BindConfirmBody,
      headers: IdempotencyKeyHeaders,
      response: { 200: BindResult },
      errors: [
        "invalid_candidate_token",
        "resource_missing",
        "resource_not_bindable",
        "already_bound",
        "mapping_deleted",
        "project_mismatch",
      ],
    }),
    (req, reply) =>
      services.idempotency.run(req, reply, async () => {
        const { body } = await services.binding.confirm(req.auth, req.body, "cli", req.id);
        return { status: 200, body };
      }),
  );

  app.post(
    "/tracker/bind-validate/",
    cliRoute("Check a stored binding_ref (always 200; `valid` says)", {
      body: BindValidateBody,
      response: { 200: BindValidateResult },
    }),
    (req) => services.binding.validate(req.auth, req.body),
  );
};
