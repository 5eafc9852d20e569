import type { resources } from "../../storage/schema.ts";

/**
 * A discovered resource as stored. Its own module so that features below inventory (mappings binds a
 * resource) can name it without importing the inventory service, which calls them.
 */
export type ResourceRow = typeof resources.$inferSelect;
