import { Type } from "typebox";
import { documented, Nullable, StringEnum } from "../http/schemas.ts";

/** A failed operation's error: the envelope's fields, plus `dead` and `attempts` when retries ran out. */
const OperationError = Type.Object(
  {
    error_code: Type.Optional(Type.String()),
    message: Type.Optional(Type.String()),
    retryable: Type.Optional(Type.Boolean()),
    user_action_required: Type.Optional(Type.Boolean()),
    source: Type.Optional(Type.String()),
    retry_after_seconds: Type.Optional(Nullable(Type.Number())),
    effect_certainty: Type.Optional(Type.String()),
    dead: Type.Optional(Type.Boolean({ description: "The job used up its attempts." })),
    attempts: Type.Optional(Type.Integer()),
  },
  { additionalProperties: true },
);

/** An asynchronous operation as clients poll it (contract §7). */
export const Operation = Type.Object(
  {
    operation_id: Type.String(),
    status: StringEnum(["pending", "running", "completed", "failed"]),
    kind: Type.String({ description: "`tracker.push`, `tracker.run`, `inventory.refresh`..." }),
    progress: Type.Unknown({ description: "What the job reported so far; its shape depends on `kind`." }),
    result: Nullable(
      Type.Object(
        {},
        {
          additionalProperties: true,
          description:
            "When completed: the result the synchronous call would have answered (push, run, refresh).",
        },
      ),
    ),
    error: Nullable(OperationError, { description: "When failed." }),
    /** Attempts used so far (retryable failures are retried with backoff up to JOB_MAX_ATTEMPTS). */
    attempts: Type.Integer(),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { description: "Poll until `completed` (with `result`) or `failed` (with `error`)." },
);
documented(Operation, {
  examples: [
    {
      operation_id: "op_01JF3QB4N6M8K0J2H4G6F8D0S2",
      status: "completed",
      kind: "inventory.refresh",
      progress: { pages: 3, resources: 12 },
      result: { resources: 12, added: 1, missing: 0 },
      error: null,
      attempts: 1,
      created_at: "2026-11-30T09:15:00.000Z",
      updated_at: "2026-11-30T09:15:04.000Z",
    },
    {
      operation_id: "op_01JF3QB4N6M8K0J2H4G6F8D0S3",
      status: "failed",
      kind: "tracker.push",
      progress: null,
      result: null,
      error: {
        error_code: "provider_auth_revoked",
        message: "Jira no longer accepts this installation's credentials. Reconnect it in the dashboard.",
        retryable: false,
        user_action_required: true,
        source: "provider",
        retry_after_seconds: null,
        effect_certainty: "no_effect",
      },
      attempts: 1,
      created_at: "2026-11-30T09:15:00.000Z",
      updated_at: "2026-11-30T09:15:02.000Z",
    },
  ],
});
