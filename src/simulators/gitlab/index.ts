import { STATUS_CODES } from "node:http";
import { SimRouter, startSimServer } from "../core/server.ts";
import { mountControlApi, type SeedFile, SimStore } from "../core/store.ts";
import { type ProviderSimulator, providerSimulator, type SimulatorOptions } from "../core/types.ts";
import { mountApi, Throttle } from "./api.ts";
import { mountOAuth } from "./oauth.ts";
import { gitlabWebhooks } from "./webhooks.ts";
import { type GitlabSeedExtras, GitlabWorld } from "./world.ts";

/**
 * A GitLab instance (gitlab.com or self-managed) for tests and the demo: REST v4 under `/api/v4`, the
 * OAuth provider under `/oauth`, and the uniform `/_sim/` control API. See docs/simulators/gitlab.md.
 */

const slugify = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^-+|-+$/g, "") || "project";

/** Injected faults look like GitLab: Grape's `{"message": "<status> <reason>"}`, Rack::Attack's text for 429. */
function faultBody(status: number): unknown {
  if (status === 429) return "Retry later\n";
  return { message: `${status} ${STATUS_CODES[status] ?? "Error"}` };
}

export async function startGitlabSimulator(opts: SimulatorOptions = {}): Promise<ProviderSimulator> {
  const seed = SimStore.readSeed(opts.seedFile ?? new URL("./seed.json", import.meta.url)) as SeedFile &
    GitlabSeedExtras;
  // Project, group and issue ids are separate numeric sequences on GitLab.
  const store = new SimStore({
    generatedPrefix: opts.generatedPrefix,
    newResourceId: (seq) => String(48_000 + seq),
    newIssueId: (seq) => String(910_000 + seq),
    resourceType: "project",
    defaultPath: (ws, name) => `${ws.slug}/${slugify(name)}`,
  });
  store.seed(seed, opts.generatedResources);

  const world = new GitlabWorld(store, seed);
  const throttle = new Throttle();
  const router = new SimRouter();
  mountControlApi(router, store);
  const { hub } = gitlabWebhooks(store, () => world.baseUrl);
  hub.mount(router);
  router.on("POST", "/_sim/gitlab/rate-limit", (req) => {
    const limit = Number(req.body?.limit);
    const windowSeconds = Number(req.body?.window_seconds ?? 60);
    if (!(limit > 0) || !(windowSeconds > 0))
      return { status: 400, json: { error: "limit and window_seconds > 0" } };
    throttle.reset(limit, windowSeconds);
    return { json: { limit, window_seconds: windowSeconds } };
  });
  router.on("PUT", "/_sim/gitlab/limits", (req) => {
    const max = Number(req.body?.max_offset);
    if (!(max > 0)) return { status: 400, json: { error: "max_offset > 0" } };
    world.maxProjectOffset = max;
    return { json: { max_offset: max } };
  });
  // A user's instance role and group roles (who may manage system and group hooks).
  router.on("PATCH", "/_sim/gitlab/users/:username", (req) => {
    const user = world.users.find((u) => u.username === req.params.username);
    if (!user) return { status: 404, json: { error: "no such user" } };
    const b = req.body ?? {};
    if (b.admin !== undefined) user.admin = b.admin === true;
    if (b.access && typeof b.access === "object") user.access = { ...user.access, ...b.access };
    return { json: { username: user.username, admin: user.admin === true, access: user.access ?? {} } };
  });
  mountOAuth(router, store, world);
  mountApi(router, store, world, throttle, hub);

  const sim = await startSimServer({ name: "gitlab", router, port: opts.port, faultBody });
  world.baseUrl = sim.url;

  const adminPat = seed.credentials?.find((c) => c.kind === "pat") ?? seed.credentials?.[0];
  const patOf = (username: string) =>
    seed.credentials?.find((c) => c.kind === "pat" && c.meta?.user === username)?.token ?? "";
  const firstWorkspace = [...store.workspaces.keys()][0] ?? "";
  const app = seed.oauth_apps?.[0];
  return providerSimulator("gitlab", sim, store, {
    url: sim.url,
    token: adminPat?.token ?? "",
    // Who may register hooks: an instance administrator (system hooks) and acme's Owner (group hooks).
    admin_token: patOf("root"),
    owner_token: patOf("olivia"),
    group_id: firstWorkspace,
    oauth_client_id: app?.client_id ?? "",
    oauth_client_secret: app?.client_secret ?? "",
  });
}
