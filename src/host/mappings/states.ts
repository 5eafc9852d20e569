/** What an admin can set a mapping to; the API's change body and the stored column take these. */
export const SETTABLE_MAPPING_STATES = ["active", "disabled"] as const;

/** A mapping's own state: the settable ones, or `deleted` (its binding_ref is never reused). */
export const MAPPING_STATES = [...SETTABLE_MAPPING_STATES, "deleted"] as const;

export type MappingState = (typeof MAPPING_STATES)[number];
