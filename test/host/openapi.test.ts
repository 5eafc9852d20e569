import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CODES, type ErrorCode, httpStatusOf } from "../../src/host/errors/codes.ts";
import { registeredRoutes } from "../../src/host/http/api-docs.ts";
import { createTestApp, type TestApp } from "../support/app.ts";

/**
 * The API reference at /api/docs, walked operation by operation: every route the server registers is in
 * it (pages aside), every operation says what it does, every response what it is with its schema, every
 * request body and success response has an example that its schema accepts, and the errors a route can
 * answer are listed under their statuses with their codes. A route added later is checked the same way.
 */
type Schema = Record<string, any>;
let t: TestApp;
let doc: Schema;

beforeAll(async () => {
  t = await createTestApp();
  const res = await t.call({ method: "GET", url: "/api/v1/openapi.json" });
  expect(res.statusCode).toBe(200);
  doc = res.json();
});
afterAll(() => t.close());

const METHODS = ["get", "put", "post", "delete", "patch"];

function operations(): { label: string; path: string; method: string; op: Schema }[] {
  return Object.entries<Schema>(doc.paths).flatMap(([path, item]) =>
    Object.entries<Schema>(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ label: `${method.toUpperCase()} ${path}`, path, method, op })),
  );
}

/** Browser pages and the reference itself: not API operations. */
const isPage = (url: string) =>
  url === "/" ||
  url === "/favicon.ico" ||
  url.startsWith("/dashboard") ||
  url.startsWith("/api/docs") ||
  url === "/api/v1/openapi.json";

/** `/a/:id/` as the document spells it: `/a/{id}/`. */
const openapiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");

const ajv = new Ajv({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv) => void)(ajv);

/** Validates a value against a schema of the document (its `#/components/...` references resolved). */
function check(schema: Schema, value: unknown): string | null {
  const validate = ajv.compile({ ...schema, components: doc.components });
  return validate(value) ? null : ajv.errorsText(validate.errors);
}

/** The examples of a media type object (`example`, `examples`) and of its schema (`examples`). */
function examplesOf(media: Schema): unknown[] {
  return [
    ...(media.example !== undefined ? [media.example] : []),
    ...Object.values<Schema>(media.examples ?? {}).map((e) => e.value),
    ...(Array.isArray(media.schema?.examples) ? media.schema.examples : []),
  ];
}

