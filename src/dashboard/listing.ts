import type { ListPage, ListRequest } from "../host/http/pagination.ts";
import type { Form } from "./context.ts";
import { html, qs } from "./html.ts";

/**
 * Lists people can work with: a total ("51–100 of 2,008"), first / previous / next, a page size and a
 * sort. A page calls `listRequest` with its sorts, hands the request to the service's `list` (keyset
 * pages with a count: `toListPage` in host/http/pagination.ts), then renders `listFields` inside its
 * filter form, `listTotal` above the table and `listPager` below it.
 */

export const PAGE_SIZES = [25, 50, 100, 200] as const;
export const DEFAULT_PAGE_SIZE = 50;

/** The sort, size and cursor a list's query asks for; anything unknown falls back to the defaults. */
export function listRequest<S extends string>(
  q: Form,
  sorts: Record<S, string>,
  fallback: S,
): ListRequest<S> {
  const sort = q.sort && Object.hasOwn(sorts, q.sort) ? (q.sort as S) : fallback;
  const n = Number(q.size);
  const size = (PAGE_SIZES as readonly number[]).includes(n) ? n : DEFAULT_PAGE_SIZE;
  return { sort, size, cursor: q.cursor || undefined };
}

const count = (n: number) => n.toLocaleString("en-US");

/** "51–100 of 2,008 resources" (or "No resources"). */
export function listTotal(p: ListPage<unknown>, noun: string) {
  return html`<p class="list-total" data-list-total>${
    p.total === 0
      ? `No ${noun}`
      : p.items.length === 0
        ? `None on this page · ${count(p.total)} ${noun} in all`
        : `${count(p.first)}–${count(p.last)} of ${count(p.total)} ${noun}`
  }</p>`;
}

/** The sort and page-size fields of a list's filter form (changing either starts again at page one). */
export function listFields<S extends string>(id: string, sorts: Record<S, string>, req: ListRequest<S>) {
  const entries = Object.entries(sorts) as [S, string][];
  return html`<div class="field"><label for="${id}-sort">Sort</label><select id="${id}-sort" name="sort" data-submit-on-change>
    ${entries.map(([v, label]) => html`<option value="${v}" ${v === req.sort ? html`selected` : null}>${label}</option>`)}
  </select></div>
  <div class="field field-narrow"><label for="${id}-size">Per page</label><select id="${id}-size" name="size" data-submit-on-change>
    ${PAGE_SIZES.map((n) => html`<option value="${n}" ${n === req.size ? html`selected` : null}>${n}</option>`)}
  </select></div>`;
}

/** First, previous and next, keeping the filters, sort and size. */
export function listPager(
  base: string,
  params: Record<string, string | undefined>,
  req: ListRequest,
  p: ListPage<unknown>,
) {
  const keep = {
    ...params,
    sort: req.sort,
    size: req.size === DEFAULT_PAGE_SIZE ? undefined : String(req.size),
  };
  const notFirst = Boolean(req.cursor) && (p.first > 1 || p.items.length === 0);
  if (!p.next_cursor && !p.prev_cursor && !notFirst) return null;
  const link = (label: string, cursor: string | null, rel: string) =>
    cursor
      ? html`<a class="btn btn-small" rel="${rel}" href="${base}${qs({ ...keep, cursor })}">${label}</a>`
      : html`<span class="btn btn-small btn-disabled" aria-disabled="true">${label}</span>`;
  return html`<nav class="pager" aria-label="Pages">
  ${notFirst ? html`<a class="btn btn-small btn-ghost" href="${base}${qs(keep)}">« First</a>` : null}
  ${link("‹ Previous", p.prev_cursor, "prev")}
  ${link("Next ›", p.next_cursor, "next")}
</nav>`;
}
