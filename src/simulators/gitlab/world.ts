import type {
  SimCredential,
  SimIssue,
  SimIssueStatus,
  SimResource,
  SimStore,
  SimWorkspace,
} from "../core/store.ts";

/**
 * GitLab's view of the neutral store: top-level groups are the store's workspaces, subgroups are derived
 * from project paths (`acme/platform/api` lives in subgroup `acme/platform`), and every object is rendered
 * with GitLab's REST v4 field names.
 */

export interface SeedUser {
  id: number;
  username: string;
  name: string;
  /** Top-level groups (store workspace ids) the user is a member of. */
  workspaces?: string[];
  /** An instance administrator (self-managed): may manage system hooks and every group's hooks. */
  admin?: boolean;
  /**
   * The user's role per top-level group, as GitLab's access level (10 Guest, 20 Reporter, 30 Developer,
   * 40 Maintainer, 50 Owner), inherited by its subgroups. A group the credential reaches without an entry
   * here counts as Developer.
   */
  access?: Record<string, number>;
}

/** GitLab's access levels (doc/api/members.md, "Roles"). */
export const ACCESS = { guest: 10, reporter: 20, developer: 30, maintainer: 40, owner: 50 } as const;

export interface SeedOAuthApp {
  name: string;
  client_id: string;
  client_secret: string;
  /** Exact URIs; an entry ending in `*` matches by prefix (a simulator convenience for random ports). */
  redirect_uris: string[];
  scopes: string[];
}

export interface GitlabSeedExtras {
  users?: SeedUser[];
  oauth_user?: string;
  oauth_apps?: SeedOAuthApp[];
  /** Subgroup full_path → display name. */
  subgroups?: Record<string, string>;
}

export interface SimGroup {
  id: number;
  name: string;
  path: string;
  full_path: string;
  full_name: string;
  parent_id: number | null;
  workspace_id: string;
  description: string;
}

const EPOCH = "2024-01-15T09:00:00.000Z";

/** The status convention of the adapter's team: finer statuses ride as `status::` scoped labels. */
const STATUS_LABEL: Partial<Record<SimIssueStatus, string>> = {
  in_progress: "status::in progress",
  in_review: "status::in review",
  blocked: "status::blocked",
  canceled: "status::canceled",
};

export const isClosed = (s: SimIssueStatus) => s === "done" || s === "canceled";

export function statusFrom(state: "opened" | "closed", labels: string[]): SimIssueStatus {
  const has = (s: SimIssueStatus) => labels.some((l) => l.toLowerCase() === STATUS_LABEL[s]);
  if (state === "closed") return has("canceled") ? "canceled" : "done";
  return (["in_progress", "in_review", "blocked"] as const).find(has) ?? "todo";
}

/** Scoped labels (`scope::value`) keep one label per scope: the last one given wins. */
export function normalizeLabels(labels: string[]): string[] {
  const out = new Map<string, string>();
  for (const raw of labels) {
    const l = raw.trim();
    if (!l) continue;
    const cut = l.lastIndexOf("::");
    const key = cut > 0 ? `scope:${l.slice(0, cut).toLowerCase()}` : `label:${l.toLowerCase()}`;
    out.delete(key);
    out.set(key, l);
  }
  return [...out.values()];
}

const titleCase = (s: string) => s.replace(/[-_]+/g, " ").replace(/\b\w/g, (c) => c.toUpperCase());

export class GitlabWorld {
  baseUrl = "http://127.0.0.1";
  /** The instance limit "max offset allowed by the REST API for offset-based pagination" (default 50,000). */
  maxProjectOffset = 50_000;
  readonly users: SeedUser[];
  private readonly subgroups = new Map<string, SimGroup>();
  private nextGroupId = 8100;
  /** Namespace per (workspace, project path): paths change only through the control API's PATCH. */
  private readonly namespaceCache = new Map<string, SimGroup>();

  constructor(
    readonly store: SimStore,
    readonly extras: GitlabSeedExtras,
  ) {
    this.users = extras.users?.length ? extras.users : [{ id: 1, username: "root", name: "Administrator" }];
    for (const r of store.resources.values()) this.namespaceOf(r); // stable subgroup ids from seed order
  }

  // ---- users -------------------------------------------------------------------------------------------

  userOf(cred: SimCredential): SeedUser {
    return this.userNamed(cred.meta?.user ?? this.users[0].username);
  }

  /** The user's role in a group (its top-level group's entry); an administrator counts as Owner everywhere. */
  accessLevel(user: SeedUser, group: SimGroup): number {
    if (user.admin) return ACCESS.owner;
    return user.access?.[group.workspace_id] ?? ACCESS.developer;
  }

