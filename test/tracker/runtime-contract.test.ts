import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clickThroughConsent } from "../../src/simulators/core/consent.ts";
import { type ProviderSimulator, SIMULATORS, type SimProvider } from "../../src/simulators/index.ts";
import {
  adapterFor,
  type BindableResource,
  buildAuthorizeUrl,
  type Connection,
  exchangeCode,
  type IssueStatus,
  type NormalizedIssue,
  OAUTH_PROFILES,
  runDiscovery,
  type Workspace,
} from "../../src/tracker/index.ts";
import { fastHttp, simControl, trackerFailure } from "../support/tracker.ts";

/**
 * The runtime contract, the same scenarios on every variant of every provider: create as planned, move to
 * doing, in review, done, reopen; labels; search. Each step is read back through the adapter's `getIssue`
 * (status and the provider's own state name) and through the simulator's store, so the provider really
 * holds what the adapter says.
 *
 * Expectations come from each provider's documented process (docs/simulators/<provider>.md cites them),
 * recorded per variant as facts, never from what an adapter happens to return.
 */

interface Variant {
  name: string;
  provider: SimProvider;
  /** The connection an admin's connect would give the host, built from the simulator's demo facts. */
  connection(sim: ProviderSimulator): Connection | Promise<Connection>;
  /** The workspace, among those the credential lists, that holds the resource. */
  workspace(list: Workspace[], sim: ProviderSimulator): Workspace | undefined;
  /** The resource, among what a discovery pass of that workspace finds. */
  resource(r: BindableResource): boolean;
  /**
   * Whether the resource's workflow has a review status of its own. Where it does not, in review is
   * the work still in progress (the adapter never invents a status the workflow lacks).
   */
  reviewState: boolean;
  /**
   * The provider's own state for each step, as its documentation names it (ADO state, Jira status, Linear
   * workflow state, GitHub/GitLab issue state). Reopening returns to the todo state.
   */
  states: Record<"todo" | "in_progress" | "in_review" | "done", string>;
  /** Where the provider puts an issue created without a status, when that is not the todo state. */
  createdState?: string;
  /** A label the provider already holds for this resource. */
  existingLabel: string;
  /** The labels the resource can already use (default: those on its seeded issues). */
  knownLabels?(sim: ProviderSimulator, r: BindableResource): Promise<string[]>;
}

const labelsOn = (resources: { issues: { labels: string[] }[] }[]) =>
  resources.flatMap((r) => r.issues.flatMap((i) => i.labels));

/** Jira labels belong to the site (or server), not to a project: any issue's label is there to reuse. */
const siteLabels = async (sim: ProviderSimulator, r: BindableResource) => {
  const workspace = sim.store.resource(r.identity.native_id).workspace_id;
  return labelsOn(sim.store.resourcesOf(workspace));
};

