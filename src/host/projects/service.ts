import type { Database } from "../../storage/database.ts";
import { ConflictError, ValidationError } from "../http/errors.ts";
import { decodeKeyCursor, toPage } from "../http/pagination.ts";
import { newId } from "../ids.ts";
import { type ProjectRow, projectsRepository } from "./repository.ts";

/** The CLI's local project identity (contract §11.1). */
export interface ProjectIdentity {
  uuid: string;
  slug: string;
  node_id?: string | null;
  repo_slug?: string | null;
  build_id?: string | null;
}

const SLUG = /^[a-z0-9][a-z0-9._-]{0,127}$/;

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

export function projectsService(db: Database) {
  const repo = projectsRepository(db);

  return {
    repo,

    /** Finds, adopts or creates the project for a CLI identity, remembering node and build ids. */
    async ensure(teamId: string, identity: ProjectIdentity, tx?: Database): Promise<ProjectRow> {
      const r = tx ? projectsRepository(tx) : repo;
      let project = (await r.byUuid(teamId, identity.uuid)) ?? undefined;
      if (!project) {
        const bySlug = await r.bySlug(teamId, identity.slug);
        if (bySlug && bySlug.uuid === null)
          project = (await r.adopt(bySlug.id, identity.uuid)) ?? (await r.byUuid(teamId, identity.uuid));
        else if (bySlug) {
          throw new ConflictError(
            "project_slug_taken",
            `Another project of this team already uses the slug '${identity.slug}'. Rename one of them.`,
            { userActionRequired: true },
          );
        }
      }
      if (!project) {
        project =
          (await r.insert({
            id: newId("prj"),
            teamId,
            uuid: identity.uuid,
            slug: identity.slug,
            name: identity.slug,
            repoSlug: identity.repo_slug ?? null,
          })) ?? (await r.byUuid(teamId, identity.uuid));
        if (!project)
          throw new ConflictError(
            "project_slug_taken",
            `The slug '${identity.slug}' was just taken by another project.`,
          );
      }
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
      if (!SLUG.test(input.slug))
        throw new ValidationError(
          "Project slug must be lower-case letters, digits, dots, dashes or underscores.",
          [{ field: "project_slug", problem: "is not a valid slug" }],
        );
      const saved = await (tx ? projectsRepository(tx) : repo).insert({
        id: newId("prj"),
        teamId,
        slug: input.slug,
        name: input.name ?? input.slug,
      });
      if (!saved)
        throw new ConflictError("project_slug_taken", `A project with slug '${input.slug}' already exists.`);
      return saved;
    },

    async page(teamId: string, cursor: string | undefined, limit: number) {
      const rows = await repo.page(teamId, decodeKeyCursor(cursor, ["slug"]), limit);
      return toPage(rows, limit, projectView, (p) => ({ slug: p.slug }));
    },
  };
}

export type ProjectsService = ReturnType<typeof projectsService>;
