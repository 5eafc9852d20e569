import type { Services } from "../app/compose.ts";
import type { ProviderSimulator, SimProvider } from "../simulators/index.ts";
import { connectSimulated } from "./simulated.ts";

export interface DemoSeed {
  team_slug: string;
  team_id: string;
  api_token: string;
  admin: { email: string; password: string };
}

const TEAM = { slug: "acme", name: "Acme" };
const ADMIN_EMAIL = "admin@acme.test";

/**
 * Seeds team `acme` with an admin and an API token. Idempotent: existing rows are kept, and an
 * existing token is reused when it still authenticates (only its hash is stored, so the plaintext
 * comes from the previous demo.json or DEMO_API_TOKEN).
 */
export async function seedDemo(
  services: Services,
  opts: { apiToken?: string; previous?: Partial<DemoSeed> | null; password: string },
): Promise<DemoSeed> {
  const team = (await services.teams.findTeam(TEAM.slug)) ?? (await services.teams.createTeam(TEAM));
  let admin = await services.teams.findUserByEmail(ADMIN_EMAIL);
  let password = opts.previous?.admin?.password ?? opts.password;
  if (!admin) {
    await services.teams.createUser({ email: ADMIN_EMAIL, name: "Acme Admin", password });
    admin = (await services.teams.findUserByEmail(ADMIN_EMAIL))!;
  } else if (!opts.previous?.admin?.password) {
    password = opts.password;
    await services.teams.setPassword(ADMIN_EMAIL, password);
  }
  await services.teams.setMembership(team.id, admin.id, "admin");

  const wanted = opts.apiToken ?? opts.previous?.api_token;
  let apiToken: string | null = null;
  if (
    wanted &&
    (await services.tokens.authenticate(wanted).then(
      () => true,
      () => false,
    ))
  )
    apiToken = wanted;
  if (!apiToken) {
    const created = await services.tokens.create({
      userId: admin.id,
      name: "demo",
      plaintext: opts.apiToken,
      teamId: team.id,
    });
    apiToken = created.token;
  }
  return {
    team_slug: team.slug,
    team_id: team.id,
    api_token: apiToken,
    admin: { email: ADMIN_EMAIL, password },
  };
}

/**
 * Connects team `acme` to each simulator's default workspace (once: a re-run keeps the existing
 * installations) and waits for each first inventory sync.
 */
export async function connectDemoInstallations(
  services: Services,
  seed: DemoSeed,
  sims: Record<SimProvider, ProviderSimulator>,
  /** The service's GitHub connect callback, registered with the simulated App. */
  callbackUrl: string,
): Promise<Record<string, { installation_id: string; resources: number }>> {
  const admin = (await services.teams.findUserByEmail(seed.admin.email))!;
  const auth = {
    user: { id: admin.id, email: admin.email, name: admin.name ?? admin.email },
    team: { id: seed.team_id, slug: seed.team_slug, name: "Acme" },
    role: "admin" as const,
    tokenId: "demo-seed",
  };
  const out: Record<string, { installation_id: string; resources: number }> = {};
  for (const sim of Object.values(sims)) {
    const [existing] = await services.installations.listForTeam(seed.team_id, sim.provider);
    // Connecting queues the first sync; an installation kept from an earlier run is synced again.
    const { installation, refresh } = existing
      ? {
          installation: existing,
          refresh: (await services.inventory.requestRefresh(seed.team_id, existing.id, admin.id)).job,
        }
      : await connectSimulated(services, auth, sim, callbackUrl);
    await services.jobs.waitFor(refresh.id);
    const fresh = await services.installations.byId(installation.id);
    out[sim.provider] = { installation_id: installation.id, resources: fresh?.resourceCount ?? 0 };
  }
  return out;
}
