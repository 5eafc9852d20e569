import type { ErrorObject } from "ajv";

/**
 * What a schema validator's errors say to a person: one problem per field, naming the allowed values
 * (`must be one of: jira, linear`) and the known fields, instead of one line per failed keyword (a
 * union of ten literals fails ten `const` checks and one `anyOf`).
 */
export interface FieldProblem {
  field: string;
  problem: string;
}

const UNION = new Set(["anyOf", "oneOf"]);

const fieldOf = (part: string, e: ErrorObject) => {
  const params = e.params as Record<string, unknown>;
  const steps = e.instancePath.split("/").filter(Boolean);
  const extra = params?.missingProperty ?? params?.additionalProperty;
  if (typeof extra === "string") steps.push(extra);
  return [part, ...steps.map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))].join(".");
};

const quoted = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/** One error's problem, worded; `null` when the error only summarises others (a union's own error). */
function problemOf(e: ErrorObject): string {
  const params = e.params as Record<string, any>;
  switch (e.keyword) {
    case "additionalProperties": {
      const known = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
      return known.length ? `is not a known field (known: ${known.join(", ")})` : "is not a known field";
    }
    case "required":
      return "is required";
    case "enum":
      return `must be one of: ${(params.allowedValues as unknown[]).map(quoted).join(", ")}`;
    case "const":
      return `must be ${quoted(params.allowedValue)}`;
    default:
      return e.message ?? "is invalid";
  }
}

/** The errors that explain a union error: those under its schema path at or below its instance path. */
const childrenOf = (u: ErrorObject, errors: ErrorObject[]) =>
  errors.filter((e) => e !== u && e.schemaPath.startsWith(`${u.schemaPath}/`));

/** The branch index of a union child (`#/properties/x/anyOf/2/...` → 2). */
const branchOf = (u: ErrorObject, e: ErrorObject) =>
  e.schemaPath.slice(u.schemaPath.length + 1).split("/")[0];

const KIND = new Set(["type", "const", "enum"]);

function explainUnion(part: string, u: ErrorObject, errors: ErrorObject[]): FieldProblem[] {
  const field = fieldOf(part, u);
  const branches = new Map<string, ErrorObject[]>();
  for (const c of childrenOf(u, errors))
    branches.set(branchOf(u, c), [...(branches.get(branchOf(u, c)) ?? []), c]);
  // A branch of the right kind that failed a constraint (too long, a missing field): explain the closest.
  const near = [...branches.values()]
    .filter((b) => b.some((c) => c.instancePath !== u.instancePath || !KIND.has(c.keyword)))
    .sort((a, b) => a.length - b.length)[0];
  if (near) return explain(part, near);
  // Every branch wanted another value or type: list what the value may be.
  const here = [...branches.values()].flat();
  const values = here.flatMap((c) =>
    c.keyword === "const"
      ? [(c.params as any).allowedValue]
      : c.keyword === "enum"
        ? (c.params as any).allowedValues
        : [],
  );
  const types = [
    ...new Set(here.filter((c) => c.keyword === "type").map((c) => String((c.params as any).type))),
  ];
  const parts = [
    values.length ? `one of: ${values.map(quoted).join(", ")}` : "",
    types.length ? `of type ${types.join(" or ")}` : "",
  ].filter(Boolean);
  return [
    { field, problem: parts.length ? `must be ${parts.join(", or ")}` : "does not match any allowed shape" },
  ];
}

/** Field problems of a validator's errors: unions folded, duplicates dropped, in the order found. */
export function explain(part: string, errors: ErrorObject[]): FieldProblem[] {
  const unions = errors.filter((e) => UNION.has(e.keyword));
  // Outermost unions first; errors inside one are explained by it.
  const outer = unions.filter(
    (u) => !unions.some((o) => o !== u && u.schemaPath.startsWith(`${o.schemaPath}/`)),
  );
  const covered = new Set(outer.flatMap((u) => childrenOf(u, errors)));
  const out: FieldProblem[] = [];
  for (const e of errors) {
    if (covered.has(e)) continue;
    const found = UNION.has(e.keyword)
      ? outer.includes(e)
        ? explainUnion(part, e, errors)
        : []
      : [{ field: fieldOf(part, e), problem: problemOf(e) }];
    for (const f of found) if (!out.some((o) => o.field === f.field && o.problem === f.problem)) out.push(f);
  }
  return out;
}
