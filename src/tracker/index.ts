export * from "./core/adapter.ts";
export * from "./core/descriptor.ts";
export * from "./core/discovery.ts";
export * from "./core/errors.ts";
export * from "./core/guarded-fetch.ts";
export * from "./core/http.ts";
export * from "./core/oauth.ts";
export { GITHUB_USER_OAUTH, githubInstallUrl, userInstallations, userLogin } from "./github/user-auth.ts";
export { adapterFor } from "./registry.ts";
