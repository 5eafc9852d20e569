DROP INDEX "resources_match_names_idx";--> statement-breakpoint
ALTER TABLE "teams" ADD COLUMN "inventory_version" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "teams" ADD COLUMN "binding_version" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "resources" DROP COLUMN "match_names";--> statement-breakpoint
-- Bumps teams.inventory_version (what the in-process inventory snapshot's rows hold) or
-- teams.binding_version (installations, projects, mappings) once per transaction and team, at commit
-- (deferred): every later read of the team sees a new version exactly when that state changed. Taking
-- the team row lock last, at commit, cannot deadlock with the row locks taken before.
CREATE FUNCTION "bump_team_version"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  team text := CASE WHEN TG_OP = 'DELETE' THEN OLD.team_id ELSE NEW.team_id END;
  setting text := 'spec_kitty.bumped_' || TG_ARGV[0];
  bumped text := coalesce(current_setting(setting, true), '');
BEGIN
  IF position('|' || team || '|' IN bumped) = 0 THEN
    IF TG_ARGV[0] = 'binding' THEN
      UPDATE "teams" SET "binding_version" = "binding_version" + 1 WHERE "id" = team;
    ELSE
      UPDATE "teams" SET "inventory_version" = "inventory_version" + 1 WHERE "id" = team;
    END IF;
    PERFORM set_config(setting, bumped || '|' || team || '|', true);
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "installations_binding_version" AFTER INSERT OR UPDATE OR DELETE ON "installations" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "bump_team_version"('binding');--> statement-breakpoint
-- Which installations' rows are in the snapshot changes only with a disconnect or reconnect.
CREATE CONSTRAINT TRIGGER "installations_inventory_version" AFTER UPDATE ON "installations" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD."disconnected_at" IS DISTINCT FROM NEW."disconnected_at") EXECUTE FUNCTION "bump_team_version"('inventory');--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "resources_inventory_version" AFTER INSERT OR DELETE ON "resources" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "bump_team_version"('inventory');--> statement-breakpoint
-- Only the columns the snapshot holds: the hourly last_seen_at touch and fingerprints change nothing it shows.
CREATE CONSTRAINT TRIGGER "resources_inventory_version_update" AFTER UPDATE ON "resources" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ((OLD."installation_id", OLD."provider", OLD."resource_key", OLD."label", OLD."key", OLD."name", OLD."full_path", OLD."context", OLD."archived", OLD."issues_disabled", OLD."missing_since") IS DISTINCT FROM (NEW."installation_id", NEW."provider", NEW."resource_key", NEW."label", NEW."key", NEW."name", NEW."full_path", NEW."context", NEW."archived", NEW."issues_disabled", NEW."missing_since")) EXECUTE FUNCTION "bump_team_version"('inventory');--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "projects_binding_version" AFTER INSERT OR UPDATE OR DELETE ON "projects" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "bump_team_version"('binding');--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "mappings_binding_version" AFTER INSERT OR UPDATE OR DELETE ON "mappings" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "bump_team_version"('binding');
