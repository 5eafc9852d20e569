import { isProvider, providerModule, TrackerError } from "../../tracker/index.ts";
import { DomainError } from "../errors/domain-error.ts";

/**
 * The one mapping from classified provider failures to domain errors (`source: "provider"`).
 * Provider auth failures are never HTTP 401: the CLI treats 401 as its own session expiring.
 */
export function providerError(err: TrackerError, effect: "no_effect" | "unknown" = "no_effect"): DomainError {
  const common = { source: "provider" as const, effectCertainty: effect };
  const who = err.provider;
  switch (err.kind) {
    case "auth_expired":
      return new DomainError(
        "provider_auth_expired",
        `The ${who} credentials of this installation were rejected. Reconnect the installation in the dashboard.`,
        { ...common, userActionRequired: true },
      );
    case "auth_revoked":
      return new DomainError(
        "provider_auth_revoked",
        `Access to ${who} was revoked for this installation. Reconnect it in the dashboard.`,
        { ...common, userActionRequired: true },
      );
    case "forbidden":
      return new DomainError(
        "provider_forbidden",
        err.requiredScopes?.length
          ? `${who} refused the request: the token lacks the scope it needs (${err.requiredScopes.join(" or ")}). Reconnect with a token that has it.`
          : `${who} refused the request: the installation lacks permission. Grant access in ${who}, then retry.`,
        { ...common, userActionRequired: true },
      );
    case "not_found":
      return new DomainError(
        "provider_not_found",
        `${who} has no such resource, or the installation cannot see it.`,
        common,
      );
    case "rate_limited":
      return new DomainError(
        "rate_limited",
        `${who} is rate limiting this installation. Retry after the indicated time.`,
        {
          ...common,
          retryable: true,
          retryAfterSeconds: Math.max(1, Math.ceil(err.retryAfterSeconds ?? 30)),
        },
      );
    case "malformed_response":
      return new DomainError(
        "upstream_malformed",
        `${who} answered with a response we could not read. Retry later.`,
        { ...common, retryable: true },
      );
    case "destination_refused":
      return new DomainError(
        "outbound_url_refused",
        `This server does not connect there: ${err.message.replace(/^\S+ \S+ \S+: /, "")}. An operator can allow it with OUTBOUND_ALLOW.`,
        { ...common, userActionRequired: true },
      );
    case "not_provider":
      return new DomainError(
        "upstream_malformed",
        `The URL of this ${who} installation no longer answers like ${who}'s API. Check the installation's URL.`,
        { ...common, userActionRequired: true },
      );
    case "invalid_request":
      return new DomainError(
        "upstream_rejected",
        `${who} rejected the request (status ${err.status ?? "unknown"})${err.reason ? `: ${err.reason}` : "."}`,
        common,
      );
    default:
      if (err.network?.cause === "tls")
        return new DomainError(
          "upstream_tls_failed",
          `TLS failed for ${err.network.host}: ${err.network.detail}. Retrying will not help until the certificate is fixed.`,
          { ...common, userActionRequired: true },
        );
      return new DomainError("upstream_unavailable", `${who} is unavailable right now. Retry later.`, {
        ...common,
        retryable: true,
        // A 503 that said when to come back.
        ...(err.retryAfterSeconds !== null
          ? { retryAfterSeconds: Math.max(1, Math.ceil(err.retryAfterSeconds)) }
          : {}),
      });
  }
}

/** Runs a provider call, turning TrackerError into a domain error. */
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
  return new DomainError(
    "resource_missing",
    `The bound resource ${label} no longer exists upstream, or the installation can no longer see it. Run \`spec-kitty tracker bind --provider ${provider}\` to rebind.`,
    { source, userActionRequired: true },
  );
}

/**
 * A failed token connect, named by its cause so the admin knows what to fix: the token (wrong, expired,
 * missing a scope), the URL (unreachable, TLS, not the provider's API) or the server's outbound policy.
 * These are 4xx with user action required, not a retryable 502: retrying the same input cannot succeed.
 */
export function connectError(err: TrackerError, baseUrl: string): DomainError {
  const known = isProvider(err.provider) ? providerModule(err.provider) : null;
  const who = known?.displayName ?? err.provider;
  const newToken = known?.hints.newCredential;
  const urlHint = known?.hints.baseUrl;
  const common = { source: "provider" as const, userActionRequired: true };
  if (err.kind === "auth_expired" || err.kind === "auth_revoked")
    return new DomainError(
      "provider_credential_refused",
      `The token was refused by ${who}: it is wrong or expired. ${newToken}, then connect again.`,
      common,
    );
  if (err.kind === "forbidden" && err.requiredScopes?.length) {
    const scopes = err.requiredScopes.map((s) => `\`${s}\``).join(" or ");
    return new DomainError(
      "provider_scope_missing",
      `${who} accepted the token, but it lacks the scope this connection needs: ${scopes}. ${newToken}, then connect again.`,
      { ...common, details: { required_scopes: err.requiredScopes } },
    );
  }
  const net = err.network;
  if (net?.cause === "tls")
    return new DomainError(
      "provider_tls_failed",
      `TLS failed for ${net.host}: ${net.detail}. The server needs a certificate from a trusted authority (an operator can add a private CA with NODE_EXTRA_CA_CERTS).`,
      { ...common, details: { network_error: net.code } },
    );
  if (net)
    return new DomainError(
      "provider_unreachable",
      `Could not reach ${net.host}: ${net.detail}. Check the URL and that this server can reach it.`,
      { ...common, details: { network_error: net.code } },
    );
  if (err.kind === "not_provider" || err.kind === "malformed_response")
    return new DomainError(
      "not_a_provider_server",
      `${baseUrl} is not ${/^[AEIOU]/.test(who) ? "an" : "a"} ${who} server (${err.message}). Use ${urlHint}.`,
      common,
    );
  if (err.kind === "not_found")
    return new DomainError(
      "provider_workspace_not_found",
      `${who} has no such workspace, or the token cannot see it (${err.message}). Check the group, site or organization you gave.`,
      common,
    );
  return providerError(err);
}
