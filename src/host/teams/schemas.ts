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

const RoleSchema = Type.Union([Type.Literal("admin"), Type.Literal("member")]);

export const MemberParams = Type.Object({ user_id: Type.String({ maxLength: 64 }) });

export const SetRoleBody = Type.Object({ role: RoleSchema }, { additionalProperties: false });
documented(SetRoleBody, { examples: [{ role: "admin" }] });

export const ChangedMember = Type.Object({
  user_id: Type.String(),
  email: Type.String(),
  role: RoleSchema,
  changed: Type.Boolean({ description: "False when the member already had this role." }),
});

export const RemovedMember = Type.Object({
  user_id: Type.String(),
  email: Type.String(),
  removed: Type.Literal(true),
});

export const Invitation = Type.Object({
  id: Type.String(),
  email: Type.String(),
  role: RoleSchema,
  status: Type.Union([
    Type.Literal("pending"),
    Type.Literal("expired"),
    Type.Literal("accepted"),
    Type.Literal("revoked"),
  ]),
  created_at: Type.String({ format: "date-time" }),
  expires_at: Type.String({ format: "date-time" }),
});

export const OpenInvitation = Type.Interface([Invitation], {
  invited_by: Type.Union([Type.String(), Type.Null()]),
});

export const InvitationList = Type.Object({ items: Type.Array(OpenInvitation) });

export const CreateInvitationBody = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 254 }),
    role: Type.Optional(
      Type.Union([Type.Literal("admin"), Type.Literal("member")], { description: "Default `member`." }),
    ),
  },
  { additionalProperties: false },
);
documented(CreateInvitationBody, { examples: [{ email: "new.colleague@acme.test", role: "member" }] });

export const CreatedInvitation = Type.Object({
  invitation: Invitation,
  invite_url: Type.String({
    description: "The link that accepts the invitation. Shown once (and emailed); only its hash is stored.",
  }),
});

export const InvitationParams = Type.Object({ invitation_id: Type.String({ maxLength: 64 }) });

const INVITATION_EXAMPLE = {
  id: "inv_01JF3QE2F4G6H8J0K2M4N6P8Q0",
  email: "new.colleague@acme.test",
  role: "member",
  status: "pending",
  created_at: "2026-11-30T09:15:00.000Z",
  expires_at: "2026-12-07T09:15:00.000Z",
} as const;

documented(ChangedMember, {
  description: "The member with their role now.",
  examples: [
    { user_id: "usr_01JF3QE2F4G6H8J0K2M4N6P8Q0", email: "dev@acme.test", role: "admin", changed: true },
  ],
});
documented(RemovedMember, {
  description: "The member removed: their sessions and tokens no longer reach the team.",
  examples: [{ user_id: "usr_01JF3QE2F4G6H8J0K2M4N6P8Q0", email: "dev@acme.test", removed: true }],
});
documented(Invitation, { description: "An invitation (never its link).", examples: [INVITATION_EXAMPLE] });
documented(InvitationList, {
  description: "Open (pending or expired, not accepted or revoked) invitations, newest first.",
  examples: [{ items: [{ ...INVITATION_EXAMPLE, invited_by: "admin@acme.test" }] }],
});
documented(CreatedInvitation, {
  description: "The invitation and its link, shown once (it was also emailed).",
  examples: [
    {
      invitation: INVITATION_EXAMPLE,
      invite_url:
        "https://tracker.example.com/dashboard/invitations/3fA9xQ2mV8kL0pR7tW1yZ4bN6cH5jDs8uE2gT0wK9aB",
    },
  ],
});
