import { Type } from "typebox";
import { RoutedMapping } from "../binding/schemas.ts";
import { documented, Nullable, StringEnum } from "../http/schemas.ts";
import { CliInstallationState } from "../inventory/schemas.ts";
import { SyncState } from "../mappings/schemas.ts";
import { MAPPING_STATES } from "../mappings/states.ts";

/** Whose credentials act for the call (contract §2.1; the CLI prints `type`). */
export const IdentityPath = Type.Object({
  type: StringEnum(["installation", "user_link"]),
  installation_id: Type.String(),
  user_link_id: Nullable(Type.String()),
  provider: Type.String(),
  provider_account_id: Nullable(Type.String()),
});

const MappingState = StringEnum(MAPPING_STATES);

/** `tracker status` (routed): the mapping and its health (contract §2.1). */
export const ProjectStatus = Type.Object({
  configured: Type.Literal(true, { description: "The CLI prints nothing else without it." }),
  provider: Type.String(),
  ...RoutedMapping.properties,
  connected: Type.Boolean(),
  sync_state: SyncState,
  identity_path: IdentityPath,
  last_sync_at: Nullable(Type.String()),
  status: MappingState,
  guidance: Type.Optional(
    Type.String({
      description: "What to do when the resource is gone upstream or the installation is suspended.",
    }),
  ),
});

export const StatusBinding = Type.Object({
  project_name: Type.String(),
  project_slug: Type.String(),
  binding_ref: Type.String(),
  display_label: Type.String(),
  provider: Type.String(),
  status: MappingState,
  sync_state: SyncState,
  bound_at: Type.String(),
});

/** `tracker status --all` (provider only): installations and bindings of the team (contract §2.2). */
export const InstallationWideStatus = Type.Object({
  provider: Type.String(),
  connected: Type.Boolean({ description: "Whether any installation of the provider is active." }),
  installation_id: Nullable(Type.String()),
  installations: Type.Array(CliInstallationState),
  resource_count: Type.Integer(),
  bindings: Type.Array(StatusBinding),
});

export const TrackerStatus = Type.Union([ProjectStatus, InstallationWideStatus], {
  description: "The routed project's status, or (provider only) the installation-wide one.",
});
documented(TrackerStatus, {
  examples: [
    {
      configured: true,
      provider: "jira",
      binding_ref: "srm_01JF3QA2B7C9D4E6F8G0H1J3K5",
      display_label: "Acme / PAY Payments",
      provider_context: { workspace_name: "Acme", project_key: "PAY", project_name: "Payments" },
      project_slug: "payments",
      connected: true,
      sync_state: "idle",
      identity_path: {
        type: "installation",
        installation_id: "inst_01JF3Q8Z1Y2X3W4V5T6S7R8Q9P",
        user_link_id: null,
        provider: "jira",
        provider_account_id: null,
      },
      last_sync_at: "2026-11-30T09:15:00.000Z",
      status: "active",
    },
    {
      provider: "jira",
      connected: true,
      installation_id: "inst_01JF3Q8Z1Y2X3W4V5T6S7R8Q9P",
      installations: [
        {
          id: "inst_01JF3Q8Z1Y2X3W4V5T6S7R8Q9P",
          display_name: "Acme Jira",
          status: "active",
          last_sync_at: "2026-11-30T09:15:00.000Z",
          last_error_code: null,
          last_error_message: null,
          inventory_stale: false,
        },
      ],
      resource_count: 12,
      bindings: [
        {
          project_name: "Payments",
          project_slug: "payments",
          binding_ref: "srm_01JF3QA2B7C9D4E6F8G0H1J3K5",
          display_label: "Acme / PAY Payments",
          provider: "jira",
          status: "active",
          sync_state: "idle",
          bound_at: "2026-11-30T09:15:00.000Z",
        },
      ],
    },
  ],
});
