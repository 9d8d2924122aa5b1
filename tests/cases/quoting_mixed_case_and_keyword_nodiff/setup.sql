CREATE TABLE "AuditEvents" (
    id bigserial PRIMARY KEY,
    "order" integer NOT NULL CHECK ("order" >= 0),
    "userId" text UNIQUE,
    "user" text
);
CREATE INDEX "AuditEvents_order_idx" ON "AuditEvents" ("order");
