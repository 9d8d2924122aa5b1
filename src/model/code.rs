//! Code objects of the catalog model: functions and procedures (routines),
//! views and materialized views, and triggers (which belong to their table).
//! Filled from the files as they write them and from the catalog as
//! PostgreSQL prints them (`pg_get_function_arguments`,
//! `pg_get_function_result`, `pg_get_viewdef`, `pg_get_triggerdef`); where the
//! two texts differ, `plan::canon` lets PostgreSQL print the files' side too.

use std::fmt;

use serde::Serialize;

use crate::model::names::quote_ident;
use crate::model::{Expr, Origin, QualName};

/// A routine's identity: its name and its input argument types, as
/// PostgreSQL prints them (`oidvectortypes(proargtypes)`: `integer, text`).
/// Two routines of one name and different argument types are two routines
/// (overloading).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct RoutineId {
    pub name: QualName,
    pub args: String,
}

impl RoutineId {
    /// `"schema"."name"(integer, text)`, as DDL names it.
    pub fn sql(&self) -> String {
        format!("{}({})", self.name.sql(), self.args)
    }
}

/// `name(integer, text)`, `auth.uid()`.
impl fmt::Display for RoutineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name, self.args)
    }
}

/// A function or a procedure (`CREATE FUNCTION`, `CREATE PROCEDURE`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Routine {
    pub id: RoutineId,
    pub procedure: bool,
    /// The argument list as `CREATE FUNCTION` takes it, names, modes and
    /// defaults included (`pg_get_function_arguments`: `a integer, b text DEFAULT 'x'::text`).
    pub arguments: String,
    /// `pg_get_function_result` (`integer`, `SETOF users`, `TABLE(id bigint)`,
    /// `trigger`); `None` for a procedure.
    pub returns: Option<String>,
    pub language: String,
    /// The body: `prosrc` as it was written (for `LANGUAGE c`, the link symbol),
    /// or, with `sql_body`, the SQL-standard body (`BEGIN ATOMIC ... END`,
    /// `RETURN ...`) as PostgreSQL prints it.
    pub body: String,
    pub sql_body: bool,
    /// `LANGUAGE c`: the library (`$libdir/unaccent`, pg_proc.probin).
    pub library: Option<String>,
    /// `volatile` (the default), `stable` or `immutable`.
    pub volatility: String,
    pub strict: bool,
    pub security_definer: bool,
    pub leakproof: bool,
    /// `unsafe` (the default), `restricted` or `safe`.
    pub parallel: String,
    /// `COST`, when it is not the default for the language (1 for C and
    /// internal functions, 100 otherwise).
    pub cost: Option<String>,
    /// `ROWS`, for a set-returning function, when it is not 1000.
    pub rows: Option<String>,
    /// `WINDOW`: a window function.
    pub window: bool,
    /// `SET name = value` (pg_proc.proconfig), in order.
    pub settings: Vec<(String, String)>,
    pub comment: Option<String>,
    pub deprecated: Option<String>,
    pub origin: Option<Origin>,
}

impl Routine {
    pub fn kind(&self) -> &'static str {
        if self.procedure {
            "procedure"
        } else {
            "function"
        }
    }

    /// What `CREATE OR REPLACE` cannot change in place: the kind, the return
    /// type, the names and the defaults of the arguments (PostgreSQL refuses:
    /// "cannot change return type of existing function", "cannot change name
    /// of input parameter", "cannot remove parameter defaults").
    pub fn signature(&self) -> String {
        format!(
            "{} {}({}){}",
            self.kind().to_uppercase(),
            self.id.name,
            self.arguments,
            self.returns
                .as_ref()
                .map(|r| format!(" RETURNS {r}"))
                .unwrap_or_default()
        )
    }

    /// The whole definition, as compared and as a diff shows it.
    pub fn definition(&self) -> String {
        let mut s = self.signature();
        s.push_str(&format!("\n LANGUAGE {}", self.language));
        for (word, on) in [
            ("WINDOW", self.window),
            ("STRICT", self.strict),
            ("SECURITY DEFINER", self.security_definer),
            ("LEAKPROOF", self.leakproof),
        ] {
            if on {
                s.push(' ');
                s.push_str(word);
            }
        }
        if self.volatility != "volatile" {
            s.push(' ');
            s.push_str(&self.volatility.to_uppercase());
        }
        if self.parallel != "unsafe" {
            s.push_str(&format!(" PARALLEL {}", self.parallel.to_uppercase()));
        }
        if let Some(c) = &self.cost {
            s.push_str(&format!(" COST {c}"));
        }
        if let Some(r) = &self.rows {
            s.push_str(&format!(" ROWS {r}"));
        }
        for (k, v) in &self.settings {
            s.push_str(&format!("\n SET {k} = {v}"));
        }
        match &self.library {
            Some(l) => s.push_str(&format!("\nAS {l:?}, {:?}", self.body)),
            None if self.sql_body => s.push_str(&format!("\n{}", self.body)),
            None => s.push_str(&format!("\nAS $$\n{}\n$$", self.body)),
        }
        s
    }
}

