CREATE TABLE "curation_rules" (
	"id" text PRIMARY KEY NOT NULL,
	"team_id" text NOT NULL,
	"installation_id" text NOT NULL,
	"position" integer NOT NULL,
	"effect" text NOT NULL,
	"match" text NOT NULL,
	"pattern" text,
	"kind" text,
	"kind_value" text,
	"resource_id" text,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "curation_rules" ADD CONSTRAINT "curation_rules_installation_id_installations_id_fk" FOREIGN KEY ("installation_id") REFERENCES "public"."installations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "curation_rules" ADD CONSTRAINT "curation_rules_resource_id_resources_id_fk" FOREIGN KEY ("resource_id") REFERENCES "public"."resources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "curation_rules_installation_idx" ON "curation_rules" USING btree ("installation_id","position");--> statement-breakpoint
-- A rule change moves teams.binding_version (as installations, projects and mappings do, 0006): the
-- next request of every process re-applies the rules to its snapshot's rows without re-reading them.
CREATE CONSTRAINT TRIGGER "curation_rules_binding_version" AFTER INSERT OR UPDATE OR DELETE ON "curation_rules" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "bump_team_version"('binding');
--> statement-breakpoint
-- The snapshot now holds each row's curation kinds, read from routing_metadata (a GitHub repository
-- becoming a fork changes nothing else): a change there moves inventory_version too.
CREATE OR REPLACE FUNCTION "bump_inventory_version_for_resources"() RETURNS trigger LANGUAGE plpgsql AS $$
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
               o."context", o."archived", o."issues_disabled", o."missing_since", o."routing_metadata")
          IS DISTINCT FROM (n."installation_id", n."provider", n."resource_key", n."label", n."key", n."name",
               n."full_path", n."context", n."archived", n."issues_disabled", n."missing_since", n."routing_metadata"));
  END IF;
  RETURN NULL;
END $$;
