/**
 * A small WIQL (Work Item Query Language) executor: flat `SELECT [fields] FROM WorkItems
 * [WHERE cond AND cond ...] [ORDER BY [field] [ASC|DESC], ...]`, where a condition is
 * `[Field] (= | <> | > | < | >= | <= | CONTAINS) ('text' | number | @project)`. That covers the queries
 * the adapter sends; anything else is refused the way ADO refuses a bad query (400).
 */

export class WiqlError extends Error {}

type Token =
  | { t: "field"; v: string }
  | { t: "str"; v: string }
  | { t: "num"; v: number }
  | { t: "macro"; v: string }
  | { t: "op"; v: string }
  | { t: "word"; v: string };

export interface WiqlCondition {
  field: string;
  op: string;
  value: string | number | { macro: string };
}

export interface WiqlQuery {
  select: string[];
  where: WiqlCondition[];
  orderBy: { field: string; descending: boolean }[];
}

/** The fields the simulator can filter and sort on. */
export const WIQL_FIELDS: Record<string, string> = {
  "System.Id": "ID",
  "System.Title": "Title",
  "System.TeamProject": "Team Project",
  "System.State": "State",
  "System.WorkItemType": "Work Item Type",
  "System.Tags": "Tags",
  "System.CreatedDate": "Created Date",
  "System.ChangedDate": "Changed Date",
};

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "[") {
      const end = text.indexOf("]", i);
      if (end < 0) throw new WiqlError("TF51006: The query statement has an unclosed field reference.");
      tokens.push({ t: "field", v: text.slice(i + 1, end).trim() });
      i = end + 1;
    } else if (c === "'") {
      let v = "";
      i++;
      for (;;) {
        if (i >= text.length) throw new WiqlError("TF51006: The query statement has an unclosed string.");
        if (text[i] === "'" && text[i + 1] === "'") {
          v += "'";
          i += 2;
        } else if (text[i] === "'") {
          i++;
          break;
        } else v += text[i++];
      }
      tokens.push({ t: "str", v });
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+/.exec(text.slice(i))!;
      tokens.push({ t: "num", v: Number(m[0]) });
      i += m[0].length;
    } else if (c === "@") {
      const m = /^@(\w+)/.exec(text.slice(i));
      if (!m) throw new WiqlError("TF51006: The query statement has an empty macro.");
      tokens.push({ t: "macro", v: m[1].toLowerCase() });
      i += m[0].length;
    } else if ("<>=,".includes(c)) {
      const two = text.slice(i, i + 2);
      const op = ["<>", ">=", "<="].includes(two) ? two : c;
      tokens.push({ t: "op", v: op });
      i += op.length;
    } else {
      const m = /^[A-Za-z_]\w*/.exec(text.slice(i));
      if (!m) throw new WiqlError(`TF51006: The query statement has an unexpected character «${c}».`);
      tokens.push({ t: "word", v: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

export function parseWiql(text: string): WiqlQuery {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const isWord = (w: string) => peek()?.t === "word" && (peek() as { v: string }).v.toUpperCase() === w;
  /** Consumes the word when it is next. */
  const takeWord = (w: string) => {
    if (!isWord(w)) return false;
    pos++;
    return true;
  };
  const expectWord = (w: string) => {
    if (!takeWord(w)) throw new WiqlError(`TF51006: Expecting ${w} in the query statement.`);
  };
  const field = (): string => {
    const tok = tokens[pos++];
    if (tok?.t !== "field") throw new WiqlError("TF51006: Expecting a field reference in square brackets.");
    if (!(tok.v in WIQL_FIELDS)) {
      throw new WiqlError(
        `TF51005: The query references a field that does not exist. The error is caused by «[${tok.v}]».`,
      );
    }
    return tok.v;
  };
  const comma = () => {
    const tok = peek();
    if (tok?.t !== "op" || tok.v !== ",") return false;
    pos++;
    return true;
  };

  expectWord("SELECT");
  const select = [field()];
  while (comma()) select.push(field());
  expectWord("FROM");
  expectWord("WORKITEMS");

  const where: WiqlCondition[] = [];
  if (takeWord("WHERE")) {
    where.push(condition());
    while (takeWord("AND")) where.push(condition());
  }
  const orderBy: WiqlQuery["orderBy"] = [];
  if (takeWord("ORDER")) {
    expectWord("BY");
    do {
      const f = field();
      const descending = takeWord("DESC");
      if (!descending) takeWord("ASC");
      orderBy.push({ field: f, descending });
    } while (comma());
  }
  if (pos < tokens.length)
    throw new WiqlError("TF51006: The query statement has unexpected text at its end.");
  return { select, where, orderBy };

  function condition(): WiqlCondition {
    const f = field();
    const tok = tokens[pos++];
    let op: string;
    if (tok?.t === "op" && tok.v !== ",") op = tok.v;
    else if (tok?.t === "word" && tok.v.toUpperCase() === "CONTAINS") op = "CONTAINS";
    else throw new WiqlError("TF51006: Expecting a comparison operator.");
    const v = tokens[pos++];
    if (v?.t === "str" || v?.t === "num") return { field: f, op, value: v.v };
    if (v?.t === "macro") return { field: f, op, value: { macro: v.v } };
    throw new WiqlError("TF51006: Expecting a value after the operator.");
  }
}

type Row = Record<string, unknown>;

function compare(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a ?? "").localeCompare(String(b ?? ""), "en", { sensitivity: "base" });
}

function matches(row: Row, c: WiqlCondition, macros: Record<string, string>): boolean {
  let want: string | number;
  if (typeof c.value === "object") {
    const m = macros[c.value.macro];
    if (m === undefined) throw new WiqlError(`TF51011: The macro @${c.value.macro} is not supported here.`);
    want = m;
  } else want = c.value;
  const have = row[c.field];
  if (c.op === "CONTAINS") {
    if (c.field === "System.Tags") {
      return String(have ?? "")
        .split(";")
        .some((t) => t.trim().toLowerCase() === String(want).toLowerCase());
    }
    return String(have ?? "")
      .toLowerCase()
      .includes(String(want).toLowerCase());
  }
  const d = compare(have, typeof have === "number" ? Number(want) : want);
  switch (c.op) {
    case "=":
      return d === 0;
    case "<>":
      return d !== 0;
    case ">":
      return d > 0;
    case "<":
      return d < 0;
    case ">=":
      return d >= 0;
    default:
      return d <= 0;
  }
}

/** Filters and sorts rows (each a work item's fields, `System.Id` numeric); ties fall back to the id. */
export function runWiql(query: WiqlQuery, rows: Row[], macros: Record<string, string>): Row[] {
  const hits = rows.filter((r) => query.where.every((c) => matches(r, c, macros)));
  return hits.sort((a, b) => {
    for (const o of query.orderBy) {
      const d = compare(a[o.field], b[o.field]);
      if (d !== 0) return o.descending ? -d : d;
    }
    return Number(a["System.Id"]) - Number(b["System.Id"]);
  });
}
