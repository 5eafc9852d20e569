import { Type } from "typebox";
import { documented } from "../http/schemas.ts";

export const AdmissionParams = Type.Object({
  project_uuid: Type.String({ maxLength: 64, description: "The CLI project UUID (canonical, lower-case)." }),
});

export const AdmissionHeaders = Type.Object({
  "idempotency-key": Type.Optional(
    Type.String({ description: "Required: 16-128 characters, stable per operation." }),
  ),
  "if-match-admission-generation": Type.Optional(
    Type.String({
      description: "Current generation (compare-and-set). Required to revoke and to re-admit after a revoke.",
    }),
  ),
});

export const AdmitBody = Type.Union([
  Type.Object(
    {
      project_slug: Type.Optional(
        Type.String({ maxLength: 200, description: "Display only; never identity." }),
      ),
    },
    { additionalProperties: false },
  ),
  Type.Null(),
]);
documented(AdmitBody, { examples: [{ project_slug: "payments" }] });

export const Admission = Type.Object({
  source_project_uuid: Type.String(),
  state: Type.Union([Type.Literal("admitted"), Type.Literal("revoked")]),
  generation: Type.Integer({ minimum: 1 }),
  binding_audience: Type.String({ description: "Opaque; copied into every write as admission proof." }),
});
documented(Admission, {
  description:
    "The project's admission: its state and generation (send it as `If-Match-Admission-Generation` to change it).",
  examples: [
    {
      source_project_uuid: "8f0c7b1e-0000-4000-8000-000000000001",
      state: "admitted",
      generation: 1,
      binding_audience: "aud_8f0c7b1e:1:3fa9c2",
    },
  ],
});

export const AdmissionRefusal = Type.Object({
  error_category: Type.Union(
    [
      "invalid_project_uuid",
      "invalid_admission_request",
      "authentication_required",
      "admission_mutation_forbidden",
      "project_sync_admission_not_found",
      "admission_generation_conflict",
      "admission_operation_conflict",
      "project_tombstoned",
    ].map((c) => Type.Literal(c)),
  ),
  error_code: Type.String(),
  message: Type.String(),
  retryable: Type.Literal(false),
  current_generation: Type.Optional(Type.Integer({ minimum: 1 })),
});
