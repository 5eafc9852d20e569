import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../support/app.ts";

/**
 * Every path of the CLI wire contract, as the contract document lists it (§0, §2-§9): the documented
 * success status(es) with the fields the CLI reads, and the error statuses it names. A field `a.b[].c`
 * walks objects and array items; a leading `!` means the CLI indexes it strictly, so it must be required.
 */
interface ContractPath {
  method: "get" | "post";
  path: string;
  success: Record<number, string[]>;
  /** Error statuses the contract names for this path (401 and 429 apply to every path, §1.5). */
  errors: number[];
}

const CLI_CONTRACT: ContractPath[] = [
  {
    method: "get",
    path: "/api/v1/tracker/status/",
    success: {
      200: [
        // tracker status (§2.1)
        "!configured",
        "!provider",
        "identity_path.type",
        "sync_state",
        "binding_ref",
        "display_label",
        "provider_context",
        // tracker status --all (§2.2)
        "connected",
        "resource_count",
        "bindings[].project_name",
        "bindings[].project_slug",
        "bindings[].provider",
        "bindings[].status",
        "bindings[].binding_ref",
        "bindings[].bound_at",
      ],
    },
    errors: [403, 404],
  },
  {
    method: "get",
    path: "/api/v1/tracker/mappings/",
    success: {
      200: [
        "mappings[].wp_id",
        "mappings[].system",
        "mappings[].workspace",
        "mappings[].external_id",
        "mappings[].external_key",
        "mappings[].external_url",
        "mappings[].created_at",
        "mappings[].updated_at",
        "binding_ref",
      ],
    },
    errors: [403, 404],
  },
  {
    method: "post",
    path: "/api/v1/tracker/pull/",
    success: {
      200: [
        "!status",
        "!summary.total",
        "!summary.succeeded",
        "!summary.failed",
        "!summary.skipped",
        "items[].ref.system",
        "items[].ref.id",
        "!items[].ref.workspace",
        "items[].ref.key",
        "items[].ref.url",
        "items[].title",
        "items[].body",
        "items[].status",
        "items[].issue_type",
        "items[].priority",
        "items[].assignees",
        "items[].labels",
        "items[].created_at",
        "items[].updated_at",
        "items[].provider_metadata",
        "item_errors",
        "identity_path.type",
        "identity_path.provider",
        "has_more",
        "next_cursor",
        "doctrine",
        "binding_ref",
        "display_label",
        "provider_context",
      ],
    },
    errors: [403, 404],
  },
  {
    method: "post",
    path: "/api/v1/tracker/push/",
    success: {
      200: [
        "!status",
        "!summary.total",
        "!summary.succeeded",
        "!summary.failed",
        "!summary.skipped",
        "items[].ref",
        "items[].action",
        "items[].outcome",
        "items[].remote_ref",
        "items[].version",
        "items[].message",
        "item_errors",
        "identity_path.type",
        "identity_path.provider",
        "doctrine",
        "binding_ref",
        "display_label",
        "provider_context",
      ],
      202: ["!operation_id", "!status"],
    },
    errors: [403, 404],
  },
  {
    method: "post",
    path: "/api/v1/tracker/run/",
    success: {
      200: [
        "!status",
        "!summary.total",
        "!summary.succeeded",
        "!summary.failed",
        "!summary.skipped",
        "pull.status",
        "pull.summary.total",
        "pull.has_more",
        "push.status",
        "push.summary.total",
        "identity_path.type",
        "identity_path.provider",
        "doctrine",
        "binding_ref",
        "display_label",
        "provider_context",
      ],
      202: ["!operation_id", "!status"],
    },
    errors: [403, 404],
  },
  {
    method: "get",
    path: "/api/v1/tracker/operations/{operation_id}/",
    success: {
      200: [
        "!operation_id",
        "!status",
        "result",
        "error.error_code",
        "error.message",
        "error.retryable",
        "error.user_action_required",
      ],
    },
    errors: [404],
  },
  {
    method: "post",
    path: "/api/v1/tracker/issue-search/",
    success: {
      200: [
        "!candidates[].external_issue_id",
        "!candidates[].external_issue_key",
        "!candidates[].title",
        "!candidates[].status",
        "!candidates[].url",
        "candidates[].identifier",
        "candidates[].state.name",
        "candidates[].match_type",
        "candidates[].body",
        "candidates[].team",
        "candidates[].assignee",
        "candidates[].created_at",
        "candidates[].updated_at",
        "resource_type",
        "resource_id",
      ],
    },
    errors: [403, 404, 422],
  },
  {
    method: "post",
    path: "/api/v1/tracker/list-tickets/",
    success: {
      200: [
        "tickets[].identifier",
        "tickets[].external_issue_key",
        "tickets[].external_issue_id",
        "tickets[].title",
        "tickets[].url",
        "tickets[].state.name",
        "tickets[].status",
        "tickets[].team",
        "tickets[].assignee",
        "tickets[].created_at",
        "tickets[].updated_at",
        "tickets[].body",
      ],
    },
    errors: [403, 404],
  },
  {
    method: "post",
    path: "/api/v1/tracker/mission-origin/bind/",
    success: { 200: ["origin_link_id", "bound_at", "already_bound"] },
    errors: [403, 404, 409],
  },
  {
    method: "get",
    path: "/api/v1/tracker/resources/",
    success: {
      200: [
        "resources[]",
        "!resources[].candidate_token",
        "!resources[].display_label",
        "!resources[].provider",
        "!resources[].provider_context",
        "resources[].binding_ref",
        "resources[].bound_project_slug",
        "resources[].bound_at",
        "installation_id",
        "provider",
      ],
    },
    errors: [403],
  },
  {
    method: "post",
    path: "/api/v1/tracker/bind-resolve/",
    success: {
      200: [
        "!match_type",
        "candidate_token",
        "binding_ref",
        "display_label",
        "project_slug",
        "!candidates[].candidate_token",
        "!candidates[].display_label",
        "!candidates[].confidence",
        "!candidates[].match_reason",
        "!candidates[].sort_position",
      ],
    },
    errors: [400],
  },
  {
    method: "post",
    path: "/api/v1/tracker/bind-confirm/",
    success: {
      200: ["!binding_ref", "!display_label", "!provider", "!bound_at", "provider_context", "project_slug"],
    },
    errors: [400, 409],
  },
  {
    method: "post",
    path: "/api/v1/tracker/bind-validate/",
    success: {
      200: ["!valid", "!binding_ref", "display_label", "provider", "provider_context", "reason", "guidance"],
    },
    errors: [400],
  },
];

