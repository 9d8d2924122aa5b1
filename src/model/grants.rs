//! Privileges (GRANT) of the catalog model: what a role may do with a
//! table, view, column, sequence, routine, type or schema. From the files,
//! the `grants` key of each object (and `[schema_grants]`); from the
//! database, `aclexplode` over the objects' ACLs. Granting is additive: a
//! privilege the files do not list is reported, never revoked. No I/O here.

use std::fmt;

use serde::Serialize;

use crate::model::names::quote_ident;
use crate::model::{key_part, QualName, RoutineId};

/// A privilege, as GRANT names it (and `aclexplode` prints it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Privilege {
    Select,
    Insert,
    Update,
    Delete,
    Truncate,
    References,
    Trigger,
    Usage,
    Execute,
    Create,
}

impl Privilege {
    /// Every privilege, in the order GRANT lists them.
    pub const ALL: [Privilege; 10] = [
        Privilege::Select,
        Privilege::Insert,
        Privilege::Update,
        Privilege::Delete,
        Privilege::Truncate,
        Privilege::References,
        Privilege::Trigger,
        Privilege::Usage,
        Privilege::Execute,
        Privilege::Create,
    ];

    /// `SELECT`, `EXECUTE`, ...: the SQL keyword (and `aclexplode`'s privilege_type).
    pub fn sql(self) -> &'static str {
        match self {
            Privilege::Select => "SELECT",
            Privilege::Insert => "INSERT",
            Privilege::Update => "UPDATE",
            Privilege::Delete => "DELETE",
            Privilege::Truncate => "TRUNCATE",
            Privilege::References => "REFERENCES",
            Privilege::Trigger => "TRIGGER",
            Privilege::Usage => "USAGE",
            Privilege::Execute => "EXECUTE",
            Privilege::Create => "CREATE",
        }
    }

    /// As the files write it: `select`, `execute`, ...
    pub fn word(self) -> String {
        self.sql().to_lowercase()
    }

    /// From the files (any case) or from `aclexplode` (upper case).
    pub fn parse(s: &str) -> Option<Privilege> {
        Privilege::ALL
            .into_iter()
            .find(|p| p.sql().eq_ignore_ascii_case(s.trim()))
    }
}

/// What a privilege is granted on. Tables, views and materialized views
/// share `Relation` (GRANT ... ON TABLE takes all three).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Target {
    Relation(QualName),
    Column(QualName, String),
    Sequence(QualName),
    Routine(RoutineId),
    /// An enum or a domain.
    Type(QualName),
    Schema(String),
}

/// The kinds of object a privilege applies to, with what PostgreSQL accepts
/// on each (GRANT's synopsis; `ALL` means exactly these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Table,
    View,
    MaterializedView,
    Column,
    Sequence,
    Routine,
    Type,
    Schema,
}

impl Kind {
    /// The privileges PostgreSQL accepts on this kind, in GRANT's order.
    pub fn privileges(self) -> &'static [Privilege] {
        use Privilege::*;
        match self {
            Kind::Table | Kind::View | Kind::MaterializedView => &[
                Select, Insert, Update, Delete, Truncate, References, Trigger,
            ],
            Kind::Column => &[Select, Insert, Update, References],
            Kind::Sequence => &[Usage, Select, Update],
            Kind::Routine => &[Execute],
            Kind::Type => &[Usage],
            Kind::Schema => &[Usage, Create],
        }
    }

    /// `table`, `column`, ... for messages.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Table => "table",
            Kind::View => "view",
            Kind::MaterializedView => "materialized view",
            Kind::Column => "column",
            Kind::Sequence => "sequence",
            Kind::Routine => "function or procedure",
            Kind::Type => "type",
            Kind::Schema => "schema",
        }
    }
}

/// `PUBLIC` as a grantee: every role. The files write it `public`.
pub const PUBLIC: &str = "PUBLIC";

/// A grantee as GRANT writes it: PUBLIC bare, a role through `quote_ident`.
pub fn grantee_sql(grantee: &str) -> String {
    if grantee == PUBLIC {
        PUBLIC.to_string()
    } else {
        quote_ident(grantee)
    }
}

/// A grantee as the files write it: `public` for PUBLIC, else the role's name.
pub fn grantee_key(grantee: &str) -> String {
    if grantee == PUBLIC {
        "public".to_string()
    } else {
        grantee.to_string()
    }
}

/// One privilege of one grantee on one object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub target: Target,
    /// A role's name, or [`PUBLIC`].
    pub grantee: String,
    pub privilege: Privilege,
    /// `WITH GRANT OPTION`: the grantee may grant it on.
    pub grant_option: bool,
    /// From the database: the privilege is one PostgreSQL gives without a
    /// GRANT (`acldefault`: EXECUTE on a routine and USAGE on a type to
    /// PUBLIC; USAGE on schema public to PUBLIC), so it is not reported.
    pub implicit: bool,
    pub origin: Option<crate::model::Origin>,
}

