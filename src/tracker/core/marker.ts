/**
 * The hidden marker of an issue this service created. Every create the host makes for a work package
 * carries one (`IssueDraft.marker`), so when the provider's answer is lost (a timeout after the provider
 * may have created the issue) the host finds the issue by its marker (`TrackerAdapter.findByMarker`) and
 * adopts it instead of creating a second one.
 *
 * Markdown providers (GitHub, GitLab, Linear) keep it as an HTML comment at the end of the body, which
 * their Markdown renderers do not display; adapters remove it again when they read an issue, so pulls
 * show the body as written.
 */

export const markerComment = (marker: string) => `<!-- spec-kitty:${marker} -->`;

/** The body to send: the user's body (if any), then the marker on its own line. */
export function bodyWithMarker(body: string | null | undefined, marker: string | undefined) {
  if (!marker) return body ?? undefined;
  return body ? `${body}\n\n${markerComment(marker)}` : markerComment(marker);
}

const TRAILING_MARKER = /\s*<!-- spec-kitty:[^\n]*? -->\s*$/;

/** The body as the user wrote it: the marker removed (an issue whose body was only the marker has none). */
export function withoutMarker(body: string | null): string | null {
  if (body === null || !body.includes("<!-- spec-kitty:")) return body;
  const text = body.replace(TRAILING_MARKER, "");
  return text === "" ? null : text;
}

/** Whether a body as the provider stores it carries this marker. */
export const carriesMarker = (body: unknown, marker: string) =>
  typeof body === "string" && body.includes(markerComment(marker));
