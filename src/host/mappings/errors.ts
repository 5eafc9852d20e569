import { DomainError } from "../errors/domain-error.ts";

const bindHint = (provider: string) => `Run \`spec-kitty tracker bind --provider ${provider}\` to rebind.`;

/*
 * The CLI wraps these three codes itself: "Tracker binding '<ref>' is stale: <message>. Run
 * `spec-kitty tracker bind --provider <p>` to rebind." So their messages carry the fact only: no rebind
 * hint (it would be printed twice) and no closing period (docs/runtime.md lists what the CLI adds).
 */
export const bindingNotFound = (ref: string, _provider: string) =>
  new DomainError(
    "binding_not_found",
    "this binding_ref no longer names a mapping of this team: it was deleted, or replaced when the project was bound again",
    { userActionRequired: true, details: { binding_ref: ref } },
  );

export const mappingDisabled = (ref: string, _provider: string) =>
  new DomainError(
    "mapping_disabled",
    `a team admin disabled the mapping ${ref}; an admin can enable it again in the dashboard`,
  );

export const projectMismatch = (ref: string, _provider: string, why: string) =>
  new DomainError("project_mismatch", `the binding ${ref} ${why}`);

export const noMapping = (slug: string, provider: string) =>
  new DomainError("no_mapping", `Project '${slug}' has no ${provider} mapping. ${bindHint(provider)}`, {
    userActionRequired: true,
  });

export const alreadyBound = (label: string, projectSlug: string) =>
  new DomainError(
    "already_bound",
    `${label} is already bound to project '${projectSlug}'. Unbind it there first, or pick another resource.`,
    { userActionRequired: true },
  );

export const resourceNotBindable = (label: string, why: string) =>
  new DomainError("resource_not_bindable", `${label} cannot be bound: ${why}.`, {
    userActionRequired: true,
  });

export const mappingNotFound = (ref: string) =>
  new DomainError("mapping_not_found", `No mapping '${ref}' in this team.`);

export const resourceNotFound = (id: string) =>
  new DomainError(
    "resource_not_found",
    `No discovered resource '${id}' in this team. Refresh the installation's inventory.`,
  );

export const routingConflict = () =>
  new DomainError(
    "invalid_routing",
    "Send exactly one routing key: `binding_ref` or `project_slug`, not both.",
    { userActionRequired: true },
  );
