import { TrackerError } from "../../tracker/index.ts";
import { AppError } from "./errors.ts";

/**
 * The one mapping from classified provider failures to the envelope (`source: "provider"`).
 * Provider auth failures are never HTTP 401: the CLI treats 401 as its own session expiring.
 */
export function providerError(err: TrackerError, effect: "no_effect" | "unknown" = "no_effect"): AppError {
  const common = { source: "provider" as const, effectCertainty: effect };
  const who = err.provider;
  switch (err.kind) {
    case "auth_expired":
      return new AppError(
        424,
        "provider_auth_expired",
        `The ${who} credentials of this installation were rejected. Reconnect the installation in the dashboard.`,
        { ...common, userActionRequired: true },
      );
    case "auth_revoked":
      return new AppError(
        424,
        "provider_auth_revoked",
        `Access to ${who} was revoked for this installation. Reconnect it in the dashboard.`,
        { ...common, userActionRequired: true },
      );
    case "forbidden":
      return new AppError(
        424,
        "provider_forbidden",
        `${who} refused the request: the installation lacks permission. Grant access in ${who}, then retry.`,
        { ...common, userActionRequired: true },
      );
    case "not_found":
      return new AppError(
        404,
        "provider_not_found",
        `${who} has no such resource, or the installation cannot see it.`,
        common,
      );
    case "rate_limited":
      return new AppError(
        429,
        "rate_limited",
        `${who} is rate limiting this installation. Retry after the indicated time.`,
        {
          ...common,
          retryable: true,
          retryAfterSeconds: Math.max(1, Math.ceil(err.retryAfterSeconds ?? 30)),
        },
      );
    case "malformed_response":
      return new AppError(
        502,
        "upstream_malformed",
        `${who} answered with a response we could not read. Retry later.`,
        { ...common, retryable: true },
      );
    case "invalid_request":
      return new AppError(
        502,
        "upstream_rejected",
        `${who} rejected the request (status ${err.status ?? "unknown"}).`,
        common,
      );
    default:
      return new AppError(502, "upstream_unavailable", `${who} is unavailable right now. Retry later.`, {
        ...common,
        retryable: true,
      });
  }
}

/** Runs a provider call, turning TrackerError into the envelope. */
export async function callProvider<T>(
  fn: () => Promise<T>,
  effect: "no_effect" | "unknown" = "no_effect",
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TrackerError) throw providerError(err, effect);
    throw err;
  }
}

/** The mapped resource is gone upstream (or the installation can no longer see it): the binding is stale. */
export function resourceMissing(provider: string, label: string, source: "saas" | "provider" = "provider") {
  return new AppError(
    404,
    "resource_missing",
    `The bound resource ${label} no longer exists upstream, or the installation can no longer see it. Run \`spec-kitty tracker bind --provider ${provider}\` to rebind.`,
    { source, userActionRequired: true },
  );
}
