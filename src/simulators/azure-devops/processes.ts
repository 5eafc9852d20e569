import type { SimIssue, SimIssueStatus } from "../core/store.ts";

/**
 * The four system processes of Azure Boards, with their work item types, states and state categories,
 * as Microsoft documents them (docs/simulators/azure-devops.md lists the pages). A project uses one
 * process; its types and states are all the API accepts.
 */

export type StateCategory = "Proposed" | "InProgress" | "Resolved" | "Completed" | "Removed";
export type ProcessName = "Basic" | "Agile" | "Scrum" | "CMMI";

export interface WorkItemTypeDef {
  name: string;
  referenceName: string;
  states: { name: string; category: StateCategory }[];
}

export interface ProcessDef {
  name: ProcessName;
  /** The system process's template type id (`capabilities.processTemplate.templateTypeId`). */
  typeId: string;
  /** The type a new backlog item gets (the Requirement category's default). */
  requirementType: string;
  types: WorkItemTypeDef[];
}

type StateList = [string, StateCategory][];

const TODO_DOING_DONE: StateList = [
  ["To Do", "Proposed"],
  ["Doing", "InProgress"],
  ["Done", "Completed"],
];
const AGILE_FULL: StateList = [
  ["New", "Proposed"],
  ["Active", "InProgress"],
  ["Resolved", "Resolved"],
  ["Closed", "Completed"],
  ["Removed", "Removed"],
];
const AGILE_TASK: StateList = [
  ["New", "Proposed"],
  ["Active", "InProgress"],
  ["Closed", "Completed"],
  ["Removed", "Removed"],
];
const AGILE_BUG: StateList = [
  ["New", "Proposed"],
  ["Active", "InProgress"],
  ["Resolved", "Resolved"],
  ["Closed", "Completed"],
];
const SCRUM_BACKLOG: StateList = [
  ["New", "Proposed"],
  ["Approved", "Proposed"],
  ["Committed", "InProgress"],
  ["Done", "Completed"],
  ["Removed", "Removed"],
];
/** The state-category table lists Committed for Scrum's Epic and Feature too. */
const SCRUM_PORTFOLIO: StateList = [
  ["New", "Proposed"],
  ["Committed", "InProgress"],
  ["Done", "Completed"],
  ["Removed", "Removed"],
];
const SCRUM_TASK: StateList = [
  ["To Do", "Proposed"],
  ["In Progress", "InProgress"],
  ["Done", "Completed"],
  ["Removed", "Removed"],
];
const SCRUM_IMPEDIMENT: StateList = [
  ["Open", "InProgress"],
  ["Closed", "Completed"],
];
/** CMMI's planning types: Resolved counts as In Progress there. */
const CMMI_PLANNING: StateList = [
  ["Proposed", "Proposed"],
  ["Active", "InProgress"],
  ["Resolved", "InProgress"],
  ["Closed", "Completed"],
  ["Removed", "Removed"],
];
const CMMI_TRACKING: StateList = [
  ["Proposed", "Proposed"],
  ["Active", "InProgress"],
  ["Resolved", "Resolved"],
  ["Closed", "Completed"],
];
const CMMI_CHANGE: StateList = [
  ["Proposed", "Proposed"],
  ["Active", "InProgress"],
  ["Closed", "Completed"],
];

const type = (name: string, ns: string, states: StateList): WorkItemTypeDef => ({
  name,
  referenceName: `${ns}.${name.replace(/\s+/g, "")}`,
  states: states.map(([n, category]) => ({ name: n, category })),
});

