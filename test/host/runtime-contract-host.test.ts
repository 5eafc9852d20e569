import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clickThroughConsent } from "../../src/simulators/core/consent.ts";
import {
  adapterFor,
  type BindableResource,
  type Connection,
  type IssueStatus,
  runDiscovery,
} from "../../src/tracker/index.ts";
import { NATIVE_STATE, VARIANTS, type Variant } from "../support/contract-variants.ts";
import {
  ALL_PROVIDERS,
  connectCookieOf,
  createSimulatedApp,
  installGithubApp,
  type SimulatedApp,
} from "../support/simulated.ts";

/**
 * The runtime contract through the service (issue 15): for every variant of test/support/contract-variants.ts,
 * an admin connects the variant's workspace through the API, a project is mapped to the variant's resource,
 * and the CLI's push endpoint walks one work package planned → in progress → in review → done → reopened.
 * After each push the simulator's store must hold the status, and the provider's own API (read with the
 * adapter, outside the service) the state the provider's documentation names for that step.
 *
 * One app per provider, its variants in sequence; the database is the one TEST_DB_DRIVER picks.
 */

const key = () => `logical-operation:write:${randomUUID().replace(/-/g, "")}`;
type Step = keyof Variant["states"];

for (const provider of ALL_PROVIDERS) {
  describe(`${provider} through the host`, () => {
    let t: SimulatedApp;
    beforeAll(async () => {
      t = await createSimulatedApp({ providers: [provider], generatedResources: 0 });
    });
    afterAll(() => t?.close());

    const post = (url: string, payload: object) =>
      t.call({ method: "POST", url, as: t.member, payload, headers: { "idempotency-key": key() } });

    /** Connects the variant's workspace as its admin would; answers the workspace id it connected. */
    async function connect(v: Variant): Promise<{ installationId: string; workspaceId: string }> {
      const sim = t.sims[provider];
      let res: Awaited<ReturnType<SimulatedApp["call"]>>;
      if (v.host.kind === "token") {
        res = await t.call({
          method: "POST",
          url: "/api/v1/installations/",
          as: t.admin,
          payload: v.host.body(sim),
        });
      } else if (v.host.kind === "jira_oauth") {
        const start = await t.call({
          method: "POST",
          url: "/api/v1/installations/connect/",
          as: t.admin,
          payload: { provider: "jira", workspace_id: sim.demo.cloud_id },
        });
        expect(start.statusCode, start.body).toBe(200);
        const back = await clickThroughConsent(start.json().authorize_url, { choice: sim.demo.cloud_id });
        res = await t.call({
          method: "GET",
          url: back.pathname + back.search,
          headers: { cookie: connectCookieOf(start) },
        });
      } else {
        res = await installGithubApp(t, t.admin, sim, {
          login: v.host.login,
          choice: v.host.installation(sim),
        });
      }
      expect(res.statusCode, res.body).toBeLessThan(300);
      const body = res.json();
      const sync = await t.services.jobs.waitFor(body.refresh.operation_id ?? body.refresh.id, 60_000);
      expect(sync.status, JSON.stringify(sync.error ?? null)).toBe("completed");
      return { installationId: body.installation.id, workspaceId: body.installation.workspace.id };
    }

    /**
     * Maps a new project to the variant's resource, picked from `tracker discover` by its native id and
     * the installation just connected (a GitLab project can be in a group and a membership installation).
     */
    async function bind(v: Variant, installationId: string, resourceId: string): Promise<string> {
      const rows: { resource_key: string; candidate_token: string; installation_id: string }[] = [];
      let cursor: string | null = null;
      do {
        const q: string = `/api/v1/tracker/resources/?provider=${provider}&limit=200${cursor ? `&cursor=${cursor}` : ""}`;
        const page = await t.call({ method: "GET", url: q, as: t.member });
        expect(page.statusCode, page.body).toBe(200);
        rows.push(...page.json().resources);
        cursor = page.json().next_cursor;
      } while (cursor);
      const found = rows.filter(
        (r) =>
          r.installation_id === installationId &&
          r.resource_key.endsWith(`:${encodeURIComponent(resourceId)}`),
      );
      expect(found, `${v.name}: the resource is in the inventory once`).toHaveLength(1);
      const res = await post("/api/v1/tracker/bind-confirm/", {
        provider,
        candidate_token: found[0].candidate_token,
        project_identity: {
          uuid: randomUUID(),
          slug: `contract-${randomUUID().slice(0, 8)}`,
          node_id: "a1b2c3d4e5f6",
          repo_slug: null,
          build_id: null,
        },
      });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().binding_ref;
    }

    for (const v of VARIANTS.filter((x) => x.provider === provider)) {
      describe(v.name, () => {
        const title = `Host contract ${randomUUID().slice(0, 8)}`;
        let ref: string;
        let resourceId: string;
        let conn: Connection;
        let params: BindableResource["connector_params"];
        let handle: string;

        beforeAll(async () => {
          const { installationId, workspaceId } = await connect(v);
          const store = t.sims[provider].store;
          let candidates = [...store.resources.values()].filter(v.simResource);
          if (candidates.length > 1) candidates = candidates.filter((r) => r.workspace_id === workspaceId);
          expect(candidates, `${v.name}: one such resource upstream`).toHaveLength(1);
          resourceId = candidates[0].id;
          ref = await bind(v, installationId, resourceId);
          // The provider's own API, read outside the service with the variant's credential.
          conn = await v.connection(t.sims[provider]);
          const adapter = adapterFor(provider);
          const ws = v.workspace(await adapter.listWorkspaces(conn), t.sims[provider]);
          if (!ws) throw new Error(`${v.name}: no such workspace`);
          const listed: BindableResource[] = [];
          await runDiscovery(adapter, conn, ws, (page) => {
            listed.push(...page);
          });
          const r = listed.find(v.resource);
          if (!r) throw new Error(`${v.name}: the adapter lists no such resource`);
          params = r.connector_params;
        });

        /** The status the step reads back: in review is in progress where the workflow has no review. */
        const reads = (step: Step): IssueStatus =>
          step === "in_review" && !v.reviewState ? "in_progress" : step;

        async function holds(step: Step, native = v.states[step]) {
          const { issues } = await t.sim(provider, "GET", `/_sim/resources/${resourceId}/issues`);
          const mine = issues.filter((i: { title: string }) => i.title === title);
          expect(mine, "exactly one upstream issue").toHaveLength(1);
          expect(mine[0].status, "held by the provider").toBe(reads(step));
          const got = await adapterFor(provider).getIssue(conn, params, handle);
          expect(got && NATIVE_STATE[provider](got), "the provider's own state").toBe(native);
        }

        async function push(item: object) {
          const res = await post("/api/v1/tracker/push/", { provider, binding_ref: ref, items: [item] });
          expect(res.statusCode, res.body).toBe(200);
          expect(res.json(), res.body).toMatchObject({ status: "ok", summary: { succeeded: 1, failed: 0 } });
          return res.json().items[0];
        }

        it("walks one work package planned → in progress → in review → done → reopened", async () => {
          const created = await push({ wp_id: "WP01", action: "create", patch: { title } });
          expect(created.outcome).toBe("created");
          handle = created.remote_ref.key ?? created.remote_ref.id;
          await holds("todo", v.createdState ?? v.states.todo);
          for (const step of ["in_progress", "in_review", "done", "todo"] as const) {
            await push({ wp_id: "WP01", action: "transition", target_status: step });
            await holds(step);
          }
        });
      });
    }
  });
}
