/**
 * Refusals of the project sync-admission endpoint (CLI auth contract §9.1). The CLI accepts exactly these
 * eight `error_category` values, and `retryable` must be literally `false`.
 */
export type AdmissionErrorCategory =
  | "invalid_project_uuid"
  | "invalid_admission_request"
  | "authentication_required"
  | "admission_mutation_forbidden"
  | "project_sync_admission_not_found"
  | "admission_generation_conflict"
  | "admission_operation_conflict"
  | "project_tombstoned";

export interface AdmissionRefusalBody {
  error_category: AdmissionErrorCategory;
  error_code: AdmissionErrorCategory;
  message: string;
  retryable: false;
  current_generation?: number;
}

export class AdmissionRefusal extends Error {
  constructor(
    readonly status: number,
    readonly category: AdmissionErrorCategory,
    message: string,
    readonly currentGeneration?: number,
  ) {
    super(message);
    this.name = "AdmissionRefusal";
  }

  body(): AdmissionRefusalBody {
    const b: AdmissionRefusalBody = {
      error_category: this.category,
      error_code: this.category,
      message: this.message,
      retryable: false,
    };
    if (this.currentGeneration !== undefined) b.current_generation = this.currentGeneration;
    return b;
  }
}

export const invalidAdmissionRequest = (message: string) =>
  new AdmissionRefusal(400, "invalid_admission_request", message);

export const generationConflict = (current?: number) =>
  new AdmissionRefusal(
    409,
    "admission_generation_conflict",
    current === undefined
      ? "This project has no sync admission yet; admit it without If-Match-Admission-Generation."
      : `The admission is at generation ${current}; send If-Match-Admission-Generation: ${current}.`,
    current,
  );
