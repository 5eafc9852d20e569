import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenConnectFor } from "../../src/demo/simulated.ts";
import { tableSnapshot } from "../support/db-snapshot.ts";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * Writes never half-apply (issue 13): a state change and its audit event commit together, a failed
 * write never leaves its Idempotency-Key in flight, and a push retried after a failure cannot create a
 * second upstream issue. Failures are forced in the real database (a trigger refusing one write), never
 * by replacing our code.
 */
let t: SimulatedApp;
let installationId: string;
let bindingRef: string;
let resourceId: string;
beforeAll(async () => {
  t = await createSimulatedApp({ providers: ["gitlab"] });
  installationId = (await t.connect("gitlab")).installationId;
  const page = (
    await t.call({ method: "GET", url: "/api/v1/tracker/resources/?provider=gitlab&limit=50", as: t.member })
  ).json();
  const resource = page.resources.find((r: any) => /^[\w -]+$/.test(r.display_label)) ?? page.resources[0];
  resourceId = decodeURIComponent(resource.resource_key.split(":").pop());
  const bound = await t.call({
    method: "POST",
    url: "/api/v1/tracker/bind-confirm/",
    as: t.member,
    headers: { "idempotency-key": key() },
    payload: {
      provider: "gitlab",
      candidate_token: resource.candidate_token,
      project_identity: {
        uuid: randomUUID(),
        slug: "writes",
        node_id: null,
        repo_slug: null,
        build_id: null,
      },
    },
  });
  expect(bound.statusCode, bound.body).toBe(200);
  bindingRef = bound.json().binding_ref;
});
afterAll(() => t?.close());

const key = () => `logical-operation:write:${randomUUID().replace(/-/g, "")}`;
const rows = async (q: ReturnType<typeof sql>) => {
  const r = (await t.database.db.execute(q)) as any;
  return (r.rows ?? r) as any[];
};

/** Makes the database refuse one write, as a full disk or a violated constraint would. */
async function refuse(table: string, name: string, when: string) {
  await t.database.db.execute(
    sql.raw(`create or replace function ${name}() returns trigger language plpgsql as $$
      begin raise exception 'refused by test: %', '${name}'; end $$`),
  );
  await t.database.db.execute(
    sql.raw(`create trigger ${name} before insert or update on ${table} for each row when (${when})
      execute function ${name}()`),
  );
  return async () => {
    await t.database.db.execute(sql.raw(`drop trigger ${name} on ${table}`));
  };
}

