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
-- Resources change in bulk (a first discovery pass inserts thousands of rows): one statement-level
-- trigger per statement, over its transition tables, instead of a trigger call per row. It takes the
-- team row lock at the statement rather than at commit; the only row locks a writer of resources can
-- meet are the key-share locks of mapping inserts, which its non-key updates do not wait for.
CREATE FUNCTION "bump_inventory_version_for_resources"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE "teams" SET "inventory_version" = "inventory_version" + 1
      WHERE "id" IN (SELECT DISTINCT "team_id" FROM new_rows);
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE "teams" SET "inventory_version" = "inventory_version" + 1
      WHERE "id" IN (SELECT DISTINCT "team_id" FROM old_rows);
  ELSE
    -- Only the columns the snapshot holds: the hourly last_seen_at touch and fingerprints change nothing it shows.
    UPDATE "teams" SET "inventory_version" = "inventory_version" + 1
      WHERE "id" IN (
        SELECT DISTINCT n."team_id" FROM new_rows n JOIN old_rows o ON o."id" = n."id"
        WHERE (o."installation_id", o."provider", o."resource_key", o."label", o."key", o."name", o."full_path",
               o."context", o."archived", o."issues_disabled", o."missing_since")
          IS DISTINCT FROM (n."installation_id", n."provider", n."resource_key", n."label", n."key", n."name",
               n."full_path", n."context", n."archived", n."issues_disabled", n."missing_since"));
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "resources_inserted_inventory_version" AFTER INSERT ON "resources" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "bump_inventory_version_for_resources"();--> statement-breakpoint
CREATE TRIGGER "resources_updated_inventory_version" AFTER UPDATE ON "resources" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "bump_inventory_version_for_resources"();--> statement-breakpoint
CREATE TRIGGER "resources_deleted_inventory_version" AFTER DELETE ON "resources" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "bump_inventory_version_for_resources"();--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "projects_binding_version" AFTER INSERT OR UPDATE OR DELETE ON "projects" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "bump_team_version"('binding');--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "mappings_binding_version" AFTER INSERT OR UPDATE OR DELETE ON "mappings" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "bump_team_version"('binding');
