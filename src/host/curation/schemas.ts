import { Type } from "typebox";
import { documented } from "../http/schemas.ts";

const Nullable = <T extends import("typebox").TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const CurationParams = Type.Object(
  { installation_id: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);

/** One rule as an admin writes it: exactly one of `pattern`, `kind` + `value`, `resource_id` (by `match`). */
export const CurationRuleInput = Type.Object(
  {
    effect: Type.Union([Type.Literal("include"), Type.Literal("exclude")]),
    match: Type.Union([Type.Literal("pattern"), Type.Literal("kind"), Type.Literal("resource")]),
    pattern: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description:
          "Glob over path, name, key and label (case-insensitive): `*` within a path segment, `**` across segments, `?` one character.",
      }),
    ),
    kind: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: "A kind the provider lists." }),
    ),
    value: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    resource_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const CurationRulesBody = Type.Object(
  { rules: Type.Array(CurationRuleInput, { maxItems: 100 }) },
  { additionalProperties: false },
);

export const CurationRuleView = Type.Object({
  effect: Type.String(),
  match: Type.String(),
  pattern: Nullable(Type.String()),
  kind: Nullable(Type.String()),
  value: Nullable(Type.String()),
  resource_id: Nullable(Type.String()),
  /** The resource a `resource` rule names, for display. */
  resource_label: Nullable(Type.String()),
});

export const CurationKind = Type.Object({
  name: Type.String(),
  label: Type.String(),
  values: Type.Array(Type.Object({ value: Type.String(), label: Type.String() })),
});

export const CurationCounts = Type.Object({
  bindable: Type.Integer({ description: "Live, not archived, issue-enabled resources of the installation." }),
  hidden: Type.Integer({ description: "Of those, hidden by the rules." }),
  offered: Type.Integer({ description: "Of those, offered to the CLI and the dashboard picker." }),
  hidden_mapped: Type.Integer({
    description: "Hidden resources that are mapped (the mappings keep working).",
  }),
});

export const HiddenMapping = Type.Object({
  binding_ref: Type.String(),
  display_label: Type.String(),
  project_slug: Type.String(),
});

export const Curation = Type.Object({
  installation_id: Type.String(),
  provider: Type.String(),
  rules: Type.Array(CurationRuleView),
  kinds: Type.Array(CurationKind, { description: "Kinds this provider's rules can name." }),
  counts: CurationCounts,
  hidden_mappings: Type.Array(HiddenMapping, {
    description: "Mappings whose resource the rules hide: they keep working; flagged for admins.",
  }),
});

export const CurationPreview = Type.Object({
  current: CurationCounts,
  proposed: CurationCounts,
  newly_hidden: Type.Integer({ description: "Offered now, hidden once the proposed rules are saved." }),
  newly_revealed: Type.Integer({ description: "Hidden now, offered once the proposed rules are saved." }),
  rule_matches: Type.Array(Type.Integer(), {
    description: "Per proposed rule (same order), how many bindable resources it matches on its own.",
  }),
});

const COUNTS_EXAMPLE = { bindable: 120, hidden: 4, offered: 116, hidden_mapped: 1 };

documented(CurationRulesBody, {
  description: "The installation's whole rule list, in order; the last matching rule decides.",
  examples: [
    {
      rules: [
        { effect: "exclude", match: "pattern", pattern: "sandbox-*" },
        { effect: "exclude", match: "kind", kind: "fork", value: "fork" },
      ],
    },
  ],
});

documented(Curation, {
  description: "The installation's curation rules, the kinds they can name, and what they hide now.",
  examples: [
    {
      installation_id: "inst_01JF3Q8Z1Y2X3W4V5T6S7R8Q9P",
      provider: "github",
      rules: [
        {
          effect: "exclude",
          match: "pattern",
          pattern: "sandbox-*",
          kind: null,
          value: null,
          resource_id: null,
          resource_label: null,
        },
      ],
      kinds: [
        {
          name: "visibility",
          label: "Visibility",
          values: [
            { value: "public", label: "Public" },
            { value: "private", label: "Private" },
          ],
        },
      ],
      counts: COUNTS_EXAMPLE,
      hidden_mappings: [
        {
          binding_ref: "srm_01JF3QA2B7C9D4E6F8G0H1J3K5",
          display_label: "acme/sandbox-api",
          project_slug: "api",
        },
      ],
    },
  ],
});

documented(CurationPreview, {
  description: "What the proposed rules would change; nothing is saved.",
  examples: [
    {
      current: COUNTS_EXAMPLE,
      proposed: { bindable: 120, hidden: 10, offered: 110, hidden_mapped: 1 },
      newly_hidden: 6,
      newly_revealed: 0,
      rule_matches: [10],
    },
  ],
});
