import { Compile } from "typebox/compile";
import { isProvider, providerModule } from "../../tracker/index.ts";
import { ValidationError } from "../errors/domain-error.ts";

/**
 * The persisted routing metadata contract, per provider and version: each provider's module owns the
 * schemas of what its adapter produces. Validated on every mapping write so a mapping can always
 * rebuild its connector params and labels without asking the provider.
 */
const compiled = new Map<string, ReturnType<typeof Compile>>();
function validator(provider: string, version: number) {
  const key = `${provider}@${version}`;
  if (!compiled.has(key)) {
    const schema = isProvider(provider) ? providerModule(provider).routing.schemas[version] : undefined;
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
