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

/// A change that a rule refuses.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub rule: RuleId,
    /// The object: `table appointments`, `column appointments.status`, ...
    pub object: String,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to do instead, in one or two sentences.
    pub safe_path: String,
    /// For a changed definition: the live one and the desired one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desired: Option<String>,
    /// Where in the files (the desired side; for something removed, where it was).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
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
