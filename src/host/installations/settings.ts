import {
  configuredProvider,
  type Env,
  type ProviderId,
  type ProviderSettings,
  providers,
  type RedirectConnect,
  readProviderSettings,
} from "../../tracker/index.ts";
import { providerNotConfigured } from "./errors.ts";

/**
 * Server-side provider settings: API locations and the service's own OAuth / App registrations, each
 * provider's read by its own module (src/tracker/<provider>/provider.ts).
 */
export type { ProviderSettings } from "../../tracker/index.ts";

export function providerSettingsFromEnv(env: Env = process.env): ProviderSettings {
  return readProviderSettings(env);
}

/** Every provider URL the operator configured: trusted by the outbound URL policy as given. */
export function configuredProviderUrls(settings: ProviderSettings): string[] {
  return providers().flatMap((p) => configuredProvider(p.id, settings).urls());
}

/** The provider's redirect flow as this server is configured, or `provider_not_configured`. Null: it has none. */
export function redirectFlow(settings: ProviderSettings, provider: ProviderId): RedirectConnect | null {
  const flow = configuredProvider(provider, settings).redirect();
  if (typeof flow === "string") throw providerNotConfigured(provider, flow);
  return flow ?? null;
}

/** Whether the redirect flow can run on this server (its registration is configured). */
export function redirectAvailable(settings: ProviderSettings, provider: ProviderId): boolean {
  const flow = configuredProvider(provider, settings).redirect();
  return Boolean(flow) && typeof flow !== "string";
}

/** The origin of a provider's consent page: the dashboard's connect form is redirected there. */
export function authorizeOrigin(settings: ProviderSettings, provider: ProviderId): string | null {
  const flow = configuredProvider(provider, settings).redirect();
  return flow && typeof flow !== "string" ? new URL(flow.webBase).origin : null;
}