describe("the API reference", () => {
  it("documents every route the server registers, OAuth's included", () => {
    const documented = new Set(
      operations().map(({ method, path }) => `${method.toUpperCase()} ${path.replace(/\/$/, "")}`),
    );
    const routes = registeredRoutes(t.server).filter(
      (r) => !isPage(r.url) && r.method !== "HEAD" && r.method !== "OPTIONS",
    );
    expect(routes.length).toBeGreaterThan(40);
    const missing = routes
      .map((r) => `${r.method} ${openapiPath(r.url).replace(/\/$/, "")}`)
      .filter((r) => !documented.has(r));
    expect(missing).toEqual([]);
    for (const path of ["/oauth/authorize", "/oauth/token", "/oauth/device", "/oauth/revoke"])
      expect(Object.keys(doc.paths), path).toContain(path);
    expect(doc.paths["/oauth/authorize"].get.parameters.map((p: Schema) => p.name)).toEqual(
      expect.arrayContaining([
        "client_id",
        "redirect_uri",
        "code_challenge",
        "code_challenge_method",
        "state",
      ]),
    );
  });

  it("every operation says what it does, and every response what it is, with a schema", () => {
    const problems: string[] = [];
    for (const { label, op } of operations()) {
      if (!op.summary && !op.description) problems.push(`${label}: no summary`);
      const responses = Object.entries<Schema>(op.responses ?? {});
      if (!responses.some(([status]) => /^[23]/.test(status))) problems.push(`${label}: no success response`);
      for (const [status, response] of responses) {
        if (!response.description || response.description === "Default Response")
          problems.push(`${label} ${status}: no description`);
        if (/^3/.test(status)) {
          if (!response.headers?.Location) problems.push(`${label} ${status}: redirect without Location`);
          continue;
        }
        const media = Object.values<Schema>(response.content ?? {});
        if (media.length === 0 || media.some((m) => !m.schema))
          problems.push(`${label} ${status}: no schema`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("every request body and success response has an example, and each example validates against its schema", () => {
    const problems: string[] = [];
    let checked = 0;
    for (const { label, op } of operations()) {
      const bodies = Object.entries<Schema>(op.requestBody?.content ?? {}).map(
        ([type, media]) => [`request ${type}`, media] as const,
      );
      const successes = Object.entries<Schema>(op.responses ?? {})
        .filter(([status]) => /^2/.test(status))
        .flatMap(([status, r]) =>
          Object.entries<Schema>(r.content ?? {}).map(
            ([type, media]) => [`${status} ${type}`, media] as const,
          ),
        );
      for (const [where, media] of [...bodies, ...successes]) {
        const examples = examplesOf(media);
        if (examples.length === 0) problems.push(`${label} ${where}: no example`);
        for (const example of examples) {
          checked++;
          const wrong = check(media.schema, example);
          if (wrong) problems.push(`${label} ${where}: example does not validate: ${wrong}`);
        }
      }
      for (const p of op.parameters ?? [])
        for (const example of [
          ...(p.example !== undefined ? [p.example] : []),
          ...(p.schema?.examples ?? []),
        ]) {
          checked++;
          const wrong = check(p.schema, example);
          if (wrong) problems.push(`${label} parameter ${p.name}: example does not validate: ${wrong}`);
        }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(operations().length);
  });

  it("an example that breaks its schema is caught", () => {
    const bind = doc.paths["/api/v1/tracker/bind-confirm/"].post.requestBody.content["application/json"];
    const [example] = examplesOf(bind) as Schema[];
    expect(check(bind.schema, example)).toBeNull();
    expect(check(bind.schema, { ...example, provider: "trello" })).toMatch(/provider/);
  });

  it("lists, per operation, the error codes it can answer under their statuses, with what each means", () => {
    const problems: string[] = [];
    for (const { label, op } of operations()) {
      for (const [status, response] of Object.entries<Schema>(op.responses ?? {})) {
        if (!/^[45]\d\d$/.test(status)) continue;
        const schema = response.content?.["application/json"]?.schema;
        // The envelope's statuses name their codes; OAuth's RFC 6749 bodies and sync admission's speak their own.
        if (!schema?.$ref) continue;
        const codes = [...String(response.description).matchAll(/`([a-z_]+)`: /g)].map((m) => m[1]);
        if (codes.length === 0) problems.push(`${label} ${status}: names no code`);
        for (const code of codes) {
          if (!(code in ERROR_CODES)) problems.push(`${label} ${status}: ${code} is not a code`);
          else if (httpStatusOf(code as ErrorCode) !== Number(status))
            problems.push(`${label} ${status}: ${code} answers ${httpStatusOf(code as ErrorCode)}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("says which routes read the bearer token and X-Team-Slug, and documents their refusals", () => {
    const problems: string[] = [];
    const mentions = (op: Schema, status: string, code: string) =>
      String(op.responses?.[status]?.description ?? "").includes(`\`${code}\``);
    for (const { label, path, op } of operations()) {
      const schemes = (op.security ?? []).flatMap((s: Schema) => Object.keys(s));
      if (
        path.startsWith("/api/v1/") &&
        !/sync-admission|callback|session-status|\/me$|\/webhooks\//.test(path)
      ) {
        if (!schemes.includes("team")) problems.push(`${label}: X-Team-Slug not declared`);
        if (!mentions(op, "400", "missing_team")) problems.push(`${label}: 400 missing_team`);
        if (!mentions(op, "403", "team_access_denied")) problems.push(`${label}: 403 team_access_denied`);
      }
      if (schemes.includes("bearer") && !path.includes("sync-admission")) {
        if (!mentions(op, "401", "unauthorized")) problems.push(`${label}: 401 unauthorized`);
        if (!mentions(op, "429", "too_many_requests")) problems.push(`${label}: 429 too_many_requests`);
      }
      // A path parameter that names something (not one of a closed list of values) can name nothing.
      const naming = (op.parameters ?? []).filter(
        (p: Schema) => p.in === "path" && !p.schema?.enum && !p.schema?.anyOf,
      );
      // Webhook receivers answer an unknown hook like a bad signature (401): no oracle of what exists.
      if (naming.length > 0 && !op.responses["404"] && !path.startsWith("/api/v1/webhooks/"))
        problems.push(`${label}: path parameter without 404`);
      const envelope400 = op.responses?.["400"]?.content?.["application/json"]?.schema?.$ref;
      if (op.requestBody && envelope400 && !mentions(op, "400", "validation_error"))
        problems.push(`${label}: body without 400 validation_error`);
    }
    expect(problems).toEqual([]);
    for (const path of ["/healthz", "/readyz", "/oauth/token", "/oauth/authorize"])
      for (const op of Object.values<Schema>(doc.paths[path]))
        expect(op.security ?? [], `${path} needs no credentials`).toEqual([]);
    expect(doc.components.securitySchemes.team).toMatchObject({ in: "header", name: "X-Team-Slug" });
  });

  it("declares the Idempotency-Key header the contract's writes require", () => {
    for (const path of [
      "/api/v1/tracker/bind-confirm/",
      "/api/v1/tracker/push/",
      "/api/v1/tracker/run/",
      "/api/v1/tracker/mission-origin/bind/",
    ]) {
      const op = doc.paths[path].post;
      const header = (op.parameters ?? []).find(
        (p: Schema) => p.in === "header" && p.name === "idempotency-key",
      );
      expect(header, path).toMatchObject({ required: true });
      expect(op.responses["409"].description, path).toContain("`idempotency_key_in_flight`");
      expect(op.responses["422"].description, path).toContain("`idempotency_key_reused`");
    }
  });

  it("routes the CLI calls list the codes the CLI reacts to", () => {
    const op = (path: string, method = "post") => doc.paths[path][method].responses;
    expect(op("/api/v1/tracker/bind-confirm/")["400"].description).toContain("`invalid_candidate_token`");
    expect(op("/api/v1/tracker/bind-confirm/")["409"].description).toContain("`already_bound`");
    expect(op("/api/v1/tracker/resources/", "get")["403"].description).toContain("`no_installation`");
    for (const path of ["/api/v1/tracker/pull/", "/api/v1/tracker/push/", "/api/v1/tracker/run/"]) {
      expect(op(path)["404"].description, path).toContain("`binding_not_found`");
      expect(op(path)["403"].description, path).toContain("`mapping_disabled`");
      expect(op(path)["403"].description, path).toContain("`project_mismatch`");
      expect(op(path)["429"].description, path).toContain("`rate_limited`");
    }
    expect(op("/api/v1/tracker/mission-origin/bind/")["409"].description).toContain("`origin_conflict`");
  });

  it("/oauth/authorize answers as it is documented", async () => {
    const query = (over: Record<string, string> = {}) =>
      new URLSearchParams({
        response_type: "code",
        client_id: "cli_native",
        redirect_uri: "http://127.0.0.1:53682/callback",
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        code_challenge_method: "S256",
        state: "af0ifjsldkj",
        ...over,
      }).toString();
    const get = (q: string) => t.call({ method: "GET", url: `/oauth/authorize?${q}` });
    const documented = doc.paths["/oauth/authorize"].get.responses;
    expect(Object.keys(documented).sort()).toEqual(["200", "303", "400"]);
    // Not signed in: to the sign-in page.
    let res = await get(query());
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toMatch(/sign-in/);
    // A request that cannot go back to the CLI: an HTML page.
    res = await get(query({ client_id: "someone-else" }));
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toMatch(/text\/html/);
    // Anything else wrong goes back to the redirect URI with `error`.
    res = await get(query({ code_challenge_method: "plain" }));
    expect(res.statusCode).toBe(303);
    const back = new URL(res.headers.location as string);
    expect(`${back.origin}${back.pathname}`).toBe("http://127.0.0.1:53682/callback");
    expect(back.searchParams.get("error")).toBe("invalid_request");
    expect(back.searchParams.get("state")).toBe("af0ifjsldkj");
  });

  it("keeps a token's create body strict and its errors in the envelope", () => {
    const create = doc.paths["/api/v1/tokens/"].post;
    const body = create.requestBody.content["application/json"].schema;
    expect(body.required).toEqual(["name"]);
    expect(body.additionalProperties).toBe(false);
    expect(create.responses["400"]).toBeDefined();
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it("serves an interactive reference page", async () => {
    let res = await t.call({ method: "GET", url: "/api/docs" });
    if (res.statusCode >= 300 && res.statusCode < 400)
      res = await t.call({ method: "GET", url: res.headers.location as string });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/text\/html/);
    expect(res.body).toMatch(/swagger/i);
  });
});
