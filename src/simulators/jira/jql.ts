import type { SimIssue, SimResource } from "../core/store.ts";

/**
 * The slice of JQL the simulator understands: clauses joined by AND, `field = value`, `field != value`,
 * `field ~ "text"`, `field IN (a, b)`, and `ORDER BY field [ASC|DESC], ...`. Fields: project, key/issuekey,
 * id, text, summary, description, status, statusCategory, labels, issuetype. Errors carry Jira's wording
 * so a client sees the same 400s it would get from Jira.
 */

export class JqlError extends Error {}

type Token = { kind: "word" | "string" | "op" | "punct"; value: string };

function tokenize(jql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < jql.length) {
    const c = jql[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'") {
      let value = "";
      i++;
      while (i < jql.length && jql[i] !== c) {
        if (jql[i] === "\\" && i + 1 < jql.length) i++;
        value += jql[i++];
      }
      if (i >= jql.length)
        throw new JqlError(`Error in the JQL Query: The quoted string '${value}' has not been completed.`);
      i++;
      out.push({ kind: "string", value });
    } else if (/[=!~<>]/.test(c)) {
      const two = jql.slice(i, i + 2);
      const op = ["!=", "!~", ">=", "<="].includes(two) ? two : c;
      if (op === "!")
        throw new JqlError("Error in the JQL Query: The character '!' is a reserved JQL character.");
      out.push({ kind: "op", value: op });
      i += op.length;
    } else if (c === "(" || c === ")" || c === ",") {
      out.push({ kind: "punct", value: c });
      i++;
    } else {
      const m = /^[^\s=!~<>(),"']+/.exec(jql.slice(i));
      if (!m) throw new JqlError(`Error in the JQL Query: The character '${c}' is a reserved JQL character.`);
      out.push({ kind: "word", value: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

export interface Clause {
  field: string;
  op: string;
  values: string[];
}

export interface Query {
  clauses: Clause[];
  order: { field: string; desc: boolean }[];
}

export function parseJql(jql: string): Query {
  const t = tokenize(jql);
  let p = 0;
  const peekWord = (w: string) => t[p]?.kind === "word" && t[p].value.toLowerCase() === w;
  const value = (): string => {
    const tok = t[p++];
    if (!tok || (tok.kind !== "word" && tok.kind !== "string")) {
      throw new JqlError(
        "Error in the JQL Query: Expecting either a value, list or function but got end of query.",
      );
    }
    return tok.value;
  };
  const clauses: Clause[] = [];
  const order: Query["order"] = [];
  while (p < t.length && !peekWord("order")) {
    if (clauses.length > 0) {
      if (peekWord("or")) throw new JqlError("The simulator's JQL supports AND only.");
      if (!peekWord("and"))
        throw new JqlError(`Error in the JQL Query: Expecting 'AND' but got '${t[p].value}'.`);
      p++;
    }
    const field = t[p]?.kind === "word" || t[p]?.kind === "string" ? t[p++].value : null;
    if (!field) throw new JqlError("Error in the JQL Query: Expecting a field name.");
    let op: string;
    if (t[p]?.kind === "op") {
      op = t[p++].value;
    } else if (peekWord("in")) {
      op = "in";
      p++;
    } else if (peekWord("not") && t[p + 1]?.value.toLowerCase() === "in") {
      op = "not in";
      p += 2;
    } else {
      throw new JqlError(
        `Error in the JQL Query: Expecting operator but got '${t[p]?.value ?? "end of query"}'.`,
      );
    }
    const values: string[] = [];
    if (op === "in" || op === "not in") {
      if (t[p]?.value !== "(") throw new JqlError("Error in the JQL Query: Expecting '(' after IN.");
      p++;
      while (t[p] && t[p].value !== ")") {
        values.push(value());
        if (t[p]?.value === ",") p++;
      }
      p++;
    } else values.push(value());
    clauses.push({ field: field.toLowerCase(), op, values });
  }
  if (peekWord("order")) {
    p++;
    if (!peekWord("by")) throw new JqlError("Error in the JQL Query: Expecting 'BY' after 'ORDER'.");
    p++;
    while (p < t.length) {
      const field = value().toLowerCase();
      let desc = false;
      if (peekWord("asc") || peekWord("desc")) desc = t[p++].value.toLowerCase() === "desc";
      order.push({ field, desc });
      if (t[p]?.value === ",") p++;
    }
  }
  return { clauses, order };
}

export interface JqlContext {
  /** Projects of the site. */
  projects: SimResource[];
  keyOf(issue: SimIssue): string;
  /** Resolves `PAY-12` within the site. */
  issueByKey(key: string): SimIssue | null;
  /** The issue's status in its project's workflow. */
  statusOf(issue: SimIssue): { name: string; category: { key: string; name: string } };
  /** The issue's type name in its project's scheme. */
  typeNameOf(issue: SimIssue): string;
}

const BOUNDING = new Set(["project", "key", "issuekey", "id"]);
const KEY_FORMAT = /^[A-Za-z][A-Za-z0-9_]*-\d+$/;

/** True when some clause limits the search to projects or issues (Jira Cloud's enhanced search demands it). */
export const isBounded = (q: Query) =>
  q.clauses.some((c) => BOUNDING.has(c.field) && (c.op === "=" || c.op === "in"));

function matcher(c: Clause, ctx: JqlContext): (i: SimIssue) => boolean {
  const lower = c.values.map((v) => v.toLowerCase());
  const eq = (actual: string | string[]) => {
    const list = (Array.isArray(actual) ? actual : [actual]).map((a) => a.toLowerCase());
    return lower.some((v) => list.includes(v));
  };
  const contains = (haystack: string) => {
    const h = haystack.toLowerCase();
    return lower.every((v) =>
      v
        .split(/\s+/)
        .filter(Boolean)
        .every((word) => h.includes(word)),
    );
  };
  const negate = c.op === "!=" || c.op === "not in" || c.op === "!~";
  const wrap = (f: (i: SimIssue) => boolean) => (negate ? (i: SimIssue) => !f(i) : f);
  switch (c.field) {
    case "project": {
      const ids = c.values.map((v) => {
        const p = ctx.projects.find((r) => r.id === v || r.key?.toLowerCase() === v.toLowerCase());
        if (!p) throw new JqlError(`The value '${v}' does not exist for the field 'project'.`);
        return p.id;
      });
      return wrap((i) => ids.includes(i.resource_id));
    }
    case "key":
    case "issuekey": {
      const ids = c.values.map((v) => {
        if (!KEY_FORMAT.test(v))
          throw new JqlError(`The issue key '${v}' for field '${c.field}' is invalid.`);
        const issue = ctx.issueByKey(v);
        if (!issue)
          throw new JqlError(`An issue with key '${v.toUpperCase()}' does not exist for field '${c.field}'.`);
        return issue.id;
      });
      return wrap((i) => ids.includes(i.id));
    }
    case "id":
      return wrap((i) => c.values.includes(i.id));
    case "text":
      return wrap((i) => contains(`${i.title}\n${i.body ?? ""}\n${i.labels.join(" ")}`));
    case "summary":
      return wrap((i) => contains(i.title));
    case "description":
      return wrap((i) => contains(i.body ?? ""));
    case "status":
      return wrap((i) => eq(ctx.statusOf(i).name));
    case "statuscategory":
      return wrap((i) => {
        const { category } = ctx.statusOf(i);
        return eq([category.name, category.key]);
      });
    case "labels":
      return wrap((i) => eq(i.labels));
    case "issuetype":
    case "type":
      return wrap((i) => eq(ctx.typeNameOf(i)));
    default:
      throw new JqlError(`Field '${c.field}' does not exist or you do not have permission to view it.`);
  }
}

const SORT_KEYS: Record<string, (i: SimIssue, ctx: JqlContext) => string | number> = {
  created: (i) => Date.parse(i.created_at),
  updated: (i) => Date.parse(i.updated_at),
  key: (i) => i.number,
  issuekey: (i) => i.number,
  id: (i) => Number(i.id),
  priority: (i) => -i.priority,
  summary: (i) => i.title.toLowerCase(),
  status: (i, ctx) => ctx.statusOf(i).name,
};

/** Matching issues in order; ties fall back to the issue id in the last sort direction. */
export function runJql(q: Query, issues: SimIssue[], ctx: JqlContext): SimIssue[] {
  const tests = q.clauses.map((c) => matcher(c, ctx));
  const matched = issues.filter((i) => tests.every((t) => t(i)));
  const order = q.order.length > 0 ? q.order : [{ field: "key", desc: true }];
  for (const o of order)
    if (!SORT_KEYS[o.field])
      throw new JqlError(`Field '${o.field}' does not exist or you do not have permission to view it.`);
  const lastDesc = order[order.length - 1].desc;
  return matched.sort((a, b) => {
    for (const o of order) {
      const x = SORT_KEYS[o.field](a, ctx);
      const y = SORT_KEYS[o.field](b, ctx);
      if (x !== y) return (x < y ? -1 : 1) * (o.desc ? -1 : 1);
    }
    return (Number(a.id) - Number(b.id)) * (lastDesc ? -1 : 1);
  });
}