/** What a Linear client sees: the root `issueLabels` lists workspace labels (team null) and team labels. */
const linearLabels = async (sim: ProviderSimulator) => {
  const res = await fetch(`${sim.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: sim.demo.api_key },
    body: JSON.stringify({ query: "{ issueLabels(first: 250) { nodes { name team { id } } } }" }),
  });
  const { data } = await res.json();
  return data.issueLabels.nodes
    .filter((l: { team: unknown }) => l.team === null)
    .map((l: { name: string }) => l.name);
};

const http = fastHttp({ timeoutMs: 5000 });

const patConnection =
  (kind: "bearer_pat" | "private_token") =>
  (sim: ProviderSimulator): Connection => ({
    base_url: sim.url,
    credential: kind === "bearer_pat" ? { kind, token: sim.demo.pat } : { kind, token: sim.demo.token },
    options: sim.provider === "azure_devops" ? { organization: sim.demo.organization } : undefined,
    http,
  });

const githubInstallation =
  (installation: string) =>
  (sim: ProviderSimulator): Connection => ({
    base_url: sim.demo.api_url,
    credential: {
      kind: "github_app",
      app_id: sim.demo.app_id,
      private_key_pem: sim.demo.private_key_pem,
      installation_id: installation,
    },
    http,
  });

const jiraCloud = (sim: ProviderSimulator): Connection => ({
  base_url: sim.demo.site_url,
  credential: { kind: "basic", username: sim.demo.email, password: sim.demo.api_token },
  http,
});
/** Jira Cloud through Atlassian's OAuth 2.0 (3LO) gateway: the admin consents for the acme site. */
const jiraGateway = async (sim: ProviderSimulator): Promise<Connection> => {
  const app = { clientId: sim.demo.oauth_client_id, clientSecret: sim.demo.oauth_client_secret };
  const redirectUri = "http://127.0.0.1:9/api/v1/installations/callback/jira/";
  const url = buildAuthorizeUrl(OAUTH_PROFILES.jira, sim.demo.auth_url, app, { state: "s", redirectUri });
  const back = await clickThroughConsent(url, { choice: sim.demo.cloud_id });
  const code = back.searchParams.get("code") ?? "";
  const tokens = await exchangeCode(http, OAUTH_PROFILES.jira, sim.demo.auth_url, app, { code, redirectUri });
  return {
    base_url: sim.demo.api_url,
    credential: { kind: "oauth", access_token: tokens.access_token },
    options: { deployment: "cloud", cloud_id: sim.demo.cloud_id },
    http,
  };
};
const jiraDataCenter = (sim: ProviderSimulator): Connection => ({
  base_url: sim.demo.dc_url,
  credential: { kind: "bearer_pat", token: sim.demo.pat },
  http,
});

const only = (list: Workspace[]) => list[0];
const named = (name: string) => (r: BindableResource) => r.display.name === name;
const keyed = (key: string) => (r: BindableResource) => r.display.key === key;
const labelled = (label: string) => (r: BindableResource) => r.display.label === label;

/** The four steps' states in order: todo, in progress, in review, done. */
const steps = (todo: string, inProgress: string, inReview: string, done: string): Variant["states"] => ({
  todo,
  in_progress: inProgress,
  in_review: inReview,
  done,
});

const ado = (
  name: string,
  project: string,
  reviewState: boolean,
  states: Variant["states"],
  existingLabel: string,
): Variant => ({
  name: `azure_devops ${name} (${project})`,
  provider: "azure_devops",
  connection: patConnection("bearer_pat"),
  workspace: only,
  resource: named(project),
  reviewState,
  states,
  existingLabel,
});

const jira = (
  name: string,
  key: string,
  reviewState: boolean,
  states: Variant["states"],
  dc = false,
): Variant => ({
  name: `jira ${name} (${key})`,
  provider: "jira",
  connection: dc ? jiraDataCenter : jiraCloud,
  workspace: (list, sim) => (dc ? list[0] : list.find((w) => w.id === sim.demo.cloud_id)),
  resource: keyed(key),
  reviewState,
  states,
  existingLabel: dc ? (key === "SD" ? "hardware" : "maintenance") : "checkout",
  knownLabels: siteLabels,
});

const linear = (name: string, key: string, reviewState: boolean, existingLabel: string): Variant => ({
  name: `linear ${name}`,
  provider: "linear",
  connection: (sim) => ({
    base_url: sim.url,
    credential: { kind: "api_key", api_key: sim.demo.api_key },
    http,
  }),
  workspace: only,
  resource: keyed(key),
  reviewState,
  states: steps("Todo", "In Progress", reviewState ? "In Review" : "In Progress", "Done"),
  createdState: "Backlog",
  existingLabel,
  knownLabels: linearLabels,
});

const SOFTWARE = steps("To Do", "In Progress", "In Review", "Done");
const REQUESTS = steps("Waiting for support", "In Progress", "In Progress", "Resolved");
const SIMPLE = steps("To Do", "In Progress", "In Progress", "Done");
const OPEN_CLOSED = (opened: string) => steps(opened, opened, opened, "closed");

const VARIANTS: Variant[] = [
  // Basic: Issue has To Do / Doing / Done, one in-progress state. Scrum's Product Backlog Item goes
  // New / Approved / Committed / Done: no Resolved state either. Agile's User Story has Resolved; CMMI's
  // Requirement has Resolved in the In Progress category (Microsoft's state-category tables).
  ado("Basic", "Team Board", false, steps("To Do", "Doing", "Doing", "Done"), "onboarding"),
  ado("Agile", "Payments", true, steps("New", "Active", "Resolved", "Closed"), "backend"),
  ado("Scrum", "Sprint Board", false, steps("New", "Committed", "Committed", "Done"), "retro"),
  ado("CMMI", "Compliance", true, steps("Proposed", "Active", "Resolved", "Closed"), "audit"),
  // Jira's software template has In Review; the service-management request workflow (Waiting for
  // support / In Progress / Waiting for customer / Resolved), the strict workflow (To Do / In Progress /
  // Done with a resolution screen) and the business template (To Do / In Progress / Done) have none.
  jira("Cloud software", "PAY", true, SOFTWARE),
  { ...jira("Cloud software through the OAuth gateway", "PLAT", true, SOFTWARE), connection: jiraGateway },
  jira("Cloud service management", "HELP", false, REQUESTS),
  jira("Cloud strict workflow, Done needs a resolution", "REL", false, SIMPLE),
  jira("Cloud business", "MKT", false, SIMPLE),
  jira("Data Center software", "OPS", true, SOFTWARE, true),
  jira("Data Center service desk", "SD", false, REQUESTS, true),
  jira("Data Center strict workflow", "CHG", false, SIMPLE, true),
  // GitLab and GitHub issues are open or closed; the finer statuses ride as scoped / status labels.
  {
    name: "gitlab group project (acme/platform/api)",
    provider: "gitlab",
    connection: patConnection("private_token"),
    workspace: (list, sim) => list.find((w) => w.id === sim.demo.group_id),
    resource: labelled("acme/platform/api"),
    reviewState: true,
    states: OPEN_CLOSED("opened"),
    existingLabel: "backend",
  },
  {
    name: "gitlab membership workspace (acme/platform/web)",
    provider: "gitlab",
    connection: patConnection("private_token"),
    workspace: (list) => list.find((w) => w.id === "membership"),
    resource: labelled("acme/platform/web"),
    reviewState: true,
    states: OPEN_CLOSED("opened"),
    existingLabel: "frontend",
  },
  {
    name: "github installation, repository_selection all (acme/api)",
    provider: "github",
    connection: (sim) => githubInstallation(sim.demo.installation_id)(sim),
    workspace: only,
    resource: labelled("acme/api"),
    reviewState: true,
    states: OPEN_CLOSED("open"),
    existingLabel: "enhancement",
  },
  {
    name: "github installation, repository_selection selected (octo-user/blog)",
    provider: "github",
    connection: githubInstallation("41000002"),
    workspace: only,
    resource: labelled("octo-user/blog"),
    reviewState: true,
    states: OPEN_CLOSED("open"),
    existingLabel: "bug",
  },
  // Linear: a team comes with "Backlog > Todo > In Progress > Done > Canceled" and new issues land in
  // the first Backlog status; teams add states such as In Review (Linear's "Workflows" docs). `Bug` and
  // `Improvement` are Acme workspace labels, available to every team.
  linear("team with a review state (ENG), workspace label", "ENG", true, "Improvement"),
  linear("team with Linear's default workflow (PRD), workspace label", "PRD", false, "Bug"),
];

/** Where each adapter passes the provider's own state through. */
const NATIVE_STATE: Record<SimProvider, (i: NormalizedIssue) => unknown> = {
  azure_devops: (i) => i.provider_metadata.state,
  jira: (i) => i.provider_metadata.status_name,
  linear: (i) => (i.provider_metadata.state as { name?: string } | undefined)?.name,
  github: (i) => i.provider_metadata.state,
  gitlab: (i) => i.provider_metadata.state,
};

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