/// Settings whose value is a list that PostgreSQL quotes element by element
/// (pg_dump's `variable_is_guc_list_quote`).
pub const LIST_SETTINGS: &[&str] = &[
    "local_preload_libraries",
    "search_path",
    "session_preload_libraries",
    "shared_preload_libraries",
    "temp_tablespaces",
    "unix_socket_directories",
];

/// `WITH CHECK OPTION` of an updatable view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckOption {
    Local,
    Cascaded,
}

/// A view or a materialized view.
#[derive(Clone, Debug, Serialize)]
pub struct View {
    pub name: QualName,
    pub materialized: bool,
    /// The query: from the catalog as `pg_get_viewdef` prints it; from the
    /// files as written (without a trailing semicolon).
    pub query: String,
    /// The output columns with their types (`format_type`), from the catalog
    /// (and from PostgreSQL for the files, when `plan::canon` probed the
    /// view): what `CREATE OR REPLACE VIEW` must keep. Empty when unknown.
    pub columns: Vec<(String, String)>,
    pub security_barrier: bool,
    /// PostgreSQL 15.
    pub security_invoker: bool,
    pub check_option: Option<CheckOption>,
    /// A materialized view's indexes.
    #[serde(skip)]
    pub indexes: Vec<crate::model::Index>,
    /// From the catalog (pg_depend of its rewrite rule): the views and
    /// routines its query uses. Empty for the files.
    #[serde(skip)]
    pub uses: Vec<Uses>,
    pub comment: Option<String>,
    pub deprecated: Option<String>,
    pub origin: Option<Origin>,
}

impl View {
    pub fn kind(&self) -> &'static str {
        if self.materialized {
            "materialized view"
        } else {
            "view"
        }
    }

    /// A plain view of the same query and options, to let PostgreSQL print or
    /// judge the query on a temporary view (a materialized view cannot be
    /// temporary; its query prints the same way; a temporary view takes no
    /// check option).
    pub fn as_probe(&self) -> View {
        View {
            materialized: false,
            check_option: None,
            ..self.clone()
        }
    }

    /// ` WITH (security_barrier=true, ...)`, or nothing.
    pub fn options_sql(&self) -> String {
        let mut o = Vec::new();
        if self.security_barrier {
            o.push("security_barrier=true".to_string());
        }
        if self.security_invoker {
            o.push("security_invoker=true".to_string());
        }
        if let Some(c) = self.check_option {
            o.push(format!(
                "check_option={}",
                match c {
                    CheckOption::Local => "local",
                    CheckOption::Cascaded => "cascaded",
                }
            ));
        }
        if o.is_empty() {
            String::new()
        } else {
            format!(" WITH ({})", o.join(", "))
        }
    }

    /// The definition as a refusal's diff shows it, on one line: the diff
    /// prints each side after a `-` or `+` and points at where they part,
    /// which `pg_get_viewdef`'s lines (and a leading empty line when there
    /// are no options) used to break.
    pub fn definition(&self) -> String {
        let query: Vec<&str> = self
            .query_body()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let options = self.options_sql();
        let options = options.trim_start();
        let sep = if options.is_empty() { "" } else { " " };
        format!("{options}{sep}AS {}", query.join(" "))
    }

    /// What is compared: the options and the query (white space at its ends aside).
    pub fn definition_key(&self) -> String {
        format!("{}\n{}", self.options_sql(), self.query_body())
    }

    /// The query without a trailing semicolon and white space (`pg_get_viewdef` ends in one).
    pub fn query_body(&self) -> &str {
        self.query.trim().trim_end_matches(';').trim_end()
    }
}