export const PROCESSES: Record<ProcessName, ProcessDef> = {
  Basic: {
    name: "Basic",
    typeId: "b8a3a935-7e91-48b8-a94c-606d37c3e9f2",
    requirementType: "Issue",
    types: ["Epic", "Issue", "Task"].map((n) => type(n, "Microsoft.VSTS.WorkItemTypes", TODO_DOING_DONE)),
  },
  Agile: {
    name: "Agile",
    typeId: "adcc42ab-9882-485e-a3ed-7678f01f66bc",
    requirementType: "User Story",
    types: [
      type("Epic", "Microsoft.VSTS.WorkItemTypes", AGILE_FULL),
      type("Feature", "Microsoft.VSTS.WorkItemTypes", AGILE_FULL),
      type("User Story", "Microsoft.VSTS.WorkItemTypes", AGILE_FULL),
      type("Task", "Microsoft.VSTS.WorkItemTypes", AGILE_TASK),
      type("Bug", "Microsoft.VSTS.WorkItemTypes", AGILE_BUG),
    ],
  },
  Scrum: {
    name: "Scrum",
    typeId: "6b724908-ef14-45cf-84f8-768b5384da45",
    requirementType: "Product Backlog Item",
    types: [
      type("Epic", "Microsoft.VSTS.WorkItemTypes", SCRUM_PORTFOLIO),
      type("Feature", "Microsoft.VSTS.WorkItemTypes", SCRUM_PORTFOLIO),
      type("Product Backlog Item", "Microsoft.VSTS.WorkItemTypes", SCRUM_BACKLOG),
      type("Task", "Microsoft.VSTS.WorkItemTypes", SCRUM_TASK),
      type("Bug", "Microsoft.VSTS.WorkItemTypes", SCRUM_BACKLOG),
      type("Impediment", "Microsoft.VSTS.WorkItemTypes", SCRUM_IMPEDIMENT),
    ],
  },
  CMMI: {
    name: "CMMI",
    typeId: "27450541-8e31-4150-9947-dc59f998fc01",
    requirementType: "Requirement",
    types: [
      type("Epic", "Microsoft.VSTS.WorkItemTypes", CMMI_PLANNING),
      type("Feature", "Microsoft.VSTS.WorkItemTypes", CMMI_PLANNING),
      type("Requirement", "Microsoft.VSTS.CMMI", CMMI_PLANNING),
      type("Task", "Microsoft.VSTS.WorkItemTypes", CMMI_PLANNING),
      type("Bug", "Microsoft.VSTS.WorkItemTypes", CMMI_TRACKING),
      type("Change Request", "Microsoft.VSTS.CMMI", CMMI_CHANGE),
      type("Issue", "Microsoft.VSTS.CMMI", CMMI_TRACKING),
      type("Review", "Microsoft.VSTS.CMMI", CMMI_TRACKING),
      type("Risk", "Microsoft.VSTS.CMMI", CMMI_TRACKING),
    ],
  },
};

export const isProcessName = (v: unknown): v is ProcessName =>
  typeof v === "string" && Object.hasOwn(PROCESSES, v);

export function findType(process: ProcessDef, name: string): WorkItemTypeDef | null {
  return process.types.find((t) => t.name.toLowerCase() === name.toLowerCase()) ?? null;
}

/** The process type a neutral store issue shows as (a Basic project has no Bug: bugs are Issues). */
export function typeForIssue(process: ProcessDef, kind: SimIssue["issue_type"]): WorkItemTypeDef {
  const wanted =
    kind === "epic" ? "Epic" : kind === "story" ? process.requirementType : kind === "bug" ? "Bug" : "Task";
  return findType(process, wanted) ?? findType(process, process.requirementType)!;
}

/** The neutral store kind of a process type, for issues created through the API. */
export function issueTypeOf(process: ProcessDef, t: WorkItemTypeDef): SimIssue["issue_type"] {
  if (t.name === "Epic" || t.name === "Feature") return "epic";
  if (t.name === "Task") return "task";
  if (t.name === "Bug") return "bug";
  return t.name === process.requirementType ? "story" : "task";
}

const byCategory = (t: WorkItemTypeDef, c: StateCategory) => t.states.filter((s) => s.category === c);

/**
 * How a neutral store status shows on a type (seeded items and items changed through `/_sim/`): the
 * first state of the matching category. The store's in_review is the Resolved category, or the last
 * In Progress state where a type has none.
 */
export function stateForStatus(t: WorkItemTypeDef, status: SimIssueStatus): string {
  const inProgress = byCategory(t, "InProgress");
  const pick: Record<SimIssueStatus, { name: string }[]> = {
    todo: byCategory(t, "Proposed"),
    in_progress: inProgress,
    blocked: inProgress,
    in_review: [...byCategory(t, "Resolved"), ...inProgress.slice(-1)],
    done: byCategory(t, "Completed"),
    canceled: [...byCategory(t, "Removed"), ...byCategory(t, "Completed")],
  };
  return (pick[status][0] ?? t.states[0]).name;
}

/** The neutral status a written state stands for in the store (by its category; blocked is a tag). */
export function statusForState(t: WorkItemTypeDef, state: string, blocked: boolean): SimIssueStatus {
  const s = t.states.find((x) => x.name === state);
  switch (s?.category) {
    case "Proposed":
      return "todo";
    case "Resolved":
      return "in_review";
    case "Completed":
      return "done";
    case "Removed":
      return "canceled";
    default:
      if (blocked) return "blocked";
      return stateForStatus(t, "in_review") === state && stateForStatus(t, "in_progress") !== state
        ? "in_review"
        : "in_progress";
  }
}
