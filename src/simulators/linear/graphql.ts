/**
 * A deliberately small GraphQL engine for the Linear simulator: a parser for executable documents
 * (operations, variables, aliases, arguments, named fragments and inline fragments) and an executor
 * over plain resolver objects. It answers exactly the fields a query selects, like a real server,
 * without pulling a GraphQL library into the project. No directives, no subscriptions, no type system
 * beyond what the resolver objects expose.
 */

/** Error surfaced in the response `errors[]`, shaped as Linear shapes them. */
export class GqlError extends Error {
  constructor(
    message: string,
    readonly type: string,
    readonly code: string,
    readonly httpStatus = 200,
    readonly userPresentableMessage?: string,
  ) {
    super(message);
  }
}

const syntaxError = (msg: string) =>
  new GqlError(`Syntax Error: ${msg}`, "graphql error", "GRAPHQL_PARSE_FAILED", 400);
export const validationError = (msg: string) =>
  new GqlError(msg, "graphql error", "GRAPHQL_VALIDATION_FAILED", 400);

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

export class VarRef {
  constructor(readonly name: string) {}
}
export type ValueAst = null | boolean | number | string | VarRef | ValueAst[] | { [key: string]: ValueAst };

export interface FieldNode {
  kind: "field";
  alias: string | null;
  name: string;
  args: Record<string, ValueAst>;
  selections: SelectionNode[] | null;
}
export type SelectionNode =
  | FieldNode
  | { kind: "spread"; name: string }
  | { kind: "inline"; on: string | null; selections: SelectionNode[] };

export interface OperationNode {
  type: "query" | "mutation";
  name: string | null;
  variables: { name: string; type: string; defaultValue?: ValueAst }[];
  selections: SelectionNode[];
}

export interface DocumentNode {
  operations: OperationNode[];
  fragments: Map<string, { on: string; selections: SelectionNode[] }>;
}

type Token = { kind: "punct" | "name" | "number" | "string"; value: string };

