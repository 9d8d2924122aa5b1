//! The Drizzle ORM schema (`drizzle-orm/pg-core`, TypeScript) of a desired
//! catalog: `pgEnum` / `pgSchema(..).enum` for enums, `pgTable` /
//! `pgSchema(..).table` for tables with their columns, keys, checks, foreign
//! keys and indexes. Pure: the same catalog gives the same bytes.
//!
//! Every SQL name is written as a string, so quoting is exact; the
//! TypeScript names are camelCase of the SQL names, unique in the file and
//! never a reserved word or one of the imported names. Constraints and
//! indexes keep their SQL names. What Drizzle has no form for (policies,
//! triggers, functions, views, grants, ...) is left out and named in one
//! comment line at the top.

// The interval fields Drizzle's `interval` builder takes are PostgreSQL's own.
use crate::desired::types::INTERVAL_FIELDS;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;

use sqlparser::ast::{self, Expr as Ast, UnaryOperator, Value};

use crate::desired::expr::parse_one;
use crate::model::{
    names, Catalog, Column, FkAction, Identity, IndexKeyPart, QualName, SeqOptions, Table,
};

/// Words a JavaScript binding cannot be (reserved words, strict-mode and
/// module reserved words, and names that would shadow globals we rely on).
const JS_RESERVED: &[&str] = &[
    "arguments",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "eval",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "undefined",
    "var",
    "void",
    "while",
    "with",
    "yield",
    "NaN",
    "Infinity",
    "Object",
    "Array",
    "String",
    "Number",
    "Boolean",
    "Symbol",
    "Date",
    "JSON",
    "Math",
    "Promise",
    "Error",
    "Buffer",
];

/// Every name the file may import (used or not), so that a table's name
/// does not change when an import comes or goes.
const IMPORTABLE: &[&str] = &[
    "sql",
    "AnyPgColumn",
    "PgTableExtraConfigValue",
    "bigint",
    "bigserial",
    "boolean",
    "char",
    "check",
    "cidr",
    "customType",
    "date",
    "doublePrecision",
    "foreignKey",
    "index",
    "inet",
    "integer",
    "interval",
    "json",
    "jsonb",
    "line",
    "macaddr",
    "macaddr8",
    "numeric",
    "pgEnum",
    "pgSchema",
    "pgTable",
    "point",
    "primaryKey",
    "real",
    "serial",
    "smallint",
    "smallserial",
    "text",
    "time",
    "timestamp",
    "unique",
    "uniqueIndex",
    "uuid",
    "varchar",
];

/// Bindings of the file itself: `t`, the third argument's table parameter,
/// which a table of that name would be shadowed by.
const OWN: &[&str] = &["t"];

/// Property names a column cannot take: members of Drizzle's table object.
const TABLE_MEMBERS: &[&str] = &["enableRLS", "getSQL", "constructor", "prototype"];

