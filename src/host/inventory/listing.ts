import type { Static } from "typebox";
import { hiddenNotice } from "../curation/rules.ts";
import { encodeCursor } from "../http/pagination.ts";
import type { InstallationRow } from "../installations/service.ts";
import type { CliResources } from "./schemas.ts";
import type { BindableRow, RowBinding } from "./snapshot.ts";

/**
 * What a `tracker discover` listing is made of, whether it comes from a team's snapshot (warm) or from
 * indexed SQL (cold, cold-listing.ts): one item shape and one page shape, so both answer the same.
 */

/**
 * How long candidate tokens minted for a `tracker discover` listing are served again: 5 minutes, so a
 * listed token keeps ≥ 10 of its 15 minutes (a person picks within seconds; the CLI resolves again on an
 * expired one) while a team's listing is minted, encoded and, cold, written to disk at most once per 5 minutes.
 */
export const TOKEN_REUSE_MS = 5 * 60_000;

/** One `tracker discover` item (schema CliResource). */
export interface ListedResource {
  candidate_token: string;
  display_label: string;
  provider: string;
  provider_context: Record<string, string>;
  binding_ref: string | null;
  bound_project_slug: string | null;
  bound_at: string | null;
  installation_id: string;
  resource_key: string;
}

/** What an item needs of a bindable row. */
export type ListedRow = Pick<
  BindableRow,
  "label" | "provider" | "context" | "installationId" | "resourceKey"
>;

export type CliResourcesPage = Static<typeof CliResources>;

/** The item of a row, its candidate token and its live mapping (if bound). */
export function listedItem(r: ListedRow, token: string, bound: RowBinding | undefined): ListedResource {
  return {
    candidate_token: token,
    display_label: r.label,
    provider: r.provider,
    provider_context: r.context,
    binding_ref: bound?.bindingRef ?? null,
    bound_project_slug: bound?.projectSlug ?? null,
    bound_at: bound?.boundAt.toISOString() ?? null,
    installation_id: r.installationId,
    resource_key: r.resourceKey,
  };
}

/** Whether an item built before still says what `bound` says (its token aside). */
export const sameBinding = (item: ListedResource, bound: RowBinding | undefined) =>
  item.binding_ref === (bound?.bindingRef ?? null) &&
  item.bound_project_slug === (bound?.projectSlug ?? null) &&
  item.bound_at === (bound?.boundAt.toISOString() ?? null);

/**
 * A page of the listing: `resources` are the page's items, `last` the label and id of the page's last
 * row when offered rows follow it (the cursor of the next page), `hidden` the rows curation hid.
 */
export function listingPage(
  provider: string,
  installations: InstallationRow[],
  resources: ListedResource[],
  last: { label: string; id: string } | null,
  hidden: number,
): CliResourcesPage {
  const nextCursor = last ? encodeCursor({ label: last.label, id: last.id }) : null;
  return {
    provider,
    installation_id: installations[0].id,
    installations: installations.map(installationState),
    resources,
    has_more: nextCursor !== null,
    next_cursor: nextCursor,
    hidden_by_curation: hidden,
    curation_notice: hiddenNotice(hidden),
  };
}

export function installationState(i: InstallationRow) {
  return {
    id: i.id,
    display_name: i.displayName,
    status: i.status,
    last_sync_at: i.lastSyncAt?.toISOString() ?? null,
    last_error_code: i.lastErrorCode,
    last_error_message: i.lastErrorMessage,
    inventory_stale:
      i.status !== "active" ||
      (i.lastFailureAt !== null && (i.lastSuccessAt === null || i.lastFailureAt > i.lastSuccessAt)),
  };
}

/**
 * The page as JSON text, a thousand resources a chunk. Every value is a plain string, number, boolean,
 * null or string record (the `CliResource` schema), so JSON.stringify writes what the schema would.
 */
export function* listingJson(page: CliResourcesPage): Generator<string> {
  const { resources, ...rest } = page;
  yield '{"resources":[';
  for (let at = 0; at < resources.length; at += 1_000) {
    const chunk = resources.slice(at, at + 1_000).map((r) => JSON.stringify(r));
    yield (at ? "," : "") + chunk.join(",");
  }
  yield `],${JSON.stringify(rest).slice(1)}`;
}
