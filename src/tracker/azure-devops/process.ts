import type { Connection, IssueStatus } from "../core/adapter.ts";
import { connectionCache } from "../core/connection-cache.ts";
import { adoRequest, adoUrl, invalid, malformed } from "./http.ts";

/**
 * A project's work item types and their states, read from the project itself
 * (`GET {org}/{project}/_apis/wit/workitemtypes`, each type with its `states` and their categories), so
 * Basic, Agile, Scrum, CMMI and inherited processes all work without a table of state names here.
 *
 *   neutral status   state written (by the type's own state categories)
 *   todo             first Proposed state
 *   in_progress      first InProgress state (blocked: the same, plus the Blocked tag)
 *   in_review        first Resolved state; else the last InProgress state when the type has several
 *   done             first Completed state
 *   canceled         first Removed state; else the first Completed one
 *
 * Reading goes the other way by category (Proposed → todo, InProgress → in_progress, Resolved →
 * in_review, Completed → done, Removed → canceled); the in_review fallback state reads as in_review.
 */

export type StateCategory = "Proposed" | "InProgress" | "Resolved" | "Completed" | "Removed";

export interface WorkItemState {
  name: string;
  category: string;
}

export interface WorkItemType {
  name: string;
  isDisabled?: boolean;
  states: WorkItemState[];
}

export interface ProjectProcess {
  types: WorkItemType[];
  /** The type new work items get: the process's backlog item (Issue, User Story, PBI, Requirement). */
  backlogType: WorkItemType;
}

/** The requirement-level type of each system process, in the order they are tried. */
const BACKLOG_TYPES = ["User Story", "Product Backlog Item", "Requirement", "Issue"];

function isType(t: unknown): t is WorkItemType {
  const o = t as WorkItemType | null;
  return (
    typeof o?.name === "string" &&
    Array.isArray(o.states) &&
    o.states.every((s) => typeof s?.name === "string" && typeof s.category === "string")
  );
}

/** A type that can hold work from todo to done, for projects whose process renamed every backlog type. */
const workable = (t: WorkItemType) =>
  ["Proposed", "Completed"].every((c) => t.states.some((s) => s.category === c));

function backlogTypeOf(types: WorkItemType[]): WorkItemType {
  const enabled = types.filter((t) => !t.isDisabled && t.states.length > 0);
  const named = (n: string) => enabled.find((t) => t.name.toLowerCase() === n.toLowerCase());
  const found =
    BACKLOG_TYPES.map(named).find(Boolean) ?? named("Task") ?? enabled.find(workable) ?? enabled[0];
  if (!found) throw invalid("azure_devops project has no work item type to create work items with");
  return found;
}

/** Per connection and project: processes change rarely, items often. */
const processes = connectionCache<ProjectProcess>();

export function projectProcess(conn: Connection, org: string, projectId: string): Promise<ProjectProcess> {
  const key = `${org.toLowerCase()}/${projectId.toLowerCase()}`;
  return processes(conn, key, () => readProcess(conn, org, projectId));
}

async function readProcess(conn: Connection, org: string, projectId: string): Promise<ProjectProcess> {
  const res = await adoRequest<unknown>(conn, {
    url: adoUrl(conn, org, `/${encodeURIComponent(projectId)}/_apis/wit/workitemtypes`),
  });
  const value = (res.body as { value?: unknown } | null)?.value;
  if (!Array.isArray(value) || !value.every(isType)) throw malformed("work item type list");
  return { types: value, backlogType: backlogTypeOf(value) };
}

export function typeNamed(p: ProjectProcess, name: unknown): WorkItemType | null {
  const n = String(name ?? "").toLowerCase();
  return p.types.find((t) => t.name.toLowerCase() === n) ?? null;
}

const inCategory = (t: WorkItemType, c: StateCategory) =>
  t.states.filter((s) => s.category.toLowerCase() === c.toLowerCase()).map((s) => s.name);

/** The state to write for a status on this type, or null when the type has no state for it. */
export function stateFor(t: WorkItemType, status: IssueStatus): string | null {
  const inProgress = inCategory(t, "InProgress");
  switch (status) {
    case "todo":
      return inCategory(t, "Proposed")[0] ?? null;
    case "in_progress":
    case "blocked":
      return inProgress[0] ?? null;
    case "in_review":
      return (
        inCategory(t, "Resolved")[0] ?? (inProgress.length > 1 ? inProgress.at(-1)! : (inProgress[0] ?? null))
      );
    case "done":
      return inCategory(t, "Completed")[0] ?? null;
    case "canceled":
      return inCategory(t, "Removed")[0] ?? inCategory(t, "Completed")[0] ?? null;
  }
}

/** The status a state stands for on this type (unknown type or state: in progress). */
export function statusFor(t: WorkItemType | null, state: unknown): IssueStatus {
  const s = t?.states.find((x) => x.name.toLowerCase() === String(state ?? "").toLowerCase());
  switch (s?.category.toLowerCase()) {
    case "proposed":
      return "todo";
    case "resolved":
      return "in_review";
    case "completed":
      return "done";
    case "removed":
      return "canceled";
    default: {
      if (!t || !s) return "in_progress";
      const review = stateFor(t, "in_review");
      return review === s.name && review !== stateFor(t, "in_progress") ? "in_review" : "in_progress";
    }
  }
}
