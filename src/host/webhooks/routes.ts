import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyRequest } from "fastify";
import type { Domain } from "../domain.ts";
import { requireAdmin } from "../http/auth.ts";
import { errorResponses } from "../http/schemas.ts";
import { EventHealth, HookAck, HookParams, RotatedSecret, WebhookParams } from "./schemas.ts";

type Deps = Pick<Domain, "webhooks">;

const tags = ["webhooks"];

/** GitHub caps a delivery at 25 MB; the events we follow are a few KiB (an install of 1,000 repositories ~300 KiB). */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

const rawBody = (req: FastifyRequest) => (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));

/**
 * Where providers deliver events (docs/webhooks.md): no bearer token, the signature is the
 * authentication. The body is kept as the bytes received, because the signature covers those bytes.
 */
export const webhookReceiverRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (
  app,
  { services },
) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) =>
    done(null, body),
  );

  app.post(
    "/webhooks/github/",
    {
      schema: {
        tags,
        summary: "GitHub App webhook (one URL for the whole App; signed with X-Hub-Signature-256)",
        security: [],
        response: { 202: HookAck, ...errorResponses },
      },
    },
    async (req, reply) => {
      await services.webhooks.receive("github", null, req.headers, rawBody(req));
      return reply.code(202).send({ received: true });
    },
  );

  app.post(
    "/webhooks/:provider/:hook_id/",
    {
      schema: {
        tags,
        summary:
          "A per-installation hook (GitLab: X-Gitlab-Token); the URL and secret come from the installation page",
        security: [],
        params: HookParams,
        response: { 202: HookAck, ...errorResponses },
      },
    },
    async (req, reply) => {
      await services.webhooks.receive(req.params.provider, req.params.hook_id, req.headers, rawBody(req));
      return reply.code(202).send({ received: true });
    },
  );
};

/** Event health of an installation, and the hook secret an admin pastes where registration is manual. */
export const webhookAdminRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (
  app,
  { services },
) => {
  app.get(
    "/installations/:installation_id/webhook/",
    {
      schema: {
        tags,
        summary: "Whether the provider's events reach this installation: last delivery, last failure and why",
        params: WebhookParams,
        response: { 200: EventHealth, ...errorResponses },
      },
    },
    (req) => services.webhooks.health(req.auth.team.id, req.params.installation_id),
  );

  app.post(
    "/installations/:installation_id/webhook/secret/",
    {
      preHandler: requireAdmin,
      schema: {
        tags,
        summary: "A new hook secret (answered once; the previous one stops verifying)",
        params: WebhookParams,
        response: { 200: RotatedSecret, ...errorResponses },
      },
    },
    (req) => services.webhooks.rotateSecret(req.auth, req.params.installation_id, req.id),
  );

  app.post(
    "/installations/:installation_id/webhook/register/",
    {
      preHandler: requireAdmin,
      schema: {
        tags,
        summary:
          "Register the provider's hook through its API again (GitLab); answers the event health, automatic or manual with the reason",
        params: WebhookParams,
        response: { 200: EventHealth, ...errorResponses },
      },
    },
    (req) => services.webhooks.registerAgain(req.auth, req.params.installation_id, req.id),
  );
};
