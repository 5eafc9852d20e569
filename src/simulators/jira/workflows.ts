import type { SimIssue, SimIssueStatus } from "../core/store.ts";

/**
 * Per-project Jira configuration: the project type, the issue types its scheme offers and its workflow.
 * Statuses keep the store's neutral status (`neutral`) so the control API and other tests still speak
 * one language; the Jira side (names, ids, categories, transitions) is per workflow.
 * Sources for every rule: docs/simulators/jira.md.
 */

export type CategoryKey = "new" | "indeterminate" | "done";
export type ProjectTypeKey = "software" | "service_desk" | "business";

export const CATEGORIES: Record<
  CategoryKey,
  { id: number; key: CategoryKey; colorName: string; name: string }
> = {
  new: { id: 2, key: "new", colorName: "blue-gray", name: "To Do" },
  indeterminate: { id: 4, key: "indeterminate", colorName: "yellow", name: "In Progress" },
  done: { id: 3, key: "done", colorName: "green", name: "Done" },
};

export interface WorkflowStatus {
  id: string;
  name: string;
  category: CategoryKey;
  neutral: SimIssueStatus;
  /** Resolution a workflow post-function sets on entering (the default workflow's way). */
  autoResolution?: string;
}

export interface WorkflowTransition {
  id: string;
  name: string;
  /** Status ids this transition leaves from; `null` = global (from any status). */
  from: string[] | null;
  to: string;
  /** Fields on the transition screen that must be filled. */
  requires?: "resolution"[];
}

export interface Workflow {
  statuses: WorkflowStatus[];
  transitions: WorkflowTransition[];
}

export interface IssueTypeDef {
  id: string;
  name: string;
  subtask: boolean;
  /** Cloud's hierarchy: 1 epic, 0 standard, -1 sub-task. */
  hierarchyLevel: number;
  /** The store's neutral type this Jira type is kept as. */
  neutral: SimIssue["issue_type"];
}

export interface ProjectProfile {
  typeKey: ProjectTypeKey;
  issueTypes: IssueTypeDef[];
  workflow: Workflow;
}

const type = (
  id: string,
  name: string,
  neutral: SimIssue["issue_type"],
  hierarchyLevel = 0,
): IssueTypeDef => ({ id, name, neutral, hierarchyLevel, subtask: hierarchyLevel < 0 });

export const TYPES = {
  epic: type("10000", "Epic", "epic", 1),
  story: type("10001", "Story", "story"),
  task: type("10002", "Task", "task"),
  bug: type("10003", "Bug", "bug"),
  subtask: type("10004", "Subtask", "subtask", -1),
  chore: type("10005", "Chore", "chore"),
  serviceRequest: type("10006", "Service Request", "task"),
  incident: type("10007", "Incident", "bug"),
};

export const RESOLUTIONS = [
  { id: "10000", name: "Done", description: "Work has been completed on this issue." },
  { id: "10001", name: "Won't Do", description: "This issue won't be actioned." },
  { id: "10002", name: "Duplicate", description: "The problem is a duplicate of an existing issue." },
  { id: "10003", name: "Cannot Reproduce", description: "This issue could not be reproduced." },
];

/** The original simulated workflow: a global transition into every status, resolutions set automatically. */
const DEFAULT_WORKFLOW: Workflow = {
  statuses: [
    { id: "10000", name: "To Do", category: "new", neutral: "todo" },
    { id: "10001", name: "In Progress", category: "indeterminate", neutral: "in_progress" },
    { id: "10002", name: "In Review", category: "indeterminate", neutral: "in_review" },
    { id: "10003", name: "Blocked", category: "indeterminate", neutral: "blocked" },
    { id: "10004", name: "Done", category: "done", neutral: "done", autoResolution: "Done" },
    { id: "10005", name: "Canceled", category: "done", neutral: "canceled", autoResolution: "Won't Do" },
  ],
  transitions: [
    { id: "11", name: "To Do", from: null, to: "10000" },
    { id: "21", name: "In Progress", from: null, to: "10001" },
    { id: "31", name: "In Review", from: null, to: "10002" },
    { id: "41", name: "Blocked", from: null, to: "10003" },
    { id: "51", name: "Done", from: null, to: "10004" },
    { id: "61", name: "Canceled", from: null, to: "10005" },
  ],
};

