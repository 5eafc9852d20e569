/**
 * Counts attempts per key (an email, a user, a client IP) in fixed windows, in this process: a guard
 * against guessing and flooding, not a quota. With several app processes each counts on its own, so the
 * effective bound is the limit times the number of processes — still far below what guessing needs.
 */
export function attemptLimit(opts: { max: number; windowMs: number; maxKeys?: number }) {
  const counts = new Map<string, { count: number; since: number }>();
  const current = (key: string, now: number) => {
    const c = counts.get(key);
    return c && now - c.since <= opts.windowMs ? c : undefined;
  };
  return {
    /** Whether `key` used up its attempts for the current window. */
    exhausted(key: string, now = Date.now()): boolean {
      return (current(key, now)?.count ?? 0) >= opts.max;
    },
    /** Seconds until `key`'s window ends (when the attempts come back). */
    retryAfterSeconds(key: string, now = Date.now()): number {
      const c = current(key, now);
      return c ? Math.max(1, Math.ceil((c.since + opts.windowMs - now) / 1000)) : 0;
    },
    /** A success: the key starts over. */
    forget(key: string) {
      counts.delete(key);
    },
    note(key: string, now = Date.now()) {
      const c = current(key, now);
      if (c) c.count++;
      else {
        // Bounded memory under a flood of distinct keys: forgetting is the safe failure here.
        if (counts.size >= (opts.maxKeys ?? 10_000)) counts.clear();
        counts.set(key, { count: 1, since: now });
      }
    },
  };
}

export type AttemptLimit = ReturnType<typeof attemptLimit>;
