import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";

/**
 * The API reference: the OpenAPI document (`/api/v1/openapi.json`) generated from every documented
 * route's schemas, plus `paths` for routes whose schemas are not the document's (a browser page that
 * checks its own parameters), and Swagger UI at `/api/docs`. Which routes read the bearer token and
 * `X-Team-Slug` is said per route (error-schemas.ts `documentTeamAuth`): a route without `security`
 * needs no credentials.
 */
const registered = new WeakMap<FastifyInstance, { method: string; url: string }[]>();

/** Every route registered after `registerApiDocs` (method and path), documented or not: what the reference is checked against. */
export const registeredRoutes = (server: FastifyInstance) => registered.get(server) ?? [];

export async function registerApiDocs(
  server: FastifyInstance,
  opts: { description: string; paths?: Record<string, Record<string, unknown>> },
) {
  const routes: { method: string; url: string }[] = [];
  registered.set(server, routes);
  server.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  await server.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Spec Kitty tracker control plane", version: "1", description: opts.description },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer", description: "Personal API token or CLI access token." },
          team: {
            type: "apiKey",
            in: "header",
            name: "X-Team-Slug",
            description: "The team the call acts for: its slug or id. The caller must be a member.",
          },
        },
      },
    },
    transformObject: (documentObject) => {
      const doc = (documentObject as { openapiObject: { paths?: Record<string, Record<string, unknown>> } })
        .openapiObject;
      for (const [path, item] of Object.entries(opts.paths ?? {}))
        doc.paths = { ...doc.paths, [path]: { ...doc.paths?.[path], ...item } };
      return doc as never;
    },
  });
  await server.register(swaggerUi, { routePrefix: "/api/docs" });
  server.get("/api/v1/openapi.json", { schema: { hide: true } }, () => server.swagger());
}
