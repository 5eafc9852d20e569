import { Type } from "typebox";
import { pageOf } from "../http/pagination.ts";

export const MeTeam = Type.Object({
  id: Type.String({ description: "Send this (or the slug) as `X-Team-Slug`." }),
  slug: Type.String(),
  name: Type.String(),
  role: Type.Union([Type.Literal("admin"), Type.Literal("member")]),
  is_private_teamspace: Type.Boolean(),
});

export const Me = Type.Object({
  user_id: Type.String({ description: "The account email (the CLI requires `user_id == email`)." }),
  email: Type.String(),
  name: Type.String(),
  teams: Type.Array(MeTeam),
});

export const CurrentTeam = Type.Object({
  id: Type.String(),
  slug: Type.String(),
  name: Type.String(),
  role: Type.Union([Type.Literal("admin"), Type.Literal("member")]),
});

export const Member = Type.Object({
  user_id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  role: Type.Union([Type.Literal("admin"), Type.Literal("member")]),
  joined_at: Type.String({ format: "date-time" }),
});

export const MemberPage = pageOf(Member);
