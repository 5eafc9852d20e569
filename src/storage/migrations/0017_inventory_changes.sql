CREATE TABLE "inventory_changes" (
	"team_id" text NOT NULL,
	"version" bigint NOT NULL,
	"resource_ids" text[],
	CONSTRAINT "inventory_changes_team_id_version_pk" PRIMARY KEY("team_id","version")
);
--> statement-breakpoint
ALTER TABLE "inventory_changes" ADD CONSTRAINT "inventory_changes_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Each move of teams.inventory_version now also records what moved it, at the new version and in the
-- same statement, so a reader at repeatable read sees a version exactly with its change row. More than
-- 5,000 ids in one statement are left to a rebuild (null). Only a team's newest 256 versions are kept.
CREATE OR REPLACE FUNCTION "bump_inventory_version_for_resources"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed jsonb; -- team id -> the ids it changed (or null)
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT jsonb_object_agg("team_id", "ids") INTO changed FROM (
      SELECT "team_id", CASE WHEN count(*) > 5000 THEN NULL ELSE to_jsonb(array_agg("id")) END AS "ids"
      FROM new_rows GROUP BY "team_id") x;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT jsonb_object_agg("team_id", "ids") INTO changed FROM (
      SELECT "team_id", CASE WHEN count(*) > 5000 THEN NULL ELSE to_jsonb(array_agg("id")) END AS "ids"
      FROM old_rows GROUP BY "team_id") x;
  ELSE
    -- Only the columns the snapshot holds: the hourly last_seen_at touch and fingerprints change nothing it shows.
    SELECT jsonb_object_agg("team_id", "ids") INTO changed FROM (
      SELECT n."team_id", CASE WHEN count(*) > 5000 THEN NULL ELSE to_jsonb(array_agg(n."id")) END AS "ids"
      FROM new_rows n JOIN old_rows o ON o."id" = n."id"
      WHERE (o."installation_id", o."provider", o."resource_key", o."label", o."key", o."name", o."full_path",
             o."context", o."archived", o."issues_disabled", o."missing_since", o."routing_metadata")
        IS DISTINCT FROM (n."installation_id", n."provider", n."resource_key", n."label", n."key", n."name",
             n."full_path", n."context", n."archived", n."issues_disabled", n."missing_since", n."routing_metadata")
      GROUP BY n."team_id") x;
  END IF;
  IF changed IS NOT NULL THEN
    PERFORM "record_inventory_change"(c.key, CASE WHEN jsonb_typeof(c.value) = 'array'
      THEN ARRAY(SELECT jsonb_array_elements_text(c.value)) END)
    FROM jsonb_each(changed) c;
  END IF;
  RETURN NULL;
END $$;--> statement-breakpoint
-- Moves the team's inventory version and records what moved it (null: too much to list).
CREATE FUNCTION "record_inventory_change"(team text, ids text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v bigint;
BEGIN
  UPDATE "teams" SET "inventory_version" = "inventory_version" + 1 WHERE "id" = team
    RETURNING "inventory_version" INTO v;
  IF v IS NULL THEN RETURN; END IF;
  INSERT INTO "inventory_changes" ("team_id", "version", "resource_ids") VALUES (team, v, ids);
  DELETE FROM "inventory_changes" WHERE "team_id" = team AND "version" <= v - 256;
END $$;--> statement-breakpoint
-- A disconnect or reconnect changes which installations' rows a snapshot holds: recorded as a rebuild.
CREATE OR REPLACE FUNCTION "bump_team_version"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  team text := CASE WHEN TG_OP = 'DELETE' THEN OLD.team_id ELSE NEW.team_id END;
  setting text := 'spec_kitty.bumped_' || TG_ARGV[0];
  bumped text := coalesce(current_setting(setting, true), '');
BEGIN
  IF position('|' || team || '|' IN bumped) = 0 THEN
    IF TG_ARGV[0] = 'binding' THEN
      UPDATE "teams" SET "binding_version" = "binding_version" + 1 WHERE "id" = team;
    ELSE
      PERFORM "record_inventory_change"(team, NULL);
    END IF;
    PERFORM set_config(setting, bumped || '|' || team || '|', true);
  END IF;
  RETURN NULL;
END $$;
