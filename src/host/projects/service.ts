import type { Database } from "../../storage/database.ts";
import { normalize } from "../binding/ranking.ts";
import { DomainError, ValidationError } from "../errors/domain-error.ts";
import {
  decodeKeyCursor,
  decodeListCursor,
  type ListRequest,
  toListPage,
  toPage,
} from "../http/pagination.ts";
import { newId } from "../ids.ts";
import {
  PROJECT_SORTS,
  type ProjectRow,
  type ProjectSort,
  type ProjectsRepository,
  projectsRepository,
} from "./repository.ts";

/** The rows this feature hands to others (its repository stays private). */
export type { ProjectRow, ProjectSort } from "./repository.ts";

/** The CLI's local project identity (contract §11.1). */
export interface ProjectIdentity {
  uuid: string;
  slug: string;
  node_id?: string | null;
  repo_slug?: string | null;
  build_id?: string | null;
}

const SLUG = /^[a-z0-9][a-z0-9._-]{0,127}$/;

/** The refusal of a slug a new project may not take, or null (the one copy of the slug rule). */
export function invalidProjectSlug(slug: string): ValidationError | null {
  if (SLUG.test(slug)) return null;
  return new ValidationError(
    "Project slug must be lower-case letters, digits, dots, dashes or underscores (at most 128).",
    [{ field: "project_slug", problem: "is not a valid slug" }],
  );
}

export const projectSlugTaken = (slug: string) =>
  new DomainError("project_slug_taken", `A project with slug '${slug}' already exists.`);

export function projectView(p: ProjectRow) {
  return {
    id: p.id,
    uuid: p.uuid,
    slug: p.slug,
    name: p.name,
    repo_slug: p.repoSlug,
    node_ids: p.nodeIds as string[],
    created_at: p.createdAt.toISOString(),
  };
}

/** Lower-case words joined by dashes, path segments too: `Acme-Mobile/API` → `acme-mobile-api`. */
const slugText = (s: string) =>
  normalize(s)
    .replace(/\/+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 128);

/**
 * The slugs a new project may take, best first: the CLI's own; one from its repository path (the
 * identity's `repo_slug`, else the bound resource's path when that path ends in the slug, e.g.
 * `acme-mobile/api` for `api`); then `<slug>-2`, `<slug>-3`, …. bind-resolve and bind-confirm take the
 * first one no project of the team holds, so they announce and assign the same `project_slug`.
 */
export function* projectSlugs(identity: ProjectIdentity, resourcePath: string | null): Generator<string> {
  yield identity.slug;
  const own = slugText(identity.slug);
  const path = normalize(resourcePath);
  const repoPath = identity.repo_slug
    ? identity.repo_slug
    : path.split("/").pop() === own && path.includes("/")
      ? path
      : null;
  const alias = repoPath ? slugText(repoPath) : "";
  if (alias && alias !== identity.slug) yield alias;
  for (let n = 2; ; n++) yield `${identity.slug.slice(0, 120)}-${n}`;
}

/** The first of `projectSlugs` that `taken` does not hold. */
export function freeProjectSlug(
  identity: ProjectIdentity,
  resourcePath: string | null,
  taken: (slug: string) => boolean,
): string {
  for (const slug of projectSlugs(identity, resourcePath)) if (!taken(slug)) return slug;
  throw new Error("unreachable: projectSlugs never ends");
}

/** Gives a dashboard-created project (slug only, no uuid yet) to the first CLI identity with its slug. */
async function adoptBySlug(r: ProjectsRepository, teamId: string, identity: ProjectIdentity) {
  const bySlug = await r.bySlug(teamId, identity.slug);
  if (!bySlug || bySlug.uuid !== null) return undefined;
  // Adopted meanwhile: by this uuid (a concurrent bind of the same project) or by another one.
  return (await r.adopt(bySlug.id, identity.uuid)) ?? (await r.byUuid(teamId, identity.uuid));
}

