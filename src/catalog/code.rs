//! Functions, procedures, views, materialized views and triggers as the
//! catalog holds them, one JSON document per kind (three statements, whatever
//! the count). The same statements, with another filter, read back the probes
//! that `plan::canon` makes of the files' objects, so both sides are printed
//! by the same code.

use serde::Deserialize;

use crate::desired::expr;
use crate::model::{CheckOption, QualName, Routine, RoutineId, Timing, Trigger, View};

/// Routines of the schemas read (`n`: the namespace, `p`: pg_proc), not
/// aggregates, not members of an extension, not the constructors that
/// PostgreSQL makes for a range or multirange type (internal to the type).
pub fn live_routines_filter(schema_filter: &str) -> String {
    format!(
        "{schema_filter} AND p.prokind IN ('f', 'p', 'w') AND NOT EXISTS (SELECT 1 FROM pg_depend d \
         WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND (d.deptype = 'e' \
           OR (d.deptype = 'i' AND d.refclassid = 'pg_type'::regclass)))"
    )
}

/// One JSON array of the routines that `filter` keeps (over `p`, `n`).
pub fn q_routines(filter: &str, pg14: bool) -> String {
    let sql_body = if pg14 {
        "CASE WHEN p.prosqlbody IS NOT NULL THEN pg_get_function_sqlbody(p.oid) END"
    } else {
        "NULL::text"
    };
    format!(
        "SELECT coalesce(json_agg(x ORDER BY x.schema, x.name, x.args), '[]') FROM ( \
           SELECT n.nspname AS schema, p.proname AS name, oidvectortypes(p.proargtypes) AS args, \
                  p.prokind = 'p' AS procedure, pg_get_function_arguments(p.oid) AS arguments, \
                  CASE WHEN p.prokind <> 'p' THEN pg_get_function_result(p.oid) END AS returns, \
                  l.lanname AS language, p.prosrc AS body, {sql_body} AS sql_body, \
                  CASE WHEN l.lanname = 'c' THEN p.probin END AS library, \
                  p.provolatile AS volatility, p.proisstrict AS strict, p.prosecdef AS security_definer, \
                  p.proleakproof AS leakproof, p.proparallel AS parallel, p.procost::text AS cost, \
                  p.prorows::text AS rows, p.proretset AS set_returning, p.prokind = 'w' AS window, \
                  p.proconfig AS settings, obj_description(p.oid, 'pg_proc') AS comment \
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang \
           WHERE {filter} \
         ) x"
    )
}

/// One JSON array of the views and materialized views that `filter` keeps (over `c`, `n`).
pub fn q_views(filter: &str) -> String {
    format!(
        "SELECT coalesce(json_agg(x ORDER BY x.schema, x.name), '[]') FROM ( \
           SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind = 'm' AS materialized, \
                  pg_get_viewdef(c.oid) AS query, \
                  (SELECT json_agg(json_build_array(a.attname, format_type(a.atttypid, a.atttypmod)) ORDER BY a.attnum) \
                   FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns, \
                  c.reloptions AS options, obj_description(c.oid, 'pg_class') AS comment, \
                  (SELECT jsonb_agg(DISTINCT jsonb_build_array(dn.nspname, dc.relname)) \
                   FROM pg_rewrite rw JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid \
                   JOIN pg_class dc ON dc.oid = d.refobjid AND d.refclassid = 'pg_class'::regclass \
                   JOIN pg_namespace dn ON dn.oid = dc.relnamespace \
                   WHERE rw.ev_class = c.oid AND dc.oid <> c.oid AND dc.relkind IN ('v', 'm')) AS uses_views, \
                  (SELECT jsonb_agg(DISTINCT jsonb_build_array(pn.nspname, p.proname, oidvectortypes(p.proargtypes))) \
                   FROM pg_rewrite rw JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid \
                   JOIN pg_proc p ON p.oid = d.refobjid AND d.refclassid = 'pg_proc'::regclass \
                   JOIN pg_namespace pn ON pn.oid = p.pronamespace \
                   WHERE rw.ev_class = c.oid) AS uses_routines \
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE c.relkind IN ('v', 'm') AND {filter} \
         ) x"
    )
}

/// The triggers managed on a table: not internal (foreign keys'), not
/// constraint triggers, not clones on partitions. Over `t` (pg_trigger) and
/// `c` (its table).
pub const MANAGED_TRIGGER: &str =
    "NOT t.tgisinternal AND t.tgconstraint = 0 AND c.relkind IN ('r', 'p') AND NOT c.relispartition";

