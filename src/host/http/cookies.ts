import type { CookieSerializeOptions } from "@fastify/cookie";
import type { FastifyReply } from "fastify";

/**
 * A cookie this service sets, named once with where it is sent and how long it lives; @fastify/cookie
 * writes the `Set-Cookie` header and parses `request.cookies`. Every one is HttpOnly (no script reads
 * it), SameSite=Lax (not sent on cross-site posts) and Secure.
 */
export interface BrowserCookie {
  name: string;
  path: string;
  /** Seconds it lives; absent: until the browser closes. */
  maxAgeSeconds?: number;
}

const attributes = (cookie: BrowserCookie, maxAge = cookie.maxAgeSeconds): CookieSerializeOptions => ({
  path: cookie.path,
  maxAge,
  httpOnly: true,
  sameSite: "lax",
  secure: true,
});

export function setBrowserCookie(reply: FastifyReply, cookie: BrowserCookie, value: string) {
  reply.setCookie(cookie.name, value, attributes(cookie));
}

/** Ends the cookie now: an empty value with Max-Age=0 on the same path (browsers key cookies by path). */
export function expireBrowserCookie(reply: FastifyReply, cookie: BrowserCookie) {
  reply.setCookie(cookie.name, "", attributes(cookie, 0));
}
