import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Domain } from "../domain.ts";
import { DomainError } from "../errors/domain-error.ts";
import { type AuthDeps, authenticateUser } from "../http/auth.ts";
import { refusalHeaders } from "../http/error-handler.ts";
import { refuseWritesOfReadOnlyTokens } from "../tokens/scope.ts";
import { admissionRefusalOf } from "./errors.ts";
import {
  Admission,
  AdmissionHeaders,
  AdmissionParams,
  AdmitBody,
  AdmissionRefusal as RefusalSchema,
} from "./schemas.ts";
import type { AdmissionOutcome, AdmissionRequest } from "./service.ts";

/** The domain services these routes call (and authentication reads). */
type Deps = Pick<Domain, "admission"> & AuthDeps;

const PATH = "/sync/projects/:project_uuid/sync-admission/";

/** What both methods' schemas share: bearer only, the project in the path, the idempotency headers. */
const common = {
  tags: ["sync admission"],
  security: [{ bearer: [] }],
  params: AdmissionParams,
  headers: AdmissionHeaders,
  response: {
    200: Admission,
    400: RefusalSchema,
    401: RefusalSchema,
    403: RefusalSchema,
    404: RefusalSchema,
    409: RefusalSchema,
  },
};

/** The caller, project and idempotency headers of an admission request (the body is PUT's alone). */
const admissionRequest = (req: FastifyRequest): AdmissionRequest => {
  const headers = req.headers;
  return {
    userId: req.auth.user.id,
    projectUuid: (req.params as { project_uuid: string }).project_uuid,
    idempotencyKey: headers["idempotency-key"],
    ifMatch: headers["if-match-admission-generation"],
  };
};

function send(reply: FastifyReply, outcome: AdmissionOutcome) {
  if (outcome.replayed) reply.header("idempotency-replayed", "true");
  return reply.code(outcome.status).header("cache-control", "no-store").send(outcome.body);
}

/**
 * `PUT` / `DELETE /api/v1/sync/projects/{uuid}/sync-admission/` (CLI auth contract §9.1). Bearer only:
 * admission belongs to the caller's Private Teamspace, so no `X-Team-Slug`. Every refusal is the
 * contract's `{error_category, retryable: false}` shape.
 */
export const admissionRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (app, { services }) => {
  app.setErrorHandler((err, request, reply) => {
    const refused = admissionRefusalOf(err);
    if (!refused) {
      request.log.error({ err }, "admission request failed");
      return reply
        .code(500)
        .send({ error_code: "internal_error", message: "Internal error.", retryable: true });
    }
    if (err instanceof DomainError) reply.headers(refusalHeaders(err));
    return reply.code(refused.status).send(refused.body);
  });
  app.addHook("onRequest", authenticateUser(services));
  app.addHook("onRequest", refuseWritesOfReadOnlyTokens);

  app.put(
    PATH,
    {
      schema: {
        ...common,
        summary: "Admit (or re-admit) a project for sync into your Private Teamspace",
        body: AdmitBody,
      },
    },
    async (req, reply) =>
      send(reply, await services.admission.admit({ ...admissionRequest(req), body: req.body ?? undefined })),
  );

  app.delete(
    PATH,
    {
      schema: {
        ...common,
        summary: "Revoke a project's sync admission (compare-and-set on the generation)",
      },
    },
    async (req, reply) => send(reply, await services.admission.revoke(admissionRequest(req))),
  );
};
