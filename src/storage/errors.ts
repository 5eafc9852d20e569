/** A unique-constraint violation (SQLSTATE 23505), from either driver, optionally of one named index. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; cause?: { code?: string; constraint?: string } };
  const pg = e?.code === "23505" ? e : e?.cause?.code === "23505" ? e.cause : null;
  if (!pg) return false;
  return !constraint || pg.constraint === constraint;
}
