/** The value of cookie `name` in a `Cookie` header or a `Set-Cookie` line, as the tests' user agent reads it. */
export function readCookie(header: string, name: string): string | undefined {
  const pair = header
    .split(";")
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${name}=`));
  return pair === undefined ? undefined : decodeURIComponent(pair.slice(name.length + 1));
}
