import { pipeline, Readable } from "node:stream";
import { createGunzip, gzipSync } from "node:zlib";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Static } from "typebox";
import type { Domain } from "../domain.ts";
import { cliRoute } from "../http/schemas.ts";
import { listingJson } from "./listing.ts";
import { CliResources, CliResourcesQuery, InventoryQuery, ResourcePage } from "./schemas.ts";

/** Whether an Accept-Encoding header takes gzip (`gzip`, `gzip;q=0.5`, `*`; not `gzip;q=0`). */
export function acceptsGzip(header: string | undefined) {
  if (!header) return false;
  return header.split(",").some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(";");
    if (coding.trim() !== "gzip" && coding.trim() !== "*") return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/** Listings longer than this are streamed rather than serialised into one cached body. */
const STREAM_AFTER = 10_000;

/** The domain services these routes call. */
type Deps = Pick<Domain, "installations" | "inventory">;

export const inventoryRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (app, { services }) => {
  const serialised = new WeakMap<object, { json: Buffer; gzip: Buffer }>();
  app.get(
    "/inventory/",
    {
      schema: {
        tags: ["inventory"],
        summary: "Discovered resources with server-side search, filters and cursor pagination",
        querystring: InventoryQuery,
        response: { 200: ResourcePage },
      },
    },
    async (req) => {
      const { installation_id, provider, q, state, cursor, limit } = req.query;
      if (installation_id) await services.installations.get(req.auth.team.id, installation_id);
      return services.inventory.page(
        { teamId: req.auth.team.id, installationId: installation_id, provider, q, state },
        cursor,
        limit,
      );
    },
  );

  app.get(
    "/tracker/resources/",
    cliRoute(
      "Bindable resources of the team's installations for a provider (`spec-kitty tracker discover`)",
      { querystring: CliResourcesQuery, response: { 200: CliResources }, errors: ["no_installation"] },
    ),
    async (req, reply) => {
      const gzip = acceptsGzip(req.headers["accept-encoding"]);
      const answer = await services.inventory.cliResources(
        req.auth.team,
        req.query.provider,
        req.query.cursor,
        req.query.limit,
        { gzip },
      );
      type Body = Static<typeof CliResources>;
      reply.type("application/json; charset=utf-8");
      // A cold team's whole list: its file, sent from disk, memory flat in the list's size. A gzip file
      // goes to a client that does not take gzip only when its plain copy could not be made.
      if (answer.kind === "file") {
        const file = answer.handle.createReadStream({ highWaterMark: 512 * 1024 });
        reply.header("vary", "accept-encoding");
        if (answer.gzip && !gzip)
          return reply.send(pipeline(file, createGunzip(), () => {}) as unknown as Body);
        if (answer.gzip) reply.header("content-encoding", "gzip");
        reply.header("content-length", answer.bytes);
        return reply.send(file as unknown as Body);
      }
      const { page } = answer;
      // A whole large inventory is written as it is serialised, never held as one body.
      if (page.resources.length > STREAM_AFTER)
        return reply.send(Readable.from(listingJson(page)) as unknown as Body);
      // Serialised by the route's response schema and encoded once per page of a listing, then sent as is;
      // gzipped once too, for clients that take it (the CLI's httpx asks for gzip by default).
      let body = serialised.get(page);
      if (body === undefined) {
        const json = Buffer.from(reply.serialize(page) as string);
        body = { json, gzip: gzipSync(json, { level: 6 }) };
        serialised.set(page, body);
      }
      reply.header("vary", "accept-encoding");
      if (gzip) reply.header("content-encoding", "gzip");
      // Bytes are sent unserialised (the type provider only knows objects).
      return reply.send((gzip ? body.gzip : body.json) as unknown as Body);
    },
  );
};
