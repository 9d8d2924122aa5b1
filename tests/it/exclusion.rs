//! Exclusion constraints (`[tables.t.exclusions.name]`): a dump round trip,
//! and removals judged on three sides.

use crate::harness::{apply, assert_replan_empty, dump_dir, plan_json, schema_of, TestDb};

/// Every exclusion constraint of the database, as PostgreSQL prints it,
/// with its comment.
fn exclusions(db: &TestDb) -> Vec<String> {
    db.query(
        "SELECT c.relname || ' ' || co.conname || ' ' || pg_get_constraintdef(co.oid) || ' ' \
                || coalesce(obj_description(co.oid, 'pg_constraint'), '-') \
         FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid \
         WHERE co.contype = 'x' ORDER BY 1",
    )
}

/// A database with exclusion constraints of every form the format writes
/// (quoted names, an expression, another method, INCLUDE, WHERE, DEFERRABLE,
/// a comment) dumps to files that plan empty against it, and that rebuild
/// them, each the same, in an empty database, which then plans empty too.
#[test]
fn exclusion_constraints_round_trip_through_dump() {
    let a = TestDb::new("excl_dump_a");
    a.sql(
        r#"CREATE TABLE "Bookings" (id bigint PRIMARY KEY, "Room" int NOT NULL, during tstzrange NOT NULL,
              name text NOT NULL, note text, cancelled boolean NOT NULL DEFAULT false);
           ALTER TABLE "Bookings" ADD CONSTRAINT "No Overlap" EXCLUDE USING gist (during WITH &&)
              INCLUDE (note) WHERE (NOT cancelled) DEFERRABLE INITIALLY DEFERRED;
           ALTER TABLE "Bookings" ADD CONSTRAINT bookings_name EXCLUDE USING hash ((lower(name)) WITH =);
           ALTER TABLE "Bookings" ADD CONSTRAINT bookings_room EXCLUDE USING gist
              (int4range("Room", "Room", '[]') WITH &&, during WITH &&) DEFERRABLE;
           COMMENT ON CONSTRAINT bookings_name ON "Bookings" IS 'one name, any case';"#,
    );
    let source = exclusions(&a);
    assert_eq!(source.len(), 3, "{source:?}");
    let (_keep, dir) = dump_dir(&a);
    assert_replan_empty(&dir, &a);

    let b = TestDb::new("excl_dump_b");
    let r = apply(&dir, &b, &[]);
    assert_eq!(r.code, 0, "{r}");
    assert_replan_empty(&dir, &b);
    assert_eq!(exclusions(&b), source, "the rebuilt database differs");
    // Their indexes belong to the constraints: none is listed as unmanaged.
    let (_, plan) = plan_json(&dir, &b);
    assert_eq!(
        plan["unmanaged"].as_array().map(Vec::len),
        Some(0),
        "{plan:#}"
    );
}

const WITH: &str = r#"
[tables.slots.columns]
id     = { type = "bigint", primary_key = true }
during = { type = "tstzrange", not_null = true }

[tables.slots.exclusions.slots_no_overlap]
elements = ["during WITH &&"]
"#;

/// Once applied, an exclusion constraint the files drop is R001 (kept in
/// the database); marked `deprecated` first, its removal is allowed, and it
/// stays in the database either way.
#[test]
fn exclusion_removed_from_the_files_is_judged_on_three_sides() {
    let db = TestDb::new("excl_three_sides");
    let with = schema_of(WITH);
    assert_eq!(apply(with.path(), &db, &[]).code, 0);
    let without = schema_of(&WITH.replace(
        "\n[tables.slots.exclusions.slots_no_overlap]\nelements = [\"during WITH &&\"]\n",
        "",
    ));
    let (code, plan) = plan_json(without.path(), &db);
    assert_eq!(code, 3, "{plan:#}");
    assert!(plan.to_string().contains("R001"), "{plan:#}");

    let deprecated = schema_of(&format!("{WITH}deprecated = \"replaced by slots_v2\"\n"));
    let r = apply(deprecated.path(), &db, &[]);
    assert_eq!(r.code, 0, "{r}");
    let (code, plan) = plan_json(without.path(), &db);
    assert_eq!(code, 0, "{plan:#}");
    assert!(!plan.to_string().contains("R001"), "{plan:#}");
    assert_eq!(exclusions(&db).len(), 1, "never dropped");
}
