import { randomUUID } from "node:crypto";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../support/app.ts";
import { readCookie } from "../support/cookies.ts";
import { tableSnapshot } from "../support/db-snapshot.ts";

/**
 * Text PostgreSQL cannot store (NUL, lone UTF-16 surrogates) is a 400 at the edge naming the field, on
 * every route of the OpenAPI document, the dashboard's forms and the OAuth forms; nothing is written.
 */
let t: TestApp;
let doc: any;
beforeAll(async () => {
  t = await createTestApp();
  doc = (await t.call({ method: "GET", url: "/api/v1/openapi.json" })).json();
});
afterAll(() => t?.close());

/** The bad values as JavaScript text (bodies, headers) and as they arrive in a URL. */
const BAD = [
  { name: "NUL", text: "a\u0000b", url: "a%00b", problem: /NUL character/ },
  { name: "lone surrogate", text: "a\ud800b", url: "a%ED%A0%80b", problem: /lone UTF-16 surrogate/ },
] as const;

type Schema = Record<string, any>;

/** A valid value for a schema (required fields only), as a client that reads the document would send. */
function sample(s: Schema): unknown {
  if (s.const !== undefined) return s.const;
  if (s.enum) return s.enum[0];
  if (s.default !== undefined) return s.default;
  const variants = s.anyOf ?? s.oneOf;
  if (variants) return sample(variants[0]);
  switch (s.type) {
    case "string":
      if (s.format === "uuid") return randomUUID();
      if (s.format === "uri") return "https://tracker.example/x";
      if (s.format === "date-time") return new Date().toISOString();
      if (s.format === "email") return "someone@example.com";
      return "x".repeat(Math.max(1, s.minLength ?? 1));
    case "integer":
    case "number":
      return s.minimum ?? 1;
    case "boolean":
      return false;
    case "array":
      return [];
    case "null":
      return null;
    default:
      return sampleObject(s);
  }
}

function sampleObject(s: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of s.required ?? []) out[k] = sample(s.properties?.[k] ?? {});
  return out;
}

/** Every place a string can go in a body schema: its path and a body with `bad` there. */
interface Point {
  path: string[];
  build(bad: string): unknown;
}

function stringPoints(s: Schema): Point[] {
  const variants = s.anyOf ?? s.oneOf;
  if (variants) return variants.flatMap(stringPoints);
  if (s.type === "object" || s.properties) {
    const points: Point[] = [];
    for (const [k, child] of Object.entries<Schema>(s.properties ?? {}))
      for (const p of stringPoints(child))
        points.push({ path: [k, ...p.path], build: (bad) => ({ ...sampleObject(s), [k]: p.build(bad) }) });
    if (s.additionalProperties && typeof s.additionalProperties === "object")
      for (const p of stringPoints(s.additionalProperties))
        points.push({
          path: ["extra", ...p.path],
          build: (bad) => ({ ...sampleObject(s), extra: p.build(bad) }),
        });
    return points;
  }
  if (s.type === "array")
    return stringPoints(s.items ?? {}).map((p) => ({
      path: ["0", ...p.path],
      build: (bad) => [p.build(bad)],
    }));
  if (s.type === "string" || s.type === undefined) return [{ path: [], build: (bad) => bad }];
  return [];
}