/// One JSON array of the triggers that `filter` keeps (over `t`, `c`, `n`).
pub fn q_triggers(filter: &str) -> String {
    format!(
        "SELECT coalesce(json_agg(x ORDER BY x.schema, x.tbl, x.name), '[]') FROM ( \
           SELECT n.nspname AS schema, c.relname AS tbl, t.tgname AS name, t.tgtype::int4 AS type, \
                  (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(t.tgattr::int2[]) WITH ORDINALITY k(num, ord) \
                   JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = k.num) AS columns, \
                  fn.nspname AS function_schema, f.proname AS function_name, \
                  pg_get_triggerdef(t.oid) AS def, t.tgoldtable AS old_table, t.tgnewtable AS new_table, \
                  t.tgenabled AS enabled, obj_description(t.oid, 'pg_trigger') AS comment \
           FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
           JOIN pg_proc f ON f.oid = t.tgfoid JOIN pg_namespace fn ON fn.oid = f.pronamespace \
           WHERE {MANAGED_TRIGGER} AND {filter} \
         ) x"
    )
}

#[derive(Deserialize)]
pub struct RawRoutine {
    pub schema: String,
    pub name: String,
    pub args: String,
    procedure: bool,
    arguments: String,
    returns: Option<String>,
    language: String,
    body: String,
    sql_body: Option<String>,
    library: Option<String>,
    volatility: String,
    strict: bool,
    security_definer: bool,
    leakproof: bool,
    parallel: String,
    cost: String,
    rows: String,
    set_returning: bool,
    window: bool,
    settings: Option<Vec<String>>,
    comment: Option<String>,
}

impl RawRoutine {
    pub fn into_model(self) -> Routine {
        let default_cost = if matches!(self.language.as_str(), "c" | "internal") {
            "1"
        } else {
            "100"
        };
        Routine {
            id: RoutineId {
                name: QualName::new(self.schema, self.name),
                args: self.args,
            },
            procedure: self.procedure,
            arguments: self.arguments,
            returns: self.returns,
            body: self.sql_body.clone().unwrap_or(self.body),
            sql_body: self.sql_body.is_some(),
            library: self.library,
            volatility: match self.volatility.as_str() {
                "i" => "immutable",
                "s" => "stable",
                _ => "volatile",
            }
            .into(),
            strict: self.strict,
            security_definer: self.security_definer,
            leakproof: self.leakproof,
            parallel: match self.parallel.as_str() {
                "s" => "safe",
                "r" => "restricted",
                _ => "unsafe",
            }
            .into(),
            cost: (self.cost != default_cost).then_some(self.cost),
            rows: (self.set_returning && self.rows != "1000" && self.rows != "0")
                .then_some(self.rows),
            window: self.window,
            settings: self
                .settings
                .unwrap_or_default()
                .into_iter()
                .map(|s| match s.split_once('=') {
                    Some((k, v)) => (k.to_string(), v.to_string()),
                    None => (s, String::new()),
                })
                .collect(),
            language: self.language,
            comment: self.comment,
            deprecated: None,
            origin: None,
        }
    }
}

#[derive(Deserialize)]
pub struct RawView {
    pub oid: i64,
    pub schema: String,
    pub name: String,
    materialized: bool,
    query: Option<String>,
    columns: Option<Vec<(String, String)>>,
    options: Option<Vec<String>>,
    comment: Option<String>,
    uses_views: Option<Vec<(String, String)>>,
    uses_routines: Option<Vec<(String, String, String)>>,
}

impl RawView {
    /// The view, and the options of its `reloptions` that the format does not carry.
    pub fn into_model(self) -> (View, Vec<String>) {
        let mut v =
            View {
                name: QualName::new(self.schema, self.name),
                materialized: self.materialized,
                query: self.query.unwrap_or_default(),
                columns: self.columns.unwrap_or_default(),
                security_barrier: false,
                security_invoker: false,
                check_option: None,
                indexes: Vec::new(),
                uses: self
                    .uses_views
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(s, n)| crate::model::code::Uses::View(QualName::new(s, n)))
                    .chain(self.uses_routines.unwrap_or_default().into_iter().map(
                        |(s, n, args)| {
                            crate::model::code::Uses::Routine(RoutineId {
                                name: QualName::new(s, n),
                                args,
                            })
                        },
                    ))
                    .collect(),
                comment: self.comment,
                deprecated: None,
                origin: None,
            };
        let mut other = Vec::new();
        for o in self.options.unwrap_or_default() {
            match o
                .split_once('=')
                .map(|(k, x)| (k.to_ascii_lowercase(), x.to_ascii_lowercase()))
            {
                Some((k, x)) if k == "security_barrier" => {
                    v.security_barrier = x == "true" || x == "on"
                }
                Some((k, x)) if k == "security_invoker" => {
                    v.security_invoker = x == "true" || x == "on"
                }
                Some((k, x)) if k == "check_option" && x == "local" => {
                    v.check_option = Some(CheckOption::Local)
                }
                Some((k, x)) if k == "check_option" && x == "cascaded" => {
                    v.check_option = Some(CheckOption::Cascaded)
                }
                _ => other.push(o),
            }
        }
        (v, other)
    }
}