/// What a view's query uses, as the catalog records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Uses {
    View(QualName),
    Routine(RoutineId),
}

/// When a trigger fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Timing {
    Before,
    After,
    InsteadOf,
}

impl Timing {
    pub fn sql(self) -> &'static str {
        match self {
            Timing::Before => "BEFORE",
            Timing::After => "AFTER",
            Timing::InsteadOf => "INSTEAD OF",
        }
    }
    /// As the files write it: `before`, `after`, `instead of`.
    pub fn word(self) -> &'static str {
        match self {
            Timing::Before => "before",
            Timing::After => "after",
            Timing::InsteadOf => "instead of",
        }
    }
    pub fn parse(s: &str) -> Option<Timing> {
        let words: Vec<String> = s.split_whitespace().map(str::to_lowercase).collect();
        match words.join(" ").as_str() {
            "before" => Some(Timing::Before),
            "after" => Some(Timing::After),
            "instead of" => Some(Timing::InsteadOf),
            _ => None,
        }
    }
}

/// The events of a trigger, in the order PostgreSQL prints them.
pub const TRIGGER_EVENTS: [&str; 4] = ["insert", "delete", "update", "truncate"];

/// A trigger on a table (`CREATE TRIGGER`); constraint triggers are not managed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trigger {
    pub name: String,
    pub timing: Timing,
    /// Of [`TRIGGER_EVENTS`], in that order.
    pub events: Vec<String>,
    /// `UPDATE OF` these columns (empty: any).
    pub columns: Vec<String>,
    /// `FOR EACH ROW` (else FOR EACH STATEMENT, PostgreSQL's default).
    pub for_each_row: bool,
    /// `WHEN (...)`.
    pub when: Option<Expr>,
    /// The trigger function, `EXECUTE FUNCTION name(arguments)`.
    pub function: QualName,
    /// Its arguments, as string literals' values.
    pub arguments: Vec<String>,
    /// `REFERENCING OLD TABLE AS` / `NEW TABLE AS` (transition tables).
    pub old_table: Option<String>,
    pub new_table: Option<String>,
    pub comment: Option<String>,
    pub deprecated: Option<String>,
    pub origin: Option<Origin>,
}

impl Trigger {
    /// `CREATE [OR REPLACE] TRIGGER ...` on `table`: with `key`, the WHEN
    /// expression's normalized form (to compare), without, its SQL.
    pub fn create_sql(&self, table: &QualName, or_replace: bool, key: bool) -> String {
        let mut events = Vec::new();
        for e in &self.events {
            let mut s = e.to_uppercase();
            if e == "update" && !self.columns.is_empty() {
                s.push_str(" OF ");
                s.push_str(&crate::model::names::quote_list(&self.columns));
            }
            events.push(s);
        }
        let mut s = format!(
            "CREATE {}TRIGGER {} {} {} ON {}",
            if or_replace { "OR REPLACE " } else { "" },
            quote_ident(&self.name),
            self.timing.sql(),
            events.join(" OR "),
            table.sql()
        );
        if self.old_table.is_some() || self.new_table.is_some() {
            s.push_str(" REFERENCING");
            if let Some(o) = &self.old_table {
                s.push_str(&format!(" OLD TABLE AS {}", quote_ident(o)));
            }
            if let Some(n) = &self.new_table {
                s.push_str(&format!(" NEW TABLE AS {}", quote_ident(n)));
            }
        }
        s.push_str(if self.for_each_row {
            " FOR EACH ROW"
        } else {
            " FOR EACH STATEMENT"
        });
        if let Some(w) = &self.when {
            s.push_str(&format!(" WHEN ({})", if key { &w.key } else { &w.sql }));
        }
        let args: Vec<String> = self
            .arguments
            .iter()
            .map(|a| crate::model::names::quote_literal(a))
            .collect();
        s.push_str(&format!(
            " EXECUTE FUNCTION {}({})",
            self.function.sql(),
            args.join(", ")
        ));
        s
    }
}
