-- Names that hold a dot: a table in public, a schema, and what refers to them.
CREATE TABLE "v1.events" (id int PRIMARY KEY, payload text);
CREATE SCHEMA "my.schema";
CREATE TYPE "my.schema"."state.kind" AS ENUM ('a', 'b');
CREATE TABLE "my.schema".t (
    id int PRIMARY KEY,
    ref int REFERENCES "v1.events"(id),
    state "my.schema"."state.kind",
    n int
);
CREATE SEQUENCE "my.schema"."t.n.seq" OWNED BY "my.schema".t.n;
