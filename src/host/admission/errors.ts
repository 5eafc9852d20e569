import { ERROR_CODES, type ErrorCode, httpStatusOf } from "../errors/codes.ts";
import { DomainError } from "../errors/domain-error.ts";
import { toApiRefusal } from "../http/error-handler.ts";

/**
 * The sync-admission surface of the error family (CLI auth contract §9.1). The CLI accepts exactly the
 * eight `error_category` values the registry marks `admission`, and `retryable` must be literally
 * `false`; any other refusal is told in those terms. The service records these bodies for replay.
 */
export interface AdmissionRefusalBody {
  error_category: ErrorCode;
  error_code: ErrorCode;
  message: string;
  retryable: false;
  current_generation?: number;
}

export interface AdmissionRefusal {
  status: number;
  body: AdmissionRefusalBody;
}

function refusal(code: ErrorCode, message: string, details: Record<string, unknown> = {}): AdmissionRefusal {
  const body: AdmissionRefusalBody = { error_category: code, error_code: code, message, retryable: false };
  if (typeof details.current_generation === "number") body.current_generation = details.current_generation;
  return { status: httpStatusOf(code), body };
}

/** The refusal an error means here, or null for a failure (the route answers 500). */
export function admissionRefusalOf(err: unknown): AdmissionRefusal | null {
  if (err instanceof DomainError && ERROR_CODES[err.code].admission)
    return refusal(err.code, err.message, err.details);
  const { status, error } = toApiRefusal(err);
  if (status >= 500) return null;
  if (status === 401) return refusal("authentication_required", error.message);
  if (status === 403) return refusal("admission_mutation_forbidden", error.message);
  const fe = err as { validation?: unknown; validationContext?: string };
  if (fe?.validation && fe.validationContext === "params")
    return refusal("invalid_project_uuid", "The project UUID is not valid.");
  return refusal("invalid_admission_request", error.message);
}

export const invalidAdmissionRequest = (message: string) =>
  new DomainError("invalid_admission_request", message);

export const generationConflict = (current?: number) =>
  new DomainError(
    "admission_generation_conflict",
    current === undefined
      ? "This project has no sync admission yet; admit it without If-Match-Admission-Generation."
      : `The admission is at generation ${current}; send If-Match-Admission-Generation: ${current}.`,
    { details: { current_generation: current } },
  );
