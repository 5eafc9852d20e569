import { azureDevOpsProvider } from "./azure-devops/provider.ts";
import type { Credential, TrackerAdapter } from "./core/adapter.ts";
import type { ProviderId } from "./core/descriptor.ts";
import type { Env, ProviderModule } from "./core/provider.ts";
import { githubProvider } from "./github/provider.ts";
import { gitlabProvider } from "./gitlab/provider.ts";
import { jiraProvider } from "./jira/provider.ts";
import { linearProvider } from "./linear/provider.ts";

/** The one place that knows which providers exist. Adding a provider = one folder + one line here. */
const BUILT_IN = {
  github: githubProvider,
  gitlab: gitlabProvider,
  jira: jiraProvider,
  linear: linearProvider,
  azure_devops: azureDevOpsProvider,
};

export type BuiltInProviderId = keyof typeof BUILT_IN;
type SettingsOf<M> = M extends ProviderModule<infer S> ? S : never;
/** Server settings of the built-in providers, each under its id. */
export type BuiltInSettings = { [K in BuiltInProviderId]: SettingsOf<(typeof BUILT_IN)[K]> };
/** Server settings of every registered provider, each under its id (each module reads its own). */
export type ProviderSettings = Record<ProviderId, unknown>;

export const PROVIDERS = Object.keys(BUILT_IN) as BuiltInProviderId[];

const registered = new Map<ProviderId, ProviderModule>(Object.entries(BUILT_IN));
/** Set once the ids were listed (the host's request schemas list them when they load). */
let listed = false;

/**
 * Adds a provider beyond the built-in ones (the fixture provider of the tests). Only before the host is
 * loaded: a provider registered after its request schemas listed the ids would be refused by them.
 */
export function registerProvider(module: ProviderModule): void {
  if (registered.has(module.id)) throw new Error(`provider ${module.id} is already registered`);
  if (listed) throw new Error(`register provider ${module.id} before the host is loaded`);
  registered.set(module.id, module);
}

/** Every registered provider, built-in ones first, in registration order. */
export function providers(): ProviderModule[] {
  return [...registered.values()];
}

export function providerIds(): ProviderId[] {
  listed = true;
  return [...registered.keys()];
}

export const isProvider = (id: unknown): id is ProviderId => typeof id === "string" && registered.has(id);

export function providerModule(id: ProviderId): ProviderModule {
  const module = registered.get(id);
  if (!module) throw new Error(`unknown provider ${id}`);
  return module;
}

export function adapterFor(provider: ProviderId): TrackerAdapter {
  return providerModule(provider).adapter;
}

/** Each registered provider's server settings, read from the environment by its own module. */
export function readProviderSettings(env: Env): ProviderSettings {
  return Object.fromEntries(providers().map((p) => [p.id, p.settings.fromEnv(env)]));
}

/**
 * One provider's module with its server settings applied: what the host calls, so no caller ever
 * handles another provider's settings type.
 */
export function configuredProvider(id: ProviderId, settings: ProviderSettings) {
  const module = providerModule(id);
  const own = settings[id] ?? module.settings.fromEnv({});
  return {
    module,
    urls: () => module.settings.urls(own),
    defaultBaseUrl: () => module.settings.defaultBaseUrl(own),
    redirect: () => module.connect.redirect?.(own),
    /** The stored credential made usable (the server's registration added back), or what is missing. */
    completeCredential: (c: Credential) => module.connect.credentials?.complete(own, c) ?? c,
    /** The credential as stored: without the server's own secrets. */
    storable: (c: Credential) => module.connect.credentials?.storable(c) ?? c,
  };
}
