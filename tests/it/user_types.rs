//! Composite types, range types and collations: a database that has them dumps to files
//! that plan empty against it, that rebuild them in an empty database, and
//! that describe the same types there (read from pg_attribute and pg_range).

use crate::harness::{apply, assert_replan_empty, dump_dir, TestDb};

/// Every composite and range type of the database, one line each, as the
/// catalog holds it (attributes with their types and collations in order; a
/// range's subtype, opclass, collation, functions and multirange).
const TYPES: &str = r#"
SELECT format('composite %s (%s) %s', t.typname,
    (SELECT string_agg(format('%s %s %s', a.attname, format_type(a.atttypid, a.atttypmod), co.collname), ', ' ORDER BY a.attnum)
     FROM pg_attribute a LEFT JOIN pg_collation co ON co.oid = a.attcollation
     WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped),
    obj_description(t.oid, 'pg_type'))
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_class c ON c.oid = t.typrelid
WHERE c.relkind = 'c' AND n.nspname IN ('public', 'geo')
UNION ALL
SELECT format('range %s.%s subtype %s opclass %s collation %s canonical %s diff %s multirange %s %s',
    n.nspname, t.typname, format_type(r.rngsubtype, NULL), opc.opcname, co.collname,
    r.rngcanonical, r.rngsubdiff, r.rngmultitypid::regtype, obj_description(t.oid, 'pg_type'))
FROM pg_range r JOIN pg_type t ON t.oid = r.rngtypid JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_opclass opc ON opc.oid = r.rngsubopc LEFT JOIN pg_collation co ON co.oid = r.rngcollation
WHERE n.nspname IN ('public', 'geo')
UNION ALL
SELECT format('collation %s.%s %s %s %s %s %s %s', n.nspname, c.collname, c.collprovider,
    coalesce(to_jsonb(c) ->> 'colllocale', to_jsonb(c) ->> 'colliculocale'), c.collcollate, c.collctype,
    c.collisdeterministic, obj_description(c.oid, 'pg_collation'))
FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace
WHERE n.nspname IN ('public', 'geo')
ORDER BY 1
"#;

const SETUP: &str = r#"
CREATE SCHEMA geo;
CREATE COLLATION geo.german (provider = icu, locale = 'de-u-co-phonebk', deterministic = false);
COMMENT ON COLLATION geo.german IS 'phone book';
CREATE COLLATION posix (locale = 'C');
CREATE COLLATION split (lc_collate = 'C', lc_ctype = 'POSIX');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TYPE address AS (street text, city text COLLATE "C", zip posint, "Tags" varchar(20)[]);
COMMENT ON TYPE address IS 'a postal address';
CREATE DOMAIN home AS address;
CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
COMMENT ON TYPE floatrange IS 'floats';
CREATE TYPE geo.span AS RANGE (subtype = text, collation = "C", multirange_type_name = geo.spans);
CREATE TYPE geo.pt AS (x float8, y float8, label text COLLATE geo.german);
CREATE TYPE intr AS RANGE (subtype = int4, subtype_opclass = int4_ops);
CREATE TYPE pat AS RANGE (subtype = text, subtype_opclass = text_pattern_ops);
CREATE TABLE places (id bigint PRIMARY KEY, addr address, history address[], during floatrange,
    gaps floatmultirange, names geo.spans, at geo.pt, h home, r intr, b pat,
    name text COLLATE posix, other text COLLATE split);
"#;

#[test]
fn composite_range_types_and_collations_round_trip_through_dump() {
    let a = TestDb::new("user_types_a");
    a.sql(SETUP);
    let (_out, dir) = dump_dir(&a);
    let head = std::fs::read_to_string(dir.join("_schema.toml")).unwrap();
    for expected in [
        "[composite_types.address]",
        "city = { type = \"text\", collation = \"C\" }",
        "[range_types.floatrange]",
        "subtype_diff = \"float8mi\"",
        "[range_types.\"geo.span\"]",
        "multirange_type_name = \"spans\"",
        "[collations.\"geo.german\"]\nprovider = \"icu\"\nlocale = \"de-u-co-phonebk\"\ndeterministic = false",
        "[collations.posix]\nlocale = \"C\"\n",
        "lc_collate = \"C\"\nlc_ctype = \"POSIX\"",
    ] {
        assert!(
            head.contains(expected),
            "{expected} not in the dump:\n{head}"
        );
    }
    assert!(
        !head.contains("functions"),
        "the range constructors are PostgreSQL's, not functions of the files:\n{head}"
    );
    // Against the database it came from: nothing to do, nothing unmanaged.
    let plan = assert_replan_empty(&dir, &a);
    let unmanaged = plan["unmanaged"].to_string();
    assert!(
        !unmanaged.contains("type") && !unmanaged.contains("function"),
        "nothing of the types is unmanaged: {unmanaged}"
    );
    // Into an empty database: the same types, and nothing left to do.
    let b = TestDb::new("user_types_b");
    let applied = apply(&dir, &b, &[]);
    assert_eq!(applied.code, 0, "{applied}");
    assert_replan_empty(&dir, &b);
    let (ta, tb) = (a.query(TYPES), b.query(TYPES));
    assert_eq!(ta.len(), 9, "{ta:#?}");
    assert_eq!(
        ta, tb,
        "the types differ between the source and the rebuilt database"
    );
}