/** The envelope's fields (§10.1) as every error response documents them. */
const ENVELOPE = [
  "!error_code",
  "!message",
  "!retryable",
  "!user_action_required",
  "!source",
  "!retry_after_seconds",
  "!effect_certainty",
  "error_category",
  "idempotency_key",
];

type Schema = Record<string, any>;
let doc: Schema;
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  const res = await t.call({ method: "GET", url: "/api/v1/openapi.json" });
  expect(res.statusCode).toBe(200);
  doc = res.json();
});
afterAll(() => t.close());

function deref(s: Schema): Schema {
  let at = s;
  while (at?.$ref) at = doc.components.schemas[String(at.$ref).split("/").pop() as string];
  return at;
}

/** The alternatives a schema allows (anyOf / oneOf / allOf flattened, references followed). */
function branches(s: Schema): Schema[] {
  const at = deref(s);
  const alternatives = at?.anyOf ?? at?.oneOf ?? at?.allOf;
  return alternatives ? alternatives.flatMap(branches) : [at];
}

/** Where a field path leads, and whether each step on the way is required. */
function reach(root: Schema, path: string): { schema: Schema; required: boolean }[] {
  let at = [{ schema: root, required: true }];
  for (const step of path.split(".")) {
    const list = step.endsWith("[]");
    const name = list ? step.slice(0, -2) : step;
    at = at.flatMap(({ schema, required }) =>
      branches(schema)
        .filter((b) => b?.properties?.[name])
        .map((b) => ({
          schema: b.properties[name],
          required: required && (b.required ?? []).includes(name),
        })),
    );
    if (list)
      at = at.flatMap(({ schema, required }) =>
        branches(schema)
          .filter((b) => b?.items)
          .map((b) => ({ schema: b.items, required })),
      );
  }
  return at;
}

function expectFields(schema: Schema, fields: string[], where: string) {
  for (const field of fields) {
    const strict = field.startsWith("!");
    const path = strict ? field.slice(1) : field;
    const found = reach(schema, path);
    expect(found.length, `${where}: ${path} is documented`).toBeGreaterThan(0);
    if (strict)
      expect(
        found.some((f) => f.required),
        `${where}: ${path} is required`,
      ).toBe(true);
  }
}

const jsonSchema = (response: Schema | undefined) => response?.content?.["application/json"]?.schema;

/** The response documented for a status: its own entry, else its range (`4XX`). */
const responseFor = (responses: Schema, status: number) =>
  responses[String(status)] ?? responses[`${String(status)[0]}XX`];

