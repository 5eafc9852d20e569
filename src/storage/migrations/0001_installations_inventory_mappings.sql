CREATE TABLE "connect_states" (
	"state" text PRIMARY KEY NOT NULL,
	"team_id" text NOT NULL,
	"user_id" text NOT NULL,
	"provider" text NOT NULL,
	"code_verifier" text,
	"installation_id" text,
	"return_to" text,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"team_id" text NOT NULL,
	"principal" text NOT NULL,
	"key" text NOT NULL,
	"route" text NOT NULL,
	"request_hash" text NOT NULL,
	"state" text NOT NULL,
	"response_status" integer,
	"response_body" jsonb,
	"locked_until" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "idempotency_keys_team_id_principal_key_pk" PRIMARY KEY("team_id","principal","key")
);
--> statement-breakpoint
CREATE TABLE "installations" (
	"id" text PRIMARY KEY NOT NULL,
	"team_id" text NOT NULL,
	"provider" text NOT NULL,
	"base_url" text NOT NULL,
	"host" text NOT NULL,
	"workspace_id" text NOT NULL,
	"workspace_name" text NOT NULL,
	"workspace_url" text,
	"workspace_details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"display_name" text NOT NULL,
	"connection_options" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"auth_kind" text NOT NULL,
	"credentials_ciphertext" text NOT NULL,
	"credentials_expires_at" timestamp with time zone,
	"status" text DEFAULT 'active' NOT NULL,
	"repository_selection" text,
	"last_success_at" timestamp with time zone,
	"last_failure_at" timestamp with time zone,
	"last_error_code" text,
	"last_error_message" text,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"last_sync_at" timestamp with time zone,
	"resource_count" integer DEFAULT 0 NOT NULL,
	"connected_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"disconnected_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "inventory_staging" (
	"pass_id" text NOT NULL,
	"installation_id" text NOT NULL,
	"resource_key" text NOT NULL,
	"row" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"team_id" text NOT NULL,
	"kind" text NOT NULL,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"dedupe_key" text,
	"result" jsonb,
	"error" jsonb,
	"progress" jsonb,
	"attempts" integer DEFAULT 0 NOT NULL,
	"run_after" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_until" timestamp with time zone,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "mappings" (
	"binding_ref" text PRIMARY KEY NOT NULL,
	"team_id" text NOT NULL,
	"project_id" text NOT NULL,
	"installation_id" text NOT NULL,
	"resource_id" text NOT NULL,
	"resource_key" text NOT NULL,
	"provider" text NOT NULL,
	"routing_metadata" jsonb NOT NULL,
	"routing_version" integer NOT NULL,
	"display_label" text NOT NULL,
	"provider_context" jsonb NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"created_via" text NOT NULL,
	"created_by" text,
	"bound_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"deleted_reason" text
);
--> statement-breakpoint
CREATE TABLE "projects" (
	"id" text PRIMARY KEY NOT NULL,
	"team_id" text NOT NULL,
	"uuid" text,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"repo_slug" text,
	"node_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"build_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "resources" (
	"id" text PRIMARY KEY NOT NULL,
	"team_id" text NOT NULL,
	"installation_id" text NOT NULL,
	"provider" text NOT NULL,
	"resource_key" text NOT NULL,
	"resource_type" text NOT NULL,
	"native_id" text NOT NULL,
	"label" text NOT NULL,
	"key" text,
	"name" text NOT NULL,
	"full_path" text,
	"web_url" text,
	"context" jsonb NOT NULL,
	"connector_params" jsonb NOT NULL,
	"routing_metadata" jsonb NOT NULL,
	"archived" boolean DEFAULT false NOT NULL,
	"issues_disabled" boolean DEFAULT false NOT NULL,
	"search_text" text NOT NULL,
	"fingerprint" text NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"missing_since" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"token_hash" text NOT NULL,
	"user_id" text NOT NULL,
	"current_team_id" text,
	"csrf_secret" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"user_agent" text,
	CONSTRAINT "sessions_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
ALTER TABLE "installations" ADD CONSTRAINT "installations_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mappings" ADD CONSTRAINT "mappings_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mappings" ADD CONSTRAINT "mappings_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mappings" ADD CONSTRAINT "mappings_installation_id_installations_id_fk" FOREIGN KEY ("installation_id") REFERENCES "public"."installations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mappings" ADD CONSTRAINT "mappings_resource_id_resources_id_fk" FOREIGN KEY ("resource_id") REFERENCES "public"."resources"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_team_id_teams_id_fk" FOREIGN KEY ("team_id") REFERENCES "public"."teams"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "resources" ADD CONSTRAINT "resources_installation_id_installations_id_fk" FOREIGN KEY ("installation_id") REFERENCES "public"."installations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idempotency_keys_expires_idx" ON "idempotency_keys" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "installations_workspace_uq" ON "installations" USING btree ("team_id","provider","host","workspace_id") WHERE "installations"."disconnected_at" is null;--> statement-breakpoint
CREATE INDEX "installations_team_provider_idx" ON "installations" USING btree ("team_id","provider");--> statement-breakpoint
CREATE UNIQUE INDEX "inventory_staging_pass_key_uq" ON "inventory_staging" USING btree ("pass_id","resource_key");--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_dedupe_active_uq" ON "jobs" USING btree ("dedupe_key") WHERE "jobs"."status" in ('pending', 'running');--> statement-breakpoint
CREATE INDEX "jobs_claim_idx" ON "jobs" USING btree ("status","run_after");--> statement-breakpoint
CREATE UNIQUE INDEX "mappings_installation_resource_live_uq" ON "mappings" USING btree ("installation_id","resource_key") WHERE "mappings"."deleted_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "mappings_project_provider_live_uq" ON "mappings" USING btree ("project_id","provider") WHERE "mappings"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "mappings_team_provider_idx" ON "mappings" USING btree ("team_id","provider");--> statement-breakpoint
CREATE INDEX "mappings_resource_idx" ON "mappings" USING btree ("resource_id");--> statement-breakpoint
CREATE UNIQUE INDEX "projects_team_slug_uq" ON "projects" USING btree ("team_id","slug");--> statement-breakpoint
CREATE UNIQUE INDEX "projects_team_uuid_uq" ON "projects" USING btree ("team_id","uuid") WHERE "projects"."uuid" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "resources_installation_key_uq" ON "resources" USING btree ("installation_id","resource_key");--> statement-breakpoint
CREATE INDEX "resources_team_provider_label_idx" ON "resources" USING btree ("team_id","provider","label","id");--> statement-breakpoint
CREATE INDEX "resources_installation_label_idx" ON "resources" USING btree ("installation_id","label","id");--> statement-breakpoint
CREATE INDEX "sessions_user_idx" ON "sessions" USING btree ("user_id");