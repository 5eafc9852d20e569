import { DomainError } from "../errors/domain-error.ts";

const bindHint = (provider: string) => `Run \`spec-kitty tracker bind --provider ${provider}\` to rebind.`;

export const installationDisconnected = (provider: string, label: string) =>
  new DomainError(
    "binding_installation_disconnected",
    `The ${provider} installation behind ${label} is disconnected. Ask a team admin to reconnect it in the dashboard.`,
  );

export const installationRevoked = (provider: string, label: string) =>
  new DomainError(
    "installation_revoked",
    `${provider} refused the credential of the installation behind ${label} (twice in a row). Ask a team admin to reconnect it in the dashboard; a later successful sync also restores it.`,
  );

/**
 * The provider suspended the installation (a GitHub App installation an owner suspended): every call
 * would be refused, so none is made. Lifted by the provider's `unsuspend` event (src/host/webhooks).
 */
export const installationSuspended = (provider: string, label: string, account: string) =>
  new DomainError(
    "installation_suspended",
    provider === "github"
      ? `The GitHub App installation behind ${label} is suspended, so nothing was sent to GitHub. An owner of ${account} can unsuspend it in the account's GitHub settings (GitHub Apps → Configure → Unsuspend); if the App's owner suspended it, only they can.`
      : `The ${provider} installation behind ${label} is suspended, so nothing was sent to ${provider}. An admin of ${account} can lift the suspension in ${provider}.`,
  );

/** A provider-only call (no routing key) in a team with no usable mapping for the provider. */
export const noMappedResource = (provider: string) =>
  new DomainError(
    "no_mapping",
    `No ${provider} resource is mapped to a project in this team. ${bindHint(provider)}`,
    { userActionRequired: true },
  );

export const allMappingsDisabled = (provider: string) =>
  new DomainError(
    "mapping_disabled",
    `Every ${provider} mapping of this team is disabled by a team admin. Ask an admin to enable one.`,
  );

export const invalidCursor = () =>
  new DomainError(
    "validation_error",
    "The cursor is not valid for this binding. Start again without `cursor`.",
    {
      userActionRequired: true,
      details: {
        fields: [{ field: "body.cursor", problem: "is not a cursor this server issued for this binding" }],
      },
    },
  );

export const mappingNeedsRepair = (ref: string, why: string) =>
  new DomainError(
    "mapping_needs_repair",
    `The mapping ${ref} cannot be used: ${why}. Ask a team admin to repair it in the dashboard.`,
    { userActionRequired: true },
  );
