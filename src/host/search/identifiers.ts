/**
 * The identifiers this service hands out (`list-tickets` identifiers and issue URLs), recognised in free
 * text. The CLI sends `query_key` only for Jira/Linear-shaped keys, so `acme/api#5` or an issue's web
 * address arrive as `query_text`; a provider's full-text search does not find an issue by them. Whether
 * the identifier belongs to the searched resource is the adapter's lookup to decide.
 */
const KEY_FORMS = [
  /^[\w.-]+(?:\/[\w.-]+)+#\d+$/, // GitHub owner/repo#N, GitLab group/sub/project#N
  /^#\d+$/, // #N within the bound repository or project
  /^[A-Za-z][A-Za-z0-9_]{0,19}-\d+$/, // Jira and Linear keys
  /^\d+$/, // Azure DevOps work item id, GitHub / GitLab number
];

/** Issue web addresses, by the path shapes of each provider's issue page. */
const URL_FORMS: [RegExp, (m: RegExpMatchArray) => string][] = [
  [/^\/(.+)\/-\/(?:issues|work_items)\/(\d+)\/?$/, (m) => `${m[1]}#${m[2]}`], // GitLab
  [/^\/([\w.-]+)\/([\w.-]+)\/issues\/(\d+)\/?$/, (m) => `${m[1]}/${m[2]}#${m[3]}`], // GitHub
  [/\/browse\/([A-Za-z][A-Za-z0-9_]*-\d+)\/?$/, (m) => m[1]], // Jira (Data Center may add a context path)
  [/^\/[\w.-]+\/issue\/([A-Za-z][A-Za-z0-9_]*-\d+)(?:\/[^/]*)?$/, (m) => m[1]], // Linear
  [/\/_workitems\/edit\/(\d+)\/?$/, (m) => m[1]], // Azure DevOps
];

export function identifierIn(text: string | undefined): string | null {
  const t = text?.trim();
  if (!t || t.length > 512 || /\s/.test(t)) return null;
  if (KEY_FORMS.some((re) => re.test(t))) return t;
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  const path = decodeURIComponent(url.pathname);
  for (const [re, key] of URL_FORMS) {
    const m = path.match(re);
    if (m) return key(m);
  }
  return null;
}
