import type { Connection, ResourcePage, TrackerAdapter } from "../core/adapter.ts";
import { type BindableResource, hostOf, identity, type Workspace } from "../core/descriptor.ts";
import { TrackerError } from "../core/errors.ts";
import { gql, gqlNode, need, PROVIDER } from "./graphql.ts";
import { createIssue, findByMarker, getIssue, listIssues, searchIssues, updateIssue } from "./issues.ts";

/**
 * Linear: one organization per credential (the workspace), teams as the bindable resources. Team ids
 * are UUIDs and never change; key, name and the organization's urlKey are renameable display data.
 */

const PAGE_SIZE = 100;

const TEAM_FIELDS = "id key name description private archivedAt retiredAt createdAt updatedAt";

const ORGANIZATION_QUERY = "query SpecKittyOrganization { organization { id name urlKey } }";

// includeArchived: archived teams must reach the host flagged, not vanish (that would read as deleted).
const TEAMS_QUERY = `query SpecKittyTeams($first: Int!, $after: String) {
  teams(first: $first, after: $after, includeArchived: true, orderBy: createdAt) {
    nodes { ${TEAM_FIELDS} }
    pageInfo { hasNextPage endCursor }
  }
}`;

const TEAM_QUERY = `query SpecKittyTeam($id: String!) { team(id: $id) { ${TEAM_FIELDS} } }`;

interface OrganizationNode {
  id: string;
  name: string;
  urlKey: string | null;
}

interface TeamConnection {
  nodes: TeamNode[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export interface TeamNode {
  id: string;
  key: string;
  name: string;
  description: string | null;
  private: boolean | null;
  archivedAt: string | null;
  retiredAt: string | null;
  createdAt: string | null;
  updatedAt: string | null;
}

/**
 * Linear's web app origin for links: `options.web_url` when the connection names one, else the API
 * origin without its `api.` label (api.linear.app → linear.app; a simulator serves both on one origin).
 */
export function webBaseOf(conn: Connection): string {
  if (conn.options?.web_url) return conn.options.web_url.replace(/\/+$/, "");
  const url = new URL(conn.base_url);
  if (url.hostname.startsWith("api.")) url.hostname = url.hostname.slice(4);
  return url.origin;
}

const isTeam = (t: TeamNode) =>
  typeof t?.id === "string" && typeof t.key === "string" && typeof t.name === "string";

export function teamDescriptor(conn: Connection, workspace: Workspace, team: TeamNode): BindableResource {
  const urlKey = typeof workspace.details.url_key === "string" ? workspace.details.url_key : null;
  return {
    identity: identity({
      provider: PROVIDER,
      host: workspace.host || hostOf(conn.base_url),
      workspace_id: workspace.id,
      resource_type: "team",
      native_id: team.id,
    }),
    display: {
      label: `${team.name} (${team.key})`,
      key: team.key,
      name: team.name,
      full_path: null,
      web_url: urlKey ? `${webBaseOf(conn)}/${urlKey}/team/${encodeURIComponent(team.key)}` : null,
      context: { workspace_name: workspace.name, team_key: team.key },
    },
    flags: {
      archived: Boolean(team.archivedAt),
      // A retired team keeps its history but takes no new issues.
      issues_disabled: Boolean(team.retiredAt),
    },
    connector_params: { organization_id: workspace.id, team_id: team.id, team_key: team.key },
    routing_metadata: {
      provider: PROVIDER,
      version: 1,
      organization_id: workspace.id,
      organization_name: workspace.name,
      url_key: urlKey,
      team_id: team.id,
      team_key: team.key,
      team_name: team.name,
      private: Boolean(team.private),
    },
  };
}

export const linearAdapter: TrackerAdapter = {
  provider: PROVIDER,

  connectorParams: (r) => ({
    organization_id: String(r.organization_id),
    team_id: String(r.team_id),
    team_key: String(r.team_key),
  }),

  async listWorkspaces(conn) {
    const data = await gql<{ organization: OrganizationNode }>(conn, ORGANIZATION_QUERY, {});
    const org = need(data?.organization, "organization", (o) => typeof o.id === "string");
    return [
      {
        provider: PROVIDER,
        host: hostOf(conn.base_url),
        id: org.id,
        name: org.name,
        url: org.urlKey ? `${webBaseOf(conn)}/${org.urlKey}` : null,
        details: { url_key: org.urlKey ?? null },
      },
    ];
  },

  async *discover(conn, workspace): AsyncIterable<ResourcePage> {
    let after: string | null = null;
    for (;;) {
      const data = await gql<{ teams: TeamConnection }>(conn, TEAMS_QUERY, { first: PAGE_SIZE, after });
      const teams: TeamConnection = need(
        data?.teams,
        "teams",
        (t) => Array.isArray(t.nodes) && typeof t.pageInfo === "object" && t.pageInfo !== null,
      );
      const nodes = teams.nodes.map((t) => need(t, "teams.nodes[]", isTeam));
      yield { resources: nodes.map((t) => teamDescriptor(conn, workspace, t)) };
      if (!teams.pageInfo.hasNextPage) return;
      const next: string = need(teams.pageInfo.endCursor, "teams.pageInfo.endCursor");
      // A cursor that does not move would page forever.
      if (next === after) {
        throw new TrackerError(
          "malformed_response",
          PROVIDER,
          "linear POST /graphql: teams cursor did not advance",
        );
      }
      after = next;
    }
  },

  async getResource(conn, workspace, nativeId) {
    const team = await gqlNode<TeamNode>(conn, TEAM_QUERY, nativeId, "team", isTeam);
    return team ? teamDescriptor(conn, workspace, team) : null;
  },

  listIssues,
  searchIssues,
  getIssue,
  createIssue,
  findByMarker,
  updateIssue,
};
