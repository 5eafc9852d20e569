import { describe, expect, it } from "vitest";
import { pageProblem } from "../../src/dashboard/errors.ts";
import { admissionRefusalOf } from "../../src/host/admission/errors.ts";
import { ERROR_CODES, type ErrorCode } from "../../src/host/errors/codes.ts";
import { DomainError, TooManyRequestsError, ValidationError } from "../../src/host/errors/domain-error.ts";
import { toEnvelope } from "../../src/host/errors/envelope.ts";
import { refusalHeaders, toApiRefusal } from "../../src/host/http/error-handler.ts";
import { failureOf } from "../../src/host/jobs/service.ts";
import { toOAuthReply } from "../../src/host/oauth/errors.ts";

/** One domain error, seen by each surface: the registry decides the status, the error only the facts. */
describe("the error family", () => {
  it("registers every code once, with an error status and a meaning; a wire alias names a registered code", () => {
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      expect(entry.status, code).toBeGreaterThanOrEqual(400);
      expect(entry.status, code).toBeLessThan(600);
      expect(entry.meaning.length, code).toBeGreaterThan(0);
      if (entry.wire) expect(Object.keys(ERROR_CODES), code).toContain(entry.wire);
    }
  });

  it("a domain error carries no HTTP status; the API answers its code's", () => {
    const err = new DomainError("installation_in_use", "In use.");
    expect(err).not.toHaveProperty("status");
    expect(toApiRefusal(err)).toEqual({ status: 409, error: err });
    expect(toEnvelope(err, { requestId: "req-1" })).toEqual({
      error_code: "installation_in_use",
      message: "In use.",
      retryable: false,
      user_action_required: true,
      source: "saas",
      retry_after_seconds: null,
      effect_certainty: "no_effect",
      request_id: "req-1",
    });
  });

  it("one wire code, two meanings: a disconnected installation is 409 to manage, 403 behind a binding", () => {
    const managed = new DomainError("installation_disconnected", "Disconnected.");
    const routed = new DomainError("binding_installation_disconnected", "Disconnected.");
    expect([toApiRefusal(managed).status, toApiRefusal(routed).status]).toEqual([409, 403]);
    expect([toEnvelope(managed).error_code, toEnvelope(routed).error_code]).toEqual([
      "installation_disconnected",
      "installation_disconnected",
    ]);
  });

  it("the codes the CLI wraps itself carry error_category (contract §10.1)", () => {
    const categorised = Object.entries(ERROR_CODES).filter(([, e]) => e.category);
    expect(categorised.map(([c]) => c).sort()).toEqual([
      "binding_not_found",
      "invalid_candidate_token",
      "mapping_disabled",
      "project_mismatch",
    ]);
    const env = toEnvelope(new DomainError(categorised[0][0] as ErrorCode, "Stale."));
    expect(env.error_category).toBe(env.error_code);
  });

  it("each surface maps the same error once", () => {
    const limited = new TooManyRequestsError({ message: "Too many.", retryAfterSeconds: 7 });
    expect(refusalHeaders(limited)).toEqual({ "retry-after": "7" });
    expect(toOAuthReply(limited)).toEqual({
      status: 429,
      headers: { "retry-after": "7" },
      body: { error: "too_many_requests", error_description: "Too many." },
    });
    const invalid = new ValidationError("Bad slug.", [{ field: "body.slug", problem: "is too long" }]);
    expect(toOAuthReply(invalid).body).toEqual({ error: "invalid_request", error_description: "Bad slug." });
    expect(pageProblem(invalid)).toMatchObject({ status: 400, message: "Bad slug.", unexpected: false });
    expect(pageProblem(new DomainError("signed_out", "Signed out."))).toMatchObject({
      status: 403,
      title: "Signed out",
    });
    expect(failureOf(invalid)).toMatchObject({
      error_code: "validation_error",
      fields: invalid.details.fields,
    });
    expect(failureOf(new TypeError("boom"))).toMatchObject({ error_code: "internal_error", retryable: true });
    expect(admissionRefusalOf(invalid)).toEqual({
      status: 400,
      body: {
        error_category: "invalid_admission_request",
        error_code: "invalid_admission_request",
        message: "Bad slug.",
        retryable: false,
      },
    });
  });
});