const TOKEN_RE =
  /[\s,\uFEFF]+|#[^\n\r]*|(\.\.\.|[{}()[\]:=!$@|&])|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|("""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*")|([_A-Za-z][_0-9A-Za-z]*)/y;

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  TOKEN_RE.lastIndex = 0;
  while (TOKEN_RE.lastIndex < src.length) {
    const at = TOKEN_RE.lastIndex;
    const m = TOKEN_RE.exec(src);
    if (!m) throw syntaxError(`Unexpected character "${src[at]}" at ${at}.`);
    if (m[1]) tokens.push({ kind: "punct", value: m[1] });
    else if (m[2]) tokens.push({ kind: "number", value: m[2] });
    else if (m[3]) tokens.push({ kind: "string", value: m[3] });
    else if (m[4]) tokens.push({ kind: "name", value: m[4] });
  }
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }
  private next(): Token {
    const t = this.tokens[this.pos++];
    if (!t) throw syntaxError("Unexpected <EOF>.");
    return t;
  }
  private is(value: string): boolean {
    const t = this.peek();
    return t !== undefined && t.kind !== "string" && t.value === value;
  }
  private expect(value: string) {
    const t = this.next();
    if (t.value !== value || t.kind === "string")
      throw syntaxError(`Expected "${value}", found "${t.value}".`);
  }
  private name(): string {
    const t = this.next();
    if (t.kind !== "name") throw syntaxError(`Expected Name, found "${t.value}".`);
    return t.value;
  }

  document(): DocumentNode {
    const doc: DocumentNode = { operations: [], fragments: new Map() };
    while (this.peek()) {
      if (this.is("{")) {
        doc.operations.push({ type: "query", name: null, variables: [], selections: this.selectionSet() });
      } else if (this.is("fragment")) {
        this.next();
        const name = this.name();
        if (this.name() !== "on") throw syntaxError('Expected "on".');
        doc.fragments.set(name, { on: this.name(), selections: this.selectionSet() });
      } else if (this.is("query") || this.is("mutation")) {
        doc.operations.push(this.operation());
      } else {
        throw syntaxError(`Unexpected "${this.next().value}".`);
      }
    }
    if (doc.operations.length === 0) throw syntaxError("Document has no operation.");
    return doc;
  }

  private operation(): OperationNode {
    const type = this.name() as "query" | "mutation";
    const name = this.peek()?.kind === "name" ? this.name() : null;
    const variables: OperationNode["variables"] = [];
    if (this.is("(")) {
      this.next();
      while (!this.is(")")) {
        this.expect("$");
        const varName = this.name();
        this.expect(":");
        const varType = this.typeRef();
        const def: OperationNode["variables"][number] = { name: varName, type: varType };
        if (this.is("=")) {
          this.next();
          def.defaultValue = this.value(true);
        }
        variables.push(def);
      }
      this.next();
    }
    return { type, name, variables, selections: this.selectionSet() };
  }

  private typeRef(): string {
    let t: string;
    if (this.is("[")) {
      this.next();
      t = `[${this.typeRef()}]`;
      this.expect("]");
    } else t = this.name();
    if (this.is("!")) {
      this.next();
      t += "!";
    }
    return t;
  }

  private selectionSet(): SelectionNode[] {
    this.expect("{");
    const out: SelectionNode[] = [];
    while (!this.is("}")) out.push(this.selection());
    this.next();
    if (out.length === 0) throw syntaxError("Expected Name, found }.");
    return out;
  }

  private selection(): SelectionNode {
    if (this.is("...")) {
      this.next();
      if (this.is("on")) {
        this.next();
        return { kind: "inline", on: this.name(), selections: this.selectionSet() };
      }
      if (this.is("{")) return { kind: "inline", on: null, selections: this.selectionSet() };
      return { kind: "spread", name: this.name() };
    }
    let name = this.name();
    let alias: string | null = null;
    if (this.is(":")) {
      this.next();
      alias = name;
      name = this.name();
    }
    const args: Record<string, ValueAst> = {};
    if (this.is("(")) {
      this.next();
      while (!this.is(")")) {
        const argName = this.name();
        this.expect(":");
        args[argName] = this.value(false);
      }
      this.next();
    }
    const selections = this.is("{") ? this.selectionSet() : null;
    return { kind: "field", alias, name, args, selections };
  }

  private value(constant: boolean): ValueAst {
    const t = this.next();
    if (t.kind === "punct") {
      if (t.value === "$" && !constant) return new VarRef(this.name());
      if (t.value === "[") {
        const list: ValueAst[] = [];
        while (!this.is("]")) list.push(this.value(constant));
        this.next();
        return list;
      }
      if (t.value === "{") {
        const obj: Record<string, ValueAst> = {};
        while (!this.is("}")) {
          const key = this.name();
          this.expect(":");
          obj[key] = this.value(constant);
        }
        this.next();
        return obj;
      }
      throw syntaxError(`Unexpected "${t.value}".`);
    }
    if (t.kind === "number") return Number(t.value);
    if (t.kind === "string") {
      return t.value.startsWith('"""') ? t.value.slice(3, -3) : (JSON.parse(t.value) as string);
    }
    if (t.value === "true") return true;
    if (t.value === "false") return false;
    if (t.value === "null") return null;
    return t.value; // enum value, e.g. `orderBy: updatedAt`
  }
}

export function parse(source: string): DocumentNode {
  return new Parser(tokenize(source)).document();
}

// ---------------------------------------------------------------------------------------------
// Execution
// ---------------------------------------------------------------------------------------------

/**
 * A resolved object: its `__typename` and, per field, either a value or a function of the field's
 * arguments. Nested objects are resolved lazily, so only selected fields cost anything.
 */
export interface GqlObject {
  __typename: string;
  [field: string]: unknown;
}

const isGqlObject = (v: unknown): v is GqlObject =>
  typeof v === "object" && v !== null && typeof (v as GqlObject).__typename === "string";

export function resolveValue(v: ValueAst, vars: Record<string, unknown>): unknown {
  if (v instanceof VarRef) return vars[v.name] ?? null;
  if (Array.isArray(v)) return v.map((x) => resolveValue(x, vars));
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveValue(x, vars)]));
  }
  return v;
}

