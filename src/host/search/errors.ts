import { DomainError } from "../errors/domain-error.ts";

export const invalidQuery = () =>
  new DomainError("invalid_query", "Send `query_key` or `query_text` (a non-empty search).", {
    userActionRequired: true,
    details: { fields: [{ field: "body.query_text", problem: "is required when query_key is absent" }] },
  });
