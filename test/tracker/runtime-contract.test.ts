import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProviderSimulator, SIMULATORS, type SimProvider } from "../../src/simulators/index.ts";
import {
  adapterFor,
  type BindableResource,
  type Connection,
  type IssueStatus,
  type NormalizedIssue,
  runDiscovery,
} from "../../src/tracker/index.ts";
import { labelsOn, NATIVE_STATE, VARIANTS, type Variant } from "../support/contract-variants.ts";
import { fastHttp, simControl, trackerFailure } from "../support/tracker.ts";

/**
 * The runtime contract, the same scenarios on every variant of every provider: create as planned, move to
 * doing, in review, done, reopen; labels; search. Each step is read back through the adapter's `getIssue`
 * (status and the provider's own state name) and through the simulator's store, so the provider really
 * holds what the adapter says.
 *
 * The variants and their documented states live in test/support/contract-variants.ts, shared with the
 * same walk through the service over HTTP (test/host/runtime-contract-host.test.ts).
 */

/** One simulator per provider for the whole file, without filler resources: discovery stays one page. */
const started = new Map<SimProvider, Promise<ProviderSimulator>>();
function simulatorFor(provider: SimProvider): Promise<ProviderSimulator> {
  let sim = started.get(provider);
  if (!sim) {
    sim = SIMULATORS[provider]({ generatedResources: 0 });
    started.set(provider, sim);
  }
  return sim;
}
afterAll(async () => {
  for (const sim of started.values()) await (await sim).close();
});

describe.each(VARIANTS)("$name", (v) => {
  const adapter = adapterFor(v.provider);
  let sim: ProviderSimulator;
  let conn: Connection;
  let resource: BindableResource;
  /** A word no other issue has, so search has exactly one right answer. */
  const word = `kw${randomBytes(5).toString("hex")}`;
  const title = `Contract ${word} walk`;
  let handle: string;

  const params = () => resource.connector_params;
  /** The issue as the simulator's store holds it, whatever the adapter answered. */
  const stored = async () => {
    const control = simControl(() => sim.url);
    const { issues } = await control("GET", `/_sim/resources/${resource.identity.native_id}/issues`);
    const found = issues.filter((i: { title: string }) => i.title === title);
    expect(found, "exactly one upstream issue").toHaveLength(1);
    return found[0] as { status: IssueStatus; labels: string[] };
  };

  /** The status a step should read back, from the variant's documented workflow. */
  const reads = (status: IssueStatus): IssueStatus =>
    status === "in_review" && !v.reviewState ? "in_progress" : status;

  async function readsBack(
    returned: NormalizedIssue,
    step: keyof Variant["states"],
    native = v.states[step],
  ) {
    const status = reads(step);
    expect(returned.status, "returned by the write").toBe(status);
    const got = await adapter.getIssue(conn, params(), handle);
    expect(got?.ref.id).toBe(returned.ref.id);
    expect(got?.status, "read through getIssue").toBe(status);
    expect(got && NATIVE_STATE[v.provider](got), "the provider's own state").toBe(native);
    expect((await stored()).status, "held by the provider").toBe(status);
  }

  const move = async (step: keyof Variant["states"]) => {
    const moved = await adapter.updateIssue(conn, params(), handle, { status: step });
    await readsBack(moved, step);
  };

  beforeAll(async () => {
    sim = await simulatorFor(v.provider);
    conn = await v.connection(sim);
    const ws = v.workspace(await adapter.listWorkspaces(conn), sim);
    if (!ws) throw new Error(`${v.name}: no such workspace`);
    const found: BindableResource[] = [];
    const outcome = await runDiscovery(adapter, conn, ws, (page) => {
      found.push(...page);
    });
    expect(outcome.complete).toBe(true);
    const r = found.find(v.resource);
    if (!r) throw new Error(`${v.name}: discovery found no such resource`);
    resource = r;
    const known = v.knownLabels
      ? await v.knownLabels(sim, r)
      : labelsOn([sim.store.resource(r.identity.native_id)]);
    expect(known, "the label exists upstream before the test").toContain(v.existingLabel);
  });

  it("creates an issue as planned: it reads back todo", async () => {
    const created = await adapter.createIssue(conn, params(), { title });
    expect(created.title).toBe(title);
    handle = created.ref.key ?? created.ref.id;
    await readsBack(created, "todo", v.createdState ?? v.states.todo);
  });

  it("moves it to in progress", () => move("in_progress"));

  it(`moves it to in review (${v.reviewState ? "a review status" : "no review status: still in progress"})`, () =>
    move("in_review"));

  it("moves it to done", () => move("done"));

  it("reopens it: todo again", () => move("todo"));

  const labels = [v.existingLabel, `contract-${word}`];
  const want = [...labels].sort();

  it("sets two labels, one the provider already has, without changing the status", async () => {
    const labelled = await adapter.updateIssue(conn, params(), handle, { labels });
    expect([...labelled.labels].sort()).toEqual(want);
    expect([...((await adapter.getIssue(conn, params(), handle))?.labels ?? [])].sort()).toEqual(want);
    const upstream = await stored();
    expect([...upstream.labels].sort()).toEqual(want);
    expect(upstream.status).toBe("todo");
  });

  it("finds the issue by a word of its title", async () => {
    const hits = await adapter.searchIssues(conn, params(), { text: word, limit: 10 });
    expect(hits.map((h) => h.title)).toEqual([title]);
  });

  // Every provider keeps a hidden marker on the issues the service creates: a comment in a Markdown body
  // (GitHub, GitLab, Linear), an issue entity property (Jira), a Hyperlink relation (Azure DevOps).
  it("a create whose answer never arrives is found by its marker: exactly one upstream issue", async () => {
    const control = simControl(() => sim.url);
    const lost = `Lost ${word} create`;
    const marker = `wp=contract/${word}`;
    // The provider creates the issue, then answers after the client has given up.
    await control("POST", "/_sim/faults", { count: 1, respond_after_ms: 1500, body_includes: lost });
    const err = await trackerFailure(
      adapter.createIssue({ ...conn, http: fastHttp({ timeoutMs: 300 }) }, params(), {
        title: lost,
        body: "Planned work.",
        marker,
      }),
    );
    expect(err).toMatchObject({ kind: "upstream_unavailable", effectUnknown: true });
    const found = await adapter.findByMarker!(conn, params(), marker);
    // The marker stays hidden: the body reads as written.
    expect(found).toMatchObject({ title: lost, body: "Planned work." });
    expect(await adapter.findByMarker!(conn, params(), `wp=contract/not-${word}`)).toBeNull();
    const { issues } = await control("GET", `/_sim/resources/${resource.identity.native_id}/issues`);
    expect(issues.filter((i: { title: string }) => i.title === lost)).toHaveLength(1);
  });

  it("jumps from todo straight to done, as a push of finished work does, keeping the labels", async () => {
    expect((await stored()).status).toBe("todo");
    await move("done");
    expect([...(await stored()).labels].sort()).toEqual(want);
  });
});