/// camelCase of a SQL name: the runs of ASCII letters and digits, the
/// first with a lower-case first letter, the others with an upper-case
/// one (`call_logs` → `callLogs`, `HTTPStatus` → `hTTPStatus`); `_` before
/// a leading digit; `x` for a name without letters or digits.
pub fn camel_case(name: &str) -> String {
    let mut out = String::new();
    for part in name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        let mut chars = part.chars();
        let first = chars.next().expect("non-empty part");
        if out.is_empty() {
            out.push(first.to_ascii_lowercase());
        } else {
            out.push(first.to_ascii_uppercase());
        }
        out.extend(chars);
    }
    if out.is_empty() {
        out.push('x');
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// A set of names taken in one scope.
#[derive(Default)]
struct Scope {
    taken: HashSet<String>,
}

impl Scope {
    fn with(reserved: &[&[&str]]) -> Scope {
        Scope {
            taken: reserved
                .iter()
                .flat_map(|r| r.iter().map(|s| s.to_string()))
                .collect(),
        }
    }

    /// `base`, or `base2`, `base3`, ... when it is taken; then taken.
    fn claim(&mut self, base: String) -> String {
        let mut name = base.clone();
        let mut n = 1;
        while self.taken.contains(&name) {
            n += 1;
            name = format!("{base}{n}");
        }
        self.taken.insert(name.clone());
        name
    }
}

/// A JavaScript string literal (JSON's, which JavaScript reads the same).
fn js_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

/// `` sql`...` ``: SQL text in a tagged template, with `\`, `` ` `` and `${` escaped.
fn sql_tag(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('`', "\\`")
        .replace("${", "\\${");
    format!("sql`{escaped}`")
}

/// A JSDoc comment of `lines` at `indent` (empty when there are none).
fn jsdoc(indent: &str, lines: &[String]) -> String {
    let lines: Vec<String> = lines
        .iter()
        .flat_map(|l| l.lines().map(str::to_string).collect::<Vec<_>>())
        .map(|l| l.replace("*/", "*\\/"))
        .collect();
    match lines.as_slice() {
        [] => String::new(),
        [one] => format!("{indent}/** {} */\n", one.trim_end()),
        many => {
            let mut s = format!("{indent}/**\n");
            for l in many {
                let l = l.trim_end();
                if l.is_empty() {
                    let _ = writeln!(s, "{indent} *");
                } else {
                    let _ = writeln!(s, "{indent} * {l}");
                }
            }
            let _ = writeln!(s, "{indent} */");
            s
        }
    }
}

/// The doc lines of an object: its comment, then `@deprecated why`.
fn doc_lines(comment: Option<&str>, deprecated: Option<&str>) -> Vec<String> {
    let mut lines: Vec<String> = comment.map(|c| vec![c.to_string()]).unwrap_or_default();
    if let Some(d) = deprecated {
        lines.push(format!("@deprecated {d}"));
    }
    lines
}

/// The TypeScript names of one table: its binding and its columns' properties.
struct TableNames {
    ident: String,
    columns: HashMap<String, String>,
}

/// What the renderer collects while it writes the declarations.
struct Writer<'a> {
    cat: &'a Catalog,
    imports: BTreeSet<&'static str>,
    type_imports: BTreeSet<&'static str>,
    uses_sql: bool,
    /// Custom column types by SQL type name: (binding, TypeScript data type).
    customs: BTreeMap<String, (String, &'static str)>,
    scope: Scope,
    schemas: BTreeMap<String, String>,
    enums: HashMap<String, (QualName, String)>,
    tables: HashMap<QualName, TableNames>,
    /// What the file leaves out: kind → names.
    omitted: BTreeMap<&'static str, Vec<String>>,
}

/// Render `cat` as a Drizzle schema module. `source` names the schema
/// directory in the header (`Generated by reconcile codegen drizzle from
/// <source>; do not edit`). The output ends with a newline and depends on
/// nothing but its inputs (no time, no paths of this machine).
pub fn render(cat: &Catalog, source: &str) -> String {
    let mut w = Writer {
        cat,
        imports: BTreeSet::new(),
        type_imports: BTreeSet::new(),
        uses_sql: false,
        customs: BTreeMap::new(),
        scope: Scope::with(&[JS_RESERVED, IMPORTABLE, OWN]),
        schemas: BTreeMap::new(),
        enums: HashMap::new(),
        tables: HashMap::new(),
        omitted: BTreeMap::new(),
    };
    w.name_everything();
    let mut blocks = Vec::new();
    let mut enums: Vec<&QualName> = cat.enums.keys().collect();
    enums.sort();
    let enum_block: String = enums.into_iter().map(|n| w.enum_decl(n)).collect();
    if !enum_block.is_empty() {
        blocks.push(enum_block);
    }
    let mut tables: Vec<&QualName> = cat.tables.keys().collect();
    tables.sort();
    for name in tables {
        blocks.push(w.table_decl(&cat.tables[name]));
    }
    w.note_the_rest();

    let mut out =
        format!("// Generated by reconcile codegen drizzle from {source}; do not edit.\n");
    if !w.omitted.is_empty() {
        let parts: Vec<String> = w
            .omitted
            .iter()
            .map(|(kind, names)| format!("{kind} ({}): {}", names.len(), names.join(", ")))
            .collect();
        let _ = writeln!(
            out,
            "// Not described here (Drizzle has no form for them; the schema files keep them): {}.",
            parts.join("; ").replace(['\n', '\r'], " ")
        );
    }
    if w.uses_sql {
        out.push_str("import { sql } from \"drizzle-orm\";\n");
    }
    let mut names: Vec<(String, String)> = w
        .imports
        .iter()
        .map(|n| (n.to_string(), n.to_string()))
        .chain(
            w.type_imports
                .iter()
                .map(|n| (n.to_string(), format!("type {n}"))),
        )
        .collect();
    names.sort();
    if !names.is_empty() {
        let list: Vec<String> = names.into_iter().map(|(_, n)| n).collect();
        let _ = writeln!(
            out,
            "import {{ {} }} from \"drizzle-orm/pg-core\";",
            list.join(", ")
        );
    }
    out.push('\n');
    for (schema, ident) in &w.schemas {
        let _ = writeln!(out, "export const {ident} = pgSchema({});", js_str(schema));
    }
    for (sql_type, (ident, data)) in &w.customs {
        let _ = writeln!(
            out,
            "const {ident} = customType<{{ data: {data} }}>({{ dataType: () => {} }});",
            js_str(sql_type)
        );
    }
    if !w.schemas.is_empty() || !w.customs.is_empty() {
        out.push('\n');
    }
    out.push_str(&blocks.join("\n"));
    out
}

impl Writer<'_> {
    /// Give every schema, enum, table and column its TypeScript name, in a
    /// fixed order (schemas, enums, tables, each sorted), so that names do
    /// not depend on the order the files were read in.
    fn name_everything(&mut self) {
        let cat = self.cat;
        let mut schemas: BTreeSet<&str> = BTreeSet::new();
        for n in cat.enums.keys().chain(cat.tables.keys()) {
            if n.schema != "public" {
                schemas.insert(&n.schema);
            }
        }
        for s in schemas {
            let ident = self.scope.claim(format!("{}Schema", camel_case(s)));
            self.schemas.insert(s.to_string(), ident);
            self.imports.insert("pgSchema");
        }
        let binding = |n: &QualName| {
            if n.schema == "public" {
                camel_case(&n.name)
            } else {
                camel_case(&format!("{}_{}", n.schema, n.name))
            }
        };
        let mut enums: Vec<&QualName> = cat.enums.keys().collect();
        enums.sort();
        for n in enums {
            let ident = self.scope.claim(binding(n));
            self.enums.insert(n.printed(), (n.clone(), ident));
        }
        let mut tables: Vec<&QualName> = cat.tables.keys().collect();
        tables.sort();
        for n in tables {
            let ident = self.scope.claim(binding(n));
            let mut cols = Scope::with(&[JS_RESERVED, TABLE_MEMBERS]);
            let columns = cat.tables[n]
                .columns
                .iter()
                .map(|c| (c.name.clone(), cols.claim(camel_case(&c.name))))
                .collect();
            self.tables.insert(n.clone(), TableNames { ident, columns });
        }
    }

    fn omit(&mut self, kind: &'static str, name: String) {
        self.omitted.entry(kind).or_default().push(name);
    }

    fn sql(&mut self, text: &str) -> String {
        self.uses_sql = true;
        sql_tag(text)
    }

    fn enum_decl(&mut self, name: &QualName) -> String {
        let e = &self.cat.enums[name];
        let ident = self.enums[&name.printed()].1.clone();
        let values: Vec<String> = e.values.iter().map(|v| js_str(v)).collect();
        let maker = if name.schema == "public" {
            self.imports.insert("pgEnum");
            "pgEnum".to_string()
        } else {
            format!("{}.enum", self.schemas[&name.schema])
        };
        format!(
            "{}export const {ident} = {maker}({}, [{}]);\n",
            jsdoc("", &doc_lines(e.comment.as_deref(), None)),
            js_str(&name.name),
            values.join(", ")
        )
    }

    fn table_decl(&mut self, t: &Table) -> String {
        let names = &self.tables[&t.name];
        let ident = names.ident.clone();
        let maker = if t.name.schema == "public" {
            self.imports.insert("pgTable");
            "pgTable".to_string()
        } else {
            format!("{}.table", self.schemas[&t.name.schema])
        };
        let single_pk = t.primary_key.as_ref().and_then(|k| {
            (k.columns.len() == 1
                && k.name == names::pkey_name(&t.name.name)
                && k.include.is_empty()
                && !k.deferrable)
                .then(|| k.columns[0].clone())
        });
        let mut s = jsdoc(
            "",
            &doc_lines(t.comment.as_deref(), t.deprecated.as_deref()),
        );
        let _ = writeln!(
            s,
            "export const {ident} = {maker}({}, {{",
            js_str(&t.name.name)
        );
        for c in &t.columns {
            s.push_str(&jsdoc(
                "  ",
                &doc_lines(c.comment.as_deref(), c.deprecated.as_deref()),
            ));
            let key = self.col(&t.name, &c.name);
            let builder = self.column(t, c, single_pk.as_deref() == Some(c.name.as_str()));
            let _ = writeln!(s, "  {key}: {builder},");
        }
        let extras = self.extras(t, single_pk.is_some());
        if extras.is_empty() {
            s.push_str("});\n");
        } else {
            self.type_imports.insert("PgTableExtraConfigValue");
            s.push_str("}, (t): PgTableExtraConfigValue[] => [\n");
            for e in extras {
                let _ = writeln!(s, "  {e},");
            }
            s.push_str("]);\n");
        }
        s
    }

    /// The property of column `column` of table `table`.
    fn col(&self, table: &QualName, column: &str) -> String {
        // Every column a key names is the table's (the loader checks it);
        // were one not, its camelCase name still reads as what it meant.
        self.tables
            .get(table)
            .and_then(|t| t.columns.get(column))
            .cloned()
            .unwrap_or_else(|| camel_case(column))
    }

    /// `t.prop` of a column of the table being written.
    fn t_col(&self, table: &QualName, column: &str) -> String {
        format!("t.{}", self.col(table, column))
    }

    /// The column's builder: type, then not null, default, identity or
    /// generation, primary key and unique.
    fn column(&mut self, t: &Table, c: &Column, primary_key: bool) -> String {
        let mut s = self.builder(t, c);
        let implied_not_null = primary_key || c.serial.is_some() || c.identity.is_some();
        if c.not_null && !implied_not_null {
            s.push_str(".notNull()");
        }
        if let (Some(d), None) = (&c.default, &c.serial) {
            s.push_str(&self.default(c, &d.sql));
        }
        if let Some(g) = &c.generated {
            let g = self.sql(&g.sql);
            let _ = write!(s, ".generatedAlwaysAs({g})");
        }
        if let Some(i) = c.identity {
            let options = c
                .identity_options
                .as_deref()
                .map(identity_options)
                .unwrap_or_default();
            let _ = write!(
                s,
                ".{}({options})",
                match i {
                    Identity::Always => "generatedAlwaysAsIdentity",
                    Identity::ByDefault => "generatedByDefaultAsIdentity",
                }
            );
        }
        if primary_key {
            s.push_str(".primaryKey()");
        }
        if let Some(collation) = &c.collation {
            self.omit(
                "column collations",
                format!("{}.{} COLLATE {}", t.name, c.name, collation),
            );
        }
        s
    }

    /// The type's builder with the column's SQL name, and `.array()` per dimension.
    fn builder(&mut self, t: &Table, c: &Column) -> String {
        let mut base = c.ty.as_str();
        let mut dims = 0;
        while let Some(b) = base.strip_suffix("[]") {
            base = b;
            dims += 1;
        }
        let name = js_str(&c.name);
        let mut s = if let Some(keyword) = c.serial.as_ref().map(|s| s.keyword) {
            let (f, opts) = match keyword {
                "bigserial" => ("bigserial", ", { mode: \"number\" }"),
                "smallserial" => ("smallserial", ""),
                _ => ("serial", ""),
            };
            self.imports.insert(f);
            if c.serial
                .as_ref()
                .is_some_and(|s| s.sequence.name != names::sequence_name(&t.name.name, &c.name))
            {
                self.omit(
                    "sequence names of serial columns",
                    format!("{}.{}", t.name, c.name),
                );
            }
            format!("{f}({name}{opts})")
        } else if let Some((_, ident)) = self.enums.get(base) {
            format!("{ident}({name})")
        } else if let Some((f, opts)) = builtin(base) {
            self.imports.insert(f);
            format!("{f}({name}{opts})")
        } else {
            let ident = self.custom(base);
            format!("{ident}({name})")
        };
        for _ in 0..dims {
            s.push_str(".array()");
        }
        s
    }

    /// The binding of a `customType` for a SQL type Drizzle has no builder for.
    fn custom(&mut self, sql_type: &str) -> String {
        if let Some((ident, _)) = self.customs.get(sql_type) {
            return ident.clone();
        }
        self.imports.insert("customType");
        let data = match self
            .cat
            .domains
            .values()
            .find(|d| d.name.printed() == sql_type)
        {
            Some(d) => ts_data(&d.ty),
            None => ts_data(sql_type),
        };
        let ident = self.scope.claim(format!("{}Type", camel_case(sql_type)));
        self.customs
            .insert(sql_type.to_string(), (ident.clone(), data));
        ident
    }

    /// `.default(...)`: a JavaScript value where the SQL is a literal of
    /// the column's kind, `.defaultNow()` for `now()` and CURRENT_TIMESTAMP,
    /// else the SQL text.
    fn default(&mut self, c: &Column, sql: &str) -> String {
        let kind = value_kind(&c.ty, self.enums.contains_key(c.ty.as_str()));
        if let Ok(ast) = parse_one(sql) {
            if is_now(&ast) && c.ty.starts_with("timestamp") {
                return ".defaultNow()".to_string();
            }
            if let Some(v) = literal(&ast, &c.ty, kind) {
                return format!(".default({v})");
            }
        }
        let s = self.sql(sql);
        format!(".default({s})")
    }

    /// The third argument's entries: keys, checks, foreign keys, indexes.
    fn extras(&mut self, t: &Table, single_pk: bool) -> Vec<String> {
        let mut out = Vec::new();
        let tn = &t.name;
        let list = |w: &Self, cols: &[String]| -> String {
            cols.iter()
                .map(|c| w.t_col(tn, c))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if let (Some(k), false) = (&t.primary_key, single_pk) {
            self.imports.insert("primaryKey");
            out.push(format!(
                "primaryKey({{ name: {}, columns: [{}] }})",
                js_str(&k.name),
                list(self, &k.columns)
            ));
            self.key_extras(t, k);
        }
        for k in &t.uniques {
            self.imports.insert("unique");
            out.push(format!(
                "unique({}).on({}){}",
                js_str(&k.name),
                list(self, &k.columns),
                if k.nulls_not_distinct {
                    ".nullsNotDistinct()"
                } else {
                    ""
                }
            ));
            self.key_extras(t, k);
        }
        for c in &t.checks {
            self.imports.insert("check");
            let e = self.sql(&c.expr.sql);
            out.push(format!("check({}, {e})", js_str(&c.name)));
            if c.no_inherit {
                self.omit("NO INHERIT of checks", format!("{}.{}", tn, c.name));
            }
            if !c.validated {
                self.omit("NOT VALID constraints", format!("{}.{}", tn, c.name));
            }
        }
        for fk in &t.foreign_keys {
            let Some(target) = self.tables.get(&fk.ref_table) else {
                self.omit(
                    "foreign keys to tables outside the files",
                    format!("{}.{} → {}", tn, fk.name, fk.ref_table),
                );
                continue;
            };
            let foreign: Vec<String> = fk
                .ref_columns
                .iter()
                .map(|c| match target.columns.get(c) {
                    Some(p) if fk.ref_table == *tn => format!("t.{p}"),
                    Some(p) => format!("{}.{p}", target.ident),
                    None => format!("{}.{}", target.ident, camel_case(c)),
                })
                .collect();
            self.imports.insert("foreignKey");
            let mut s = format!(
                "foreignKey({{ name: {}, columns: [{}], foreignColumns: [{}] }})",
                js_str(&fk.name),
                list(self, &fk.columns),
                foreign.join(", ")
            );
            if fk.on_delete != FkAction::NoAction {
                let _ = write!(s, ".onDelete({})", js_str(&action(fk.on_delete)));
            }
            if fk.on_update != FkAction::NoAction {
                let _ = write!(s, ".onUpdate({})", js_str(&action(fk.on_update)));
            }
            out.push(s);
            let at = format!("{}.{}", tn, fk.name);
            if !fk.on_delete_columns.is_empty() {
                self.omit("column lists of ON DELETE SET NULL/DEFAULT", at.clone());
            }
            if fk.match_full {
                self.omit("MATCH FULL of foreign keys", at.clone());
            }
            if fk.deferrable {
                self.omit("deferrable constraints", at.clone());
            }
            if !fk.validated {
                self.omit("NOT VALID constraints", at);
            }
        }
        for i in &t.indexes {
            let f = if i.unique { "uniqueIndex" } else { "index" };
            self.imports.insert(f);
            let mut keys = Vec::new();
            for k in &i.keys {
                let plain = k.collation.is_none();
                match &k.part {
                    IndexKeyPart::Column(c) if plain && t.column(c).is_some() => {
                        let mut s = self.t_col(tn, c);
                        if let Some(op) = &k.opclass {
                            let _ = write!(s, ".op({})", js_str(&op.to_string()));
                        }
                        if k.desc {
                            s.push_str(".desc()");
                        }
                        if k.nulls_first != k.desc {
                            s.push_str(if k.nulls_first {
                                ".nullsFirst()"
                            } else {
                                ".nullsLast()"
                            });
                        }
                        keys.push(s);
                    }
                    _ => keys.push(self.sql(&k.sql(false))),
                }
            }
            let on = if i.method == "btree" {
                format!("on({})", keys.join(", "))
            } else {
                format!("using({}, {})", js_str(&i.method), keys.join(", "))
            };
            let mut s = format!("{f}({}).{on}", js_str(&i.name));
            if let Some(p) = &i.predicate {
                let p = self.sql(&p.sql);
                let _ = write!(s, ".where({p})");
            }
            out.push(s);
            let at = format!("{}.{}", tn, i.name);
            if !i.include.is_empty() {
                self.omit("INCLUDE columns of indexes and keys", at.clone());
            }
            if i.nulls_not_distinct {
                self.omit("NULLS NOT DISTINCT of unique indexes", at.clone());
            }
            if i.comment.is_some() {
                self.omit("comments on indexes", at);
            }
        }
        out
    }

    /// What a key has that Drizzle cannot say.
    fn key_extras(&mut self, t: &Table, k: &crate::model::Key) {
        let at = format!("{}.{}", t.name, k.name);
        if !k.include.is_empty() {
            self.omit("INCLUDE columns of indexes and keys", at.clone());
        }
        if k.deferrable {
            self.omit("deferrable constraints", at);
        }
    }

    /// Everything else the catalog holds that the file does not describe.
    fn note_the_rest(&mut self) {
        let cat = self.cat;
        for e in cat.extensions.values() {
            self.omit("extensions", e.name.clone());
        }
        for d in cat.domains.values() {
            self.omit("domain definitions", d.name.to_string());
        }
        for c in cat.composite_types.values() {
            self.omit("composite types", c.name.to_string());
        }
        for r in cat.range_types.values() {
            self.omit("range types", r.name.to_string());
        }
        for c in cat.collations.values() {
            self.omit("collations", c.name.to_string());
        }
        for c in cat.ts_configs.values() {
            self.omit("text search configurations", c.name.to_string());
        }
        for s in cat.sequences.values() {
            self.omit("sequences", s.name.to_string());
        }
        for r in cat.routines.values() {
            self.omit("functions and procedures", r.id.name.to_string());
        }
        for v in cat.views.values() {
            self.omit("views", v.name.to_string());
        }
        if !cat.grants.is_empty() {
            self.omit("grants", format!("{} privilege(s)", cat.grants.len()));
        }
        let mut tables: Vec<&Table> = cat.tables.values().collect();
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        for t in tables {
            let tn = t.name.to_string();
            if t.row_level_security == Some(true) || t.force_row_level_security == Some(true) {
                self.omit("row level security", tn.clone());
            }
            for p in &t.policies {
                self.omit("policies", format!("{tn}.{}", p.name));
            }
            for tr in &t.triggers {
                self.omit("triggers", format!("{tn}.{}", tr.name));
            }
            for x in &t.exclusions {
                self.omit("exclusion constraints", format!("{tn}.{}", x.name));
            }
            if t.partition_by.is_some() || !t.partitions.is_empty() {
                self.omit("partitioning", tn.clone());
            }
            if t.unlogged == Some(true) {
                self.omit("unlogged tables", tn.clone());
            }
            if !t.constraint_comments.is_empty() {
                self.omit("comments on constraints", tn.clone());
            }
        }
        for names in self.omitted.values_mut() {
            names.sort();
            names.dedup();
        }
    }
}

/// The builder of a built-in type Drizzle has one for, with the options
/// after the column name (`, { length: 16 }`).
fn builtin(ty: &str) -> Option<(&'static str, String)> {
    let simple = match ty {
        "smallint" => Some("smallint"),
        "integer" => Some("integer"),
        "real" => Some("real"),
        "double precision" => Some("doublePrecision"),
        "boolean" => Some("boolean"),
        "text" => Some("text"),
        "uuid" => Some("uuid"),
        "date" => Some("date"),
        "json" => Some("json"),
        "jsonb" => Some("jsonb"),
        "inet" => Some("inet"),
        "cidr" => Some("cidr"),
        "macaddr" => Some("macaddr"),
        "macaddr8" => Some("macaddr8"),
        "point" => Some("point"),
        "line" => Some("line"),
        "numeric" => Some("numeric"),
        "character varying" => Some("varchar"),
        "character" => Some("char"),
        "interval" => Some("interval"),
        _ => None,
    };
    if let Some(f) = simple {
        return Some((f, String::new()));
    }
    if ty == "bigint" {
        return Some(("bigint", ", { mode: \"number\" }".into()));
    }
    let modifier = |prefix: &str| -> Option<Vec<u32>> {
        let rest = ty.strip_prefix(prefix)?.strip_prefix('(')?;
        let (inside, after) = rest.split_once(')')?;
        if !after.is_empty() {
            return None;
        }
        inside.split(',').map(|n| n.trim().parse().ok()).collect()
    };
    if let Some(n) = modifier("character varying").filter(|m| m.len() == 1) {
        return Some(("varchar", format!(", {{ length: {} }}", n[0])));
    }
    if let Some(n) = modifier("character").filter(|m| m.len() == 1) {
        return Some(("char", format!(", {{ length: {} }}", n[0])));
    }
    if let Some(m) = modifier("numeric") {
        return match m.as_slice() {
            [p] => Some(("numeric", format!(", {{ precision: {p} }}"))),
            [p, s] => Some(("numeric", format!(", {{ precision: {p}, scale: {s} }}"))),
            _ => None,
        };
    }
    for (prefix, f) in [("timestamp", "timestamp"), ("time", "time")] {
        for (zone, with) in [(" with time zone", true), (" without time zone", false)] {
            let Some(head) = ty.strip_suffix(zone) else {
                continue;
            };
            let precision = if head == prefix {
                None
            } else {
                let Some(p) = head
                    .strip_prefix(prefix)
                    .and_then(|p| p.strip_prefix('('))
                    .and_then(|p| p.strip_suffix(')'))
                else {
                    continue;
                };
                Some(p.parse::<u32>().ok().filter(|p| *p <= 6)?)
            };
            let mut opts = Vec::new();
            if with {
                opts.push("withTimezone: true".to_string());
            }
            if let Some(p) = precision {
                opts.push(format!("precision: {p}"));
            }
            let opts = if opts.is_empty() {
                String::new()
            } else {
                format!(", {{ {} }}", opts.join(", "))
            };
            return Some((f, opts));
        }
    }
    if let Some(rest) = ty.strip_prefix("interval") {
        let (fields, precision) = match rest.trim().split_once('(') {
            Some((f, p)) => (
                f.trim(),
                Some(
                    p.strip_suffix(')')?
                        .parse::<u32>()
                        .ok()
                        .filter(|p| *p <= 6)?,
                ),
            ),
            None => (rest.trim(), None),
        };
        let mut opts = Vec::new();
        if !fields.is_empty() {
            if !INTERVAL_FIELDS.contains(&fields) {
                return None;
            }
            opts.push(format!("fields: {}", js_str(fields)));
        }
        if let Some(p) = precision {
            opts.push(format!("precision: {p}"));
        }
        let opts = if opts.is_empty() {
            String::new()
        } else {
            format!(", {{ {} }}", opts.join(", "))
        };
        return Some(("interval", opts));
    }
    None
}

/// The TypeScript type of a custom column's values, from its SQL type.
fn ts_data(ty: &str) -> &'static str {
    if ty.ends_with("[]") {
        return "unknown[]";
    }
    match ty {
        "smallint" | "integer" | "real" | "double precision" => "number",
        "boolean" => "boolean",
        _ if value_kind(ty, false) == ValueKind::Text => "string",
        _ if ty.starts_with("numeric")
            || ty.starts_with("time")
            || ty == "date"
            || ty == "bigint"
            || ty == "money"
            || ty == "xml"
            || ty == "tsvector"
            || ty == "tsquery" =>
        {
            "string"
        }
        _ => "unknown",
    }
}

