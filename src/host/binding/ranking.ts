/**
 * Evidence ranking for bind-resolve. Pure functions over a bounded candidate set fetched by SQL:
 * the whole inventory is never loaded into memory.
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

/** Case and separators do not matter: `My_Repo`, `my-repo` and `my repo` are one name. */
export function normalize(s: string | null | undefined): string {
  return (s ?? "")
    .toLowerCase()
    .replace(/\.git$/, "")
    .replace(/[^a-z0-9/]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

const lastSegment = (path: string) => path.split("/").filter(Boolean).pop() ?? "";

/**
 * Every normalised value `rank` compares for a high-confidence match, stored on each resource so the
 * database finds the exact candidates by index (`match_names && identityNames(...)`).
 */
export function matchNames(t: Pick<RankTarget, "key" | "name" | "fullPath">): string[] {
  const path = normalize(t.fullPath);
  return [...new Set([normalize(t.name), normalize(t.key), path, lastSegment(path)])].filter(Boolean);
}

/** The CLI identity's side of the same comparison. */
export function identityNames(input: RankInput): string[] {
  return [...new Set([normalize(input.slug), normalize(input.repoSlug)])].filter(Boolean);
}

export function rank(input: RankInput, t: RankTarget): Evidence | null {
  const slug = normalize(input.slug);
  const repo = normalize(input.repoSlug);
  const path = normalize(t.fullPath);
  const name = normalize(t.name);
  const key = normalize(t.key);
  const repoCapable = t.provider === "github" || t.provider === "gitlab";

  if (repo && repoCapable && path && path === repo)
    return {
      confidence: "high",
      reason: `repo_slug '${input.repoSlug}' is this repository's full path`,
      score: 100,
    };
  if (slug && repoCapable && path && lastSegment(path) === slug)
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
  if (repo && repoCapable && path && lastSegment(path) === lastSegment(repo)) {
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
  const tokens = slug.split("-").filter((x) => x.length >= 3);
  if (tokens.some((tok) => name.includes(tok) || (key.length >= 2 && tok === key))) {
    return {
      confidence: "low",
      reason: `a word of project slug '${input.slug}' appears in '${t.label}'`,
      score: 20,
    };
  }
  return null;
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
