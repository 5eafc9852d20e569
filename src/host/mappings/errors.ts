import { AppError, ConflictError, ForbiddenError, NotFoundError } from "../http/errors.ts";

const bindHint = (provider: string) => `Run \`spec-kitty tracker bind --provider ${provider}\` to rebind.`;

/*
 * The CLI wraps these three codes itself: "Tracker binding '<ref>' is stale: <message>. Run
 * `spec-kitty tracker bind --provider <p>` to rebind." So their messages carry the fact only: no rebind
 * hint (it would be printed twice) and no closing period (docs/runtime.md lists what the CLI adds).
 */
export const bindingNotFound = (ref: string, _provider: string) =>
  new NotFoundError(
    "binding_not_found",
    "this binding_ref no longer names a mapping of this team: it was deleted, or replaced when the project was bound again",
    { userActionRequired: true, withCategory: true, details: { binding_ref: ref } },
  );

export const mappingDisabled = (ref: string, _provider: string) =>
  new ForbiddenError(
    "mapping_disabled",
    `a team admin disabled the mapping ${ref}; an admin can enable it again in the dashboard`,
    { withCategory: true },
  );

export const projectMismatch = (ref: string, _provider: string, why: string) =>
  new ForbiddenError("project_mismatch", `the binding ${ref} ${why}`, { withCategory: true });

export const noMapping = (slug: string, provider: string) =>
  new NotFoundError("no_mapping", `Project '${slug}' has no ${provider} mapping. ${bindHint(provider)}`, {
    userActionRequired: true,
  });

export const alreadyBound = (label: string, projectSlug: string) =>
  new ConflictError(
    "already_bound",
    `${label} is already bound to project '${projectSlug}'. Unbind it there first, or pick another resource.`,
    { userActionRequired: true },
  );

export const resourceNotBindable = (label: string, why: string) =>
  new ConflictError("resource_not_bindable", `${label} cannot be bound: ${why}.`, {
    userActionRequired: true,
  });

export const mappingNotFound = (ref: string) =>
  new NotFoundError("mapping_not_found", `No mapping '${ref}' in this team.`);

export const resourceNotFound = (id: string) =>
  new NotFoundError(
    "resource_not_found",
    `No discovered resource '${id}' in this team. Refresh the installation's inventory.`,
  );

export const routingConflict = () =>
  new AppError(
    400,
    "invalid_routing",
    "Send exactly one routing key: `binding_ref` or `project_slug`, not both.",
    { userActionRequired: true },
  );
