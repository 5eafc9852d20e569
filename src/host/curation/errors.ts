import { ValidationError } from "../errors/domain-error.ts";

export interface RuleProblem {
  field: string;
  problem: string;
}

/** Every problem of a proposed rule list at once, so the admin fixes them in one go. */
export const invalidRules = (problems: RuleProblem[]) =>
  new ValidationError(
    problems.length === 1
      ? `The curation rule is not valid: ${problems[0].problem}.`
      : `${problems.length} curation rules are not valid; nothing was saved.`,
    problems,
  );