  userNamed(username: string): SeedUser {
    const known = this.users.find((u) => u.username === username);
    if (known) return known;
    let id = 0;
    for (const c of username) id = (id * 31 + c.charCodeAt(0)) % 900_000;
    return { id: 100_000 + id, username, name: titleCase(username) };
  }

  userJson(u: SeedUser) {
    return {
      id: u.id,
      username: u.username,
      name: u.name,
      state: "active",
      locked: false,
      avatar_url: `${this.baseUrl}/uploads/-/system/user/avatar/${u.id}/avatar.png`,
      web_url: `${this.baseUrl}/${u.username}`,
    };
  }

  // ---- groups ------------------------------------------------------------------------------------------

  topGroup(ws: SimWorkspace): SimGroup {
    return {
      id: Number(ws.id),
      name: ws.name,
      path: ws.slug,
      full_path: ws.slug,
      full_name: ws.name,
      parent_id: null,
      workspace_id: ws.id,
      description: String(ws.details.description ?? ""),
    };
  }

  /** The group at `fullPath` inside workspace `ws`, creating subgroups on first sight. */
  private groupAt(ws: SimWorkspace, fullPath: string): SimGroup {
    let group = this.topGroup(ws);
    const segments = fullPath.split("/").slice(1);
    for (const seg of segments) {
      const path = `${group.full_path}/${seg}`;
      let sub = this.subgroups.get(path.toLowerCase());
      if (!sub) {
        const name = this.extras.subgroups?.[path] ?? titleCase(seg);
        sub = {
          id: this.nextGroupId++,
          name,
          path: seg,
          full_path: path,
          full_name: `${group.full_name} / ${name}`,
          parent_id: group.id,
          workspace_id: ws.id,
          description: "",
        };
        this.subgroups.set(path.toLowerCase(), sub);
      }
      group = sub;
    }
    return group;
  }

  /** A project's namespace: its path minus the last segment, anchored in its workspace's top-level group. */
  namespaceOf(r: SimResource): SimGroup {
    const key = `${r.workspace_id}|${r.path}`;
    let ns = this.namespaceCache.get(key);
    if (!ns) {
      ns = this.resolveNamespace(r);
      this.namespaceCache.set(key, ns);
    }
    return ns;
  }

  private resolveNamespace(r: SimResource): SimGroup {
    const ws = this.store.workspaces.get(r.workspace_id)!;
    const dir = (r.path ?? `${ws.slug}/${r.name}`).split("/").slice(0, -1).join("/");
    const anchored =
      dir.toLowerCase() === ws.slug.toLowerCase() ||
      dir.toLowerCase().startsWith(`${ws.slug.toLowerCase()}/`);
    return this.groupAt(ws, anchored ? `${ws.slug}${dir.slice(ws.slug.length)}` : ws.slug);
  }

  allGroups(): SimGroup[] {
    const tops = [...this.store.workspaces.values()].map((w) => this.topGroup(w));
    return [...tops, ...this.subgroups.values()];
  }

  /** A group by numeric id or full path (GitLab accepts both in `/groups/:id`). */
  findGroup(idOrPath: string): SimGroup | null {
    const lower = idOrPath.toLowerCase();
    return (
      this.allGroups().find((g) =>
        /^\d+$/.test(idOrPath) ? String(g.id) === idOrPath : g.full_path.toLowerCase() === lower,
      ) ?? null
    );
  }

  /** Projects of a group; with `deep`, of its subgroups too. */
  projectsOf(group: SimGroup, deep: boolean): SimResource[] {
    const prefix = `${group.full_path.toLowerCase()}/`;
    return this.store.resourcesOf(group.workspace_id).filter((r) => {
      const ns = this.namespaceOf(r).full_path.toLowerCase();
      return ns === group.full_path.toLowerCase() || (deep && ns.startsWith(prefix));
    });
  }

  groupJson(g: SimGroup) {
    return {
      id: g.id,
      web_url: `${this.baseUrl}/groups/${g.full_path}`,
      name: g.name,
      path: g.path,
      description: g.description,
      visibility: "private",
      share_with_group_lock: false,
      require_two_factor_authentication: false,
      two_factor_grace_period: 48,
      project_creation_level: "developer",
      auto_devops_enabled: null,
      subgroup_creation_level: "maintainer",
      emails_disabled: false,
      emails_enabled: true,
      mentions_disabled: null,
      lfs_enabled: true,
      default_branch_protection: 2,
      avatar_url: null,
      request_access_enabled: true,
      full_name: g.full_name,
      full_path: g.full_path,
      created_at: EPOCH,
      parent_id: g.parent_id,
      organization_id: 1,
      ldap_cn: null,
      ldap_access: null,
      marked_for_deletion_on: null,
    };
  }

  // ---- projects ----------------------------------------------------------------------------------------

  projectPath(r: SimResource): string {
    const ns = this.namespaceOf(r);
    const last = (r.path ?? r.name).split("/").pop()!;
    return `${ns.full_path}/${last}`;
  }

