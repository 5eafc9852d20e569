import type { Static } from "typebox";
import type { ProviderId } from "../../tracker/index.ts";
import type { RoutedMapping } from "../binding/schemas.ts";
import type { BindingService, RoutingKeys } from "../binding/service.ts";
import type { InstallationRow, InstallationsService } from "../installations/service.ts";
import { installationState } from "../inventory/service.ts";
import { mappingState, mappingSyncState } from "../mappings/health.ts";
import type { JoinedMapping, MappingsService } from "../mappings/service.ts";
import type { AuthContext } from "../teams/access.ts";
import type { IdentityPath, InstallationWideStatus, ProjectStatus } from "./schemas.ts";

/** `binding_ref`, `display_label`, `provider_context`: added to every routed response (contract §11.4). */
export function enrichment(m: JoinedMapping): Static<typeof RoutedMapping> {
  return {
    binding_ref: m.mapping.bindingRef,
    display_label: m.mapping.displayLabel,
    provider_context: m.mapping.providerContext as Record<string, string>,
    project_slug: m.projectSlug,
  };
}

export function identityPath(m: JoinedMapping, inst?: InstallationRow): Static<typeof IdentityPath> {
  return {
    type: "installation",
    installation_id: m.mapping.installationId,
    user_link_id: null,
    provider: m.mapping.provider,
    provider_account_id: inst?.workspaceId ?? null,
  };
}

/** What to do next when the mapping cannot be used for a reason the user (or an owner) can fix. */
function guidanceFor(state: string, provider: string, inst?: InstallationRow) {
  if (state === "resource_missing")
    return {
      guidance: `The bound resource no longer exists upstream. Run \`spec-kitty tracker bind --provider ${provider}\` to rebind.`,
    };
  if (state === "installation_suspended")
    return {
      guidance:
        provider === "github"
          ? `The GitHub App installation on ${inst?.workspaceName ?? "the account"} is suspended: an owner of that account can unsuspend it in its GitHub settings (GitHub Apps → Configure → Unsuspend).`
          : `The ${provider} installation is suspended: an admin of the account can lift the suspension in ${provider}.`,
    };
  return {};
}

export function statusService(deps: {
  binding: Pick<BindingService, "route">;
  installations: Pick<InstallationsService, "byId" | "listForTeam">;
  mappings: Pick<MappingsService, "liveForProvider">;
}) {
  return {
    /** `tracker status`: the routed project's mapping and its health. */
    async project(auth: AuthContext, keys: RoutingKeys): Promise<Static<typeof ProjectStatus>> {
      const m = await deps.binding.route(auth, keys);
      const inst = await deps.installations.byId(m.mapping.installationId);
      const state = mappingSyncState(m);
      return {
        configured: true,
        provider: m.mapping.provider,
        ...enrichment(m),
        connected:
          !m.installationDisconnectedAt &&
          m.installationStatus !== "revoked" &&
          m.installationStatus !== "suspended",
        sync_state: state,
        identity_path: identityPath(m, inst),
        last_sync_at: inst?.lastSyncAt?.toISOString() ?? null,
        status: mappingState(m.mapping),
        ...guidanceFor(state, keys.provider, inst),
      };
    },

    /** `tracker status --all`: every installation and binding of the team for a provider. */
    async installationWide(
      auth: AuthContext,
      provider: ProviderId,
    ): Promise<Static<typeof InstallationWideStatus>> {
      const installs = await deps.installations.listForTeam(auth.team.id, provider);
      const bindings = await deps.mappings.liveForProvider(auth.team.id, provider);
      return {
        provider,
        connected: installs.some((i) => i.status === "active"),
        installation_id: installs[0]?.id ?? null,
        installations: installs.map(installationState),
        resource_count: installs.reduce((n, i) => n + i.resourceCount, 0),
        bindings: bindings.map((b) => ({
          project_name: b.projectName,
          project_slug: b.projectSlug,
          binding_ref: b.mapping.bindingRef,
          display_label: b.mapping.displayLabel,
          provider: b.mapping.provider,
          status: b.mapping.status,
          sync_state: mappingSyncState(b),
          bound_at: b.mapping.boundAt.toISOString(),
        })),
      };
    },
  };
}

export type StatusService = ReturnType<typeof statusService>;
