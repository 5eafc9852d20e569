import { Type } from "typebox";
import { pageOf } from "../http/pagination.ts";
import { documented } from "../http/schemas.ts";

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
documented(Me, {
  description: "The caller and the teams they belong to, with their role in each.",
  examples: [
    {
      user_id: "admin@acme.test",
      email: "admin@acme.test",
      name: "Acme Admin",
      teams: [
        {
          id: "team_01JF3Q6M8N0P2Q4R6S8T0V2W4X",
          slug: "acme",
          name: "Acme",
          role: "admin",
          is_private_teamspace: false,
        },
      ],
    },
  ],
});

export const CurrentTeam = Type.Object({
  id: Type.String(),
  slug: Type.String(),
  name: Type.String(),
  role: Type.Union([Type.Literal("admin"), Type.Literal("member")]),
});
documented(CurrentTeam, {
  description: "The team `X-Team-Slug` names, and the caller's role in it.",
  examples: [{ id: "team_01JF3Q6M8N0P2Q4R6S8T0V2W4X", slug: "acme", name: "Acme", role: "admin" }],
});

export const Member = Type.Object({
  user_id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  role: Type.Union([Type.Literal("admin"), Type.Literal("member")]),
  joined_at: Type.String({ format: "date-time" }),
});
documented(Member, {
  description: "A member of the team and their role.",
  examples: [
    {
      user_id: "usr_01JF3Q7A2B4C6D8E0F2G4H6J8K",
      email: "ada@acme.test",
      name: "Ada",
      role: "member",
      joined_at: "2026-11-30T09:15:00.000Z",
    },
  ],
});

export const MemberPage = pageOf(Member);
