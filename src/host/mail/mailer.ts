import type { Logger } from "pino";

/** One plain-text email. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

/**
 * Where the service's emails go (invitations today). Pluggable: the demo writes them to its log, tests
 * keep them in memory, and a deployment without a configured transport says that it sent nothing.
 */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

/**
 * The demo's mailer: the whole message, link included, goes to the log, because the log is the demo's
 * inbox. Never use it where the log is shared: an invite link lets whoever reads it join the team.
 */
export function logMailer(logger: Logger): Mailer {
  return {
    async send(message) {
      logger.info({ mail: message }, `email to ${message.to}: ${message.subject}`);
    },
  };
}

/** No transport configured (`npm start`): logs that nothing was sent, without the body (it holds the link). */
export function unsentMailer(logger: Logger): Mailer {
  return {
    async send(message) {
      logger.warn(
        { mail_to: message.to, mail_subject: message.subject },
        "no mailer is configured: the email was not sent; share the link the dashboard showed",
      );
    },
  };
}

/** Keeps every message in `sent` (tests read the invite link from it). */
export function memoryMailer(): Mailer & { sent: MailMessage[] } {
  const sent: MailMessage[] = [];
  return {
    sent,
    async send(message) {
      sent.push(message);
    },
  };
}
