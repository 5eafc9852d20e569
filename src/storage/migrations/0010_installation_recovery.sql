CREATE INDEX "audit_events_target_idx" ON "audit_events" USING btree ("team_id","target_type","target_id","action","id");--> statement-breakpoint
-- Installations disconnected before `disconnected` was a status were marked `revoked`.
UPDATE "installations" SET "status" = 'disconnected' WHERE "disconnected_at" IS NOT NULL;
