ALTER TABLE "teams" ADD COLUMN "auth_version" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
-- teams.auth_version: bumped once per transaction and team, at commit (deferred, as the versions of
-- 0006), whenever a cached authentication into the team may no longer hold.
CREATE FUNCTION "bump_team_auth_version"(team text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  bumped text := coalesce(current_setting('spec_kitty.bumped_auth', true), '');
BEGIN
  IF team IS NOT NULL AND position('|' || team || '|' IN bumped) = 0 THEN
    UPDATE "teams" SET "auth_version" = "auth_version" + 1 WHERE "id" = team;
    PERFORM set_config('spec_kitty.bumped_auth', bumped || '|' || team || '|', true);
  END IF;
END $$;--> statement-breakpoint
CREATE FUNCTION "bump_auth_version_for_membership"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN PERFORM "bump_team_auth_version"(OLD."team_id"); END IF;
  IF TG_OP <> 'DELETE' THEN PERFORM "bump_team_auth_version"(NEW."team_id"); END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "memberships_auth_version" AFTER INSERT OR UPDATE OR DELETE ON "memberships" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "bump_auth_version_for_membership"();--> statement-breakpoint
-- A change to a user's identity or credentials bumps every team the user is a member of; TG_ARGV[0]
-- names the column holding the user id.
CREATE FUNCTION "bump_auth_version_for_user"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  member text := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END) ->> TG_ARGV[0];
  m record;
BEGIN
  FOR m IN SELECT "team_id" FROM "memberships" WHERE "user_id" = member LOOP
    PERFORM "bump_team_auth_version"(m."team_id");
  END LOOP;
  RETURN NULL;
END $$;--> statement-breakpoint
-- The hourly last_used_at touch changes nothing a cached authentication holds.
CREATE CONSTRAINT TRIGGER "api_tokens_auth_version" AFTER UPDATE ON "api_tokens" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ((OLD."revoked_at", OLD."expires_at", OLD."user_id", OLD."token_hash") IS DISTINCT FROM (NEW."revoked_at", NEW."expires_at", NEW."user_id", NEW."token_hash")) EXECUTE FUNCTION "bump_auth_version_for_user"('user_id');--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "api_tokens_deleted_auth_version" AFTER DELETE ON "api_tokens" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "bump_auth_version_for_user"('user_id');--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "oauth_sessions_auth_version" AFTER UPDATE ON "oauth_sessions" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ((OLD."revoked_at", OLD."user_id") IS DISTINCT FROM (NEW."revoked_at", NEW."user_id")) EXECUTE FUNCTION "bump_auth_version_for_user"('user_id');--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "oauth_sessions_deleted_auth_version" AFTER DELETE ON "oauth_sessions" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "bump_auth_version_for_user"('user_id');--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "users_auth_version" AFTER UPDATE ON "users" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ((OLD."email", OLD."name") IS DISTINCT FROM (NEW."email", NEW."name")) EXECUTE FUNCTION "bump_auth_version_for_user"('id');--> statement-breakpoint
CREATE FUNCTION "bump_auth_version_for_team_names"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."auth_version" := OLD."auth_version" + 1;
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER "teams_auth_version" BEFORE UPDATE ON "teams" FOR EACH ROW WHEN ((OLD."slug", OLD."name") IS DISTINCT FROM (NEW."slug", NEW."name")) EXECUTE FUNCTION "bump_auth_version_for_team_names"();--> statement-breakpoint
-- The embedded database (one process) announces every change of a team's versions, in the commit's
-- own answer, so that process keeps them in memory instead of reading them per request. A session
-- asks for it with `spec_kitty.team_version_notices = on`; PostgreSQL's sessions never do, and read.
CREATE FUNCTION "notice_team_versions"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('spec_kitty.team_version_notices', true) = 'on' THEN
    IF TG_OP = 'DELETE' THEN
      PERFORM pg_notify('team_versions', OLD."id");
    ELSE
      PERFORM pg_notify('team_versions', NEW."id" || ' ' || NEW."inventory_version" || ' ' || NEW."binding_version" || ' ' || NEW."auth_version");
    END IF;
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "teams_version_notices" AFTER UPDATE ON "teams" FOR EACH ROW WHEN ((OLD."inventory_version", OLD."binding_version", OLD."auth_version") IS DISTINCT FROM (NEW."inventory_version", NEW."binding_version", NEW."auth_version")) EXECUTE FUNCTION "notice_team_versions"();--> statement-breakpoint
CREATE TRIGGER "teams_deleted_version_notices" AFTER DELETE ON "teams" FOR EACH ROW EXECUTE FUNCTION "notice_team_versions"();
