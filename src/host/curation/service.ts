import type { Static } from "typebox";
import type { Database } from "../../storage/database.ts";
import { inTransaction } from "../../storage/transaction.ts";
import { type ProviderId, providerModule } from "../../tracker/index.ts";
import type { AuditService } from "../audit/service.ts";
import { newId } from "../ids.ts";
import type { InstallationsService } from "../installations/service.ts";
import type { InventoryService } from "../inventory/service.ts";
import type { BindableSnapshot, RowBinding } from "../inventory/snapshot.ts";
import type { Actor, TeamScope } from "../teams/access.ts";
import { invalidRules, type RuleProblem } from "./errors.ts";
import { type CurationRuleRow, curationRepository, toRule } from "./repository.ts";
import { type CompiledRules, type CurationRule, compileRules, curationVerdict } from "./rules.ts";
import type { Curation, CurationCounts, CurationPreview, CurationRuleInput } from "./schemas.ts";

type RuleInput = Static<typeof CurationRuleInput>;
type Counts = Static<typeof CurationCounts>;

/** The provider's kinds as the API and the dashboard list them. */
export function curationKinds(provider: ProviderId) {
  return (providerModule(provider).kinds ?? []).map(({ name, label, values }) => ({ name, label, values }));
}

/** A rule as the API, the audit trail and the dashboard show it. */
const ruleView = (r: CurationRule) => ({
  effect: r.effect,
  match: r.match,
  pattern: r.pattern,
  kind: r.kind,
  value: r.kindValue,
  resource_id: r.resourceId,
});