/// What JavaScript value a column's default may be written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ValueKind {
    /// A string (text, varchar, char, uuid, an enum).
    Text,
    /// A JavaScript number (integers, bigint in number mode, real, double).
    Number,
    /// A string holding a number (numeric, whose mode is string).
    NumericText,
    Boolean,
    /// Only SQL.
    Other,
}

fn value_kind(ty: &str, is_enum: bool) -> ValueKind {
    if is_enum {
        return ValueKind::Text;
    }
    match ty {
        "text" | "uuid" => ValueKind::Text,
        _ if ty.starts_with("character varying") || ty.starts_with("character") => ValueKind::Text,
        "smallint" | "integer" | "bigint" | "real" | "double precision" => ValueKind::Number,
        _ if ty == "numeric" || ty.starts_with("numeric(") => ValueKind::NumericText,
        "boolean" => ValueKind::Boolean,
        _ => ValueKind::Other,
    }
}

/// `now()` or CURRENT_TIMESTAMP.
fn is_now(ast: &Ast) -> bool {
    match ast {
        Ast::Function(f) => {
            let name = f.name.to_string().to_ascii_lowercase();
            (name == "now"
                && matches!(&f.args, ast::FunctionArguments::List(l) if l.args.is_empty()))
                || (name == "current_timestamp" && f.args == ast::FunctionArguments::None)
        }
        _ => false,
    }
}

