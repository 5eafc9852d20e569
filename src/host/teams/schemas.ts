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

const RoleSchema = Type.Union([Type.Literal("admin"), Type.Literal("member")]);

export const MemberParams = Type.Object({ user_id: Type.String({ maxLength: 64 }) });

export const SetRoleBody = Type.Object(
  { role: RoleSchema },
  { additionalProperties: false, examples: [{ role: "admin" }] },
);

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
  { additionalProperties: false, examples: [{ email: "new.colleague@acme.test", role: "member" }] },
);

export const CreatedInvitation = Type.Object({
  invitation: Invitation,
  invite_url: Type.String({
    description: "The link that accepts the invitation. Shown once (and emailed); only its hash is stored.",
  }),
});

export const InvitationParams = Type.Object({ invitation_id: Type.String({ maxLength: 64 }) });
