import { providers } from "../../tracker/index.ts";

/**
 * The identifiers this service hands out (`list-tickets` identifiers and issue URLs), recognised in free
 * text. The CLI sends `query_key` only for Jira/Linear-shaped keys, so `acme/api#5` or an issue's web
 * address arrive as `query_text`; a provider's full-text search does not find an issue by them. Whether
 * the identifier belongs to the searched resource is the adapter's lookup to decide. Each provider's
 * module gives its forms (any provider's form counts, as a key may be pasted from anywhere).
 */
const IN_RESOURCE = /^#\d+$/; // #N within the bound repository or project

export function identifierIn(text: string | undefined): string | null {
  const t = text?.trim();
  if (!t || t.length > 512 || /\s/.test(t)) return null;
  const forms = providers().map((p) => p.issueRefs);
  if (IN_RESOURCE.test(t) || forms.some((f) => f.keys.some((re) => re.test(t)))) return t;
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  const path = decodeURIComponent(url.pathname);
  for (const [re, key] of forms.flatMap((f) => f.urls)) {
    const m = path.match(re);
    if (m) return key(m);
  }
  return null;
}
