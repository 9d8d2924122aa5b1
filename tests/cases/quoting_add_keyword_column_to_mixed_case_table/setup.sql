CREATE TABLE "AuditEvents" (id bigint PRIMARY KEY);
INSERT INTO "AuditEvents" VALUES (1);
