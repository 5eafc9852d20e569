import { gunzipSync } from "node:zlib";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acceptsGzip } from "../../src/host/inventory/routes.ts";
import { resources } from "../../src/storage/schema.ts";
import { copyResource } from "../support/inventory.ts";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * `spec-kitty tracker discover` sends no limit and reads only `resources`: a page of 10,000 would be a
 * silently truncated list. Without a limit the whole list comes back, written as it is serialised once it
 * passes 10,000 resources (no single body held in memory).
 */
let t: SimulatedApp;

beforeAll(async () => {
  t = await createSimulatedApp({ providers: ["github"] });
  const { installationId } = await t.connect("github");
  const [seed] = await t.database.db
    .select({ id: resources.id })
    .from(resources)
    .where(eq(resources.installationId, installationId))
    .limit(1);
  await copyResource(t.database.db, seed.id, 10_500);
});
afterAll(async () => {
  await t?.close();
});

const list = (query = "") =>
  t.call({ method: "GET", url: `/api/v1/tracker/resources/?provider=github${query}`, as: t.admin });

describe("tracker/resources/ beyond 10,000 resources", () => {
  it("the CLI's request without a limit gets every resource, the same as every page put together", async () => {
    const whole = await list();
    expect(whole.statusCode, whole.body.slice(0, 300)).toBe(200);
    expect(whole.headers["content-type"]).toBe("application/json; charset=utf-8");
    // Streamed: no length known up front.
    expect(whole.headers["content-length"]).toBeUndefined();
    const body = whole.json();
    expect(body.resources.length).toBeGreaterThan(10_500);
    expect(body).toMatchObject({
      provider: "github",
      has_more: false,
      next_cursor: null,
      hidden_by_curation: 0,
    });

    const paged: any[] = [];
    let cursor: string | null = null;
    do {
      const page: any = (await list(`&limit=10000${cursor ? `&cursor=${cursor}` : ""}`)).json();
      expect(page.resources.length).toBeLessThanOrEqual(10_000);
      paged.push(...page.resources);
      cursor = page.next_cursor;
    } while (cursor);
    expect(paged.length).toBe(body.resources.length);
    expect(body.resources.map((r: any) => r.resource_key)).toEqual(paged.map((r) => r.resource_key));
    for (const [i, r] of body.resources.entries())
      expect(Object.keys(r).sort()).toEqual(Object.keys(paged[i]).sort());
    expect(body.installations).toEqual((await list("&limit=1")).json().installations);
  });

  it("the CLI's httpx asks for gzip and gets the same JSON gzipped; nothing else is sent gzip", async () => {
    const plain = await list("&limit=2000");
    const zipped = await t.call({
      method: "GET",
      url: "/api/v1/tracker/resources/?provider=github&limit=2000",
      as: t.admin,
      headers: { "accept-encoding": "gzip, deflate" },
    });
    expect(zipped.statusCode).toBe(200);
    expect(zipped.headers["content-encoding"]).toBe("gzip");
    expect(zipped.headers.vary).toBe("accept-encoding");
    expect(zipped.rawPayload.length).toBeLessThan(plain.rawPayload.length / 3);
    expect(JSON.parse(gunzipSync(zipped.rawPayload).toString())).toEqual(plain.json());
    expect(plain.headers["content-encoding"]).toBeUndefined();
    for (const refused of ["gzip;q=0", "br", "identity"]) expect(acceptsGzip(refused), refused).toBe(false);
    for (const taken of ["gzip", "GZIP;q=0.5", "deflate, *"]) expect(acceptsGzip(taken), taken).toBe(true);
  });

  it("a page within 10,000 is one body with its length", async () => {
    const page = await list("&limit=50");
    expect(page.statusCode).toBe(200);
    expect(Number(page.headers["content-length"])).toBe(Buffer.byteLength(page.body));
    expect(page.json()).toMatchObject({ has_more: true });
  });
});