impl Target {
    /// `ON TABLE "s"."t"`, `ON ROUTINE "f"(integer)`, ... as GRANT takes it;
    /// with a column, the column list goes before ON (`column_list`).
    pub fn on_sql(&self) -> String {
        match self {
            Target::Relation(n) | Target::Column(n, _) => format!("ON TABLE {}", n.sql()),
            Target::Sequence(n) => format!("ON SEQUENCE {}", n.sql()),
            Target::Routine(id) => format!("ON ROUTINE {}", id.sql()),
            Target::Type(n) => format!("ON TYPE {}", n.sql()),
            Target::Schema(s) => format!("ON SCHEMA {}", quote_ident(s)),
        }
    }

    /// ` ("col")` for a column, else nothing.
    pub fn column_list(&self) -> String {
        match self {
            Target::Column(_, c) => format!(" ({})", quote_ident(c)),
            _ => String::new(),
        }
    }

    /// The object it belongs to, for `exclude` and grouping: a relation's,
    /// column's, sequence's, routine's or type's name; `None` for a schema.
    pub fn object(&self) -> Option<&QualName> {
        match self {
            Target::Relation(n) | Target::Column(n, _) | Target::Sequence(n) | Target::Type(n) => {
                Some(n)
            }
            Target::Routine(id) => Some(&id.name),
            Target::Schema(_) => None,
        }
    }

    /// For a statement id: the kind's step (`grant` for a table, view or
    /// materialized view; `grant-column`, `grant-sequence`, `grant-routine`,
    /// `grant-type`, `grant-schema`) and the object as the files write it
    /// (`orders`, `orders.total`, `f(integer)`, `reporting`), so that no two
    /// objects share one.
    pub fn step(&self) -> (&'static str, String) {
        match self {
            Target::Relation(n) => ("grant", n.key()),
            Target::Column(n, c) => ("grant-column", format!("{}.{}", n.key(), key_part(c))),
            Target::Sequence(n) => ("grant-sequence", n.key()),
            Target::Routine(id) => ("grant-routine", format!("{}({})", id.name.key(), id.args)),
            Target::Type(n) => ("grant-type", n.key()),
            Target::Schema(s) => ("grant-schema", key_part(s)),
        }
    }
}

/// How a person reads it: `orders`, `column orders.total`, `sequence s`,
/// `function f(integer)`, `type mood`, `schema reporting`.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Relation(n) => write!(f, "{n}"),
            Target::Column(n, c) => write!(f, "column {n}.{c}"),
            Target::Sequence(n) => write!(f, "sequence {n}"),
            Target::Routine(id) => write!(f, "routine {id}"),
            Target::Type(n) => write!(f, "type {n}"),
            Target::Schema(s) => write!(f, "schema {s}"),
        }
    }
}

/// `GRANT SELECT, INSERT ON TABLE "t" TO "r" [WITH GRANT OPTION]` for
/// `privileges` of one grantee on one target. Never a REVOKE.
pub fn grant_sql(
    target: &Target,
    grantee: &str,
    privileges: &[Privilege],
    grant_option: bool,
) -> String {
    let column = target.column_list();
    let list: Vec<String> = privileges
        .iter()
        .map(|p| format!("{}{column}", p.sql()))
        .collect();
    format!(
        "GRANT {} {} TO {}{}",
        list.join(", "),
        target.on_sql(),
        grantee_sql(grantee),
        if grant_option {
            " WITH GRANT OPTION"
        } else {
            ""
        }
    )
}

/// Rename the routines of `grants` after canonicalization gave a routine
/// another identity (`int` printed `integer`): `renames` is (old, new).
pub fn rekey_routines(grants: &mut [Grant], renames: &[(RoutineId, RoutineId)]) {
    if renames.is_empty() {
        return;
    }
    for g in grants {
        if let Target::Routine(id) = &mut g.target {
            if let Some((_, new)) = renames.iter().find(|(old, _)| old == id) {
                *id = new.clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_statements_quote_names_and_leave_public_bare() {
        let t = Target::Column(QualName::new("public", "Orders"), "total sum".into());
        assert_eq!(
            grant_sql(&t, "app reader", &[Privilege::Select, Privilege::Update], true),
            "GRANT SELECT (\"total sum\"), UPDATE (\"total sum\") ON TABLE public.\"Orders\" TO \"app reader\" WITH GRANT OPTION"
        );
        let s = Target::Schema("reporting".into());
        assert_eq!(
            grant_sql(&s, PUBLIC, &[Privilege::Usage], false),
            "GRANT USAGE ON SCHEMA reporting TO PUBLIC"
        );
        assert_eq!(Privilege::parse(" Execute"), Some(Privilege::Execute));
        assert_eq!(Privilege::parse("drop"), None);
    }
}