/** Property names anywhere in a schema (through references, alternatives and items). */
function propertyNames(s: Schema, seen = new Set<Schema>()): string[] {
  const at = deref(s);
  if (!at || typeof at !== "object" || seen.has(at)) return [];
  seen.add(at);
  const own = Object.keys(at.properties ?? {});
  const nested = [
    ...Object.values<Schema>(at.properties ?? {}),
    ...(at.anyOf ?? []),
    ...(at.oneOf ?? []),
    ...(at.allOf ?? []),
    ...(at.items ? [at.items] : []),
  ];
  return [...own, ...nested.flatMap((n) => propertyNames(n, seen))];
}

describe("OpenAPI: the CLI wire contract", () => {
  it.each(CLI_CONTRACT.map((c) => [`${c.method.toUpperCase()} ${c.path}`, c] as const))(
    "%s documents its success response with the fields the CLI reads",
    (_, c) => {
      const op = doc.paths[c.path]?.[c.method];
      expect(op, `${c.method} ${c.path} is in the document`).toBeDefined();
      for (const [status, fields] of Object.entries(c.success)) {
        const schema = jsonSchema(op.responses[status]);
        expect(schema, `${c.path} ${status} has a JSON schema`).toBeDefined();
        expect(
          branches(schema).every((b) => b.type === "object"),
          `${c.path} ${status} is an object`,
        ).toBe(true);
        expectFields(schema, fields, `${c.path} ${status}`);
      }
    },
  );

  it.each(CLI_CONTRACT.map((c) => [`${c.method.toUpperCase()} ${c.path}`, c] as const))(
    "%s documents its errors with the envelope",
    (_, c) => {
      const responses = doc.paths[c.path][c.method].responses;
      for (const status of [...new Set([...c.errors, 401, 429, 500, 415, 424, 503])]) {
        const schema = jsonSchema(responseFor(responses, status));
        expect(schema, `${c.path} ${status} is documented`).toBeDefined();
        expectFields(schema, ENVELOPE, `${c.path} ${status}`);
      }
    },
  );

  it("never documents a secret in what the CLI reads", () => {
    for (const c of CLI_CONTRACT) {
      const responses = doc.paths[c.path][c.method].responses;
      for (const status of Object.keys(c.success)) {
        const names = propertyNames(jsonSchema(responses[status]));
        expect(
          names.filter((n) => /secret|password|private_key|access_token|refresh_token|credential/i.test(n)),
          `${c.path} ${status}`,
        ).toEqual([]);
      }
    }
  });
});

/**
 * Fields this service adds to CLI answers that the CLI does not read (it ignores unknown keys), each
 * always sent: curation's count of hidden matches and its sentence for the user (issue 20, docs/curation.md).
 */
const CLI_EXTENSIONS: { method: "get" | "post"; path: string; fields: string[] }[] = [
  { method: "get", path: "/api/v1/tracker/resources/", fields: ["!hidden_by_curation", "!curation_notice"] },
  {
    method: "post",
    path: "/api/v1/tracker/bind-resolve/",
    fields: ["!hidden_by_curation", "!curation_notice"],
  },
];

describe("OpenAPI: additions the CLI ignores", () => {
  it.each(CLI_EXTENSIONS.map((c) => [`${c.method.toUpperCase()} ${c.path}`, c] as const))(
    "%s documents them as always present, beside the fields the CLI reads",
    (_, c) => {
      const schema = jsonSchema(doc.paths[c.path][c.method].responses["200"]);
      expectFields(schema, c.fields, c.path);
      const read = CLI_CONTRACT.find((x) => x.path === c.path)!.success[200].map((f) => f.replace(/^!/, ""));
      for (const f of c.fields) expect(read).not.toContain(f.slice(1));
    },
  );
});

describe("OpenAPI: error schemas", () => {
  it("every documented API route answers its errors with the envelope", () => {
    for (const [path, ops] of Object.entries<Schema>(doc.paths)) {
      if (!path.startsWith("/api/v1/") || path.includes("sync-admission")) continue;
      for (const [method, op] of Object.entries<Schema>(ops)) {
        for (const range of ["4XX", "5XX"]) {
          const schema = jsonSchema(op.responses[range]);
          expect(schema, `${method} ${path} ${range}`).toBeDefined();
          expectFields(schema, ENVELOPE, `${method} ${path} ${range}`);
        }
      }
    }
  });

  it("leaves the routes that speak their own error dialect as they declared them", () => {
    // OAuth answers RFC 6749 bodies, sync admission its refusals: the envelope is not theirs.
    const token = doc.paths["/oauth/token"].post.responses;
    expect(reach(jsonSchema(token["400"]), "error").length).toBeGreaterThan(0);
    expect(token["4XX"]).toBeUndefined();
    const admission = doc.paths["/api/v1/sync/projects/{project_uuid}/sync-admission/"].put.responses;
    expect(reach(jsonSchema(admission["409"]), "error_category").length).toBeGreaterThan(0);
    expect(admission["5XX"]).toBeUndefined();
  });
});
