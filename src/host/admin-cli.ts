import { join } from "node:path";
import { parseArgs } from "node:util";
import { openDatabase } from "../storage/database.ts";
import { createHttpClient } from "../tracker/index.ts";
import { loadConfig } from "./config.ts";
import { AppError } from "./http/errors.ts";
import { providerSettingsFromEnv } from "./installations/settings.ts";
import { createLogger } from "./logger.ts";
import { vaultFromConfig } from "./secrets/vault.ts";
import { createServices } from "./services.ts";

/**
 * Operator commands against the configured database (PGlite under DATA_DIR, or DATABASE_URL):
 *   npm run admin -- create-team --slug acme --name "Acme"
 *   npm run admin -- create-user --email admin@acme.test [--name N] [--password P]
 *   npm run admin -- add-member --team acme --email admin@acme.test --role admin
 *   npm run admin -- create-token --team acme --email admin@acme.test [--name N] [--expires-in-days D]
 *   npm run admin -- set-password --email admin@acme.test --password P
 */
const USAGE = `usage: npm run admin -- <create-team|create-user|add-member|create-token|set-password> [options]
  create-team   --slug S --name N
  create-user   --email E [--name N] [--password P]
  add-member    --team SLUG --email E --role admin|member
  create-token  --team SLUG --email E [--name N] [--expires-in-days D]
  set-password  --email E --password P`;

const [command, ...rest] = process.argv.slice(2);
const { values } = parseArgs({
  args: rest,
  options: {
    slug: { type: "string" },
    name: { type: "string" },
    email: { type: "string" },
    password: { type: "string" },
    team: { type: "string" },
    role: { type: "string" },
    "expires-in-days": { type: "string" },
  },
});

function need(key: keyof typeof values): string {
  const v = values[key];
  if (typeof v !== "string" || v === "") {
    console.error(`missing --${key}\n${USAGE}`);
    process.exit(2);
  }
  return v;
}

const config = loadConfig();
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
const services = createServices(database.db, {
  vault: vaultFromConfig({ keys: config.credentialsKeys, keyFile: join(config.dataDir, "credentials.key") }),
  settings: providerSettingsFromEnv(),
  http: createHttpClient(),
  logger: createLogger({ level: "warn" }),
  publicUrl: () => config.publicUrl ?? `http://${config.host}:${config.port}`,
});

try {
  switch (command) {
    case "create-team":
      console.log(
        JSON.stringify(await services.teams.createTeam({ slug: need("slug"), name: need("name") })),
      );
      break;
    case "create-user":
      console.log(
        JSON.stringify(
          await services.teams.createUser({
            email: need("email"),
            name: values.name,
            password: values.password,
          }),
        ),
      );
      break;
    case "add-member": {
      const role = need("role");
      if (role !== "admin" && role !== "member")
        throw new AppError(400, "validation_error", "--role must be admin or member");
      const m = await services.teams.addMember(need("team"), need("email"), role);
      console.log(JSON.stringify({ team: m.team.slug, email: m.user.email, role: m.role }));
      break;
    }
    case "create-token": {
      const team = await services.teams.repo.findTeamBySlugOrId(need("team"));
      const user = await services.teams.repo.findUserByEmail(need("email"));
      if (!team || !user || !(await services.teams.repo.roleOf(team.id, user.id))) {
        throw new AppError(404, "not_found", "No such team, user, or the user is not a member of the team.");
      }
      const days = values["expires-in-days"] ? Number(values["expires-in-days"]) : null;
      const created = await services.tokens.create({
        userId: user.id,
        name: values.name ?? "admin-cli",
        expiresAt: days ? new Date(Date.now() + days * 86_400_000) : null,
        teamId: team.id,
      });
      console.log(
        JSON.stringify({
          id: created.id,
          token: created.token,
          team: team.slug,
          expires_at: created.expires_at,
        }),
      );
      break;
    }
    case "set-password":
      await services.teams.setPassword(need("email"), need("password"));
      console.log(JSON.stringify({ ok: true }));
      break;
    default:
      console.error(USAGE);
      process.exitCode = 2;
  }
} catch (err) {
  console.error(err instanceof AppError ? `${err.code}: ${err.message}` : err);
  process.exitCode = 1;
} finally {
  await database.close();
}
