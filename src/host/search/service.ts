import type { Static } from "typebox";
import { type NormalizedIssue, type ProviderId, providerModule } from "../../tracker/index.ts";
import type { JoinedMapping } from "../mappings/service.ts";
import {
  type ResourceRef,
  type RuntimeTarget,
  type RuntimeTargets,
  resourceRefOf,
} from "../runtime/target.ts";
import { enrichment } from "../status/service.ts";
import type { AuthContext } from "../teams/access.ts";
import { type Candidate, candidateOf } from "./candidates.ts";
import { invalidQuery } from "./errors.ts";
import { identifierIn } from "./identifiers.ts";
import type { RoutedSearch, RoutedTickets, TeamSearch, TeamTickets } from "./schemas.ts";

/** Provider-only calls search this many mapped resources at a time. */
const FAN_OUT = 4;

interface Routed {
  provider: ProviderId;
  binding_ref?: string;
  project_slug?: string;
}

function whereOf(t: RuntimeTarget) {
  const rm = t.mapping.mapping.routingMetadata as Record<string, unknown>;
  const team = providerModule(t.provider).capabilities.searchTeam?.(rm) ?? null;
  return { ...t.resource, binding_ref: t.mapping.mapping.bindingRef, team };
}

/** Said only when a provider stopped its search early, so a short list is not read as "nothing else". */
function partialNotice(incomplete: boolean) {
  return incomplete
    ? {
        incomplete_results: true as const,
        warning:
          "The tracker stopped this search at its time limit, so matches may be missing. Search again, or use more specific words.",
      }
    : {};
}

const newestFirst = (a: Candidate, b: Candidate) =>
  (b.updated_at ? Date.parse(b.updated_at) : 0) - (a.updated_at ? Date.parse(a.updated_at) : 0);

async function inBatches<T, R>(list: T[], size: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < list.length; i += size)
    out.push(...(await Promise.all(list.slice(i, i + size).map(fn))));
  return out;
}

/**
 * Issue search and ticket listing, only ever inside mapped resources: the routed mapping's resource, or
 * (provider-only) each active mapping of the team for that provider.
 */
export function searchService(deps: { targets: Pick<RuntimeTargets, "forProvider" | "open" | "route"> }) {
  async function searchIn(
    t: RuntimeTarget,
    q: { key?: string; text?: string; onIncomplete?: () => void },
    limit: number,
  ) {
    const where = whereOf(t);
    const search = (query: { key?: string; text?: string; limit: number }) =>
      t.call(() => t.adapter.searchIssues(t.conn, t.params, { ...query, onIncomplete: q.onIncomplete }));
    // `query_key` wins: a key that names an issue answers with that issue; text is the fallback. Text
    // that is itself one of our identifiers (`acme/api#5`, an issue URL) is looked up the same way.
    const key = q.key ?? identifierIn(q.text) ?? undefined;
    if (key) {
      const hits = await search({ key, limit });
      if (hits.length > 0) return hits.slice(0, limit).map((i) => candidateOf(i, where, "exact"));
    }
    if (!q.text) return [];
    return (await search({ text: q.text, limit })).slice(0, limit).map((i) => candidateOf(i, where, "text"));
  }

  async function listIn(t: RuntimeTarget, limit: number) {
    const where = whereOf(t);
    const page = await t.call(() => t.adapter.listIssues(t.conn, t.params, { limit }));
    return page.issues.slice(0, limit).map((i: NormalizedIssue) => candidateOf(i, where, "text"));
  }

  /**
   * Runs `fn` on each active mapping of the provider. A resource that cannot be reached is reported in
   * `resource_errors`; only when every one fails is the call an error.
   */
  async function acrossMapped<R>(
    auth: AuthContext,
    provider: ProviderId,
    fn: (t: RuntimeTarget) => Promise<R[]>,
  ) {
    const mapped = await deps.targets.forProvider(auth, provider);
    const outcomes = await inBatches(mapped, FAN_OUT, async (m: JoinedMapping) => {
      try {
        return { m, ok: await fn(await deps.targets.open(m)) };
      } catch (err) {
        return { m, err };
      }
    });
    const failures = outcomes.filter((o) => "err" in o);
    if (failures.length === outcomes.length) throw failures[0].err;
    const single =
      mapped.length === 1
        ? resourceRefOf(provider, mapped[0].mapping.routingMetadata as Record<string, unknown>)
        : null;
    return {
      results: outcomes.flatMap((o) => ("ok" in o && o.ok ? o.ok : [])),
      resource_type: single?.resource_type ?? resourceRefOf(provider, {}).resource_type,
      resource_id: single?.resource_id ?? null,
      resources: mapped.map((m) => ({
        binding_ref: m.mapping.bindingRef,
        display_label: m.mapping.displayLabel,
        project_slug: m.projectSlug,
        ...resourceRefOf(provider, m.mapping.routingMetadata as Record<string, unknown>),
      })),
      resource_errors: failures.map((f) => ({
        binding_ref: f.m.mapping.bindingRef,
        display_label: f.m.mapping.displayLabel,
        error_code: (f as { err: { code?: string } }).err?.code ?? "internal_error",
      })),
    };
  }

  const routed = (r: Routed) => Boolean(r.binding_ref || r.project_slug);
  const frame = (t: RuntimeTarget): ResourceRef & ReturnType<typeof enrichment> & { provider: string } => ({
    provider: t.provider,
    ...t.resource,
    ...enrichment(t.mapping),
  });

  return {
    /** `POST /tracker/issue-search/` (contract §8.1). */
    async issueSearch(
      auth: AuthContext,
      input: Routed & { limit: number; query_key?: string | null; query_text?: string | null },
    ): Promise<Static<typeof RoutedSearch> | Static<typeof TeamSearch>> {
      let incomplete = false;
      const q = {
        key: input.query_key?.trim() || undefined,
        text: input.query_text?.trim() || undefined,
        onIncomplete: () => {
          incomplete = true;
        },
      };
      if (routed(input)) {
        const t = await deps.targets.route(auth, input);
        if (!q.key && !q.text) throw invalidQuery();
        const candidates = await searchIn(t, q, input.limit);
        return { candidates, ...frame(t), ...partialNotice(incomplete) };
      }
      if (!q.key && !q.text) throw invalidQuery();
      const all = await acrossMapped(auth, input.provider, (t) => searchIn(t, q, input.limit));
      const exact = all.results.filter((c) => c.match_type === "exact");
      const text = all.results.filter((c) => c.match_type !== "exact").sort(newestFirst);
      const { results, ...rest } = all;
      const candidates = [...exact, ...text].slice(0, input.limit);
      return { provider: input.provider, candidates, ...rest, ...partialNotice(incomplete) };
    },

    /** `POST /tracker/list-tickets/` (contract §8.2). */
    async listTickets(
      auth: AuthContext,
      input: Routed & { limit: number },
    ): Promise<Static<typeof RoutedTickets> | Static<typeof TeamTickets>> {
      if (routed(input)) {
        const t = await deps.targets.route(auth, input);
        return { tickets: await listIn(t, input.limit), ...frame(t) };
      }
      const all = await acrossMapped(auth, input.provider, (t) => listIn(t, input.limit));
      const { results, ...rest } = all;
      return { provider: input.provider, tickets: results.sort(newestFirst).slice(0, input.limit), ...rest };
    },
  };
}

export type SearchService = ReturnType<typeof searchService>;
