import { randomUUID } from "node:crypto";
import type { SimRouter } from "./server.ts";

/**
 * Webhook delivery shared by the simulators (docs/simulators/webhooks.md): hooks registered through the
 * control API, each event POSTed over real HTTP with the provider's own signature headers and a delivery
 * id, retried on a non-2xx answer, a network failure or a receiver slower than the provider waits, in the
 * order the events happened, with faults on demand (duplicate, out of order, bad signature, slow receiver).
 */

export interface SimHook {
  id: string;
  url: string;
  secret: string;
  /** Events of this workspace only; null: every event (GitHub's App webhook, GitLab's system hook). */
  workspace_id: string | null;
  /** Which of its scope's events the hook hears (a provider's event flags); absent: all of them. */
  accepts?: (event: SimEvent) => boolean;
  /** Headers of this hook's deliveries on top of the signer's (GitLab names the hook kind in `X-Gitlab-Event`). */
  headers?: Record<string, string>;
}

/** What a provider emitter hands over: its event name, the JSON body, and which workspace it concerns. */
export interface SimEvent {
  workspace_id: string;
  event: string;
  body: unknown;
}

/** The provider's signature and delivery headers for one attempt (the same delivery id on every retry). */
export type HookSigner = (input: {
  raw: string;
  secret: string;
  deliveryId: string;
  event: string;
}) => Record<string, string>;

export type HookFaultKind = "duplicate" | "out_of_order" | "bad_signature" | "slow_receiver" | "latency";

export interface HookFault {
  kind: HookFaultKind;
  /** How many deliveries the fault applies to. */
  count: number;
  /** slow_receiver: how long the provider waits for an answer before it counts as failed (default 1 ms). */
  timeout_ms?: number;
  /** latency: how long the provider waits before sending. */
  latency_ms?: number;
}

export interface DeliveryRecord {
  delivery_id: string;
  hook_id: string;
  event: string;
  attempts: { status: number; error: string | null }[];
  outcome: "pending" | "delivered" | "failed";
}

interface Job {
  hook: SimHook;
  event: SimEvent;
  deliveryId: string;
  record: DeliveryRecord;
  badSignature: boolean;
  timeoutMs: number;
  latencyMs: number;
}

/** Retries after these delays (the providers wait minutes; the simulators compress it). */
const DEFAULT_RETRY_DELAYS_MS = [50, 200, 800];
/** GitHub and GitLab give a receiver 10 s before a delivery counts as failed. */
const DEFAULT_TIMEOUT_MS = 10_000;

export class WebhookHub {
  readonly hooks = new Map<string, SimHook>();
  readonly deliveries: DeliveryRecord[] = [];
  private readonly faults: HookFault[] = [];
  private readonly queue: Job[] = [];
  private held: Job | null = null;
  private draining: Promise<void> | null = null;
  private seq = 0;

  constructor(
    private readonly opts: {
      sign: HookSigner;
      /** The provider's delivery id format (GitHub: a GUID; GitLab: a UUID). */
      newDeliveryId?: () => string;
      retryDelaysMs?: number[];
    },
  ) {}

  register(input: Omit<SimHook, "id" | "workspace_id"> & { workspace_id?: string | null }): SimHook {
    const hook: SimHook = { ...input, id: String(++this.seq), workspace_id: input.workspace_id ?? null };
    this.hooks.set(hook.id, hook);
    return hook;
  }

  private takeFault(kind: HookFaultKind): HookFault | null {
    const i = this.faults.findIndex((f) => f.kind === kind);
    if (i < 0) return null;
    const f = this.faults[i];
    if (--f.count <= 0) this.faults.splice(i, 1);
    return f;
  }

  /** Queues one event for every hook that covers its workspace. */
  emit(event: SimEvent) {
    for (const hook of this.hooks.values()) {
      if (hook.workspace_id !== null && hook.workspace_id !== event.workspace_id) continue;
      if (hook.accepts && !hook.accepts(event)) continue;
      const deliveryId = this.opts.newDeliveryId?.() ?? randomUUID();
      const record: DeliveryRecord = {
        delivery_id: deliveryId,
        hook_id: hook.id,
        event: event.event,
        attempts: [],
        outcome: "pending",
      };
      this.deliveries.push(record);
      if (this.deliveries.length > 10_000) this.deliveries.splice(0, this.deliveries.length - 10_000);
      const slow = this.takeFault("slow_receiver");
      const job: Job = {
        hook,
        event,
        deliveryId,
        record,
        badSignature: Boolean(this.takeFault("bad_signature")),
        timeoutMs: slow ? (slow.timeout_ms ?? 1) : DEFAULT_TIMEOUT_MS,
        latencyMs: this.takeFault("latency")?.latency_ms ?? 0,
      };
      const duplicate = this.takeFault("duplicate");
      if (this.takeFault("out_of_order")) {
        // Held back until the next event has gone out.
        if (this.held) this.queue.push(this.held);
        this.held = job;
      } else {
        this.queue.push(job);
        if (this.held) {
          this.queue.push(this.held);
          this.held = null;
        }
      }
      if (duplicate) {
        const again: DeliveryRecord = { ...record, attempts: [] };
        this.deliveries.push(again);
        this.queue.push({ ...job, record: again });
      }
    }
    this.drain();
  }

