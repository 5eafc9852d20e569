import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Domain } from "../domain.ts";
import { PROVIDER_ERRORS, ROUTING_ERRORS } from "../http/error-schemas.ts";
import { cliRoute } from "../http/schemas.ts";
import { IssueSearchBody, IssueSearchResult, ListTicketsBody, ListTicketsResult } from "./schemas.ts";

/** The domain services these routes call. */
type Deps = Pick<Domain, "search">;

export const searchRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (app, { services }) => {
  app.post(
    "/tracker/issue-search/",
    cliRoute("Search issues of the mapped resource (`query_key` wins over `query_text`)", {
      body: IssueSearchBody,
      response: { 200: IssueSearchResult },
      errors: [...ROUTING_ERRORS, ...PROVIDER_ERRORS, "invalid_query", "no_installation"],
    }),
    (req) => services.search.issueSearch(req.auth, req.body),
  );

  app.post(
    "/tracker/list-tickets/",
    cliRoute("Tickets of the mapped resource (or, provider only, of the team's mapped resources)", {
      body: ListTicketsBody,
      response: { 200: ListTicketsResult },
      errors: [...ROUTING_ERRORS, ...PROVIDER_ERRORS, "no_installation"],
    }),
    (req) => services.search.listTickets(req.auth, req.body),
  );
};
