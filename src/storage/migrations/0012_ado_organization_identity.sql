-- Azure DevOps workspaces are keyed by the organization's immutable instance id (connectionData
-- `instanceId`, kept in workspace_details since the first connect), no longer by its renameable name.
-- Resource keys embed the workspace id, so they are rewritten with it; mappings keep their binding_ref
-- and follow their resource row. Rows without a recorded instance id are left as they are.
UPDATE "installations"
SET "workspace_id" = lower("workspace_details"->>'instance_id')
WHERE "provider" = 'azure_devops'
  AND coalesce("workspace_details"->>'instance_id', '') <> ''
  AND "workspace_id" <> lower("workspace_details"->>'instance_id');
--> statement-breakpoint
UPDATE "resources" r
SET "resource_key" = concat_ws(':',
      split_part(r."resource_key", ':', 1),
      split_part(r."resource_key", ':', 2),
      i."workspace_id",
      split_part(r."resource_key", ':', 4),
      split_part(r."resource_key", ':', 5)),
    "connector_params" = r."connector_params" || jsonb_build_object('organization_id', i."workspace_id"),
    "routing_metadata" = r."routing_metadata" || jsonb_build_object('organization_id', i."workspace_id"),
    "updated_at" = now()
FROM "installations" i
WHERE r."installation_id" = i."id"
  AND r."provider" = 'azure_devops'
  AND coalesce(i."workspace_details"->>'instance_id', '') <> '';
--> statement-breakpoint
UPDATE "mappings" m
SET "resource_key" = r."resource_key",
    "routing_metadata" = m."routing_metadata" || jsonb_build_object('organization_id', r."routing_metadata"->>'organization_id'),
    "updated_at" = now()
FROM "resources" r
WHERE m."resource_id" = r."id"
  AND m."provider" = 'azure_devops'
  AND r."routing_metadata"->>'organization_id' IS NOT NULL;
--> statement-breakpoint
-- A pass staged under the old keys would apply them again: drop it (the next refresh stages afresh).
DELETE FROM "inventory_staging" s
USING "installations" i
WHERE s."installation_id" = i."id" AND i."provider" = 'azure_devops';