/** At most this many taken `<slug>-N` before giving up (a team would need that many same-named repos). */
const MAX_SLUG_TRIES = 1_000;

async function insertNew(
  r: ProjectsRepository,
  teamId: string,
  identity: ProjectIdentity,
  resourcePath: string | null,
): Promise<ProjectRow> {
  let tries = 0;
  for (const slug of projectSlugs(identity, resourcePath)) {
    if (++tries > MAX_SLUG_TRIES) break;
    const saved = await r.insert({
      id: newId("prj"),
      teamId,
      uuid: identity.uuid,
      slug,
      name: identity.slug,
      repoSlug: identity.repo_slug ?? null,
    });
    if (saved) return saved;
    // Nothing inserted: either this uuid was just created by a concurrent bind, or the slug is taken.
    const mine = await r.byUuid(teamId, identity.uuid);
    if (mine) return mine;
  }
  throw new DomainError(
    "project_slug_taken",
    `Too many projects of this team are named '${identity.slug}'. Set a repo_slug for this project and bind again.`,
    { userActionRequired: true },
  );
}

export function projectsService(db: Database) {
  const repo = projectsRepository(db);

  return {
    /** Lookups, inside the caller's transaction when it passes one (a bind reads its project there). */
    bySlug: (teamId: string, slug: string, tx?: Database) =>
      (tx ? projectsRepository(tx) : repo).bySlug(teamId, slug),
    byId: (teamId: string, id: string, tx?: Database) =>
      (tx ? projectsRepository(tx) : repo).byId(teamId, id),

    /**
     * Finds, adopts or creates the project for a CLI identity (the uuid is the identity), remembering
     * node and build ids. A new project whose slug another project holds gets the first free slug of
     * `projectSlugs` — the one bind-resolve announced. Concurrent first binds of one uuid all end on
     * the one row: an insert that meets the uuid (or a slug) waits for the other transaction, does
     * nothing, and the uuid lookup then finds the winner.
     */
    async ensure(
      teamId: string,
      identity: ProjectIdentity,
      tx?: Database,
      resourcePath: string | null = null,
    ): Promise<ProjectRow> {
      const r = tx ? projectsRepository(tx) : repo;
      const project =
        (await r.byUuid(teamId, identity.uuid)) ??
        (await adoptBySlug(r, teamId, identity)) ??
        (await insertNew(r, teamId, identity, resourcePath));
      await r.noteIdentity(
        project.id,
        identity.node_id ?? null,
        identity.build_id ?? null,
        identity.repo_slug ?? null,
      );
      return project;
    },

    /** Dashboard: a project known by slug only, until a CLI binds it. */
    async create(teamId: string, input: { slug: string; name?: string }, tx?: Database) {
      const invalid = invalidProjectSlug(input.slug);
      if (invalid) throw invalid;
      const saved = await (tx ? projectsRepository(tx) : repo).insert({
        id: newId("prj"),
        teamId,
        slug: input.slug,
        name: input.name ?? input.slug,
      });
      if (!saved) throw projectSlugTaken(input.slug);
      return saved;
    },

    /** A person's list (the dashboard): a named sort, a page size, a total, pages both ways. */
    async list(teamId: string, req: ListRequest<ProjectSort>) {
      const seek = decodeListCursor(req);
      const [rows, total] = await Promise.all([
        repo.list(teamId, req.sort, seek, req.size),
        repo.count(teamId),
      ]);
      return toListPage(rows, req, seek, total, projectView, (p) => [PROJECT_SORTS[req.sort].key(p), p.id]);
    },

    async page(teamId: string, cursor: string | undefined, limit: number) {
      const rows = await repo.page(teamId, decodeKeyCursor(cursor, ["slug"]), limit);
      return toPage(rows, limit, projectView, (p) => ({ slug: p.slug }));
    },
  };
}

export type ProjectsService = ReturnType<typeof projectsService>;
