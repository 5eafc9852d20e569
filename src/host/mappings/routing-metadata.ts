import { Type } from "typebox";
import { Compile } from "typebox/compile";
import { ValidationError } from "../errors/domain-error.ts";

/**
 * The persisted routing metadata contract, per provider and version. Validated on every mapping write
 * so a mapping can always rebuild its connector params and labels without asking the provider.
 */
const Id = Type.Union([Type.String({ minLength: 1 }), Type.Integer()]);
const Text = Type.String();
const Maybe = Type.Union([Type.String(), Type.Null()]);

const SCHEMAS = {
  github: {
    1: Type.Object({
      provider: Type.Literal("github"),
      version: Type.Literal(1),
      installation_id: Id,
      repo_id: Id,
      owner: Text,
      name: Text,
      full_name: Text,
      html_url: Maybe,
      api_base_url: Text,
    }),
  },
  gitlab: {
    1: Type.Object({
      provider: Type.Literal("gitlab"),
      version: Type.Literal(1),
      base_url: Text,
      project_id: Id,
      path_with_namespace: Text,
      namespace_full_path: Maybe,
      name: Text,
      web_url: Maybe,
    }),
  },
  jira: {
    1: Type.Object({
      provider: Type.Literal("jira"),
      version: Type.Literal(1),
      deployment: Text,
      cloud_id: Maybe,
      site_url: Maybe,
      project_id: Id,
      project_key: Text,
      project_name: Text,
    }),
  },
  linear: {
    1: Type.Object({
      provider: Type.Literal("linear"),
      version: Type.Literal(1),
      organization_id: Text,
      organization_name: Text,
      url_key: Maybe,
      team_id: Text,
      team_key: Text,
      team_name: Text,
    }),
  },
  azure_devops: {
    1: Type.Object({
      provider: Type.Literal("azure_devops"),
      version: Type.Literal(1),
      organization: Text,
      project_id: Text,
      project_name: Text,
      url: Maybe,
    }),
  },
} as const;

const compiled = new Map<string, ReturnType<typeof Compile>>();
function validator(provider: string, version: number) {
  const key = `${provider}@${version}`;
  if (!compiled.has(key)) {
    const schema = (SCHEMAS as Record<string, Record<number, unknown>>)[provider]?.[version];
    if (!schema) return null;
    compiled.set(key, Compile(schema as never));
  }
  return compiled.get(key)!;
}

export function validateRoutingMetadata(provider: string, metadata: unknown): { version: number } {
  const version = (metadata as { version?: unknown })?.version;
  const check = typeof version === "number" ? validator(provider, version) : null;
  if (!check) {
    throw new ValidationError(`Routing metadata for ${provider} has no known version.`, [
      { field: "routing_metadata.version", problem: "is not a supported version" },
    ]);
  }
  if (!check.Check(metadata)) {
    const fields = [...check.Errors(metadata)].slice(0, 10).map((e: any) => ({
      field: `routing_metadata${e.instancePath.replace(/\//g, ".")}`,
      problem: e.message,
    }));
    throw new ValidationError(`Routing metadata for ${provider} v${version} is incomplete.`, fields);
  }
  return { version: version as number };
}
