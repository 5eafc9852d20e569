CREATE TABLE "mission_origin_links" (
	"id" text PRIMARY KEY NOT NULL,
	"team_id" text NOT NULL,
	"project_id" text NOT NULL,
	"binding_ref" text NOT NULL,
	"provider" text NOT NULL,
	"mission_id" text NOT NULL,
	"mission_slug" text,
	"external_issue_id" text NOT NULL,
	"external_issue_key" text,
	"external_issue_url" text,
	"title" text NOT NULL,
	"status" text NOT NULL,
	"resource_type" text NOT NULL,
	"resource_id" text NOT NULL,
	"created_by" text,
	"bound_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "work_package_links" (
	"id" text PRIMARY KEY NOT NULL,
	"team_id" text NOT NULL,
	"binding_ref" text NOT NULL,
	"project_id" text NOT NULL,
	"provider" text NOT NULL,
	"wp_id" text NOT NULL,
	"workspace" text,
	"external_id" text NOT NULL,
	"external_key" text,
	"external_url" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "mission_origin_links" ADD CONSTRAINT "mission_origin_links_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mission_origin_links" ADD CONSTRAINT "mission_origin_links_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mission_origin_links" ADD CONSTRAINT "mission_origin_links_binding_ref_mappings_binding_ref_fk" FOREIGN KEY ("binding_ref") REFERENCES "public"."mappings"("binding_ref") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "work_package_links" ADD CONSTRAINT "work_package_links_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "work_package_links" ADD CONSTRAINT "work_package_links_binding_ref_mappings_binding_ref_fk" FOREIGN KEY ("binding_ref") REFERENCES "public"."mappings"("binding_ref") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "work_package_links" ADD CONSTRAINT "work_package_links_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "mission_origin_links_project_mission_uq" ON "mission_origin_links" USING btree ("project_id","mission_id");--> statement-breakpoint
CREATE UNIQUE INDEX "work_package_links_mapping_wp_uq" ON "work_package_links" USING btree ("binding_ref","wp_id");--> statement-breakpoint
CREATE INDEX "work_package_links_team_provider_idx" ON "work_package_links" USING btree ("team_id","provider","wp_id");