export function curationService(
  db: Database,
  deps: {
    installations: Pick<InstallationsService, "get">;
    inventory: Pick<InventoryService, "resource" | "snapshot">;
    audit: Pick<AuditService, "record">;
  },
) {
  const repo = curationRepository(db);

  /** The installation's bindable rows in the team's snapshot, with each one's verdict under `rules`. */
  function evaluate(snap: BindableSnapshot, installationId: string, rules: CompiledRules) {
    const counts: Counts = { bindable: 0, hidden: 0, offered: 0, hidden_mapped: 0 };
    const hidden = new Set<number>();
    for (const i of snap.order) {
      const r = snap.rows[i];
      if (r.installationId !== installationId) continue;
      counts.bindable++;
      if (curationVerdict(rules, r) === "hidden") {
        counts.hidden++;
        hidden.add(i);
        if (snap.boundBy.has(i)) counts.hidden_mapped++;
      } else counts.offered++;
    }
    return { counts, hidden };
  }

  /** Checks a proposed list against the installation (kinds of its provider, resources of its own). */
  async function validated(teamId: string, installationId: string, provider: ProviderId, input: RuleInput[]) {
    const kinds = new Map(curationKinds(provider).map((k) => [k.name, k]));
    const problems: RuleProblem[] = [];
    const rules: CurationRule[] = [];
    const seen = new Set<string>();
    for (const [i, r] of input.entries()) {
      const at = (f: string) => `body.rules[${i}].${f}`;
      const rule: CurationRule = {
        installationId,
        effect: r.effect,
        match: r.match,
        pattern: null,
        kind: null,
        kindValue: null,
        resourceId: null,
      };
      if (r.match === "pattern") {
        if (!r.pattern?.trim())
          problems.push({ field: at("pattern"), problem: "a pattern rule needs a pattern" });
        else rule.pattern = r.pattern.trim();
      } else if (r.match === "kind") {
        const kind = r.kind ? kinds.get(r.kind) : undefined;
        if (!kind)
          problems.push({
            field: at("kind"),
            problem: kinds.size
              ? `kind must be one of ${[...kinds.keys()].join(", ")}`
              : `${providerModule(provider).displayName} has no kinds to curate by`,
          });
        else if (!kind.values.some((v) => v.value === r.value))
          problems.push({
            field: at("value"),
            problem: `${kind.label} must be one of ${kind.values.map((v) => v.value).join(", ")}`,
          });
        else {
          rule.kind = kind.name;
          rule.kindValue = r.value ?? null;
        }
      } else {
        const res = r.resource_id ? await deps.inventory.resource(teamId, r.resource_id) : undefined;
        if (!res || res.installationId !== installationId)
          problems.push({
            field: at("resource_id"),
            problem: "the resource is not in this installation's inventory",
          });
        else if (seen.has(res.id))
          problems.push({ field: at("resource_id"), problem: "a resource can have one rule of its own" });
        else {
          seen.add(res.id);
          rule.resourceId = res.id;
        }
      }
      rules.push(rule);
    }
    if (problems.length) throw invalidRules(problems);
    return rules;
  }

  async function views(teamId: string, rows: CurationRuleRow[]) {
    return Promise.all(
      rows.map(async (r) => ({
        ...ruleView(toRule(r)),
        resource_label: r.resourceId
          ? ((await deps.inventory.resource(teamId, r.resourceId))?.label ?? null)
          : null,
      })),
    );
  }

  async function current(scope: TeamScope, installationId: string) {
    const inst = await deps.installations.get(scope.team.id, installationId);
    const rows = await repo.forInstallation(scope.team.id, inst.id);
    const snap = await deps.inventory.snapshot(scope.team.id, inst.provider, scope.team.versions);
    return { inst, rows, snap };
  }

  async function describe(
    scope: TeamScope,
    installationId: string,
    found?: Awaited<ReturnType<typeof current>>,
  ): Promise<Static<typeof Curation>> {
    const { inst, rows, snap } = found ?? (await current(scope, installationId));
    const { counts, hidden } = evaluate(snap, inst.id, compileRules(rows.map(toRule)));
    return {
      installation_id: inst.id,
      provider: inst.provider,
      rules: await views(scope.team.id, rows),
      kinds: curationKinds(inst.provider),
      counts,
      hidden_mappings: [...hidden]
        .filter((i) => snap.boundBy.has(i))
        .map((i) => {
          const b = snap.boundBy.get(i) as RowBinding;
          return {
            binding_ref: b.bindingRef,
            display_label: snap.rows[i].label,
            project_slug: b.projectSlug,
          };
        }),
    };
  }

  return {
    /** An installation's rules, its provider's kinds, what they hide, and the mappings they hide. */
    get: (scope: TeamScope, installationId: string) => describe(scope, installationId),

    /** What saving `input` would change, counted exactly as the save applies it (nothing is written). */
    async preview(
      scope: TeamScope,
      installationId: string,
      input: RuleInput[],
    ): Promise<Static<typeof CurationPreview>> {
      const { inst, rows, snap } = await current(scope, installationId);
      const proposed = await validated(scope.team.id, inst.id, inst.provider, input);
      const before = evaluate(snap, inst.id, compileRules(rows.map(toRule)));
      const after = evaluate(snap, inst.id, compileRules(proposed));
      let newlyHidden = 0;
      for (const i of after.hidden) if (!before.hidden.has(i)) newlyHidden++;
      let newlyRevealed = 0;
      for (const i of before.hidden) if (!after.hidden.has(i)) newlyRevealed++;
      // Each rule on its own, as an exclude: how many resources it names.
      const ruleMatches = proposed.map(
        (r) => evaluate(snap, inst.id, compileRules([{ ...r, effect: "exclude" }])).counts.hidden,
      );
      return {
        current: before.counts,
        proposed: after.counts,
        newly_hidden: newlyHidden,
        newly_revealed: newlyRevealed,
        rule_matches: ruleMatches,
      };
    },

    /** Replaces the installation's rules (audited); every process applies them on its next request. */
    async save(actor: Actor, installationId: string, input: RuleInput[], requestId?: string) {
      const { inst, rows } = await current(actor, installationId);
      const proposed = await validated(actor.team.id, inst.id, inst.provider, input);
      const before = rows.map((r) => ruleView(toRule(r)));
      await inTransaction(db, async (tx) => {
        await repo.replace(
          tx,
          actor.team.id,
          inst.id,
          proposed.map((r) => ({ ...r, id: newId("cur") })),
          actor.user.id,
        );
        await deps.audit.record(
          {
            teamId: actor.team.id,
            actorUserId: actor.user.id,
            action: "curation.rules_changed",
            targetType: "installation",
            targetId: inst.id,
            before: { rules: before },
            after: { rules: proposed.map(ruleView) },
            requestId,
          },
          tx,
        );
      });
      // The versions read at authentication predate the change: read the snapshot afresh.
      return describe({ team: { id: actor.team.id } }, inst.id);
    },
  };
}

export type CurationService = ReturnType<typeof curationService>;
