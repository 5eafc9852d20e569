import { fieldKind, ISSUE_KEYS, type ProviderModule, Routing, routingV1 } from "../core/provider.ts";
import { azureDevOpsAdapter } from "./adapter.ts";

export interface AzureDevOpsSettings {
  url: string;
}

export const azureDevOpsProvider: ProviderModule<AzureDevOpsSettings> = {
  id: "azure_devops",
  displayName: "Azure DevOps",
  adapter: azureDevOpsAdapter,
  settings: {
    fromEnv: (env) => ({ url: env.AZURE_DEVOPS_URL ?? "https://dev.azure.com" }),
    urls: (s) => [s.url],
    defaultBaseUrl: (s) => s.url,
  },
  connect: {
    // Token only: no redirect flow.
    token: {
      kinds: ["bearer_pat"],
      noun: "a personal access token",
      intro: "Connect an Azure DevOps organization with a personal access token (scope Work Items: read).",
      fields: [
        {
          name: "organization",
          label: "Organization",
          hint: "The name in dev.azure.com/<organization>.",
          required: true,
        },
        { name: "token", label: "Personal access token", secret: true, required: true },
        {
          name: "base_url",
          label: "Server URL",
          hint: "Leave empty for the server's default Azure DevOps.",
          type: "url",
        },
      ],
      fromForm: (v) => ({
        credential: { kind: "bearer_pat", token: v("token") },
        options: { organization: v("organization") },
      }),
    },
  },
  routing: routingV1("azure_devops", {
    organization: Routing.text,
    project_id: Routing.text,
    project_name: Routing.text,
    url: Routing.maybe,
  }),
  kinds: [
    fieldKind("visibility", "Visibility", "visibility", [
      ["private", "Private"],
      ["public", "Public"],
    ]),
  ],
  capabilities: { repositoryShaped: false, oneTeamPerWorkspace: false },
  resourceRef: { type: "azure_devops_project", id: (rm) => String(rm.project_name ?? rm.project_id ?? "") },
  issueRefs: { keys: [ISSUE_KEYS.number], urls: [[/\/_workitems\/edit\/(\d+)\/?$/, (m) => m[1]]] },
  hints: {
    newCredential:
      "Create a new personal access token with the Work Items (Read & write) and Project and Team (Read) scopes",
    baseUrl: "https://dev.azure.com, or the collection URL of Azure DevOps Server",
  },
};