/// A default as a JavaScript value when it is a literal of the column's
/// kind that the value says exactly; `None` otherwise.
fn literal(ast: &Ast, ty: &str, kind: ValueKind) -> Option<String> {
    let ast = match ast {
        // `'x'::type` where the type is the column's own.
        Ast::Cast {
            expr, data_type, ..
        } if data_type.to_string().eq_ignore_ascii_case(ty) => expr.as_ref(),
        a => a,
    };
    let (negative, value) = match ast {
        Ast::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match expr.as_ref() {
            Ast::Value(v) => (true, &v.value),
            _ => return None,
        },
        Ast::Value(v) => (false, &v.value),
        _ => return None,
    };
    match (kind, value) {
        (ValueKind::Text, Value::SingleQuotedString(s)) if !negative => Some(js_str(s)),
        (ValueKind::Boolean, Value::Boolean(b)) if !negative => Some(b.to_string()),
        (ValueKind::Number, Value::Number(n, _)) => {
            let text = format!("{}{n}", if negative { "-" } else { "" });
            let exact = if let Ok(i) = text.parse::<i64>() {
                i.unsigned_abs() <= (1u64 << 53)
            } else {
                text.parse::<f64>()
                    .is_ok_and(|f| f.is_finite() && f.to_string() == text)
            };
            exact.then_some(text)
        }
        (ValueKind::NumericText, Value::Number(n, _)) => {
            Some(js_str(&format!("{}{n}", if negative { "-" } else { "" })))
        }
        _ => None,
    }
}

