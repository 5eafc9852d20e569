DROP INDEX "resources_match_names_idx";--> statement-breakpoint
ALTER TABLE "teams" ADD COLUMN "inventory_version" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "resources" DROP COLUMN "match_names";--> statement-breakpoint
-- Bumps teams.inventory_version once per transaction and team, at commit (deferred): every later read
-- of the team sees a new version exactly when its installations, inventory, projects or mappings
-- changed. Taking the team row lock last, at commit, cannot deadlock with the row locks taken before.
CREATE FUNCTION "bump_team_inventory_version"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  team text := CASE WHEN TG_OP = 'DELETE' THEN OLD.team_id ELSE NEW.team_id END;
  bumped text := coalesce(current_setting('spec_kitty.inventory_bumped', true), '');
BEGIN
  IF position('|' || team || '|' IN bumped) = 0 THEN
    UPDATE "teams" SET "inventory_version" = "inventory_version" + 1 WHERE "id" = team;
    PERFORM set_config('spec_kitty.inventory_bumped', bumped || '|' || team || '|', true);
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "installations_inventory_version" AFTER INSERT OR UPDATE OR DELETE ON "installations" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "bump_team_inventory_version"();--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "resources_inventory_version" AFTER INSERT OR UPDATE OR DELETE ON "resources" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "bump_team_inventory_version"();--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "projects_inventory_version" AFTER INSERT OR UPDATE OR DELETE ON "projects" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "bump_team_inventory_version"();--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "mappings_inventory_version" AFTER INSERT OR UPDATE OR DELETE ON "mappings" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "bump_team_inventory_version"();