#[derive(Deserialize)]
pub struct RawTrigger {
    pub schema: String,
    pub tbl: String,
    pub name: String,
    #[serde(rename = "type")]
    ty: i32,
    columns: Option<Vec<String>>,
    function_schema: String,
    function_name: String,
    def: String,
    old_table: Option<String>,
    new_table: Option<String>,
    pub enabled: String,
    comment: Option<String>,
}

/// The text between the parentheses that follow the first `keyword` outside
/// quotes and parentheses in `def` (`WHEN (`…`)`), and where it ends.
fn parenthesized_after(def: &str, keyword: &str) -> Option<(String, usize)> {
    let b = def.as_bytes();
    let (mut depth, mut quote) = (0i32, None::<u8>);
    let mut found = false;
    // Where the parenthesis after the keyword opens.
    let mut open = None;
    for (i, &c) in b.iter().enumerate() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            b'\'' | b'"' => quote = Some(c),
            b'(' => {
                if found && open.is_none() {
                    open = Some(i);
                }
                depth += 1;
            }
            b')' => {
                depth -= 1;
                if let (Some(o), 0) = (open, depth) {
                    return Some((def[o + 1..i].to_string(), i + 1));
                }
            }
            _ if !found
                && depth == 0
                && b[i..].starts_with(keyword.as_bytes())
                && (i == 0 || b[i - 1] == b' ') =>
            {
                found = true;
            }
            _ => {}
        }
    }
    None
}

/// The string literals of a trigger's argument list as `pg_get_triggerdef` prints it.
fn trigger_arguments(list: &str) -> Vec<String> {
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    sqlparser::tokenizer::Tokenizer::new(&dialect, list)
        .tokenize()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| match t {
            sqlparser::tokenizer::Token::SingleQuotedString(s)
            | sqlparser::tokenizer::Token::EscapedStringLiteral(s) => Some(s),
            sqlparser::tokenizer::Token::Number(n, _) => Some(n),
            _ => None,
        })
        .collect()
}

impl RawTrigger {
    pub fn table(&self) -> QualName {
        QualName::new(self.schema.clone(), self.tbl.clone())
    }

    pub fn into_model(self) -> Trigger {
        let t = self.ty;
        let timing = if t & 64 != 0 {
            Timing::InsteadOf
        } else if t & 2 != 0 {
            Timing::Before
        } else {
            Timing::After
        };
        let events = [
            (4, "insert"),
            (8, "delete"),
            (16, "update"),
            (32, "truncate"),
        ]
        .iter()
        .filter(|(bit, _)| t & bit != 0)
        .map(|(_, e)| e.to_string())
        .collect();
        // WHEN ( ... ) sits before EXECUTE FUNCTION f( ... ); both are found
        // outside quotes, so a literal holding those words is no place.
        let when_at = parenthesized_after(&self.def, "WHEN (");
        let after_when = when_at.as_ref().map_or(0, |(_, end)| *end);
        let when = when_at.map(|(w, _)| expr::from_catalog(&w));
        let arguments = self
            .def
            .get(after_when..)
            .and_then(|rest| parenthesized_after(rest, "EXECUTE "))
            .map(|(a, _)| trigger_arguments(&a))
            .unwrap_or_default();
        Trigger {
            name: self.name,
            timing,
            events,
            columns: self.columns.unwrap_or_default(),
            for_each_row: t & 1 != 0,
            when,
            function: QualName::new(self.function_schema, self.function_name),
            arguments,
            old_table: self.old_table,
            new_table: self.new_table,
            comment: self.comment,
            deprecated: None,
            origin: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_and_arguments_are_read_from_the_definition() {
        let def = "CREATE TRIGGER \"x WHEN (\" BEFORE UPDATE ON t FOR EACH ROW WHEN ((old.a IS DISTINCT FROM new.a) AND (new.b = ')')) EXECUTE FUNCTION f('a''b', 'c')";
        let (w, _) = parenthesized_after(def, "WHEN (").unwrap();
        assert_eq!(w, "(old.a IS DISTINCT FROM new.a) AND (new.b = ')')");
        let (_, end) = parenthesized_after(def, "WHEN (").unwrap();
        let (a, _) = parenthesized_after(&def[end..], "EXECUTE ").unwrap();
        assert_eq!(trigger_arguments(&a), vec!["a'b", "c"]);
        // An argument holding the words does not mislead.
        let def = "CREATE TRIGGER t AFTER INSERT ON x FOR EACH ROW EXECUTE FUNCTION f('x EXECUTE FUNCTION g(1)')";
        let (a, _) = parenthesized_after(def, "EXECUTE ").unwrap();
        assert_eq!(trigger_arguments(&a), vec!["x EXECUTE FUNCTION g(1)"]);
        // Nor a parenthesis in a quoted function name.
        let def = "CREATE TRIGGER t AFTER INSERT ON x FOR EACH ROW EXECUTE FUNCTION \"f(x\"('a')";
        let (a, _) = parenthesized_after(def, "EXECUTE ").unwrap();
        assert_eq!(trigger_arguments(&a), vec!["a"]);
    }
}