/// An action as Drizzle spells it: `cascade`, `set null`, ...
fn action(a: FkAction) -> String {
    a.sql().to_ascii_lowercase()
}

/// `{ startWith: 10, increment: 5, ... }` of an identity column's sequence.
fn identity_options(o: &SeqOptions) -> String {
    let mut parts = Vec::new();
    for (key, v) in [
        ("startWith", o.start),
        ("increment", o.increment),
        ("minValue", o.min_value),
        ("maxValue", o.max_value),
        ("cache", o.cache),
    ] {
        if let Some(v) = v {
            // Past 2^53 a JavaScript number is not exact: a string then.
            if v.unsigned_abs() <= (1u64 << 53) {
                parts.push(format!("{key}: {v}"));
            } else {
                parts.push(format!("{key}: {}", js_str(&v.to_string())));
            }
        }
    }
    if o.cycle {
        parts.push("cycle: true".into());
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{ {} }}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_of_sql_names() {
        assert_eq!(camel_case("call_logs"), "callLogs");
        assert_eq!(camel_case("tenant_id"), "tenantId");
        assert_eq!(camel_case("Weird Name!"), "weirdName");
        assert_eq!(camel_case("1st"), "_1st");
        assert_eq!(camel_case("__"), "x");
    }

    #[test]
    fn names_are_unique_and_not_reserved() {
        let mut s = Scope::with(&[JS_RESERVED, IMPORTABLE, OWN]);
        assert_eq!(s.claim(camel_case("default")), "default2");
        assert_eq!(s.claim(camel_case("t")), "t2");
        assert_eq!(s.claim(camel_case("text")), "text2");
        assert_eq!(s.claim(camel_case("a_b")), "aB");
        assert_eq!(s.claim(camel_case("aB")), "aB2");
    }

    #[test]
    fn sql_in_a_template_is_escaped() {
        assert_eq!(sql_tag("a`b${c}\\d"), "sql`a\\`b\\${c}\\\\d`");
    }

    #[test]
    fn builtin_types() {
        assert_eq!(
            builtin("character varying(16)"),
            Some(("varchar", ", { length: 16 }".into()))
        );
        assert_eq!(
            builtin("numeric(10,2)"),
            Some(("numeric", ", { precision: 10, scale: 2 }".into()))
        );
        assert_eq!(
            builtin("timestamp(3) with time zone"),
            Some(("timestamp", ", { withTimezone: true, precision: 3 }".into()))
        );
        assert_eq!(
            builtin("time without time zone"),
            Some(("time", String::new()))
        );
        assert_eq!(
            builtin("interval day to second(3)"),
            Some((
                "interval",
                ", { fields: \"day to second\", precision: 3 }".into()
            ))
        );
        assert_eq!(builtin("bytea"), None);
    }

    #[test]
    fn defaults_as_values() {
        let lit =
            |sql: &str, ty: &str| literal(&parse_one(sql).unwrap(), ty, value_kind(ty, false));
        assert_eq!(lit("'UTC'", "text").as_deref(), Some("\"UTC\""));
        assert_eq!(lit("0", "integer").as_deref(), Some("0"));
        assert_eq!(lit("-5", "bigint").as_deref(), Some("-5"));
        assert_eq!(lit("9007199254740993", "bigint"), None);
        assert_eq!(lit("1.50", "numeric(10,2)").as_deref(), Some("\"1.50\""));
        assert_eq!(lit("true", "boolean").as_deref(), Some("true"));
        assert_eq!(lit("'[]'::jsonb", "jsonb"), None);
        assert!(is_now(&parse_one("now()").unwrap()));
        assert!(is_now(&parse_one("CURRENT_TIMESTAMP").unwrap()));
    }
}