/** Picks the operation and applies variable defaults; missing required variables fail as GraphQL says. */
export function prepareOperation(
  doc: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
): { op: OperationNode; vars: Record<string, unknown> } {
  const op = operationName
    ? doc.operations.find((o) => o.name === operationName)
    : doc.operations.length === 1
      ? doc.operations[0]
      : undefined;
  if (!op) {
    throw validationError(
      operationName ? `Unknown operation named "${operationName}".` : "Must provide operation name.",
    );
  }
  const vars: Record<string, unknown> = { ...(variables ?? {}) };
  for (const def of op.variables) {
    if (vars[def.name] === undefined && def.defaultValue !== undefined) {
      vars[def.name] = resolveValue(def.defaultValue, {});
    }
    if ((vars[def.name] === undefined || vars[def.name] === null) && def.type.endsWith("!")) {
      throw validationError(`Variable "$${def.name}" of required type "${def.type}" was not provided.`);
    }
  }
  return { op, vars };
}

/** Field nodes of a selection set, with fragments expanded for the given type. */
export function fieldsOf(selections: SelectionNode[], typename: string, doc: DocumentNode): FieldNode[] {
  const out: FieldNode[] = [];
  for (const s of selections) {
    if (s.kind === "field") out.push(s);
    else if (s.kind === "inline") {
      if (s.on === null || s.on === typename) out.push(...fieldsOf(s.selections, typename, doc));
    } else {
      const frag = doc.fragments.get(s.name);
      if (!frag) throw validationError(`Unknown fragment "${s.name}".`);
      if (frag.on === typename) out.push(...fieldsOf(frag.selections, typename, doc));
    }
  }
  return out;
}

export function execute(
  root: GqlObject,
  op: OperationNode,
  doc: DocumentNode,
  vars: Record<string, unknown>,
): Record<string, unknown> {
  const selectObject = (obj: GqlObject, selections: SelectionNode[], path: string[]) => {
    const out: Record<string, unknown> = {};
    for (const field of fieldsOf(selections, obj.__typename, doc)) {
      const key = field.alias ?? field.name;
      if (field.name === "__typename") {
        out[key] = obj.__typename;
        continue;
      }
      if (!(field.name in obj)) {
        throw validationError(`Cannot query field "${field.name}" on type "${obj.__typename}".`);
      }
      const raw = obj[field.name];
      const args = Object.fromEntries(Object.entries(field.args).map(([k, v]) => [k, resolveValue(v, vars)]));
      const value = typeof raw === "function" ? (raw as (a: Record<string, unknown>) => unknown)(args) : raw;
      out[key] = complete(value, field, [...path, key]);
    }
    return out;
  };

  const complete = (value: unknown, field: FieldNode, path: string[]): unknown => {
    if (value === null || value === undefined) return null;
    if (Array.isArray(value)) return value.map((v, i) => complete(v, field, [...path, String(i)]));
    if (isGqlObject(value)) {
      if (!field.selections) {
        throw validationError(
          `Field "${field.name}" of type "${value.__typename}" must have a selection of subfields.`,
        );
      }
      return selectObject(value, field.selections, path);
    }
    if (field.selections) {
      throw validationError(`Field "${field.name}" must not have a selection since its type is a scalar.`);
    }
    return value;
  };

  return selectObject(root, op.selections, []);
}

/**
 * Linear-style query complexity, approximated: 0.1 per scalar field, 1 per object, and a connection
 * (a field selecting `nodes` or `edges`) multiplies its children by `first` (default 50).
 */
export function complexityOf(
  selections: SelectionNode[],
  doc: DocumentNode,
  vars: Record<string, unknown>,
  depth = 0,
): number {
  if (depth > 20) return 0;
  let total = 0;
  for (const s of selections) {
    if (s.kind !== "field") {
      const inner = s.kind === "inline" ? s.selections : (doc.fragments.get(s.name)?.selections ?? []);
      total += complexityOf(inner, doc, vars, depth + 1);
      continue;
    }
    if (!s.selections) {
      total += 0.1;
      continue;
    }
    const isConnection = s.selections.some(
      (c) => c.kind === "field" && (c.name === "nodes" || c.name === "edges"),
    );
    const first = Number(resolveValue(s.args.first ?? null, vars) ?? 50);
    const mult = isConnection ? (Number.isFinite(first) ? first : 50) : 1;
    total += 1 + complexityOf(s.selections, doc, vars, depth + 1) * mult;
  }
  return total;
}
