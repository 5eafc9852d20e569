import { Type } from "typebox";
import { documented, Nullable, StringEnum } from "../http/schemas.ts";

export const HookParams = Type.Object({
  provider: Type.String({ maxLength: 32 }),
  hook_id: Type.String({ maxLength: 64 }),
});

export const HookAck = Type.Object(
  { received: Type.Literal(true) },
  {
    description:
      "Every verified delivery gets this answer, whether or not it names one of our installations.",
  },
);

export const WebhookParams = Type.Object({ installation_id: Type.String({ maxLength: 64 }) });

export const EventHealth = Type.Object({
  installation_id: Type.String(),
  provider: Type.String(),
  registration: StringEnum(["app", "automatic", "manual", "schedule_only"] as const, {
    description:
      "app: one App-wide hook (GitHub); automatic: the service registered the hook through the provider's API (GitLab); manual: an admin pastes `url` and the secret into the provider; schedule_only: the provider sends no event we follow.",
  }),
  registration_reason: Nullable(Type.String(), {
    description:
      "automatic: what the registered hook covers; manual: why the service could not register it (the provider's answer) and what to do.",
  }),
  hook_scope: Nullable(StringEnum(["system", "group"] as const), {
    description:
      "The kind of hook registered automatically (GitLab: an instance system hook or a group webhook).",
  }),
  hook_checked_at: Nullable(Type.String({ format: "date-time" }), {
    description: "When the service last registered, updated or tried to register the hook.",
  }),
  state: StringEnum([
    "schedule_only",
    "not_configured",
    "awaiting_first_delivery",
    "receiving",
    "failing",
  ] as const),
  url: Nullable(Type.String(), { description: "Where the provider delivers this installation's events." }),
  secret_set: Type.Boolean(),
  secret_rotated_at: Nullable(Type.String({ format: "date-time" })),
  deliveries: Type.Integer(),
  last_delivery_at: Nullable(Type.String({ format: "date-time" })),
  last_applied_at: Nullable(Type.String({ format: "date-time" })),
  last_failure_at: Nullable(Type.String({ format: "date-time" })),
  last_failure_reason: Nullable(Type.String()),
  inventory_synced_at: Nullable(Type.String({ format: "date-time" }), {
    description: "When the last full refresh pass completed.",
  }),
});

export const RotatedSecret = Type.Object({
  installation_id: Type.String(),
  url: Type.String(),
  secret: Type.String({ description: "Shown this once: paste it as the hook's secret token." }),
  hook_updated: Type.Boolean({
    description:
      "Whether the service put the new secret on the provider's hook itself (automatic registration); false: paste it by hand.",
  }),
  registration_reason: Nullable(Type.String(), {
    description: "What the updated hook covers, or why it could not be updated.",
  }),
});

documented(HookAck, {
  description: "Accepted (queued), a duplicate, or nothing we follow: the same answer for all three.",
  examples: [{ received: true }],
});

documented(EventHealth, {
  description: "Event health of one installation.",
  examples: [
    {
      installation_id: "inst_01JF3Q8Z1Y2X3W4V5T6S7R8Q9P",
      provider: "gitlab",
      registration: "automatic",
      registration_reason:
        "A system hook registered through GitLab's API: every project creation, update, rename, transfer and deletion arrives as an event.",
      hook_scope: "system",
      hook_checked_at: "2026-12-01T09:00:00.000Z",
      state: "receiving",
      url: "https://kitty.example.com/api/v1/webhooks/gitlab/inst_01JF3Q8Z1Y2X3W4V5T6S7R8Q9P/",
      secret_set: true,
      secret_rotated_at: "2026-12-01T09:00:00.000Z",
      deliveries: 42,
      last_delivery_at: "2026-12-02T10:15:00.000Z",
      last_applied_at: "2026-12-02T10:15:00.000Z",
      last_failure_at: null,
      last_failure_reason: null,
      inventory_synced_at: "2026-12-02T09:00:00.000Z",
    },
  ],
});

documented(RotatedSecret, {
  description: "The hook's URL and its new secret, answered this once.",
  examples: [
    {
      installation_id: "inst_01JF3Q8Z1Y2X3W4V5T6S7R8Q9P",
      url: "https://kitty.example.com/api/v1/webhooks/gitlab/inst_01JF3Q8Z1Y2X3W4V5T6S7R8Q9P/",
      secret: "q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6",
      hook_updated: false,
      registration_reason:
        "Automatic registration was not possible: the connected user is not an Owner of group 8001 (group webhooks need the Owner role). Paste the URL and secret into a hook by hand, or reconnect with an administrator's or the group Owner's token and choose Register again.",
    },
  ],
});
