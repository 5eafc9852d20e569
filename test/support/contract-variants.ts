import type { TokenConnectRequest } from "../../src/demo/simulated.ts";
import { clickThroughConsent } from "../../src/simulators/core/consent.ts";
import type { SimResource } from "../../src/simulators/core/store.ts";
import type { ProviderSimulator, SimProvider } from "../../src/simulators/index.ts";
import {
  type BindableResource,
  buildAuthorizeUrl,
  type Connection,
  exchangeCode,
  type NormalizedIssue,
  OAUTH_PROFILES,
  type Workspace,
} from "../../src/tracker/index.ts";
import { fastHttp } from "./tracker.ts";

/**
 * The runtime contract's variants, one per provider process or connection shape, shared by the adapter
 * suite (test/tracker/runtime-contract.test.ts) and the host suite over HTTP
 * (test/host/runtime-contract-host.test.ts), so both assert the same documented facts.
 *
 * Expectations come from each provider's documented process (docs/simulators/<provider>.md cites them),
 * recorded per variant as facts, never from what an adapter happens to return.
 */

export interface Variant {
  name: string;
  provider: SimProvider;
  /** The connection an admin's connect would give the host, built from the simulator's demo facts. */
  connection(sim: ProviderSimulator): Connection | Promise<Connection>;
  /** The workspace, among those the credential lists, that holds the resource. */
  workspace(list: Workspace[], sim: ProviderSimulator): Workspace | undefined;
  /** The resource, among what a discovery pass of that workspace finds. */
  resource(r: BindableResource): boolean;
  /** The same resource as the simulator's store holds it. */
  simResource(r: SimResource): boolean;
  /** How an admin connects this variant's workspace through the service. */
  host: HostConnect;
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

/**
 * How the host connects the variant: a token connect (`POST /api/v1/installations/`), Jira's OAuth 2.0
 * (3LO) consent for the demo site, or the GitHub App install signed in as the installation's owner.
 */
export type HostConnect =
  | { kind: "token"; body(sim: ProviderSimulator): TokenConnectRequest & { workspace_id?: string } }
  | { kind: "jira_oauth" }
  | { kind: "github_app"; installation(sim: ProviderSimulator): string; login: string };

export const labelsOn = (resources: { issues: { labels: string[] }[] }[]) =>
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
/** The resource by its display name, key or label, in the adapter's discovery and in the simulator's store. */
const named = (name: string) => ({
  resource: (r: BindableResource) => r.display.name === name,
  simResource: (r: SimResource) => r.name === name,
});
const keyed = (key: string) => ({
  resource: (r: BindableResource) => r.display.key === key,
  simResource: (r: SimResource) => r.key === key,
});
const labelled = (label: string) => ({
  resource: (r: BindableResource) => r.display.label === label,
  simResource: (r: SimResource) => r.path === label,
});

const tokenConnect = (
  body: (sim: ProviderSimulator) => TokenConnectRequest & { workspace_id?: string },
): HostConnect => ({
  kind: "token",
  body,
});

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
  ...named(project),
  host: tokenConnect((sim) => ({
    provider: "azure_devops",
    base_url: sim.url,
    credential: { kind: "bearer_pat", token: sim.demo.pat },
    options: { organization: sim.demo.organization },
  })),
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
  ...keyed(key),
  host: tokenConnect((sim) =>
    dc
      ? {
          provider: "jira",
          base_url: sim.demo.dc_url,
          credential: { kind: "bearer_pat", token: sim.demo.pat },
        }
      : {
          provider: "jira",
          base_url: sim.demo.site_url,
          credential: { kind: "basic", username: sim.demo.email, password: sim.demo.api_token },
        },
  ),
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
  ...keyed(key),
  host: tokenConnect((sim) => ({
    provider: "linear",
    base_url: sim.demo.api_url,
    credential: { kind: "api_key", api_key: sim.demo.api_key },
  })),
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

export const VARIANTS: Variant[] = [
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
  {
    ...jira("Cloud software through the OAuth gateway", "PLAT", true, SOFTWARE),
    connection: jiraGateway,
    host: { kind: "jira_oauth" },
  },
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
    ...labelled("acme/platform/api"),
    host: tokenConnect((sim) => ({
      provider: "gitlab",
      base_url: sim.demo.url,
      credential: { kind: "private_token", token: sim.demo.token },
      options: { group_id: sim.demo.group_id },
    })),
    reviewState: true,
    states: OPEN_CLOSED("opened"),
    existingLabel: "backend",
  },
  {
    name: "gitlab membership workspace (acme/platform/web)",
    provider: "gitlab",
    connection: patConnection("private_token"),
    workspace: (list) => list.find((w) => w.id === "membership"),
    ...labelled("acme/platform/web"),
    host: tokenConnect((sim) => ({
      provider: "gitlab",
      base_url: sim.demo.url,
      credential: { kind: "private_token", token: sim.demo.token },
      workspace_id: "membership",
    })),
    reviewState: true,
    states: OPEN_CLOSED("opened"),
    existingLabel: "frontend",
  },
  {
    name: "github installation, repository_selection all (acme/api)",
    provider: "github",
    connection: (sim) => githubInstallation(sim.demo.installation_id)(sim),
    workspace: only,
    ...labelled("acme/api"),
    host: { kind: "github_app", installation: (sim) => sim.demo.installation_id, login: "acme-admin" },
    reviewState: true,
    states: OPEN_CLOSED("open"),
    existingLabel: "enhancement",
  },
  {
    name: "github installation, repository_selection selected (octo-user/blog)",
    provider: "github",
    connection: githubInstallation("41000002"),
    workspace: only,
    ...labelled("octo-user/blog"),
    host: { kind: "github_app", installation: () => "41000002", login: "octo-user" },
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
export const NATIVE_STATE: Record<SimProvider, (i: NormalizedIssue) => unknown> = {
  azure_devops: (i) => i.provider_metadata.state,
  jira: (i) => i.provider_metadata.status_name,
  linear: (i) => (i.provider_metadata.state as { name?: string } | undefined)?.name,
  github: (i) => i.provider_metadata.state,
  gitlab: (i) => i.provider_metadata.state,
};
