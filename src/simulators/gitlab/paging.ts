import type { SimReply, SimRequest } from "../core/server.ts";

/**
 * GitLab's two paging schemes.
 * Offset: `page` / `per_page` (default 20, max 100); `Link` (prev, next, first, last) plus `X-Page`,
 * `X-Per-Page`, `X-Next-Page`, `X-Prev-Page` (empty when none), `X-Total`, `X-Total-Pages`. Over 10,000
 * records GitLab leaves out `X-Total`, `X-Total-Pages` and `rel="last"`.
 * Keyset: `pagination=keyset&order_by=id&sort=asc|desc`; the next page is only in `Link: rel="next"`
 * (`id_after` / `id_before`), and there are no totals at all.
 */

const COUNT_LIMIT = 10_000;

/**
 * GitLab's "max offset allowed by the REST API for offset-based pagination" (an instance limit, 50,000 by
 * default): offset paging of project lists stops there with 405, pointing at keyset pagination.
 */
export function offsetCapped(req: SimRequest, maxOffset: number): SimReply | null {
  const page = Math.max(1, Number.parseInt(req.query.get("page") ?? "1", 10) || 1);
  if (page * perPageOf(req) <= maxOffset) return null;
  return {
    status: 405,
    json: {
      error: `Offset pagination has a maximum allowed offset of ${maxOffset} for requests that return objects of type Project. Remaining records can be retrieved using keyset pagination.`,
    },
  };
}

export const perPageOf = (req: SimRequest) => {
  const n = Number(req.query.get("per_page"));
  return Number.isInteger(n) && n > 0 ? Math.min(n, 100) : 20;
};

function linkTo(base: string, req: SimRequest, set: Record<string, string>): string {
  const url = new URL(req.path, base);
  for (const [k, v] of req.query) url.searchParams.append(k, v);
  for (const [k, v] of Object.entries(set)) url.searchParams.set(k, v);
  return url.toString();
}

export function offsetPage<T>(
  base: string,
  req: SimRequest,
  items: T[],
  render: (t: T) => unknown,
): SimReply {
  const perPage = perPageOf(req);
  const page = Math.max(1, Number.parseInt(req.query.get("page") ?? "1", 10) || 1);
  const total = items.length;
  const totalPages = Math.max(1, Math.ceil(total / perPage));
  const hasNext = page * perPage < total;
  const counted = total <= COUNT_LIMIT;
  const at = (p: number) => linkTo(base, req, { page: String(p), per_page: String(perPage) });

  const links: string[] = [];
  if (page > 1) links.push(`<${at(page - 1)}>; rel="prev"`);
  if (hasNext) links.push(`<${at(page + 1)}>; rel="next"`);
  links.push(`<${at(1)}>; rel="first"`);
  if (counted) links.push(`<${at(totalPages)}>; rel="last"`);

  const headers: Record<string, string> = {
    link: links.join(", "),
    "x-page": String(page),
    "x-per-page": String(perPage),
    "x-next-page": hasNext ? String(page + 1) : "",
    "x-prev-page": page > 1 ? String(page - 1) : "",
  };
  if (counted) {
    headers["x-total"] = String(total);
    headers["x-total-pages"] = String(totalPages);
  }
  const slice = items.slice((page - 1) * perPage, page * perPage);
  return { headers, json: slice.map(render) };
}

/** Keyset page over items already ordered by numeric id in the requested direction. */
export function keysetPage<T>(
  base: string,
  req: SimRequest,
  items: T[],
  idOf: (t: T) => number,
  render: (t: T) => unknown,
): SimReply {
  const perPage = perPageOf(req);
  const desc = req.query.get("sort") === "desc";
  const after = Number(req.query.get("id_after"));
  const before = Number(req.query.get("id_before"));
  const rest = items.filter((t) => {
    if (!desc && req.query.has("id_after")) return idOf(t) > after;
    if (desc && req.query.has("id_before")) return idOf(t) < before;
    return true;
  });
  const slice = rest.slice(0, perPage);
  const headers: Record<string, string> = {};
  if (rest.length > perPage) {
    const last = String(idOf(slice[slice.length - 1]));
    const next = linkTo(base, req, desc ? { id_before: last } : { id_after: last });
    headers.link = `<${next}>; rel="next"`;
  }
  return { headers, json: slice.map(render) };
}
