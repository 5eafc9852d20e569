import type { Connection, DiscoveryOutcome, TrackerAdapter } from "./adapter.ts";
import type { BindableResource, Workspace } from "./descriptor.ts";
import { TrackerError } from "./errors.ts";

export interface DiscoveryOptions {
  /** Safety valve against a provider that pages forever. Reaching it yields a truncated pass. */
  maxPages?: number;
}

/**
 * Runs one discovery pass and hands each page to `onPage` as it arrives (memory stays flat in the
 * number of pages). A pass that stops early reports `complete: false` with the reason instead of
 * returning a silently short list.
 */
export async function runDiscovery(
  adapter: TrackerAdapter,
  conn: Connection,
  workspace: Workspace,
  onPage: (resources: BindableResource[]) => void | Promise<void>,
  opts: DiscoveryOptions = {},
): Promise<DiscoveryOutcome> {
  const maxPages = opts.maxPages ?? 10_000;
  let pages = 0;
  let count = 0;
  try {
    for await (const page of adapter.discover(conn, workspace)) {
      pages++;
      count += page.resources.length;
      await onPage(page.resources);
      if (pages >= maxPages) {
        return {
          complete: false,
          pages,
          count,
          truncated: { reason: "page_limit", message: `stopped after ${maxPages} pages` },
        };
      }
    }
    return { complete: true, pages, count };
  } catch (err) {
    if (err instanceof TrackerError) {
      return { complete: false, pages, count, truncated: { reason: err.kind, message: err.message } };
    }
    throw err;
  }
}

/** Parses an RFC 8288 `link` header into rel → URL. */
export function parseLinkHeader(header: string | null): Record<string, string> {
  const links: Record<string, string> = {};
  if (!header) return links;
  for (const part of header.split(",")) {
    const m = part.match(/<([^>]+)>\s*;\s*rel="?([^";]+)"?/);
    if (m) for (const rel of m[2].split(/\s+/)) links[rel] = m[1];
  }
  return links;
}
