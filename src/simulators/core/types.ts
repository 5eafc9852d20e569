import type { SimServer } from "./server.ts";
import type { SimStore } from "./store.ts";

export type SimProvider = "github" | "gitlab" | "jira" | "linear" | "azure_devops";

/** What every provider simulator exposes to tests, benchmarks and the demo. */
export interface ProviderSimulator {
  provider: SimProvider;
  sim: SimServer;
  /** The in-memory state behind the wire format (tests may also change it through `/_sim/`). */
  store: SimStore;
  url: string;
  /**
   * Ready-to-use connection facts for the seeded default workspace (credentials included: these are
   * simulator-only secrets). Keys per provider are documented in docs/simulators.md.
   */
  demo: Record<string, string>;
  close(): Promise<void>;
}

export interface SimulatorOptions {
  port?: number;
  /** Generated filler resources in the default workspace, overriding the seed file's count. */
  generatedResources?: number;
  /** Name prefix of the generated resources (`service` → `service-00001`, ...). */
  generatedPrefix?: string;
  /** A seed file replacing the provider's bundled `seed.json`. */
  seedFile?: string;
}

/** A started simulator as tests see it: the server's URL and shutdown, its store, its demo facts. */
export function providerSimulator(
  provider: SimProvider,
  sim: SimServer,
  store: SimStore,
  demo: Record<string, string>,
): ProviderSimulator {
  return { provider, sim, store, url: sim.url, demo, close: () => sim.close() };
}
