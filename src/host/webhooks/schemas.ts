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
  registration: StringEnum(["app", "manual", "schedule_only"] as const, {
    description:
      "app: one App-wide hook (GitHub); manual: an admin pastes `url` and the secret into the provider; schedule_only: the provider sends no event we follow.",
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
      registration: "manual",
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
    },
  ],
});
