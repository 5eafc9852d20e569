import { Type } from "typebox";

/**
 * `/oauth/authorize` as the OpenAPI document describes it. The route itself is a browser page (served
 * by the CLI sign-in pages): it checks its parameters the RFC 6749 way (§4.1.2.1: a bad `client_id`
 * or `redirect_uri` is an HTML page, anything else goes back to the redirect URI as `error=`), not by
 * schema, so this is documentation only; test/host/openapi.test.ts checks it against the real route.
 */
const AuthorizeQuery = Type.Object(
  {
    response_type: Type.Literal("code", { description: "Only the authorization code flow." }),
    client_id: Type.Literal("cli_native", { description: "The Spec Kitty CLI's public client." }),
    redirect_uri: Type.String({
      description:
        "Where the CLI listens: `http://127.0.0.1:<port>/callback` or `http://localhost:<port>/callback`.",
      examples: ["http://127.0.0.1:53682/callback"],
    }),
    code_challenge: Type.String({
      description: "PKCE: the base64url SHA-256 of the verifier (43 characters).",
      examples: ["E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"],
    }),
    code_challenge_method: Type.Literal("S256"),
    scope: Type.Optional(
      Type.String({ description: "Ignored: the granted scope is always the tracker API." }),
    ),
    state: Type.Optional(Type.String({ maxLength: 1024, description: "Echoed back to the redirect URI." })),
  },
  { additionalProperties: false },
);

const FORM_EXAMPLE = {
  _csrf: "c5f1d0e2a9b84c7f",
  decision: "approve",
  response_type: "code",
  client_id: "cli_native",
  redirect_uri: "http://127.0.0.1:53682/callback",
  code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
  code_challenge_method: "S256",
  state: "af0ifjsldkj",
};

const AuthorizeForm = Type.Object(
  {
    _csrf: Type.String({ description: "The consent page's CSRF token." }),
    decision: Type.Union([Type.Literal("approve"), Type.Literal("deny")]),
    ...AuthorizeQuery.properties,
  },
  {
    additionalProperties: false,
  },
);

const html = (description: string, example: string) => ({
  description,
  content: { "text/html": { schema: { type: "string" }, example } },
});

const redirect = (description: string, example: string) => ({
  description,
  headers: { Location: { description: "Where the browser goes next.", schema: { type: "string" }, example } },
});

const required: readonly string[] = AuthorizeQuery.required ?? [];
const query = Object.entries(AuthorizeQuery.properties).map(([name, schema]) => {
  const { description } = schema as { description?: string };
  return {
    name,
    in: "query",
    required: required.includes(name),
    schema,
    ...(description ? { description } : {}),
  };
});

const refused = html(
  "A request that cannot be sent back to the CLI (unknown `client_id`, a redirect URI that is not the CLI's loopback listener, a repeated parameter): an HTML page that says why.",
  "<h1>Sign-in request refused</h1><p>Unknown client. Only the Spec Kitty CLI (`cli_native`) can sign in here.</p>",
);

export const authorizePaths = {
  "/oauth/authorize": {
    get: {
      tags: ["cli sign-in"],
      summary: "CLI sign-in consent page (authorization code with PKCE, RFC 6749 §4.1, RFC 7636)",
      description:
        "Opened in the browser by `spec-kitty auth login`. Signed in: the consent page. Not signed in: 303 to the sign-in page, which returns here. A bad `response_type`, `code_challenge_method` or `code_challenge` goes back to `redirect_uri` with `error` and `error_description`.",
      security: [],
      parameters: query,
      responses: {
        200: html(
          "The consent page: Approve or Deny, for the signed-in user.",
          '<form method="post" action="/oauth/authorize">…<button name="decision" value="approve">Approve</button>…</form>',
        ),
        303: redirect(
          "To the sign-in page (no session), or back to `redirect_uri` with `error` (RFC 6749 §4.1.2.1).",
          "http://127.0.0.1:53682/callback?error=invalid_request&error_description=PKCE+with+code_challenge_method%3DS256+is+required.&state=af0ifjsldkj",
        ),
        400: refused,
      },
    },
    post: {
      tags: ["cli sign-in"],
      summary: "Approve or deny a CLI sign-in (the consent page's form)",
      description:
        "Sent by the consent page with the signed-in session's cookie and CSRF token. Approve: 303 to `redirect_uri` with a one-time `code` (exchanged at `POST /oauth/token` with the PKCE verifier) and `state`. Deny: 303 with `error=access_denied`.",
      security: [],
      requestBody: {
        required: true,
        content: {
          "application/x-www-form-urlencoded": { schema: AuthorizeForm, example: FORM_EXAMPLE },
        },
      },
      responses: {
        303: redirect(
          "Back to the CLI's redirect URI with `code` and `state` (approved) or `error=access_denied` (denied).",
          "http://127.0.0.1:53682/callback?code=skc_code_01J9Z8&state=af0ifjsldkj",
        ),
        400: refused,
        403: html(
          "No signed-in session, or the form's CSRF token or origin is not this site's: an HTML page.",
          "<h1>Form refused</h1>",
        ),
      },
    },
  },
};
