import { Type } from "typebox";

/**
 * Form fields of the OAuth endpoints (the CLI sends `application/x-www-form-urlencoded`; JSON works too).
 * Fields are loose on purpose: the grant decides what is required, and a missing or repeated field is
 * answered as the RFC's `invalid_request`, not the API's validation envelope.
 */
const field = (description: string) => Type.Optional(Type.String({ maxLength: 4096, description }));

export const TokenRequest = Type.Object(
  {
    grant_type: field(
      "`authorization_code`, `refresh_token` or `urn:ietf:params:oauth:grant-type:device_code`.",
    ),
    client_id: field("Always `cli_native` (public client, no secret)."),
    code: field("authorization_code: the code from the loopback callback."),
    redirect_uri: field("authorization_code: byte-identical to the authorize request."),
    code_verifier: field("authorization_code: the PKCE verifier."),
    refresh_token: field("refresh_token: the current refresh token (rotated on every use)."),
    device_code: field("device_code grant: from `POST /oauth/device`."),
    scope: field("Ignored; the granted scope is `offline_access`."),
  },
  { additionalProperties: true },
);

export const TokenResponse = Type.Object({
  access_token: Type.String({ description: "Opaque bearer token for the API; short-lived." }),
  token_type: Type.Literal("Bearer"),
  refresh_token: Type.String({
    description: "Rotated on every refresh; a replayed one revokes the session.",
  }),
  expires_in: Type.Integer({ description: "Seconds until the access token expires." }),
  refresh_token_expires_in: Type.Integer({ description: "Idle lifetime of the refresh token, seconds." }),
  refresh_token_expires_at: Type.String({ format: "date-time" }),
  scope: Type.String(),
  session_id: Type.String({ description: "Stable for the life of the sign-in." }),
  generation: Type.Integer({ description: "Refresh generation of the session (1 at sign-in)." }),
});

export const OAuthErrorBody = Type.Object(
  {
    error: Type.String({
      description:
        "`invalid_request`, `invalid_client`, `invalid_grant`, `unsupported_grant_type`, `authorization_pending`, `slow_down`, `access_denied`, `expired_token`, `session_invalid`, `refresh_replay_benign_retry`, `too_many_requests` (429 with Retry-After: too many refused token requests or device sign-ins from one address).",
    }),
    error_description: Type.Optional(Type.String()),
    retry_after: Type.Optional(Type.Integer()),
    interval: Type.Optional(Type.Integer()),
  },
  { additionalProperties: true },
);

export const DeviceRequest = Type.Object(
  { client_id: field("Always `cli_native`."), scope: field("Ignored; `offline_access` is granted.") },
  { additionalProperties: true },
);

export const DeviceAuthorization = Type.Object({
  device_code: Type.String(),
  user_code: Type.String({ description: "Shown to the user, e.g. `WDJB-MJHT`." }),
  verification_uri: Type.String(),
  verification_uri_complete: Type.String(),
  expires_in: Type.Integer(),
  interval: Type.Integer({ description: "Seconds between polls of `POST /oauth/token`." }),
});

export const RevokeRequest = Type.Object(
  {
    token: field("A refresh or access token of the session to end."),
    token_type_hint: field("`refresh_token` or `access_token`; optional."),
  },
  { additionalProperties: true },
);

export const RevokeResponse = Type.Object({ revoked: Type.Literal(true) });

export const SessionStatus = Type.Object({
  status: Type.Literal("active"),
  session_id: Type.Union([Type.String(), Type.Null()], { description: "Null for personal API tokens." }),
  current_generation: Type.Union([Type.Integer(), Type.Null()]),
  auth_method: Type.String({ description: "`authorization_code`, `device_code` or `api_token`." }),
  created_at: Type.Optional(Type.String({ format: "date-time" })),
  last_used_at: Type.Optional(Type.String({ format: "date-time" })),
});