  projectJson(r: SimResource, opts: { permissions?: boolean } = {}) {
    const ns = this.namespaceOf(r);
    const fullPath = this.projectPath(r);
    const web = `${this.baseUrl}/${fullPath}`;
    const self = `${this.baseUrl}/api/v4/projects/${r.id}`;
    const host = new URL(this.baseUrl).host;
    const issuesOn = !r.issues_disabled;
    return {
      id: Number(r.id),
      description: r.description,
      name: r.name,
      name_with_namespace: `${ns.full_name} / ${r.name}`,
      path: fullPath.split("/").pop(),
      path_with_namespace: fullPath,
      created_at: r.created_at,
      updated_at: r.updated_at,
      default_branch: "main",
      tag_list: [],
      topics: [],
      ssh_url_to_repo: `git@${host.split(":")[0]}:${fullPath}.git`,
      http_url_to_repo: `${web}.git`,
      web_url: web,
      readme_url: `${web}/-/blob/main/README.md`,
      forks_count: 0,
      avatar_url: null,
      star_count: 0,
      last_activity_at: r.updated_at,
      namespace: {
        id: ns.id,
        name: ns.name,
        path: ns.path,
        kind: "group",
        full_path: ns.full_path,
        parent_id: ns.parent_id,
        avatar_url: null,
        web_url: `${this.baseUrl}/groups/${ns.full_path}`,
      },
      _links: {
        self,
        issues: issuesOn ? `${self}/issues` : undefined,
        merge_requests: `${self}/merge_requests`,
        repo_branches: `${self}/repository/branches`,
        labels: `${self}/labels`,
        events: `${self}/events`,
        members: `${self}/members`,
        cluster_agents: `${self}/cluster_agents`,
      },
      empty_repo: false,
      archived: r.archived,
      visibility: "private",
      issues_enabled: issuesOn,
      merge_requests_enabled: true,
      wiki_enabled: true,
      jobs_enabled: true,
      snippets_enabled: true,
      issues_access_level: issuesOn ? "enabled" : "disabled",
      repository_access_level: "enabled",
      merge_requests_access_level: "enabled",
      open_issues_count: issuesOn ? r.issues.filter((i) => !isClosed(i.status)).length : undefined,
      creator_id: this.users[0].id,
      import_status: "none",
      ...(opts.permissions
        ? { permissions: { project_access: null, group_access: { access_level: 30, notification_level: 3 } } }
        : {}),
    };
  }

  // ---- issues ------------------------------------------------------------------------------------------

  /** Stored labels are the user's; the status label is rendered from the stored status. */
  issueLabels(i: SimIssue): string[] {
    const label = STATUS_LABEL[i.status];
    return label ? [...i.labels, label] : [...i.labels];
  }

  issueJson(i: SimIssue) {
    const r = this.store.resource(i.resource_id);
    const path = this.projectPath(r);
    const web = `${this.baseUrl}/${path}/-/issues/${i.number}`;
    const self = `${this.baseUrl}/api/v4/projects/${r.id}/issues/${i.number}`;
    const assignees = i.assignees.map((a) => this.userJson(this.userNamed(a)));
    const closed = isClosed(i.status);
    return {
      id: Number(i.id),
      iid: i.number,
      project_id: Number(r.id),
      title: i.title,
      description: i.body,
      state: closed ? "closed" : "opened",
      created_at: i.created_at,
      updated_at: i.updated_at,
      closed_at: closed ? i.updated_at : null,
      closed_by: closed ? this.userJson(this.users[0]) : null,
      labels: this.issueLabels(i),
      milestone: null,
      assignees,
      author: this.userJson(this.users[0]),
      type: "ISSUE",
      assignee: assignees[0] ?? null,
      user_notes_count: 0,
      merge_requests_count: 0,
      upvotes: 0,
      downvotes: 0,
      due_date: null,
      confidential: false,
      discussion_locked: null,
      issue_type: "issue",
      web_url: web,
      time_stats: {
        time_estimate: 0,
        total_time_spent: 0,
        human_time_estimate: null,
        human_total_time_spent: null,
      },
      task_completion_status: { count: 0, completed_count: 0 },
      blocking_issues_count: 0,
      has_tasks: true,
      task_status: "0 of 0 checklist items completed",
      _links: {
        self,
        notes: `${self}/notes`,
        award_emoji: `${self}/award_emoji`,
        project: `${this.baseUrl}/api/v4/projects/${r.id}`,
        closed_as_duplicate_of: null,
      },
      references: { short: `#${i.number}`, relative: `#${i.number}`, full: `${path}#${i.number}` },
      severity: "UNKNOWN",
      moved_to_id: null,
      imported: false,
      imported_from: "none",
      service_desk_reply_to: null,
    };
  }
}
