import { Type } from "typebox";
import { ProviderName } from "../installations/schemas.ts";

const Str = (max = 512) => Type.String({ minLength: 1, maxLength: max });
const Nullable = <T extends import("typebox").TSchema>(t: T) => Type.Union([t, Type.Null()]);
export const ProviderContext = Type.Record(Type.String(), Type.String(), {
  description: "Display strings; always has `workspace_name`.",
});
const Context = ProviderContext;

/**
 * What every routed response carries about its mapping (contract §11.4), however it was routed: the
 * CLI compares `binding_ref` with its own to report a pending binding upgrade.
 */
export const RoutedMapping = Type.Object({
  binding_ref: Type.String({ description: "The mapping's stable reference." }),
  display_label: Type.String(),
  provider_context: ProviderContext,
  project_slug: Type.String({ description: "The mapped project's slug." }),
});

/** The CLI's project identity (contract §11.1). `repo_slug` may be null; `node_id` is 12 hex chars. */
export const ProjectIdentity = Type.Object(
  {
    uuid: Type.String({ minLength: 1, maxLength: 64 }),
    slug: Type.String({ minLength: 1, maxLength: 128 }),
    node_id: Type.Optional(Nullable(Type.String({ maxLength: 128 }))),
    repo_slug: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
    build_id: Type.Optional(Nullable(Type.String({ maxLength: 128 }))),
  },
  { additionalProperties: true },
);

export const BindResolveBody = Type.Object(
  { provider: ProviderName, project_identity: ProjectIdentity },
  { additionalProperties: false },
);

export const Candidate = Type.Object({
  candidate_token: Type.String(),
  display_label: Type.String(),
  confidence: Type.Union([Type.Literal("high"), Type.Literal("medium"), Type.Literal("low")]),
  match_reason: Type.String(),
  sort_position: Type.Integer({ minimum: 0 }),
  provider_context: Context,
});

export const BindResolveResult = Type.Object({
  match_type: Type.Union([Type.Literal("exact"), Type.Literal("candidates"), Type.Literal("none")]),
  candidate_token: Nullable(Type.String()),
  binding_ref: Nullable(Type.String()),
  display_label: Nullable(Type.String()),
  project_slug: Nullable(Type.String()),
  provider_context: Type.Optional(Context),
  candidates: Type.Array(Candidate),
  hidden_by_curation: Type.Integer({
    minimum: 0,
    description:
      "Resources that match this project but the team's curation rules hide (never named). The CLI ignores it.",
  }),
  curation_notice: Nullable(
    Type.String({ description: "A sentence for the user when curation hid matches, else null." }),
  ),
});

export const BindConfirmBody = Type.Object(
  { provider: ProviderName, candidate_token: Str(1024), project_identity: ProjectIdentity },
  { additionalProperties: false },
);

export const BindResult = Type.Object({
  binding_ref: Type.String(),
  display_label: Type.String(),
  provider: Type.String(),
  provider_context: Context,
  bound_at: Type.String(),
  project_slug: Type.String(),
});

export const BindValidateBody = Type.Object(
  { provider: ProviderName, binding_ref: Str(64), project_identity: ProjectIdentity },
  { additionalProperties: false },
);

export const BindValidateResult = Type.Object({
  valid: Type.Boolean(),
  binding_ref: Type.String(),
  reason: Type.Optional(
    Type.Union([
      Type.Literal("mapping_deleted"),
      Type.Literal("mapping_disabled"),
      Type.Literal("project_mismatch"),
      Type.Literal("resource_missing"),
    ]),
  ),
  guidance: Type.Optional(Type.String()),
  display_label: Type.Optional(Type.String()),
  provider: Type.Optional(Type.String()),
  provider_context: Type.Optional(Context),
  project_slug: Type.Optional(Type.String()),
});

/** Routing keys of project-scoped reads: exactly one of binding_ref or project_slug, or neither (installation-wide). */
export const RoutedQuery = Type.Object(
  {
    provider: ProviderName,
    binding_ref: Type.Optional(Str(64)),
    project_slug: Type.Optional(Str(128)),
  },
  { additionalProperties: false },
);
