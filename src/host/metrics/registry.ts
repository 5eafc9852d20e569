import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * The service's Prometheus metrics, one registry per process (per app in tests, so two apps in one
 * process never share counters). Every name starts with `skt_`. Features record through the small
 * methods below; the scrape listener (listener.ts) serves `registry`.
 *
 * Labels are bounded: a route is Fastify's pattern (`/api/v1/installations/:id/`), never the raw URL;
 * a provider is a registry id; a job kind is a registered kind. Nothing tenant-specific is a label.
 */

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What the tracker HTTP client reports per attempt (see `createHttpClient`'s `onAttempt`). */
export interface ProviderAttempt {
  provider: string;
  method: string;
  status: number | null;
  durationMs?: number;
}

/** A wait the tracker HTTP client makes before repeating a call (`onWait`). */
export interface ProviderWait {
  provider: string;
  ms: number;
  reason: "rate_limit" | "backoff";
}

/** Reads done at scrape time: the queue and the inventory live in the database, shared by every process. */
export interface MetricSources {
  queue(): Promise<
    {
      kind: string;
      pending: number;
      due: number;
      running: number;
      dead_last_24h: number;
      oldest_due_age_seconds: number;
    }[]
  >;
  inventorySize(): Promise<{ provider: string; resources: number }[]>;
}

export function createMetrics() {
  const registry = new Registry();
  const registers = [registry];
  let sources: MetricSources | null = null;
  let defaults = false;

  const httpRequests = new Counter({
    name: "skt_http_requests_total",
    help: "HTTP requests answered, by method, route pattern and status.",
    labelNames: ["method", "route", "status"] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: "skt_http_request_duration_seconds",
    help: "Time to answer an HTTP request, by method, route pattern and status.",
    labelNames: ["method", "route", "status"] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const providerRequests = new Counter({
    name: "skt_provider_requests_total",
    help: "Calls to provider APIs (each attempt), by provider, method and status (`network` when no answer came).",
    labelNames: ["provider", "method", "status"] as const,
    registers,
  });
  const providerDuration = new Histogram({
    name: "skt_provider_request_duration_seconds",
    help: "Time of one provider API attempt, by provider and status.",
    labelNames: ["provider", "status"] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const providerWaits = new Counter({
    name: "skt_provider_waits_total",
    help: "Waits before repeating a provider call: `rate_limit` (the provider said when) or `backoff`.",
    labelNames: ["provider", "reason"] as const,
    registers,
  });
  const providerWaitSeconds = new Counter({
    name: "skt_provider_wait_seconds_total",
    help: "Seconds spent waiting before repeating provider calls, by provider and reason.",
    labelNames: ["provider", "reason"] as const,
    registers,
  });
  const jobRetries = new Counter({
    name: "skt_job_retries_total",
    help: "Job attempts that failed retryably and were queued again (this process).",
    labelNames: ["kind"] as const,
    registers,
  });
  const jobsDead = new Counter({
    name: "skt_jobs_dead_total",
    help: "Jobs given up as dead after their last attempt (this process saw them die).",
    labelNames: ["kind"] as const,
    registers,
  });
  const jobsReleased = new Counter({
    name: "skt_jobs_released_total",
    help: "Running jobs handed back to the queue at shutdown, for another process to run at once.",
    labelNames: ["kind"] as const,
    registers,
  });
  const snapshotBuilds = new Counter({
    name: "skt_inventory_snapshot_builds_total",
    help: "Bindable snapshot builds: `inventory` re-read the resources, `patch` only the changed ones, `bindings` only the mappings.",
    labelNames: ["part"] as const,
    registers,
  });
  const snapshotLookups = new Counter({
    name: "skt_inventory_snapshot_lookups_total",
    help: "Reads that may be answered from indexed SQL (bind-resolve, tracker/resources/): `kept` found the team's snapshot in memory (or admitted it), `cold` did not.",
    labelNames: ["answer"] as const,
    registers,
  });
  const snapshotCacheBytes = new Gauge({
    name: "skt_inventory_snapshot_cache_bytes",
    help: "Estimated memory of this process's kept snapshots (bounded by SNAPSHOT_CACHE_MB).",
    registers,
  });
  const snapshotCacheTeams = new Gauge({
    name: "skt_inventory_snapshot_cache_teams",
    help: "Team and provider snapshots this process keeps in memory.",
    registers,
  });
  const webhookDeliveries = new Counter({
    name: "skt_webhook_deliveries_total",
    help: "Provider webhook deliveries received, by provider and outcome.",
    labelNames: ["provider", "outcome"] as const,
    registers,
  });
  const webhookSignatureFailures = new Counter({
    name: "skt_webhook_signature_failures_total",
    help: "Provider webhook deliveries refused for a missing or wrong signature.",
    labelNames: ["provider"] as const,
    registers,
  });

  // The queue is read once per scrape, whichever of its gauges asks first: a new scrape (`scrape()`)
  // always reads it afresh, so a job that ended just after the last scrape is never shown running.
  let scrapes = 0;
  let queueRead: { scrape: number; at: number; rows: ReturnType<MetricSources["queue"]> } | null = null;
  const queue = () => {
    if (!sources) return Promise.resolve([]);
    if (!queueRead || queueRead.scrape !== scrapes || Date.now() - queueRead.at > 1_000)
      queueRead = { scrape: scrapes, at: Date.now(), rows: sources.queue() };
    return queueRead.rows;
  };
  const queueGauge = (
    name: string,
    help: string,
    pick: (row: Awaited<ReturnType<MetricSources["queue"]>>[number]) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ["kind"] as const,
      registers,
      async collect() {
        const rows = await queue();
        this.reset();
        for (const row of rows) this.set({ kind: row.kind }, pick(row));
      },
    });
  queueGauge("skt_jobs_pending", "Jobs waiting in the queue (all processes), by kind.", (r) => r.pending);
  queueGauge(
    "skt_jobs_due",
    "Pending jobs whose time has come (the rest wait for a retry's backoff).",
    (r) => r.due,
  );
  queueGauge("skt_jobs_running", "Jobs being run by some process, by kind.", (r) => r.running);
  queueGauge(
    "skt_jobs_oldest_due_age_seconds",
    "Seconds the oldest due job has waited for a worker, by kind (0: none waiting).",
    (r) => r.oldest_due_age_seconds,
  );
  queueGauge(
    "skt_jobs_dead_last_24h",
    "Jobs that ended dead in the last 24 hours, by kind.",
    (r) => r.dead_last_24h,
  );
  new Gauge({
    name: "skt_inventory_resources",
    help: "Discovered resources in the inventory (every team), by provider.",
    labelNames: ["provider"] as const,
    registers,
    async collect() {
      const rows = sources ? await sources.inventorySize() : [];
      this.reset();
      for (const row of rows) this.set({ provider: row.provider }, row.resources);
    },
  });

  const statusLabel = (status: number | null) => (status === null ? "network" : String(status));

  return {
    registry,

    /** One scrape's text: every database-backed gauge read afresh, once. */
    scrape() {
      scrapes++;
      return registry.metrics();
    },

    /** Where the database-backed gauges read from (set once the services exist). */
    readFrom(s: MetricSources) {
      sources = s;
    },

    /** Adds the process metrics (CPU, memory, event loop lag, handles): once, when a listener serves them. */
    withProcessMetrics() {
      if (defaults) return;
      defaults = true;
      collectDefaultMetrics({ register: registry, prefix: "skt_" });
    },

    http: {
      answered(method: string, route: string, status: number, seconds: number) {
        const labels = { method, route, status: String(status) };
        httpRequests.inc(labels);
        httpDuration.observe(labels, seconds);
      },
    },

    provider: {
      attempt(a: ProviderAttempt) {
        const status = statusLabel(a.status);
        providerRequests.inc({ provider: a.provider, method: a.method, status });
        if (a.durationMs !== undefined)
          providerDuration.observe({ provider: a.provider, status }, a.durationMs / 1000);
      },
      wait(w: ProviderWait) {
        providerWaits.inc({ provider: w.provider, reason: w.reason });
        providerWaitSeconds.inc({ provider: w.provider, reason: w.reason }, w.ms / 1000);
      },
    },

    jobs: {
      retried: (kind: string) => jobRetries.inc({ kind }),
      died: (kind: string) => jobsDead.inc({ kind }),
      released: (kind: string) => jobsReleased.inc({ kind }),
    },

    inventory: {
      snapshotBuilt: (part: "inventory" | "patch" | "bindings") => snapshotBuilds.inc({ part }),
      snapshotLookup: (answer: "kept" | "cold") => snapshotLookups.inc({ answer }),
      snapshotCache: (bytes: number, teams: number) => {
        snapshotCacheBytes.set(bytes);
        snapshotCacheTeams.set(teams);
      },
    },

    /** Registered now so dashboards and alerts can name them; the webhook receiver records into them. */
    webhooks: {
      delivered: (provider: string, outcome: string) => webhookDeliveries.inc({ provider, outcome }),
      signatureFailed: (provider: string) => webhookSignatureFailures.inc({ provider }),
    },

    /**
     * A named counter of this registry for a feature that needs one more (`skt_` is prefixed); the
     * same name returns the same counter.
     */
    counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []) {
      const full = `skt_${name}`;
      const existing = registry.getSingleMetric(full);
      if (existing) return existing as Counter<L>;
      return new Counter<L>({ name: full, help, labelNames, registers });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
