import { Type } from "typebox";
import { documented } from "../http/schemas.ts";

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
documented(TokenRequest, {
  examples: [
    {
      grant_type: "authorization_code",
      client_id: "cli_native",
      code: "skc_code_01J9Z8",
      redirect_uri: "http://127.0.0.1:53682/callback",
      code_verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    },
    { grant_type: "refresh_token", client_id: "cli_native", refresh_token: "skr_01JF3QJ0K2M4N6P8Q0R2S4T6V8" },
  ],
});

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
documented(TokenResponse, {
  description: "Signed in (or refreshed): a short-lived access token and the rotated refresh token.",
  examples: [
    {
      access_token: "ska_01JF3QK2M4N6P8Q0R2S4T6V8W0",
      token_type: "Bearer",
      refresh_token: "skr_01JF3QK2M4N6P8Q0R2S4T6V8W1",
      expires_in: 900,
      refresh_token_expires_in: 2592000,
      refresh_token_expires_at: "2026-12-30T09:15:00.000Z",
      scope: "offline_access",
      session_id: "cls_01JF3QK2M4N6P8Q0R2S4T6V8W2",
      generation: 1,
    },
  ],
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
documented(DeviceRequest, { examples: [{ client_id: "cli_native", scope: "offline_access" }] });

export const DeviceAuthorization = Type.Object({
  device_code: Type.String(),
  user_code: Type.String({ description: "Shown to the user, e.g. `WDJB-MJHT`." }),
  verification_uri: Type.String(),
  verification_uri_complete: Type.String(),
  expires_in: Type.Integer(),
  interval: Type.Integer({ description: "Seconds between polls of `POST /oauth/token`." }),
});
documented(DeviceAuthorization, {
  description:
    "A device sign-in started: show `user_code` and `verification_uri`, then poll the token endpoint.",
  examples: [
    {
      device_code: "skd_01JF3QM4N6P8Q0R2S4T6V8W0X2",
      user_code: "WDJB-MJHT",
      verification_uri: "http://127.0.0.1:8080/dashboard/cli/device",
      verification_uri_complete: "http://127.0.0.1:8080/dashboard/cli/device?user_code=WDJB-MJHT",
      expires_in: 600,
      interval: 5,
    },
  ],
});

export const RevokeRequest = Type.Object(
  {
    token: field("A refresh or access token of the session to end."),
    token_type_hint: field("`refresh_token` or `access_token`; optional."),
  },
  { additionalProperties: true },
);
documented(RevokeRequest, {
  examples: [{ token: "skr_01JF3QK2M4N6P8Q0R2S4T6V8W1", token_type_hint: "refresh_token" }],
});

export const RevokeResponse = Type.Object({ revoked: Type.Literal(true) });
documented(RevokeResponse, {
  description: "The session is over (also when the token was unknown or already revoked, RFC 7009).",
  examples: [{ revoked: true }],
});

export const SessionStatus = Type.Object({
  status: Type.Literal("active"),
  session_id: Type.Union([Type.String(), Type.Null()], { description: "Null for personal API tokens." }),
  current_generation: Type.Union([Type.Integer(), Type.Null()]),
  auth_method: Type.String({ description: "`authorization_code`, `device_code` or `api_token`." }),
  created_at: Type.Optional(Type.String({ format: "date-time" })),
  last_used_at: Type.Optional(Type.String({ format: "date-time" })),
});
documented(SessionStatus, {
  description: "The caller's credential is live: which sign-in it belongs to.",
  examples: [
    {
      status: "active",
      session_id: "cls_01JF3QK2M4N6P8Q0R2S4T6V8W2",
      current_generation: 3,
      auth_method: "authorization_code",
      created_at: "2026-11-29T08:00:00.000Z",
      last_used_at: "2026-11-30T09:15:00.000Z",
    },
  ],
});
