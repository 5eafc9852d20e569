import type { Domain } from "../domain.ts";
import { DomainError, ValidationError } from "../errors/domain-error.ts";

/** The domain services these commands call. */
export type OperatorDeps = Pick<Domain, "teams" | "tokens">;

/**
 * The operator commands of `npm run admin`, run over the domain services. The CLI runs them itself when
 * it opens the database, and a running service runs them for it over the operator channel: one
 * implementation, so the output is the same either way.
 */

export const OPTIONS = ["slug", "name", "email", "password", "team", "role", "expires-in-days"] as const;
export type OptionName = (typeof OPTIONS)[number];
export type CommandArgs = Partial<Record<OptionName, string>>;

const REQUIRED = {
  "create-team": ["slug", "name"],
  "create-user": ["email"],
  "add-member": ["team", "email", "role"],
  "create-token": ["team", "email"],
  "set-password": ["email", "password"],
} as const satisfies Record<string, readonly OptionName[]>;

export type CommandName = keyof typeof REQUIRED;

export function isCommand(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(REQUIRED, name);
}

/** The first required option the arguments lack, if any. */
export function missingOption(command: CommandName, args: CommandArgs): OptionName | undefined {
  return REQUIRED[command].find((o) => typeof args[o] !== "string" || args[o] === "");
}

/** Runs one command; what it returns is printed as JSON. Failures are domain errors. */
export async function runOperatorCommand(services: OperatorDeps, command: string, args: CommandArgs) {
  if (!isCommand(command)) throw new DomainError("unknown_command", `Unknown command ${command}.`);
  const missing = missingOption(command, args);
  if (missing)
    throw new ValidationError(`missing --${missing}`, [{ field: missing, problem: "is required" }]);
  const a = args as Required<CommandArgs>;
  switch (command) {
    case "create-team":
      return services.teams.createTeam({ slug: a.slug, name: a.name });
    case "create-user":
      return services.teams.createUser({ email: a.email, name: args.name, password: args.password });
    case "add-member": {
      if (a.role !== "admin" && a.role !== "member")
        throw new ValidationError("--role must be admin or member", [
          { field: "role", problem: "is invalid" },
        ]);
      const m = await services.teams.addMember(a.team, a.email, a.role);
      return { team: m.team.slug, email: m.user.email, role: m.role };
    }
    case "create-token":
      return createToken(services, a.team, a.email, args);
    case "set-password":
      await services.teams.setPassword(a.email, a.password);
      return { ok: true };
  }
}

async function createToken(services: OperatorDeps, teamRef: string, email: string, args: CommandArgs) {
  const team = await services.teams.findTeam(teamRef);
  const user = await services.teams.findUserByEmail(email);
  if (!team || !user || !(await services.teams.roleOf(team.id, user.id))) {
    throw new DomainError("not_found", "No such team, user, or the user is not a member of the team.");
  }
  const days = args["expires-in-days"] ? Number(args["expires-in-days"]) : null;
  if (days !== null && !(Number.isInteger(days) && days > 0))
    throw new ValidationError("--expires-in-days must be a whole number of days", [
      { field: "expires-in-days", problem: "is invalid" },
    ]);
  const created = await services.tokens.create({
    userId: user.id,
    name: args.name ?? "admin-cli",
    expiresAt: days ? new Date(Date.now() + days * 86_400_000) : null,
    teamId: team.id,
  });
  return { id: created.id, token: created.token, team: team.slug, expires_at: created.expires_at };
}
