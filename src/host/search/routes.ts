import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Domain } from "../domain.ts";
import { IssueSearchBody, IssueSearchResult, ListTicketsBody, ListTicketsResult } from "./schemas.ts";

/** The domain services these routes call. */
type Deps = Pick<Domain, "search">;

const tags = ["tracker"];

export const searchRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (app, { services }) => {
  app.post(
    "/tracker/issue-search/",
    {
      schema: {
        tags,
        summary: "Search issues of the mapped resource (`query_key` wins over `query_text`)",
        body: IssueSearchBody,
        response: { 200: IssueSearchResult },
      },
    },
    (req) => services.search.issueSearch(req.auth, req.body),
  );

  app.post(
    "/tracker/list-tickets/",
    {
      schema: {
        tags,
        summary: "Tickets of the mapped resource (or, provider only, of the team's mapped resources)",
        body: ListTicketsBody,
        response: { 200: ListTicketsResult },
      },
    },
    (req) => services.search.listTickets(req.auth, req.body),
  );
};
