import { isProvider, providerModule } from "../../tracker/index.ts";

/**
 * Evidence ranking for bind-resolve: pure functions over the few rows the team's bindable snapshot
 * finds by name lookups and text scans (never over every row).
 */
export type Confidence = "high" | "medium" | "low";

export interface RankInput {
  slug: string;
  repoSlug: string | null;
}

export interface RankTarget {
  provider: string;
  label: string;
  key: string | null;
  name: string;
  fullPath: string | null;
}

export interface Evidence {
  confidence: Confidence;
  reason: string;
  score: number;
}

/**
 * Case and separators do not matter: `My_Repo`, `my-repo` and `my repo` are one name. Only ASCII
 * letters are lower-cased (every other character becomes `-`): the database computes the same value in
 * SQL (`resources.bind_name`…, schema.ts) and a locale's lower() could differ from JS's (`K` → `k`).
 */
export function normalize(s: string | null | undefined): string {
  return (s ?? "")
    .replace(/[A-Z]+/g, (upper) => upper.toLowerCase())
    .replace(/\.git$/, "")
    .replace(/[^a-z0-9/]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

const lastSegment = (path: string) => path.split("/").filter(Boolean).pop() ?? "";

/** A target's normalised name, key, full path and last path segment: what ranking compares. */
export interface TargetNames {
  name: string;
  key: string;
  path: string;
  last: string;
}

export function targetNames(t: Pick<RankTarget, "key" | "name" | "fullPath">): TargetNames {
  const path = normalize(t.fullPath);
  return { name: normalize(t.name), key: normalize(t.key), path, last: lastSegment(path) };
}

/** The CLI identity, normalised once per request. */
export interface Identity {
  input: RankInput;
  slug: string;
  repo: string;
  /** The repo_slug's repository name (last segment). */
  repoName: string;
  /** Words of the slug long enough to count as evidence. */
  words: string[];
}

export function identityOf(input: RankInput): Identity {
  const slug = normalize(input.slug);
  const repo = normalize(input.repoSlug);
  return {
    input,
    slug,
    repo,
    repoName: lastSegment(repo),
    words: slug.split("-").filter((x) => x.length >= 3),
  };
}

export function rank(id: Identity, t: RankTarget, n: TargetNames = targetNames(t)): Evidence | null {
  const { slug, repo, input } = id;
  const { path, name, key } = n;
  const repoCapable = isProvider(t.provider) && providerModule(t.provider).capabilities.repositoryShaped;

  if (repo && repoCapable && path && path === repo)
    return {
      confidence: "high",
      reason: `repo_slug '${input.repoSlug}' is this repository's full path`,
      score: 100,
    };
  if (slug && repoCapable && path && n.last === slug)
    return {
      confidence: "high",
      reason: `project slug '${input.slug}' is this repository's name`,
      score: 90,
    };
  if (slug && key && key === slug)
    return { confidence: "high", reason: `project slug '${input.slug}' equals the key ${t.key}`, score: 88 };
  if (slug && name === slug)
    return {
      confidence: "high",
      reason: `project slug '${input.slug}' equals the name '${t.name}'`,
      score: 85,
    };
  if (repo && repoCapable && path && n.last === id.repoName) {
    return {
      confidence: "medium",
      reason: `repo_slug '${input.repoSlug}' has the same repository name in another namespace`,
      score: 70,
    };
  }
  if (slug.length >= 3 && (name.includes(slug) || (name.length >= 3 && slug.includes(name)))) {
    return {
      confidence: "medium",
      reason: `project slug '${input.slug}' partly matches the name '${t.name}'`,
      score: 60,
    };
  }
  if (slug.length >= 3 && path.includes(slug))
    return {
      confidence: "low",
      reason: `project slug '${input.slug}' appears in the path '${t.fullPath}'`,
      score: 40,
    };
  if (id.words.some((tok) => name.includes(tok) || (key.length >= 2 && tok === key))) {
    return {
      confidence: "low",
      reason: `a word of project slug '${input.slug}' appears in '${t.label}'`,
      score: 20,
    };
  }
  return null;
}

/** At most this many candidates per bind-resolve; beyond it the user browses with `tracker discover`. */
export const MAX_CANDIDATES = 20;
/** Slugs up to this length are searched for every resource name they contain. */
const MAX_SLUG_SCAN = 64;

/** Every substring of at least 3 characters (word-aligned ones only for a long slug). */
export function partsOf(slug: string): string[] {
  if (slug.length > MAX_SLUG_SCAN) {
    const words = slug.split("-");
    return words.flatMap((_, i) => words.slice(i).map((__, j) => words.slice(i, i + j + 1).join("-")));
  }
  const parts: string[] = [];
  for (let i = 0; i < slug.length; i++)
    for (let j = i + 3; j <= slug.length; j++) parts.push(slug.slice(i, j));
  return parts;
}

const ORDER: Record<Confidence, number> = { high: 0, medium: 1, low: 2 };

/** Confidence first, then display label, then a stable id: identical for an unchanged state. */
export function compareCandidates(
  a: { evidence: Evidence; label: string; id: string },
  b: { evidence: Evidence; label: string; id: string },
) {
  return (
    ORDER[a.evidence.confidence] - ORDER[b.evidence.confidence] ||
    (a.label < b.label ? -1 : a.label > b.label ? 1 : 0) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}
