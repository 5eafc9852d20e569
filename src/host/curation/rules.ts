import type { Database } from "../../storage/database.ts";
import { isProvider, providerModule } from "../../tracker/index.ts";

/**
 * Curation rules (issue 20): which discovered resources of an installation the CLI and the dashboard
 * picker offer. This module is the one evaluation: the bindable snapshot (tracker/resources/,
 * bind-resolve), the dashboard picker, the preview and single-resource inventory updates all call
 * `curationVerdict` (through `compileRules`), so no two places can disagree about a resource.
 *
 * Per installation, most specific first:
 *  1. a rule naming the resource itself decides (`include` offers it whatever else matches, `exclude` hides it);
 *  2. else any matching `exclude` rule (pattern or kind) hides it;
 *  3. else, when the installation has `include` rules (pattern or kind), only resources matching one are offered;
 *  4. else it is offered. No rules: everything bindable is offered, as before curation existed.
 */

export type CurationEffect = "include" | "exclude";
export type CurationMatch = "pattern" | "kind" | "resource";

export interface CurationRule {
  installationId: string;
  effect: CurationEffect;
  match: CurationMatch;
  pattern: string | null;
  kind: string | null;
  kindValue: string | null;
  resourceId: string | null;
}

/** What a rule looks at in a resource. */
export interface CurationSubject {
  id: string;
  installationId: string;
  label: string;
  key: string | null;
  name: string;
  fullPath: string | null;
  /** Provider kinds (`kindsOf`), e.g. `{ fork: "fork", visibility: "private" }`. */
  kinds: Record<string, string>;
}

/** The rules of a team, read in the caller's transaction (the snapshot reads them with its rows). */
export type CurationRulesReader = (db: Database, teamId: string) => Promise<CurationRule[]>;

/** The provider's kinds of a resource, from its stored routing metadata. */
export function kindsOf(provider: string, routing: unknown): Record<string, string> {
  if (!isProvider(provider)) return {};
  const kinds: Record<string, string> = {};
  const rm = (routing ?? {}) as Record<string, unknown>;
  for (const k of providerModule(provider).kinds ?? []) {
    const v = k.of(rm);
    if (v !== null) kinds[k.name] = v;
  }
  return kinds;
}

/**
 * A path/name glob as a case-insensitive regular expression: `*` any run of characters within one
 * path segment, `**` any run including `/`, `?` one character other than `/`; everything else literal.
 */
export function globRegExp(glob: string): RegExp {
  let src = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      src += ".*";
      i++;
    } else if (c === "*") src += "[^/]*";
    else if (c === "?") src += "[^/]";
    else src += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${src}$`, "i");
}

/** Whether a glob matches the resource's path, label, name or key (any of them). */
function patternMatcher(glob: string) {
  const re = globRegExp(glob);
  return (s: CurationSubject) =>
    re.test(s.label) ||
    re.test(s.name) ||
    (s.fullPath !== null && re.test(s.fullPath)) ||
    (s.key !== null && re.test(s.key));
}

type Test = (s: CurationSubject) => boolean;

interface InstallationRules {
  resources: Map<string, CurationEffect>;
  includes: Test[];
  excludes: Test[];
}

export interface CompiledRules {
  /** A stable text of the rules: equal keys, equal verdicts (the snapshot reuses its hidden rows). */
  key: string;
  byInstallation: Map<string, InstallationRules>;
}

function testOf(r: CurationRule): Test | null {
  if (r.match === "pattern" && r.pattern) return patternMatcher(r.pattern);
  if (r.match === "kind" && r.kind && r.kindValue) {
    const { kind, kindValue } = r;
    return (s) => s.kinds[kind] === kindValue;
  }
  return null;
}

export function compileRules(rules: CurationRule[]): CompiledRules {
  const byInstallation = new Map<string, InstallationRules>();
  for (const r of rules) {
    let inst = byInstallation.get(r.installationId);
    if (!inst) {
      inst = { resources: new Map(), includes: [], excludes: [] };
      byInstallation.set(r.installationId, inst);
    }
    if (r.match === "resource") {
      if (r.resourceId) inst.resources.set(r.resourceId, r.effect);
      continue;
    }
    const test = testOf(r);
    if (test) (r.effect === "include" ? inst.includes : inst.excludes).push(test);
  }
  const key = JSON.stringify(
    rules
      .map((r) => [r.installationId, r.effect, r.match, r.pattern, r.kind, r.kindValue, r.resourceId])
      .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
  );
  return { key, byInstallation };
}

/** The one verdict: true when the installation's rules hide the resource from the CLI and the picker. */
export function curationVerdict(rules: CompiledRules, s: CurationSubject): "offered" | "hidden" {
  const inst = rules.byInstallation.get(s.installationId);
  if (!inst) return "offered";
  const own = inst.resources.get(s.id);
  if (own) return own === "include" ? "offered" : "hidden";
  if (inst.excludes.some((t) => t(s))) return "hidden";
  if (inst.includes.length > 0 && !inst.includes.some((t) => t(s))) return "hidden";
  return "offered";
}

export const isHidden = (rules: CompiledRules, s: CurationSubject) => curationVerdict(rules, s) === "hidden";

/** What the CLI is told when rules hid matches; never names a hidden resource. */
export function hiddenNotice(count: number): string | null {
  if (count <= 0) return null;
  return count === 1
    ? "1 more resource matches but is hidden by your team's curation rules; a team admin can change them in the Spec Kitty dashboard."
    : `${count} more resources match but are hidden by your team's curation rules; a team admin can change them in the Spec Kitty dashboard.`;
}
