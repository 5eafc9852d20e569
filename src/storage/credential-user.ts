import { users } from "./schema.ts";

/**
 * The columns of the user a credential signs in (dashboard session, API token, OAuth access token):
 * what authentication needs, and nothing else of the user row.
 */
export const credentialUser = { id: users.id, email: users.email, name: users.name };
