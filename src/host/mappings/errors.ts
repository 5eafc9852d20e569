import { AppError, ConflictError, ForbiddenError, NotFoundError } from "../http/errors.ts";

const bindHint = (provider: string) => `Run \`spec-kitty tracker bind --provider ${provider}\` to rebind.`;

export const bindingNotFound = (ref: string, provider: string) =>
  new NotFoundError(
    "binding_not_found",
    `The binding reference ${ref} is no longer valid. ${bindHint(provider)}`,
    { userActionRequired: true, withCategory: true },
  );

export const mappingDisabled = (ref: string, provider: string) =>
  new ForbiddenError(
    "mapping_disabled",
    `The tracker mapping ${ref} is disabled by a team admin. Ask an admin to enable it, or ${bindHint(provider).toLowerCase()}`,
    { withCategory: true },
  );

export const projectMismatch = (ref: string, provider: string, why: string) =>
  new ForbiddenError("project_mismatch", `The binding ${ref} ${why}. ${bindHint(provider)}`, {
    withCategory: true,
  });

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
