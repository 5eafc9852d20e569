import type { SimServer } from "./server.ts";

/** What every provider simulator exposes to tests, benchmarks and the demo. */
export interface ProviderSimulator {
  provider: "github" | "gitlab" | "jira" | "linear" | "azure_devops";
  sim: SimServer;
  url: string;
  /**
   * Ready-to-use connection facts for the seeded default workspace (credentials included: these are
   * simulator-only secrets). Shape is provider-specific and documented in docs/simulators/<provider>.md.
   */
  demo: Record<string, string>;
  close(): Promise<void>;
}

export interface SimulatorOptions {
  port?: number;
  /** Number of generated resources in the default workspace on top of the named seed ones. */
  generatedResources?: number;
  /** Issues generated per resource (only for the first few resources, to keep memory small). */
  seedFile?: string;
}
