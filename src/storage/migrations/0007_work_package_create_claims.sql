CREATE TABLE "work_package_create_claims" (
	"binding_ref" text NOT NULL,
	"wp_id" text NOT NULL,
	"claimed_until" timestamp with time zone NOT NULL,
	CONSTRAINT "work_package_create_claims_binding_ref_wp_id_pk" PRIMARY KEY("binding_ref","wp_id")
);
