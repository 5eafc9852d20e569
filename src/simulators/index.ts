import { startAzureDevOpsSimulator } from "./azure-devops/index.ts";
import type { ProviderSimulator, SimProvider, SimulatorOptions } from "./core/types.ts";
import { startGithubSimulator } from "./github/index.ts";
import { startGitlabSimulator } from "./gitlab/index.ts";
import { startJiraSimulator } from "./jira/index.ts";
import { startLinearSimulator } from "./linear/index.ts";

export type { ProviderSimulator, SimProvider, SimulatorOptions } from "./core/types.ts";

export const SIMULATORS: Record<SimProvider, (opts?: SimulatorOptions) => Promise<ProviderSimulator>> = {
  github: startGithubSimulator,
  gitlab: startGitlabSimulator,
  jira: startJiraSimulator,
  linear: startLinearSimulator,
  azure_devops: startAzureDevOpsSimulator,
};

export async function startAllSimulators(
  opts: { ports?: Partial<Record<SimProvider, number>>; generatedResources?: number } = {},
) {
  const entries = await Promise.all(
    (Object.keys(SIMULATORS) as SimProvider[]).map(
      async (p) =>
        [
          p,
          await SIMULATORS[p]({ port: opts.ports?.[p], generatedResources: opts.generatedResources }),
        ] as const,
    ),
  );
  const simulators = Object.fromEntries(entries) as Record<SimProvider, ProviderSimulator>;
  return {
    simulators,
    close: () => Promise.all(entries.map(([, s]) => s.close())).then(() => undefined),
  };
}