  private drain() {
    if (this.draining || this.queue.length === 0) return;
    this.draining = (async () => {
      await Promise.resolve();
      try {
        while (this.queue.length > 0) await this.deliver(this.queue.shift() as Job);
      } finally {
        this.draining = null;
      }
    })();
  }

  private async attempt(job: Job): Promise<{ status: number; error: string | null }> {
    const raw = JSON.stringify(job.event.body);
    const secret = job.badSignature ? `${job.hook.secret}-not` : job.hook.secret;
    const headers = {
      "content-type": "application/json",
      ...this.opts.sign({ raw, secret, deliveryId: job.deliveryId, event: job.event.event }),
      ...job.hook.headers,
    };
    try {
      const res = await fetch(job.hook.url, {
        method: "POST",
        headers,
        body: raw,
        signal: AbortSignal.timeout(job.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      return { status: res.status, error: null };
    } catch (err) {
      return {
        status: 0,
        error: (err as Error).name === "TimeoutError" ? "timeout" : (err as Error).message,
      };
    }
  }

  private async deliver(job: Job) {
    if (job.latencyMs) await new Promise((r) => setTimeout(r, job.latencyMs));
    const delays = this.opts.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    for (let n = 0; ; n++) {
      const result = await this.attempt(job);
      job.record.attempts.push(result);
      if (result.status >= 200 && result.status < 300) {
        job.record.outcome = "delivered";
        return;
      }
      if (n >= delays.length) {
        job.record.outcome = "failed";
        return;
      }
      // A slow receiver gets the provider's usual patience on the retry.
      job.timeoutMs = DEFAULT_TIMEOUT_MS;
      await new Promise((r) => setTimeout(r, delays[n]));
    }
  }

  /** Resolves when every queued delivery (retries included) has ended. */
  async idle() {
    if (this.held) {
      this.queue.push(this.held);
      this.held = null;
      this.drain();
    }
    while (this.draining) await this.draining;
  }

  /**
   *   POST   /_sim/webhooks            {url, secret, workspace_id?} → the hook
   *   GET    /_sim/webhooks            hooks (no secrets) and the delivery log
   *   DELETE /_sim/webhooks/:id
   *   POST   /_sim/webhooks/faults     {kind, count, timeout_ms?, latency_ms?}
   *   POST   /_sim/webhooks/flush      waits until every delivery has ended; answers the log
   */
  mount(router: SimRouter) {
    const view = () => ({
      hooks: [...this.hooks.values()].map(({ secret: _s, accepts: _a, ...h }) => h),
      deliveries: this.deliveries,
    });
    router.on("POST", "/_sim/webhooks", (req) => {
      const b = req.body ?? {};
      if (typeof b.url !== "string" || typeof b.secret !== "string")
        return { status: 400, json: { error: "url and secret are required" } };
      const hook = this.register({ url: b.url, secret: b.secret, workspace_id: b.workspace_id ?? null });
      const { secret: _s, ...shown } = hook;
      return { status: 201, json: shown };
    });
    router.on("GET", "/_sim/webhooks", () => ({ json: view() }));
    router.on("DELETE", "/_sim/webhooks/:id", (req) =>
      this.hooks.delete(req.params.id) ? { status: 204 } : { status: 404, json: { error: "no such hook" } },
    );
    router.on("POST", "/_sim/webhooks/faults", (req) => {
      const f = req.body as HookFault;
      const kinds: HookFaultKind[] = [
        "duplicate",
        "out_of_order",
        "bad_signature",
        "slow_receiver",
        "latency",
      ];
      if (!f || !kinds.includes(f.kind) || typeof f.count !== "number" || f.count < 1)
        return {
          status: 400,
          json: { error: `fault needs a kind (${kinds.join(", ")}) and a positive count` },
        };
      this.faults.push({ ...f });
      return { status: 201, json: { queued: this.faults.length } };
    });
    router.on("POST", "/_sim/webhooks/flush", async () => {
      await this.idle();
      return { json: view() };
    });
  }
}
