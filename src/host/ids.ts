import { ulid } from "ulid";

/** Prefixed ULIDs: sortable, and the prefix says what an id names when it shows up in a log. */
export const newId = (
  prefix:
    | "team"
    | "usr"
    | "tok"
    | "aud"
    | "op"
    | "inst"
    | "res"
    | "pass"
    | "srm"
    | "prj"
    | "wpl"
    | "mol"
    | "cur"
    | "inv"
    | "fl"
    | "whd",
) => `${prefix}_${ulid()}`;
