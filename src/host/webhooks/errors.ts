import { DomainError } from "../errors/domain-error.ts";

/** Bad signature, wrong token, unknown hook URL or a stale timestamp: all answer the same, with no detail. */
export const unverified = () => new DomainError("webhook_unverified", "The delivery could not be verified.");

export const appWideSecret = (provider: string) =>
  new DomainError(
    "webhook_secret_app_wide",
    `${provider} signs every delivery with the App's webhook secret (GITHUB_APP_WEBHOOK_SECRET in the server settings); there is no per-installation secret to rotate.`,
  );

export const notRegisteredPerInstallation = () =>
  new DomainError(
    "webhook_registration_app_wide",
    "GitHub delivers every installation's events to the App's one webhook, set on the App's settings page; there is no per-installation hook to register.",
  );

export const webhooksUnsupported = (provider: string) =>
  new DomainError(
    "webhooks_unsupported",
    `This service receives no ${provider} webhooks yet; the inventory follows the scheduled refresh (docs/webhooks.md).`,
  );
