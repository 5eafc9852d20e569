import { existsSync } from "node:fs";
import { type Browser, type BrowserContext, chromium } from "playwright-core";

/** Debian's Chromium, driven by playwright-core (no bundled browser download). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Whether the browser tests can run. Under CI a missing Chromium fails the suite loudly instead of
 * skipping it; elsewhere the tests are skipped with a warning.
 */
export function chromiumAvailable(tests: string): boolean {
  const have = existsSync(CHROMIUM);
  if (!have && process.env.CI)
    throw new Error(`Chromium is required under CI for ${tests} (${CHROMIUM} is missing).`);
  if (!have) console.warn(`${tests} skipped: ${CHROMIUM} not found (apt-get install chromium)`);
  return have;
}

/** A headless Chromium quiet enough for tests: no sandbox, GPU, background traffic or first-run UI. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/**
 * Collects what a user would see go wrong in the console: errors (CSP violations included, which
 * Chromium reports as console errors) and uncaught page exceptions. Tests assert the list stays empty.
 */
export function consoleProblems(context: BrowserContext): string[] {
  const problems: string[] = [];
  context.on("console", (msg) => {
    if (msg.type() !== "error") return;
    // A page answered with 4xx (a form shown again with its errors) is what the user reads, not a
    // failure behind their back; failed subresources and everything else count.
    const own =
      msg.location().url === msg.page()?.url() &&
      /^Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text());
    if (!own) problems.push(`${msg.location().url}: ${msg.text()}`);
  });
  context.on("weberror", (err) => problems.push(`uncaught: ${err.error().message}`));
  return problems;
}
