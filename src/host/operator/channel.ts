import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { isErrorCode } from "../errors/codes.ts";
import { DomainError } from "../errors/domain-error.ts";
import { type ErrorEnvelope, toEnvelope } from "../errors/envelope.ts";
import { toApiRefusal } from "../http/error-handler.ts";
import { type CommandArgs, OPTIONS, type OperatorDeps, runOperatorCommand } from "./commands.ts";

/**
 * The operator channel: how `npm run admin` reaches the service that owns an embedded data directory
 * (it may not open the directory itself). HTTP on a loopback ephemeral port, separate from the public
 * listener so HOST=0.0.0.0 never exposes it; each request carries a random secret that only the lock
 * file (mode 0600, in the data directory) holds. `POST /commands/<name>` with `{"args": {...}}`
 * answers `{"result": ...}` or the error envelope.
 */

export interface OperatorAddress {
  url: string;
  secret: string;
}

export interface OperatorChannel {
  address: OperatorAddress;
  close(): Promise<void>;
}

const BODY_LIMIT = 64 * 1024;

export async function startOperatorChannel(
  services: OperatorDeps,
  logger: Logger,
  /** Takes a backup of the database this service holds (`POST /backup`: the file's bytes). */
  backup?: () => Promise<Buffer>,
): Promise<OperatorChannel> {
  const secret = randomBytes(32).toString("base64url");
  const expected = digest(`Bearer ${secret}`);
  const server = createServer((req, res) => {
    answer(req, res, expected, services, logger, backup).catch((err) => {
      const { status, error } = toApiRefusal(err);
      if (status >= 500) logger.error({ err }, "operator command failed");
      if (!res.headersSent) send(res, status, toEnvelope(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: { url: `http://127.0.0.1:${port}`, secret },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

async function answer(
  req: IncomingMessage,
  res: ServerResponse,
  expected: Buffer,
  services: OperatorDeps,
  logger: Logger,
  backup: (() => Promise<Buffer>) | undefined,
) {
  const auth = digest(req.headers.authorization ?? "");
  if (!timingSafeEqual(auth, expected))
    return send(res, 401, toEnvelope(new DomainError("unauthorized", "Wrong operator secret.")));
  if (req.method === "POST" && req.url === "/backup" && backup) {
    logger.info({ operator_command: "backup" }, "operator command");
    const file = await backup();
    res.writeHead(200, {
      "content-type": "application/octet-stream",
      "content-length": file.length,
      "cache-control": "no-store",
      connection: "close",
    });
    res.end(file);
    return;
  }
  const command = /^\/commands\/([a-z-]+)$/.exec(req.url ?? "")?.[1];
  if (req.method !== "POST" || !command)
    return send(res, 404, toEnvelope(new DomainError("not_found", "POST /commands/<name>.")));
  const args = argsOf(await readBody(req));
  logger.info({ operator_command: command }, "operator command");
  send(res, 200, { result: await runOperatorCommand(services, command, args) });
}

/** Only the known options, as strings: nothing else reaches the domain services. */
function argsOf(body: unknown): CommandArgs {
  const given = (body as { args?: Record<string, unknown> } | null)?.args ?? {};
  const args: CommandArgs = {};
  for (const o of OPTIONS) if (typeof given[o] === "string") args[o] = given[o] as string;
  return args;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) throw new DomainError("payload_too_large", "The command is too large.");
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  } catch {
    throw new DomainError("invalid_json", "The body is not valid JSON.");
  }
}

function send(res: ServerResponse, status: number, body: unknown) {
  // One command per connection: nothing idles open to hold up a shutdown.
  res.writeHead(status, {
    "content-type": "application/json",
    "cache-control": "no-store",
    connection: "close",
  });
  res.end(JSON.stringify(body));
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** What the service answered, or `unreachable` when the command was never delivered (safe to run elsewhere). */
export type OperatorAnswer =
  | { ok: true; result: unknown }
  | { ok: false; error: DomainError }
  | "unreachable";

export async function sendOperatorCommand(
  address: OperatorAddress,
  command: string,
  args: CommandArgs,
): Promise<OperatorAnswer> {
  let res: Response;
  try {
    res = await fetch(`${address.url}/commands/${command}`, {
      method: "POST",
      headers: { authorization: `Bearer ${address.secret}`, "content-type": "application/json" },
      body: JSON.stringify({ args }),
    });
  } catch (err) {
    if ((err as { cause?: { code?: string } }).cause?.code === "ECONNREFUSED") return "unreachable";
    throw new DomainError(
      "operator_channel_failed",
      "The running service did not answer; the command may or may not have run.",
      {
        effectCertainty: "unknown",
      },
    );
  }
  const body = (await res.json()) as { result?: unknown } & Partial<ErrorEnvelope>;
  if (res.ok) return { ok: true, result: body.result };
  // The service's own code, so the admin command prints what the service said.
  const code = body.error_code && isErrorCode(body.error_code) ? body.error_code : "internal_error";
  const error = new DomainError(code, body.message ?? res.statusText);
  return { ok: false, error };
}

/** Asks the service holding the data directory for a backup: its bytes, or `unreachable`. */
export async function requestOperatorBackup(address: OperatorAddress): Promise<Buffer | "unreachable"> {
  let res: Response;
  try {
    res = await fetch(`${address.url}/backup`, {
      method: "POST",
      headers: { authorization: `Bearer ${address.secret}` },
    });
  } catch (err) {
    if ((err as { cause?: { code?: string } }).cause?.code === "ECONNREFUSED") return "unreachable";
    throw new DomainError(
      "operator_channel_failed",
      "The running service did not answer the backup request.",
    );
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as Partial<ErrorEnvelope>;
    const code = body.error_code && isErrorCode(body.error_code) ? body.error_code : "internal_error";
    throw new DomainError(code, body.message ?? res.statusText);
  }
  return Buffer.from(await res.arrayBuffer());
}