/** A classic software workflow without shortcuts: To Do → In Progress → Done, and Done needs a resolution. */
const STRICT_WORKFLOW: Workflow = {
  statuses: [
    { id: "10000", name: "To Do", category: "new", neutral: "todo" },
    { id: "10001", name: "In Progress", category: "indeterminate", neutral: "in_progress" },
    { id: "10004", name: "Done", category: "done", neutral: "done" },
  ],
  transitions: [
    { id: "11", name: "Start Progress", from: ["10000"], to: "10001" },
    { id: "21", name: "Stop Progress", from: ["10001"], to: "10000" },
    { id: "31", name: "Done", from: ["10001"], to: "10004", requires: ["resolution"] },
    { id: "41", name: "Reopen", from: ["10004"], to: "10000" },
  ],
};

/** A service-management request workflow: Resolve needs a resolution, Cancel sets one. */
const SERVICE_WORKFLOW: Workflow = {
  statuses: [
    { id: "10010", name: "Waiting for support", category: "new", neutral: "todo" },
    { id: "10011", name: "In Progress", category: "indeterminate", neutral: "in_progress" },
    { id: "10012", name: "Waiting for customer", category: "indeterminate", neutral: "blocked" },
    { id: "10013", name: "Resolved", category: "done", neutral: "done" },
    { id: "10014", name: "Canceled", category: "done", neutral: "canceled", autoResolution: "Won't Do" },
  ],
  transitions: [
    { id: "711", name: "Start work", from: ["10010", "10012"], to: "10011" },
    { id: "721", name: "Respond to customer", from: ["10010", "10011"], to: "10012" },
    { id: "731", name: "Resolve", from: ["10011"], to: "10013", requires: ["resolution"] },
    { id: "741", name: "Cancel request", from: ["10010", "10011", "10012"], to: "10014" },
    { id: "751", name: "Reopen", from: ["10013", "10014"], to: "10010" },
  ],
};

/** Business (work management) projects: To Do / In Progress / Done, any status to any status. */
const BUSINESS_WORKFLOW: Workflow = {
  statuses: [
    { id: "10020", name: "To Do", category: "new", neutral: "todo" },
    { id: "10021", name: "In Progress", category: "indeterminate", neutral: "in_progress" },
    { id: "10022", name: "Done", category: "done", neutral: "done", autoResolution: "Done" },
  ],
  transitions: [
    { id: "11", name: "To Do", from: null, to: "10020" },
    { id: "21", name: "In Progress", from: null, to: "10021" },
    { id: "31", name: "Done", from: null, to: "10022" },
  ],
};

const PROFILES = {
  software: {
    typeKey: "software",
    issueTypes: [TYPES.epic, TYPES.story, TYPES.task, TYPES.bug, TYPES.subtask, TYPES.chore],
    workflow: DEFAULT_WORKFLOW,
  },
  strict: {
    typeKey: "software",
    issueTypes: [TYPES.epic, TYPES.story, TYPES.task, TYPES.bug, TYPES.subtask],
    workflow: STRICT_WORKFLOW,
  },
  service_desk: {
    typeKey: "service_desk",
    issueTypes: [TYPES.serviceRequest, TYPES.incident],
    workflow: SERVICE_WORKFLOW,
  },
  business: {
    typeKey: "business",
    issueTypes: [TYPES.task, TYPES.subtask],
    workflow: BUSINESS_WORKFLOW,
  },
} satisfies Record<string, ProjectProfile>;

export type ProfileName = keyof typeof PROFILES;

export const profileNamed = (name: unknown): ProjectProfile =>
  PROFILES[(typeof name === "string" && name in PROFILES ? name : "software") as ProfileName];

/** The Jira status an issue is in: the workflow's status for its neutral status, else one of its category. */
export function statusIn(wf: Workflow, neutral: SimIssueStatus): WorkflowStatus {
  const exact = wf.statuses.find((s) => s.neutral === neutral);
  if (exact) return exact;
  const category: CategoryKey =
    neutral === "todo" ? "new" : neutral === "done" || neutral === "canceled" ? "done" : "indeterminate";
  return wf.statuses.find((s) => s.category === category) ?? wf.statuses[0];
}

/** Transitions the workflow offers from a status (the current status itself is never a target). */
export const transitionsFrom = (wf: Workflow, statusId: string) =>
  wf.transitions.filter((t) => t.to !== statusId && (t.from === null || t.from.includes(statusId)));

export const statusById = (wf: Workflow, id: string) => wf.statuses.find((s) => s.id === id);

/** The type a store issue shows as in its project: its remembered Jira type, else the scheme's match. */
export function issueTypeIn(p: ProjectProfile, neutral: SimIssue["issue_type"], remembered?: string) {
  return (
    p.issueTypes.find((t) => t.id === remembered) ??
    p.issueTypes.find((t) => t.neutral === neutral) ??
    p.issueTypes.find((t) => !t.subtask) ??
    p.issueTypes[0]
  );
}
