//! The safety rules of SPEC §3, one file each. A rule looks at one typed change
//! and, when it applies, says what is refused, where, and the safe path.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::model::Origin;
use crate::plan::diff::Change;

pub mod r001_drop;
pub mod r002_rename;
pub mod r003_type_change;
pub mod r004_default_removed;
pub mod r005_not_null_added;
pub mod r006_not_null_without_default;
pub mod r007_definition_changed;
pub mod r008_primary_key_changed;
pub mod removals;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleId {
    R001,
    R002,
    R003,
    R004,
    R005,
    R006,
    R007,
    R008,
}

impl RuleId {
    pub const ALL: [RuleId; 8] = [
        RuleId::R001,
        RuleId::R002,
        RuleId::R003,
        RuleId::R004,
        RuleId::R005,
        RuleId::R006,
        RuleId::R007,
        RuleId::R008,
    ];

    /// The short title of SPEC §3.
    pub fn title(self) -> &'static str {
        match self {
            RuleId::R001 => "drop",
            RuleId::R002 => "rename",
            RuleId::R003 => "type change",
            RuleId::R004 => "default removed",
            RuleId::R005 => "not null added",
            RuleId::R006 => "not null without default",
            RuleId::R007 => "definition changed",
            RuleId::R008 => "primary key changed",
        }
    }

    /// The rule's page in the repository, relative to its root:
    /// `docs/rules/R001.md`.
    pub fn docs(self) -> String {
        format!("docs/rules/{self}.md")
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

impl FromStr for RuleId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RuleId::ALL
            .into_iter()
            .find(|r| r.to_string().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown rule `{s}`: expected R001..R008"))
    }
}

impl Serialize for RuleId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// A change that a rule refuses. In JSON, its fields and `docs`, the rule's
/// page (`RuleId::docs`).
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: RuleId,
    /// The object: `table appointments`, `column appointments.status`, ...
    pub object: String,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to do instead, in one or two sentences.
    pub safe_path: String,
    /// For a changed definition: the live one and the desired one.
    pub live: Option<String>,
    pub desired: Option<String>,
    /// Where in the files (the desired side; for something removed, where it was).
    pub origin: Option<Origin>,
}

impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Out<'a> {
            rule: RuleId,
            object: &'a str,
            message: &'a str,
            safe_path: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            live: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            desired: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            origin: Option<&'a Origin>,
            docs: String,
        }
        Out {
            rule: self.rule,
            object: &self.object,
            message: &self.message,
            safe_path: &self.safe_path,
            live: self.live.as_deref(),
            desired: self.desired.as_deref(),
            origin: self.origin.as_ref(),
            docs: self.rule.docs(),
        }
        .serialize(s)
    }
}

/// Every refusal that applies to a change (plan and apply: R003–R008).
pub fn refusals(change: &Change) -> Vec<Finding> {
    [
        r003_type_change::check(change),
        r004_default_removed::check(change),
        r005_not_null_added::check(change),
        r006_not_null_without_default::check(change),
        r007_definition_changed::check(change),
        r008_primary_key_changed::check(change),
    ]
    .into_iter()
    .flatten()
    .collect()
}

pub(crate) fn col_object(table: &crate::model::QualName, column: &str) -> String {
    format!("column {table}.{column}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_file(path: &str) -> Option<String> {
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).ok()
    }

    /// Every rule has its page, titled with its id and title, whose relative
    /// links lead to pages that exist; the README links each page.
    #[test]
    fn every_rule_has_its_page_and_the_readme_links_it() {
        let readme = repo_file("README.md").expect("README.md");
        for rule in RuleId::ALL {
            let path = rule.docs();
            let page = repo_file(&path).unwrap_or_else(|| panic!("{rule}: no page at {path}"));
            assert!(
                page.starts_with(&format!("# {rule} {}\n", rule.title())),
                "{path} does not start with its id and title"
            );
            for part in [
                "**Refuses:**",
                "## Why",
                "## Example",
                "## The safe path",
                "## Doing it deliberately",
            ] {
                assert!(page.contains(part), "{path} lacks {part}");
            }
            // The example's output is the rule's own refusal.
            assert!(
                page.contains(&format!("  {rule} {}: ", rule.title())),
                "{path}: no example output"
            );
            assert!(
                page.contains(&format!("see {path}")),
                "{path}: the output does not name the page"
            );
            for link in page.split("](").skip(1).filter_map(|l| l.split(')').next()) {
                assert!(
                    repo_file(&format!("docs/rules/{link}")).is_some(),
                    "{path} links {link}, which does not exist"
                );
            }
            assert!(
                readme.contains(&format!("[{rule}]({path})")),
                "README does not link {path}"
            );
        }
    }

    /// A refusal names its page, in JSON (`docs`) and in text.
    #[test]
    fn a_refusal_names_its_page_in_json_and_text() {
        let f = r001_drop::removed("column", "leads.fax", None);
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["docs"], "docs/rules/R001.md");
        assert_eq!(json["rule"], "R001");
        assert!(json.get("live").is_none(), "{json}");
        let text = crate::surfaces::report::finding_text(&f);
        assert!(text.ends_with("    see docs/rules/R001.md\n"), "{text}");
    }
}
