//! Text search configurations: a database that has them dumps to files that
//! plan empty against it, that rebuild them in an empty database (given the
//! dictionaries, which stay unmanaged), and that describe the same
//! configurations there (read from pg_ts_config and pg_ts_config_map).

use crate::harness::{apply, assert_replan_empty, dump_dir, TestDb};

/// Every text search configuration of the user's schemas, one line each:
/// parser, comment, then each token type with its dictionaries in order.
const CONFIGS: &str = r#"
SELECT format('%s.%s parser %s.%s comment %s: %s', n.nspname, c.cfgname, pn.nspname, p.prsname,
    obj_description(c.oid, 'pg_ts_config'),
    (SELECT string_agg(format('%s=%s', tt.alias, m.dicts), ' ' ORDER BY tt.alias)
     FROM (SELECT mm.maptokentype AS tok,
                  string_agg(format('%s.%s', dn.nspname, d.dictname), ',' ORDER BY mm.mapseqno) AS dicts
           FROM pg_ts_config_map mm JOIN pg_ts_dict d ON d.oid = mm.mapdict
           JOIN pg_namespace dn ON dn.oid = d.dictnamespace
           WHERE mm.mapcfg = c.oid GROUP BY mm.maptokentype) m
     JOIN ts_token_type(c.cfgparser) tt ON tt.tokid = m.tok))
FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
JOIN pg_ts_parser p ON p.oid = c.cfgparser JOIN pg_namespace pn ON pn.oid = p.prsnamespace
WHERE n.nspname IN ('public', 'Search Stuff')
ORDER BY 1
"#;

/// The dictionary the configurations name: not managed, made in both databases.
const DICTIONARY: &str = r#"
CREATE SCHEMA "Search Stuff";
CREATE TEXT SEARCH DICTIONARY "Search Stuff"."My.Dict" (TEMPLATE = simple, STOPWORDS = english);
"#;

const SETUP: &str = r#"
CREATE TEXT SEARCH CONFIGURATION english_copy (COPY = english);
COMMENT ON TEXT SEARCH CONFIGURATION english_copy IS 'english''s mappings';
CREATE TEXT SEARCH CONFIGURATION "Search Stuff"."Odd Name" (PARSER = pg_catalog.default);
ALTER TEXT SEARCH CONFIGURATION "Search Stuff"."Odd Name"
    ADD MAPPING FOR asciiword, word WITH "Search Stuff"."My.Dict", english_stem;
ALTER TEXT SEARCH CONFIGURATION "Search Stuff"."Odd Name" ADD MAPPING FOR int WITH simple;
CREATE TEXT SEARCH CONFIGURATION empty_one (PARSER = default);
CREATE TABLE docs (id bigint PRIMARY KEY, body text,
    doc tsvector GENERATED ALWAYS AS (to_tsvector('"Search Stuff"."Odd Name"', body)) STORED);
CREATE INDEX docs_fts ON docs USING gin (to_tsvector('english_copy', body));
"#;

#[test]
fn text_search_configurations_round_trip_through_dump() {
    let a = TestDb::new("tsconfig_a");
    a.sql(DICTIONARY);
    a.sql(SETUP);
    let (_out, dir) = dump_dir(&a);
    let head = std::fs::read_to_string(dir.join("_schema.toml")).unwrap();
    for expected in [
        "[text_search_configurations.english_copy]\nparser = \"default\"\ncomment = \"english's mappings\"",
        "[text_search_configurations.english_copy.mappings]",
        "asciiword = [\"english_stem\"]",
        "[text_search_configurations.\"Search Stuff.Odd Name\".mappings]",
        "word = [\"Search Stuff.\\\"My.Dict\\\"\", \"english_stem\"]",
        "[text_search_configurations.empty_one]\nparser = \"default\"\n",
    ] {
        assert!(
            head.contains(expected),
            "{expected} not in the dump:\n{head}"
        );
    }
    // Against the database it came from: nothing to do, and no configuration unmanaged.
    let plan = assert_replan_empty(&dir, &a);
    let unmanaged = plan["unmanaged"].to_string();
    assert!(
        !unmanaged.contains("text search configuration"),
        "no configuration is unmanaged: {unmanaged}"
    );
    // Into an empty database given the dictionary: the same configurations,
    // made before the table that names one, and nothing left to do.
    let b = TestDb::new("tsconfig_b");
    b.sql(DICTIONARY);
    let applied = apply(&dir, &b, &[]);
    assert_eq!(applied.code, 0, "{applied}");
    assert_replan_empty(&dir, &b);
    let (ca, cb) = (a.query(CONFIGS), b.query(CONFIGS));
    assert_eq!(ca.len(), 3, "{ca:#?}");
    assert_eq!(
        ca, cb,
        "the configurations differ between the source and the rebuilt database"
    );
}
