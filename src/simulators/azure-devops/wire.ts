import { createHash } from "node:crypto";
import type { SimReply } from "../core/server.ts";
import type { SimIssue, SimResource, SimWorkspace } from "../core/store.ts";

/**
 * Azure DevOps wire shapes: error bodies, projects, work items and identity refs, rendered from the
 * provider-neutral store. Written from the REST 7.1 reference as remembered; see docs/simulators/azure-devops.md.
 */

/** A GUID derived from a seed string, so seeded ids are the same on every start. */
export function guidFrom(seed: string): string {
  const h = createHash("sha1").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** ADO's error envelope (`{"$id":"1","innerException":null,"message":...}`). */
export function adoError(
  status: number,
  message: string,
  typeKey = "VssServiceException",
  extra: { headers?: Record<string, string>; errorCode?: number; eventId?: number } = {},
): SimReply {
  return {
    status,
    headers: extra.headers,
    json: {
      $id: "1",
      innerException: null,
      message,
      typeName: `Microsoft.VisualStudio.Services.WebApi.${typeKey}, Microsoft.VisualStudio.Services.WebApi`,
      typeKey,
      errorCode: extra.errorCode ?? 0,
      eventId: extra.eventId ?? 3000,
    },
  };
}

/** What ADO serves an unauthenticated browser-style request: a sign-in page with status 203. */
export function signInPage(): SimReply {
  return {
    status: 203,
    headers: { "content-type": "text/html; charset=utf-8" },
    raw:
      "<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head>" +
      '<body><form id="signin" action="https://app.vssps.visualstudio.com/_signin"></form></body></html>',
  };
}

export const PROJECT_STATE = (r: SimResource) => (r.archived ? "deleting" : "wellFormed");

export function renderProject(base: string, org: SimWorkspace, r: SimResource, full = false) {
  const project: Record<string, unknown> = {
    id: r.id,
    name: r.name,
    url: `${base}/${org.slug}/_apis/projects/${r.id}`,
    state: PROJECT_STATE(r),
    revision: Math.floor(Date.parse(r.updated_at) / 1000) % 1_000_000,
    visibility: "private",
    lastUpdateTime: r.updated_at,
  };
  if (r.description) project.description = r.description;
  if (!full) return project;
  return {
    ...project,
    _links: {
      self: { href: project.url },
      collection: {
        href: `${base}/${org.slug}/_apis/projectCollections/${guidFrom(`collection:${org.id}`)}`,
      },
      web: { href: `${base}/${org.slug}/${encodeURIComponent(r.name)}` },
    },
    defaultTeam: {
      id: guidFrom(`team:${r.id}`),
      name: `${r.name} Team`,
      url: `${base}/${org.slug}/_apis/projects/${r.id}/teams/${guidFrom(`team:${r.id}`)}`,
    },
  };
}

export function identityRef(base: string, who: string) {
  const id = guidFrom(`user:${who}`);
  const display = who.includes("@") ? who.split("@")[0] : who;
  return {
    displayName: display,
    url: `${base}/_apis/Identities/${id}`,
    _links: { avatar: { href: `${base}/_apis/GraphProfile/MemberAvatars/aad.${id}` } },
    id,
    uniqueName: who,
    imageUrl: `${base}/_api/_common/identityImage?id=${id}`,
    descriptor: `aad.${Buffer.from(id).toString("base64url")}`,
  };
}

/** What a work item shows of its process: its type and state, and whether that is the type's first state. */
export interface WorkItemView {
  type: string;
  state: string;
  initial: boolean;
}

export const BLOCKED = "Blocked";

export function parseTagString(value: string): string[] {
  return value
    .split(";")
    .map((t) => t.trim())
    .filter(Boolean);
}

export function tagString(issue: SimIssue): string {
  const tags = issue.labels.filter((l) => l.toLowerCase() !== "blocked");
  if (issue.status === "blocked") tags.push(BLOCKED);
  return tags.join("; ");
}

/** The `fields` bag of a work item, also what WIQL filters on. */
export function workItemFields(base: string, issue: SimIssue, project: SimResource, view: WorkItemView) {
  const { state } = view;
  const fields: Record<string, unknown> = {
    "System.Id": Number(issue.id),
    "System.AreaPath": project.name,
    "System.TeamProject": project.name,
    "System.IterationPath": project.name,
    "System.WorkItemType": view.type,
    "System.State": state,
    "System.Reason": view.initial ? "New" : `Moved to state ${state}`,
    "System.CreatedDate": issue.created_at,
    "System.CreatedBy": identityRef(base, "sim-admin@example.test"),
    "System.ChangedDate": issue.updated_at,
    "System.ChangedBy": identityRef(base, "sim-admin@example.test"),
    "System.CommentCount": 0,
    "System.Title": issue.title,
  };
  if (issue.assignees[0]) fields["System.AssignedTo"] = identityRef(base, issue.assignees[0]);
  if (issue.body) fields["System.Description"] = issue.body;
  const tags = tagString(issue);
  if (tags) fields["System.Tags"] = tags;
  if (issue.priority >= 1 && issue.priority <= 4) fields["Microsoft.VSTS.Common.Priority"] = issue.priority;
  return fields;
}

export function renderWorkItem(
  base: string,
  org: SimWorkspace,
  issue: SimIssue,
  project: SimResource,
  rev: number,
  view: WorkItemView,
  opts: {
    links: boolean;
    fields?: string[];
    relations?: { rel: string; url: string; attributes?: unknown }[];
  },
) {
  const all = workItemFields(base, issue, project, view);
  const { "System.Id": _id, ...rest } = all;
  const fields = opts.fields
    ? Object.fromEntries(Object.entries(all).filter(([k]) => opts.fields!.includes(k)))
    : rest;
  const api = `${base}/${org.slug}/${project.id}/_apis/wit/workItems/${issue.id}`;
  const item: Record<string, unknown> = { id: Number(issue.id), rev, fields, url: api };
  if (opts.links) {
    item._links = {
      self: { href: api },
      workItemUpdates: { href: `${api}/updates` },
      workItemRevisions: { href: `${api}/revisions` },
      workItemComments: { href: `${api}/comments` },
      html: { href: `${base}/${org.slug}/${encodeURIComponent(project.name)}/_workitems/edit/${issue.id}` },
      workItemType: {
        href: `${base}/${org.slug}/${project.id}/_apis/wit/workItemTypes/${encodeURIComponent(view.type)}`,
      },
      fields: { href: `${base}/${org.slug}/${project.id}/_apis/wit/fields` },
    };
  }
  if (opts.relations) item.relations = opts.relations;
  return item;
}
