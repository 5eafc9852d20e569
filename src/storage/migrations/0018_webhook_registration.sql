ALTER TABLE "webhook_endpoints" ADD COLUMN "hook_mode" text;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "hook_scope" text;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "hook_id" text;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "hook_reason" text;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "hook_checked_at" timestamp with time zone;