import {
  adapterFor,
  type Connection,
  type ConnectorParams,
  isProvider,
  type ProviderId,
  providerModule,
  type RoutingMetadata,
  type TrackerAdapter,
  TrackerError,
} from "../../tracker/index.ts";
import type { BindingService, RoutingKeys } from "../binding/service.ts";
import { callProvider, providerError, resourceMissing } from "../http/provider-errors.ts";
import type { InstallationRow, InstallationsService } from "../installations/service.ts";
import type { JoinedMapping, MappingsService } from "../mappings/service.ts";
import type { TeamScope } from "../teams/access.ts";
import {
  allMappingsDisabled,
  installationDisconnected,
  installationRevoked,
  installationSuspended,
  mappingNeedsRepair,
  noMappedResource,
} from "./errors.ts";

/** What the CLI calls the mapped resource: `resource_type` / `resource_id` (contract §8.1, §8.3). */
export interface ResourceRef {
  resource_type: string;
  resource_id: string;
}

/** A routed mapping, ready for provider calls on its resource and nothing else. */
export interface RuntimeTarget {
  mapping: JoinedMapping;
  installation: InstallationRow;
  provider: ProviderId;
  adapter: TrackerAdapter;
  conn: Connection;
  params: ConnectorParams;
  resource: ResourceRef;
  /** For provider-error mapping: who and what. */
  label: { provider: string; label: string };
  /** Asks the provider whether the mapped resource still exists (once per target). */
  gone(): Promise<boolean>;
  /**
   * Runs a provider call on the resource: a failure that turns out to be the resource missing upstream
   * answers `resource_missing`; every other failure maps through `providerError`.
   */
  call<T>(fn: () => Promise<T>, effect?: "no_effect" | "unknown"): Promise<T>;
}

/** The provider's module names the resource from the mapping's routing metadata. */
export function resourceRefOf(provider: string, rm: Record<string, unknown>): ResourceRef {
  if (!isProvider(provider))
    return { resource_type: `${provider}_resource`, resource_id: String(rm.id ?? "") };
  const ref = providerModule(provider).resourceRef;
  return { resource_type: ref.type, resource_id: ref.id(rm) };
}

/**
 * The one way runtime code reaches a provider: route the mapping (stale-binding errors), check the
 * installation and resource are usable, then build the connection from the installation's credentials
 * and the connector params from the mapping's routing metadata. Nothing in a request body can name
 * another resource, installation or team.
 */
export function runtimeTargets(deps: {
  binding: Pick<BindingService, "route">;
  installations: Pick<InstallationsService, "byId" | "connectionFor" | "workspaceOf">;
  mappings: Pick<MappingsService, "liveForProvider">;
}) {
  /** Connector params rebuilt from the mapping's routing metadata (DESIGN §3.4), never from the request. */
  function connectorParamsOf(m: JoinedMapping): ConnectorParams {
    try {
      return adapterFor(m.mapping.provider).connectorParams(m.mapping.routingMetadata as RoutingMetadata);
    } catch {
      throw mappingNeedsRepair(m.mapping.bindingRef, "its routing metadata is incomplete");
    }
  }

  async function open(m: JoinedMapping): Promise<RuntimeTarget> {
    const provider = m.mapping.provider;
    const label = { provider, label: m.mapping.displayLabel };
    if (m.resourceMissingSince) throw resourceMissing(provider, m.mapping.displayLabel, "saas");
    const installation = await deps.installations.byId(m.mapping.installationId);
    if (!installation || installation.disconnectedAt)
      throw installationDisconnected(provider, m.mapping.displayLabel);
    if (installation.status === "revoked") throw installationRevoked(provider, m.mapping.displayLabel);
    // Before the connection: building it mints a token, which a suspended GitHub App installation is refused.
    if (installation.status === "suspended")
      throw installationSuspended(provider, m.mapping.displayLabel, installation.workspaceName);
    const conn = await callProvider(() => deps.installations.connectionFor(installation));
    const adapter = adapterFor(provider);
    let gone: Promise<boolean> | null = null;
    const target: RuntimeTarget = {
      mapping: m,
      installation,
      provider,
      adapter,
      conn,
      params: connectorParamsOf(m),
      resource: resourceRefOf(provider, m.mapping.routingMetadata as Record<string, unknown>),
      label,
      gone() {
        gone ??= adapter
          .getResource(conn, deps.installations.workspaceOf(installation), m.resourceNativeId)
          .then((r) => r === null)
          .catch(() => false);
        return gone;
      },
      async call(fn, effect = "no_effect") {
        try {
          return await fn();
        } catch (err) {
          if (!(err instanceof TrackerError)) throw err;
          // A resource-scoped call that finds nothing (or is refused) may mean the resource is gone.
          if (err.kind === "not_found" || (err.kind === "invalid_request" && (await target.gone())))
            throw resourceMissing(provider, m.mapping.displayLabel);
          throw providerError(err, effect);
        }
      },
    };
    return target;
  }

  return {
    open,

    /** `binding.route()` (by binding_ref or project_slug), then the target. */
    async route(scope: TeamScope, keys: RoutingKeys): Promise<RuntimeTarget> {
      return open(await deps.binding.route(scope, keys));
    },

    /**
     * Provider-only calls: the team's active mappings for the provider, never unmapped resources.
     * None at all → `no_mapping`; only disabled ones → `mapping_disabled`.
     */
    async forProvider(scope: TeamScope, provider: ProviderId): Promise<JoinedMapping[]> {
      const live = await deps.mappings.liveForProvider(scope.team.id, provider);
      if (live.length === 0) throw noMappedResource(provider);
      const active = live.filter((m) => m.mapping.status === "active");
      if (active.length === 0) throw allMappingsDisabled(provider);
      return active;
    },
  };
}

export type RuntimeTargets = ReturnType<typeof runtimeTargets>;