interface Attempt {
  label: string;
  field: string;
  problem: RegExp;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

/** For one operation: a request per injection point and bad value, everything else valid. */
function attemptsFor(path: string, method: string, op: any): Attempt[] {
  const params: any[] = op.parameters ?? [];
  const inPath = params.filter((p) => p.in === "path");
  const inQuery = params.filter((p) => p.in === "query");
  const bodySchema: Schema | undefined = op.requestBody?.content?.["application/json"]?.schema;
  const secured = op.security === undefined || op.security.length > 0;
  const headers: Record<string, string> = {
    ...(secured ? t.admin.headers : {}),
    "idempotency-key": `logical-operation:write:${randomUUID().replace(/-/g, "")}`,
    "if-match-admission-generation": "1",
    ...(bodySchema ? { "content-type": "application/json" } : {}),
  };
  const url = (pathValues: Record<string, string>, query: Record<string, string>) => {
    let u = path;
    for (const p of inPath) u = u.replace(`{${p.name}}`, pathValues[p.name] ?? "x1");
    const q = Object.entries(query).map(([k, v]) => `${k}=${v}`);
    return q.length ? `${u}?${q.join("&")}` : u;
  };
  const validQuery = Object.fromEntries(
    inQuery.filter((p) => p.required).map((p) => [p.name, encodeURIComponent(String(sample(p.schema)))]),
  );
  const body = bodySchema ? JSON.stringify(sample(bodySchema)) : undefined;
  const base = { method: method.toUpperCase(), headers, payload: body };
  const label = `${method.toUpperCase()} ${path}`;
  const out: Attempt[] = [];
  for (const bad of BAD) {
    for (const p of inPath)
      out.push({
        ...base,
        label: `${label} path ${p.name} ${bad.name}`,
        // A lone surrogate cannot be percent-encoded as UTF-8: the router refuses the whole path.
        field: bad.name === "NUL" ? `params.${p.name}` : "path",
        problem: bad.name === "NUL" ? bad.problem : /not valid percent-encoded UTF-8/,
        url: url({ [p.name]: bad.url }, validQuery),
      });
    for (const p of inQuery)
      out.push({
        ...base,
        label: `${label} query ${p.name} ${bad.name}`,
        field: `querystring.${p.name}`,
        problem: bad.name === "NUL" ? bad.problem : /not valid percent-encoded UTF-8/,
        url: url({}, { ...validQuery, [p.name]: bad.url }),
      });
    for (const point of bodySchema ? stringPoints(bodySchema) : [])
      out.push({
        ...base,
        label: `${label} body ${point.path.join(".")} ${bad.name}`,
        field: ["body", ...point.path].join("."),
        problem: bad.problem,
        url: url({}, validQuery),
        payload: JSON.stringify(point.build(bad.text)),
      });
    for (const h of Object.keys(headers))
      out.push({
        ...base,
        label: `${label} header ${h} ${bad.name}`,
        field: `headers.${h}`,
        problem: bad.problem,
        url: url({}, validQuery),
        headers: { ...headers, [h]: `${headers[h]}${bad.text}` },
      });
  }
  return out;
}

describe("unstorable text at the edge", () => {
  it("every operation in the OpenAPI document answers 400 naming the field, and nothing is written", async () => {
    const attempts = Object.entries<any>(doc.paths).flatMap(([path, ops]) =>
      Object.entries<any>(ops).flatMap(([method, op]) => attemptsFor(path, method, op)),
    );
    // Every kind of place is covered, with the measured example among them.
    expect(attempts.map((a) => a.field)).toEqual(
      expect.arrayContaining([
        "querystring.q",
        "params.installation_id",
        "path",
        "body.name",
        "body.items.0",
        "body.project_identity.uuid",
        "body.credential.token",
        "headers.authorization",
        "headers.x-team-slug",
        "headers.idempotency-key",
      ]),
    );
    const before = await tableSnapshot(t.database.db);
    const wrong: string[] = [];
    for (const a of attempts) {
      const res = await t.server.inject({
        method: a.method as any,
        url: a.url,
        headers: a.headers,
        payload: a.payload,
      });
      const said = String(res.headers["content-type"]).includes("json") ? res.json() : { html: res.body };
      const text = JSON.stringify(said);
      const named = text.includes(a.field) && a.problem.test(text);
      // Each scope answers in its own contract: OAuth (RFC 6749), sync admission (auth contract), pages;
      // a path the router cannot decode is refused before any scope is known.
      const enveloped = a.url.startsWith("/oauth/")
        ? said.error === "invalid_request" ||
          (a.url.startsWith("/oauth/authorize") && said.html !== undefined)
        : a.url.includes("/sync-admission/") && a.field !== "path"
          ? said.error_code === "invalid_admission_request"
          : said.html !== undefined ||
            (said.error_code === "validation_error" && said.fields?.[0]?.field === a.field);
      if (res.statusCode !== 400 || !named || !enveloped)
        wrong.push(`${a.label} → ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
    expect(wrong).toEqual([]);
    expect(await tableSnapshot(t.database.db)).toEqual(before);
    expect(attempts.length).toBeGreaterThan(300);
  });

  it("on the real wire: query, path, JSON body escapes and a header with NUL are refused before anything runs", async () => {
    const base = await t.server.listen({ port: 0, host: "127.0.0.1" });
    const before = await tableSnapshot(t.database.db);
    const send = (path: string, init: RequestInit = {}) =>
      fetch(`${base}${path}`, { ...init, headers: { ...t.admin.headers, ...init.headers } });

    const nulQuery = await send("/api/v1/inventory/?q=a%00b");
    expect(nulQuery.status).toBe(400);
    expect(await nulQuery.json()).toMatchObject({
      error_code: "validation_error",
      fields: [{ field: "querystring.q", problem: expect.stringMatching(/NUL/) }],
      effect_certainty: "no_effect",
    });
    // A lone surrogate can only be written as invalid UTF-8 (CESU-8) in a URL; it no longer searches for
    // the literal text `%ED%A0%80`.
    const surrogateQuery = await send("/api/v1/inventory/?q=a%ED%A0%80b");
    expect(surrogateQuery.status).toBe(400);
    expect((await surrogateQuery.json()).fields).toEqual([
      { field: "querystring.q", problem: expect.stringMatching(/percent-encoded UTF-8/) },
    ]);
    const surrogatePath = await send("/api/v1/installations/a%ED%A0%80/");
    expect(surrogatePath.status).toBe(400);
    expect(await surrogatePath.json()).toMatchObject({
      error_code: "validation_error",
      fields: [{ field: "path" }],
    });
    const nulPath = await send("/api/v1/installations/inst%00/");
    expect((await nulPath.json()).fields).toEqual([
      { field: "params.installation_id", problem: expect.stringMatching(/NUL/) },
    ]);

    // JSON carries both as escapes (`\u0000`, `\ud800`): the measured 500s of POST /api/v1/tokens/.
    for (const [name, problem] of [
      ["a\u0000b", /NUL/],
      ["a\ud800b", /lone UTF-16 surrogate/],
    ] as const) {
      const body = JSON.stringify({ name });
      expect(body).toMatch(/\\u0000|\\ud800/);
      const res = await send("/api/v1/tokens/", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(res.status).toBe(400);
      expect((await res.json()).fields).toEqual([
        { field: "body.name", problem: expect.stringMatching(problem) },
      ]);
    }

    // Node's HTTP parser refuses a NUL in a header itself, before the service sees the request.
    const port = new URL(base).port;
    const raw: string = await new Promise((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1", () =>
        socket.write(
          `GET /api/v1/team/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.admin.token}\r\nX-Team-Slug: ac\u0000me\r\nConnection: close\r\n\r\n`,
          "latin1",
        ),
      );
      let data = "";
      socket.on("data", (c) => {
        data += c;
      });
      socket.on("end", () => resolve(data));
      socket.on("error", reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    expect(await tableSnapshot(t.database.db)).toEqual(before);
  });

  it("dashboard and OAuth forms with NUL answer a 400 page or an OAuth error, and save nothing", async () => {
    const form = { "content-type": "application/x-www-form-urlencoded" };
    const page = await t.server.inject({ method: "GET", url: "/dashboard/sign-in" });
    const pre = readCookie(String(page.headers["set-cookie"]).split(";")[0], "sk_signin")!;
    const signInCsrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1];
    const signIn = (email: string) =>
      t.server.inject({
        method: "POST",
        url: "/dashboard/sign-in",
        headers: { ...form, cookie: `sk_signin=${pre}` },
        payload: new URLSearchParams({
          _csrf: signInCsrf,
          email,
          password: "correct horse battery staple",
          next: "/dashboard/",
        }).toString(),
      });
    const before = await tableSnapshot(t.database.db);
    const refusedSignIn = await signIn(`${t.admin.email}\u0000`);
    expect(refusedSignIn.statusCode).toBe(400);
    expect(refusedSignIn.headers["content-type"]).toContain("text/html");
    expect(refusedSignIn.body).toContain("body.email contains a NUL character");
    expect(refusedSignIn.headers["set-cookie"]).toBeUndefined();

    const oauth = await t.server.inject({
      method: "POST",
      url: "/oauth/token",
      headers: form,
      payload: "grant_type=refresh_token&client_id=cli_native&refresh_token=abc%00def",
    });
    expect(oauth.statusCode).toBe(400);
    expect(oauth.json()).toEqual({
      error: "invalid_request",
      error_description: expect.stringContaining("body.refresh_token contains a NUL character"),
    });
    expect(await tableSnapshot(t.database.db)).toEqual(before);

    const signedIn = await signIn(t.admin.email);
    expect(signedIn.statusCode).toBe(303);
    const session = ([] as string[])
      .concat(signedIn.headers["set-cookie"] ?? [])
      .find((c) => c.startsWith("sk_session="))!
      .split(";")[0];
    const tokensPage = await t.server.inject({
      method: "GET",
      url: "/dashboard/tokens",
      headers: { cookie: session },
    });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(tokensPage.body)![1];
    const before2 = await tableSnapshot(t.database.db);
    // Form bodies as a client would encode them; a lone surrogate can only be sent as invalid UTF-8.
    const forms: [string, string, string, RegExp][] = [
      ["/dashboard/tokens", "name=laptop%00&expires_in_days=30", "body.name", /NUL character/],
      ["/dashboard/tokens", "name=laptop%ED%A0%80&expires_in_days=30", "body.name", /percent-encoded UTF-8/],
      ["/dashboard/team", `team_id=${t.team.id}%00`, "body.team_id", /NUL character/],
      [
        "/dashboard/mappings/new",
        "step=confirm&resource_id=res%00&new_project_slug=web",
        "body.resource_id",
        /NUL/,
      ],
      ["/dashboard/connect", "provider=gitlab%00", "body.provider", /NUL character/],
    ];
    for (const [url, fields, field, problem] of forms) {
      const res = await t.server.inject({
        method: "POST",
        url,
        headers: { ...form, cookie: session },
        payload: `${fields}&_csrf=${encodeURIComponent(csrf)}`,
      });
      expect(res.statusCode, `${url} ${res.body.slice(0, 200)}`).toBe(400);
      expect(res.headers["content-type"]).toContain("text/html");
      expect(res.body).toContain("Request refused");
      expect(res.body).toContain(field);
      expect(res.body).toMatch(problem);
    }
    expect(await tableSnapshot(t.database.db)).toEqual(before2);
  });
});
