import { createHash, randomBytes } from "node:crypto";
import { ulid } from "ulid";
import type { Database } from "../../storage/database.ts";
import { DomainError } from "../errors/domain-error.ts";
import type { TeamsService } from "../teams/service.ts";
import {
  type AdmissionRefusalBody,
  admissionRefusalOf,
  generationConflict,
  invalidAdmissionRequest,
} from "./errors.ts";
import {
  type AdmissionRepository,
  type AdmissionScope,
  admissionRepositoryTransaction,
  type SyncAdmissionRow,
} from "./repository.ts";

/**
 * Project sync admission (CLI auth contract §9.1). An admission is scoped to (this server, the
 * authenticated account, its Private Teamspace, the project UUID). `generation` is server-owned and
 * rises with every state change; `If-Match-Admission-Generation` is a compare-and-set against it.
 * Every operation carries an `Idempotency-Key`: the first outcome of a key is recorded for good and
 * replayed for the same request; the same key with another request is `admission_operation_conflict`.
 * A replayed old admit therefore never revives a revoked project.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NIL_UUID = "00000000-0000-0000-0000-000000000000";
const KEY = /^[\x21-\x7e]{16,128}$/;
const GENERATION = /^[1-9][0-9]{0,8}$/;

export interface AdmissionBody {
  source_project_uuid: string;
  state: "admitted" | "revoked";
  generation: number;
  binding_audience: string;
}

export interface AdmissionOutcome {
  status: number;
  body: AdmissionBody | AdmissionRefusalBody;
  replayed: boolean;
}

export interface AdmissionRequest {
  userId: string;
  projectUuid: string;
  idempotencyKey: unknown;
  ifMatch: unknown;
  /** PUT only: `{"project_slug"}` or nothing. */
  body?: unknown;
}

const audience = () => `aud_${randomBytes(18).toString("base64url")}`;

function view(row: SyncAdmissionRow): AdmissionBody {
  return {
    source_project_uuid: row.projectUuid,
    state: row.state,
    generation: row.generation,
    binding_audience: row.bindingAudience,
  };
}

function canonicalUuid(raw: string): string {
  const u = raw.trim().toLowerCase();
  if (!UUID.test(u) || u === NIL_UUID)
    throw new DomainError("invalid_project_uuid", "The project UUID must be a canonical, non-nil UUID.");
  return u;
}

function parseKey(raw: unknown): string {
  if (typeof raw !== "string" || !KEY.test(raw))
    throw invalidAdmissionRequest("Send an `Idempotency-Key` header of 16-128 printable characters.");
  return raw;
}

function parseGeneration(raw: unknown, required: boolean): number | undefined {
  if (raw === undefined && !required) return undefined;
  if (typeof raw !== "string" || !GENERATION.test(raw.trim()))
    throw invalidAdmissionRequest(
      required
        ? "Send `If-Match-Admission-Generation` (a positive integer) to revoke."
        : "`If-Match-Admission-Generation` must be a positive integer.",
    );
  return Number(raw.trim());
}

function parseSlug(body: unknown): string | null {
  if (body === undefined || body === null) return null;
  if (typeof body !== "object" || Array.isArray(body))
    throw invalidAdmissionRequest('The body, when sent, is `{"project_slug": "..."}`.');
  const { project_slug: slug, ...rest } = body as Record<string, unknown>;
  if (Object.keys(rest).length) throw invalidAdmissionRequest(`Unknown field '${Object.keys(rest)[0]}'.`);
  if (slug === undefined || slug === null) return null;
  if (typeof slug !== "string" || slug.length > 200)
    throw invalidAdmissionRequest("`project_slug` must be a string of at most 200 characters.");
  return slug;
}

