import { azureDevOpsAdapter } from "./azure-devops/adapter.ts";
import type { TrackerAdapter } from "./core/adapter.ts";
import type { ProviderId } from "./core/descriptor.ts";
import { githubAdapter } from "./github/adapter.ts";
import { gitlabAdapter } from "./gitlab/adapter.ts";
import { jiraAdapter } from "./jira/adapter.ts";
import { linearAdapter } from "./linear/adapter.ts";

/** The one place that knows which providers exist. Adding a provider = one folder + one line here. */
const adapters: Record<ProviderId, TrackerAdapter> = {
  github: githubAdapter,
  gitlab: gitlabAdapter,
  jira: jiraAdapter,
  linear: linearAdapter,
  azure_devops: azureDevOpsAdapter,
};

export function adapterFor(provider: ProviderId): TrackerAdapter {
  return adapters[provider];
}