describe("a state change and its audit event commit together", () => {
  const refusedAudit = async (targetOrMarker: string, change: () => Promise<{ statusCode: number }>) => {
    const allow = await refuse(
      "audit_events",
      "refuse_audit",
      `new.target_id = '${targetOrMarker}' or new.after::text like '%${targetOrMarker}%'`,
    );
    try {
      const before = await tableSnapshot(t.database.db);
      const res = await change();
      expect(res.statusCode).toBe(500);
      expect(await tableSnapshot(t.database.db)).toEqual(before);
    } finally {
      await allow();
    }
  };

  it("a token whose audit event fails is not created (the measured POST /api/v1/tokens/ case)", async () => {
    await refusedAudit("refused-laptop", () =>
      t.call({ method: "POST", url: "/api/v1/tokens/", as: t.admin, payload: { name: "refused-laptop" } }),
    );
    const listed = (await t.call({ method: "GET", url: "/api/v1/tokens/", as: t.admin })).json();
    expect(listed.items.map((i: any) => i.name)).not.toContain("refused-laptop");
  });

  it("a token whose revoke cannot be audited still works", async () => {
    const created = await t.call({
      method: "POST",
      url: "/api/v1/tokens/",
      as: t.admin,
      payload: { name: "kept" },
    });
    expect(created.statusCode).toBe(201);
    const { id, token } = created.json();
    await refusedAudit(id, () => t.call({ method: "DELETE", url: `/api/v1/tokens/${id}/`, as: t.admin }));
    const me = await t.call({
      method: "GET",
      url: "/api/v1/me",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(me.statusCode).toBe(200);
  });

  it("an installation rename, disconnect or reconnect that cannot be audited changes nothing", async () => {
    await refusedAudit("Refused name", () =>
      t.call({
        method: "PATCH",
        url: `/api/v1/installations/${installationId}/`,
        as: t.admin,
        payload: { display_name: "Refused name" },
      }),
    );
    await refusedAudit(installationId, () =>
      t.call({
        method: "DELETE",
        url: `/api/v1/installations/${installationId}/?confirm=${installationId}`,
        as: t.admin,
      }),
    );
    await refusedAudit("Refused reconnect", () =>
      t.call({
        method: "POST",
        url: "/api/v1/installations/",
        as: t.admin,
        payload: { ...tokenConnectFor(t.sims.gitlab), display_name: "Refused reconnect" },
      }),
    );
    const shown = (
      await t.call({ method: "GET", url: `/api/v1/installations/${installationId}/`, as: t.admin })
    ).json();
    expect(shown).toMatchObject({ status: "active", disconnected_at: null });
    expect(["Refused name", "Refused reconnect"]).not.toContain(shown.display_name);
  });

  it("a mapping change that cannot be audited changes nothing", async () => {
    await refusedAudit(bindingRef, () =>
      t.call({
        method: "PATCH",
        url: `/api/v1/mappings/${bindingRef}/`,
        as: t.admin,
        payload: { status: "disabled" },
      }),
    );
    const shown = (
      await t.call({ method: "GET", url: `/api/v1/mappings/${bindingRef}/`, as: t.admin })
    ).json();
    expect(shown.status).toBe("active");
  });
});

describe("pushes and their Idempotency-Key after a failure", () => {
  const push = (k: string, items: unknown[] | string) =>
    t.call({
      method: "POST",
      url: "/api/v1/tracker/push/",
      as: t.member,
      headers: { "idempotency-key": k, "content-type": "application/json" },
      payload:
        typeof items === "string"
          ? `{"provider":"gitlab","binding_ref":"${bindingRef}","items":${items}}`
          : { provider: "gitlab", binding_ref: bindingRef, items },
    });
  const issuesTitled = async (title: string) =>
    ((await t.sim("gitlab", "GET", `/_sim/resources/${resourceId}/issues`)).issues as any[]).filter(
      (i) => i.title === title,
    );
  const keyRow = async (k: string) => rows(sql`select state from idempotency_keys where key = ${k}`);

  it("a wp_id with a lone surrogate is a 400 and creates nothing upstream (the measured push case)", async () => {
    const k = key();
    const res = await push(k, `[{"wp_id":"WP-\\ud800","action":"create","patch":{"title":"Surrogate wp"}}]`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      error_code: "validation_error",
      fields: [{ field: "body.items.0.wp_id" }],
      effect_certainty: "no_effect",
      idempotency_key: k,
    });
    expect(await issuesTitled("Surrogate wp")).toEqual([]);
    expect(await keyRow(k)).toEqual([]);
  });

  it("a push whose result cannot be stored frees its key; retries update the issue it created", async () => {
    const allow = await refuse(
      "idempotency_keys",
      "refuse_result",
      `new.state = 'completed' and new.response_body::text like '%STORE-REFUSED%'`,
    );
    const items = [{ wp_id: "STORE-REFUSED-1", action: "create", patch: { title: "Store refused" } }];
    const k = key();
    try {
      const failed = await push(k, items);
      expect(failed.statusCode).toBe(500);
      expect(failed.json()).toMatchObject({ effect_certainty: "unknown", idempotency_key: k });
      // Released, not left in flight for the lock's 120 s.
      expect(await keyRow(k)).toEqual([]);
      expect(await issuesTitled("Store refused")).toHaveLength(1);
    } finally {
      await allow();
    }
    const sameKey = await push(k, items);
    expect(sameKey.statusCode, sameKey.body).toBe(200);
    expect(sameKey.json().items[0]).toMatchObject({ outcome: "updated" });
    const newKey = await push(key(), items);
    expect(newKey.statusCode, newKey.body).toBe(200);
    expect(newKey.json().items[0]).toMatchObject({ outcome: "updated" });
    expect(await issuesTitled("Store refused")).toHaveLength(1);
    expect(await keyRow(k)).toEqual([{ state: "completed" }]);
  });

  it("an issue created upstream whose link cannot be written is not created again by a retry", async () => {
    const allow = await refuse("work_package_links", "refuse_link", `new.wp_id = 'LINK-REFUSED-1'`);
    const items = [{ wp_id: "LINK-REFUSED-1", action: "create", patch: { title: "Link refused" } }];
    const k = key();
    try {
      const failed = await push(k, items);
      expect(failed.statusCode).toBe(500);
      expect(failed.json()).toMatchObject({ effect_certainty: "unknown", idempotency_key: k });
      expect(await keyRow(k)).toEqual([]);
      expect(await issuesTitled("Link refused")).toHaveLength(1);
      // The claim outlives the failure: a retry waits for the link instead of creating a second issue.
      const retried = await push(key(), items);
      expect(retried.statusCode, retried.body).toBe(200);
      expect(retried.json().item_errors).toEqual([
        expect.objectContaining({ error_code: "create_in_progress", retryable: true }),
      ]);
    } finally {
      await allow();
    }
    expect(await issuesTitled("Link refused")).toHaveLength(1);
  }, 60_000);
});
