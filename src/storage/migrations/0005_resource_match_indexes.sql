CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
ALTER TABLE "resources" ADD COLUMN "match_names" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
CREATE INDEX "resources_match_names_idx" ON "resources" USING gin ("match_names") WITH (fastupdate = off);--> statement-breakpoint
CREATE INDEX "resources_search_trgm_idx" ON "resources" USING gin ("search_text" gin_trgm_ops) WITH (fastupdate = off);--> statement-breakpoint
-- Existing rows get their match names on the next discovery pass: an empty fingerprint never matches.
UPDATE "resources" SET "fingerprint" = '';
