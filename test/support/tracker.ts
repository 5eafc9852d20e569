import { expect } from "vitest";
// Core modules directly: the registry imports every provider.
import { TrackerError } from "../../src/tracker/core/errors.ts";
import { createHttpClient, type HttpClient, type RetryPolicy } from "../../src/tracker/core/http.ts";

/** Retries that barely wait, so fault and rate-limit tests stay fast. */
export const FAST_RETRY: RetryPolicy = {
  baseDelayMs: 1,
  maxDelayMs: 5,
  maxRetries: 2,
  maxRetryAfterMs: 2000,
  timeoutMs: 2000,
};

/** A provider HTTP client with `FAST_RETRY` (and any overrides). */
export const fastHttp = (retry: Partial<RetryPolicy> = {}): HttpClient =>
  createHttpClient({ retry: { ...FAST_RETRY, ...retry } });

/**
 * The simulator's `/_sim/` control API at the URL `baseUrl()` answers (read per call: the simulator
 * starts in `beforeAll`). A non-2xx answer throws with the status and body; an empty answer is null.
 */
export function simControl(baseUrl: () => string) {
  return async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
}

/** The TrackerError a promise rejects with; fails the test when it resolves or rejects with anything else. */
export async function trackerFailure(p: Promise<unknown>): Promise<TrackerError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, "expected a TrackerError").toBeInstanceOf(TrackerError);
  return err as TrackerError;
}
