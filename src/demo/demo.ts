import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { shutdownOnSignals, startService, takeDataDir } from "../app/start.ts";
import { loadConfig } from "../host/config.ts";
import { createLogger } from "../host/logger.ts";
import { logMailer } from "../host/mail/mailer.ts";
import { startAllSimulators } from "../simulators/index.ts";
import { DataDirInUseError } from "../storage/data-dir-lock.ts";
import { connectDemoInstallations, type DemoSeed, seedDemo } from "./seed.ts";
import { providerSettingsFor, simulatorOrigins } from "./simulated.ts";

/**
 * `npm run demo`: the whole product on the embedded default. Service on PGlite in DATA_DIR, the
 * provider simulators on loopback, team `acme` seeded, and demo.json written for people and scripts.
 */
const env = process.env;
const config = loadConfig({ ...env, DATA_DIR: env.DATA_DIR ?? ".data/demo" });
const dataDir = resolve(config.dataDir);
mkdirSync(dataDir, { recursive: true });
const logger = createLogger({ level: config.logLevel });
const shutdown = shutdownOnSignals(logger);
// DATA_DIR is taken before anything starts: a second demo on it is refused before its simulators' ports clash.
const lock = config.databaseUrl ? undefined : takeDemoDir();
const demoFile = join(dataDir, "demo.json");
const previous: (Partial<DemoSeed> & { simulators?: Record<string, string> }) | null = existsSync(demoFile)
  ? JSON.parse(readFileSync(demoFile, "utf8"))
  : null;

// Fixed simulator ports keep URLs stored by an earlier run valid.
const simBase = Number(env.SIM_PORT_BASE ?? config.port + 100);
const sims = await startAllSimulators({
  ports: {
    github: simBase + 1,
    gitlab: simBase + 2,
    jira: simBase + 3,
    linear: simBase + 4,
    azure_devops: simBase + 5,
  },
});
// The simulators are on loopback, which the outbound URL policy refuses unless allowed.
const outbound = {
  ...config.outbound,
  allow: [...(config.outbound.allow ?? []), ...simulatorOrigins(Object.values(sims.simulators))],
};
const service = await startService({ ...config, outbound }, logger, providerSettingsFor(sims.simulators), {
  lock,
  program: "npm run demo",
  // The demo has no mail server: invitation emails, links included, go to this log.
  mailer: logMailer(logger),
});
const seed = await seedDemo(service.services, {
  apiToken: env.DEMO_API_TOKEN || undefined,
  previous,
  password: randomBytes(9).toString("base64url"),
});

// The simulated GitHub App sends installs back to this service's callback, as a registered App would.
const installations = await connectDemoInstallations(
  service.services,
  seed,
  sims.simulators,
  `${service.baseUrl}/api/v1/installations/callback/github/`,
);
const simulators = Object.fromEntries(Object.entries(sims.simulators).map(([p, s]) => [p, s.url]));
const demo = {
  base_url: service.baseUrl,
  team_slug: seed.team_slug,
  api_token: seed.api_token,
  admin: seed.admin,
  simulators,
  installations,
};
writeFileSync(demoFile, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });

console.log(`
Spec Kitty tracker control plane (demo) is running.
  Dashboard:  ${service.baseUrl}/dashboard/   (sign in as the admin below)
  API:        ${service.baseUrl}/api/v1/   (docs: ${service.baseUrl}/api/docs)
  Team:       ${seed.team_slug}
  Admin:      ${seed.admin.email} (password in ${demoFile})
  API token:  stored in ${demoFile}
  Try:        curl -H "Authorization: Bearer $(node -p 'require("${demoFile}").api_token')" -H "X-Team-Slug: acme" ${service.baseUrl}/api/v1/team/
  Installations (synced from the simulators):
${Object.entries(installations)
  .map(
    ([p, i]) =>
      `    ${p.padEnd(13)} ${i.installation_id}  ${i.resources} resources  (simulator ${simulators[p]})`,
  )
  .join("\n")}
Press Ctrl+C to stop. Data is kept in ${dataDir}.`);

// Registered once setup is done: a Ctrl+C during seeding waits for it instead of closing PGlite under it.
shutdown.stopWith(async () => {
  await service.close();
  await sims.close();
});

function takeDemoDir() {
  try {
    return takeDataDir(dataDir, "npm run demo", logger);
  } catch (err) {
    if (!(err instanceof DataDirInUseError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}