export function admissionService(db: Database, deps: { teams: Pick<TeamsService, "teamsOf"> }) {
  const { teams } = deps;

  async function privateTeamspaceOf(userId: string): Promise<string> {
    const rows = await teams.teamsOf(userId);
    const own = rows.find((r) => r.team.isPrivateTeamspace);
    if (!own)
      throw new DomainError(
        "admission_mutation_forbidden",
        "Your account has no Private Teamspace, so no project can be admitted for it.",
      );
    return own.team.id;
  }

  /** Runs one keyed operation: replay, conflict, or `decide` under the row lock, recorded with its key. */
  async function keyed(
    req: AdmissionRequest,
    action: "admit" | "revoke",
    parsed: { projectUuid: string; key: string; ifMatch?: number; slug?: string | null },
    decide: (
      tx: AdmissionRepository,
      scope: AdmissionScope,
    ) => Promise<{ status: number; body: AdmissionOutcome["body"] }>,
  ): Promise<AdmissionOutcome> {
    const scope = {
      userId: req.userId,
      privateTeamId: await privateTeamspaceOf(req.userId),
      projectUuid: parsed.projectUuid,
    };
    const requestHash = createHash("sha256")
      .update(JSON.stringify([action, parsed.projectUuid, parsed.ifMatch ?? null, parsed.slug ?? null]))
      .digest("hex");
    return admissionRepositoryTransaction(db, async (tx) => {
      const previous = await tx.claimOperation(req.userId, parsed.key, requestHash);
      if (previous) {
        if (previous.requestHash !== requestHash || previous.responseStatus === 0) {
          const conflict = new DomainError(
            "admission_operation_conflict",
            "This Idempotency-Key was already used for a different admission request.",
          );
          return { ...refusal(conflict), replayed: false };
        }
        return {
          status: previous.responseStatus,
          body: previous.responseBody as AdmissionOutcome["body"],
          replayed: true,
        };
      }
      const outcome = await decide(tx, scope);
      await tx.completeOperation(req.userId, parsed.key, outcome.status, outcome.body);
      return { ...outcome, replayed: false };
    });
  }

  const refusal = (err: DomainError) => admissionRefusalOf(err)!;

  return {
    /** `PUT …/sync-admission/`: admit, or re-admit after a revoke (which needs the current generation). */
    async admit(req: AdmissionRequest): Promise<AdmissionOutcome> {
      const parsed = {
        projectUuid: canonicalUuid(req.projectUuid),
        key: parseKey(req.idempotencyKey),
        ifMatch: parseGeneration(req.ifMatch, false),
        slug: parseSlug(req.body),
      };
      return keyed(req, "admit", parsed, async (tx, scope) => {
        let row = await tx.lock(scope);
        if (!row) {
          if (parsed.ifMatch !== undefined) return refusal(generationConflict());
          await tx.insert({
            id: `adm_${ulid()}`,
            ...scope,
            state: "admitted",
            generation: 1,
            bindingAudience: audience(),
            projectSlug: parsed.slug,
          });
          row = await tx.lock(scope);
          // Created concurrently by another key: fall through to the idempotent-admit rules below.
          if (row && row.generation === 1 && row.state === "admitted")
            return { status: 200, body: view(row) };
        }
        if (!row) throw new Error("admission row vanished inside its transaction");
        if (row.state === "admitted") {
          if (parsed.ifMatch !== undefined && parsed.ifMatch !== row.generation)
            return refusal(generationConflict(row.generation));
          if (parsed.slug && parsed.slug !== row.projectSlug)
            row = await tx.update(row.id, { projectSlug: parsed.slug });
          return { status: 200, body: view(row) };
        }
        // Revoked: only a compare-and-set re-admit brings it back.
        if (parsed.ifMatch !== row.generation) return refusal(generationConflict(row.generation));
        const readmitted = await tx.update(row.id, {
          state: "admitted",
          generation: row.generation + 1,
          bindingAudience: audience(),
          ...(parsed.slug ? { projectSlug: parsed.slug } : {}),
        });
        return { status: 200, body: view(readmitted) };
      });
    },

    /** `DELETE …/sync-admission/`: revoke, compare-and-set on the current generation. */
    async revoke(req: AdmissionRequest): Promise<AdmissionOutcome> {
      const parsed = {
        projectUuid: canonicalUuid(req.projectUuid),
        key: parseKey(req.idempotencyKey),
        ifMatch: parseGeneration(req.ifMatch, true),
      };
      return keyed(req, "revoke", parsed, async (tx, scope) => {
        const row = await tx.lock(scope);
        if (!row)
          return refusal(
            new DomainError(
              "project_sync_admission_not_found",
              "This project has no sync admission to revoke.",
            ),
          );
        if (parsed.ifMatch !== row.generation) return refusal(generationConflict(row.generation));
        if (row.state === "revoked") return { status: 200, body: view(row) };
        const revoked = await tx.update(row.id, { state: "revoked", generation: row.generation + 1 });
        return { status: 200, body: view(revoked) };
      });
    },
  };
}

export type AdmissionService = ReturnType<typeof admissionService>;
