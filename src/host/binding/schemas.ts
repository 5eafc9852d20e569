import { Type } from "typebox";
import { ProviderName } from "../installations/schemas.ts";

/** The story the examples tell: team acme's Jira site, project PAY bound to the CLI project `payments`. */
const IDENTITY_EXAMPLE = {
  uuid: "8f0c7b1e-0000-4000-8000-000000000001",
  slug: "payments",
  node_id: "a1b2c3d4e5f6",
  repo_slug: null,
  build_id: "0c3d5e7f-1a2b-5c4d-8e9f-0a1b2c3d4e5f",
};
const CANDIDATE_TOKEN = "cand_res_01JF3Q9M6K2T8V4X7B5N1C0D2E.mk2x9a1.Zb3kQ9vT1xY8wE2rL5nP0s";
const BINDING_REF = "srm_01JF3QA2B7C9D4E6F8G0H1J3K5";
const CONTEXT_EXAMPLE = { workspace_name: "Acme", project_key: "PAY", project_name: "Payments" };

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
  { additionalProperties: false, examples: [{ provider: "jira", project_identity: IDENTITY_EXAMPLE }] },
);

export const Candidate = Type.Object({
  candidate_token: Type.String(),
  display_label: Type.String(),
  confidence: Type.Union([Type.Literal("high"), Type.Literal("medium"), Type.Literal("low")]),
  match_reason: Type.String(),
  sort_position: Type.Integer({ minimum: 0 }),
  provider_context: Context,
});

export const BindResolveResult = Type.Object(
  {
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
  },
  {
    description:
      "`exact`: the project is already bound (`binding_ref`); `candidates`: resources ranked for the CLI to offer (confirm one with bind-confirm); `none`: nothing bindable.",
    examples: [
      {
        match_type: "candidates",
        candidate_token: null,
        binding_ref: null,
        display_label: null,
        project_slug: null,
        candidates: [
          {
            candidate_token: CANDIDATE_TOKEN,
            display_label: "Acme / PAY Payments",
            confidence: "high",
            match_reason: "The project key matches the project slug",
            sort_position: 0,
            provider_context: CONTEXT_EXAMPLE,
          },
        ],
        hidden_by_curation: 0,
        curation_notice: null,
      },
    ],
  },
);

export const BindConfirmBody = Type.Object(
  { provider: ProviderName, candidate_token: Str(1024), project_identity: ProjectIdentity },
  {
    additionalProperties: false,
    examples: [{ provider: "jira", candidate_token: CANDIDATE_TOKEN, project_identity: IDENTITY_EXAMPLE }],
  },
);

export const BindResult = Type.Object(
  {
    binding_ref: Type.String(),
    display_label: Type.String(),
    provider: Type.String(),
    provider_context: Context,
    bound_at: Type.String(),
    project_slug: Type.String(),
  },
  {
    description: "The project is bound: the CLI stores `binding_ref` and routes every later call by it.",
    examples: [
      {
        binding_ref: BINDING_REF,
        display_label: "Acme / PAY Payments",
        provider: "jira",
        provider_context: CONTEXT_EXAMPLE,
        bound_at: "2026-11-30T09:15:00.000Z",
        project_slug: "payments",
      },
    ],
  },
);

export const BindValidateBody = Type.Object(
  { provider: ProviderName, binding_ref: Str(64), project_identity: ProjectIdentity },
  {
    additionalProperties: false,
    examples: [{ provider: "jira", binding_ref: BINDING_REF, project_identity: IDENTITY_EXAMPLE }],
  },
);

export const BindValidateResult = Type.Object(
  {
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
  },
  {
    description:
      "Whether the stored `binding_ref` still routes; when not, `reason` and `guidance` say why and what to do.",
    examples: [
      {
        valid: true,
        binding_ref: BINDING_REF,
        display_label: "Acme / PAY Payments",
        provider: "jira",
        provider_context: CONTEXT_EXAMPLE,
        project_slug: "payments",
      },
      {
        valid: false,
        binding_ref: BINDING_REF,
        reason: "mapping_disabled",
        guidance:
          "An admin disabled this mapping. Ask them to enable it, or run `spec-kitty tracker bind` again.",
      },
    ],
  },
);

/** Routing keys of project-scoped reads: exactly one of binding_ref or project_slug, or neither (installation-wide). */
export const RoutedQuery = Type.Object(
  {
    provider: ProviderName,
    binding_ref: Type.Optional(Str(64)),
    project_slug: Type.Optional(Str(128)),
  },
  { additionalProperties: false },
);
