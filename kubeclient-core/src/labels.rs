//! Label selectors, as apimachinery's `labels` package: the string form the API takes
//! (`app=web,tier!=db,env in (prod,staging),!canary,release`) parsed into a [`Selector`] that
//! matches objects held in memory (caches and listers) the way the API server would.
//!
//! Requirements are joined by commas and all must hold:
//! - `key=value` / `key==value`: the label is present with that value;
//! - `key!=value`: the label is absent or has another value;
//! - `key in (a,b)`: present with one of the values; `key notin (a,b)`: absent or none of them;
//! - `key`: present (any value); `!key`: absent.
//!
//! An empty string selects everything.

use std::fmt;

/// Why a selector string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("label selector {selector:?}: {reason}")]
pub struct ParseError {
    /// The selector as given.
    pub selector: String,
    /// What is wrong with it.
    pub reason: String,
}

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Requirement {
    /// `key=value`.
    Equals(String, String),
    /// `key!=value`.
    NotEquals(String, String),
    /// `key in (values)`.
    In(String, Vec<String>),
    /// `key notin (values)`.
    NotIn(String, Vec<String>),
    /// `key`.
    Exists(String),
    /// `!key`.
    DoesNotExist(String),
}

impl Requirement {
    /// Whether the labels, looked up through `label`, satisfy this requirement.
    pub fn matches<'a>(&self, label: impl Fn(&str) -> Option<&'a str>) -> bool {
        match self {
            Requirement::Equals(k, v) => label(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => label(k) != Some(v.as_str()),
            Requirement::In(k, vs) => label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            Requirement::NotIn(k, vs) => !label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            Requirement::Exists(k) => label(k).is_some(),
            Requirement::DoesNotExist(k) => label(k).is_none(),
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::Equals(k, v) => write!(f, "{k}={v}"),
            Requirement::NotEquals(k, v) => write!(f, "{k}!={v}"),
            Requirement::In(k, vs) => write!(f, "{k} in ({})", vs.join(",")),
            Requirement::NotIn(k, vs) => write!(f, "{k} notin ({})", vs.join(",")),
            Requirement::Exists(k) => write!(f, "{k}"),
            Requirement::DoesNotExist(k) => write!(f, "!{k}"),
        }
    }
}

/// A parsed label selector: every requirement must hold. The default selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

impl Selector {
    /// The selector that matches every object.
    pub fn everything() -> Self {
        Selector::default()
    }

    /// A selector from requirements.
    pub fn from_requirements(requirements: Vec<Requirement>) -> Self {
        Selector { requirements }
    }

    /// Parses the API's string form.
    pub fn parse(selector: &str) -> Result<Self, ParseError> {
        let error = |reason: String| ParseError {
            selector: selector.to_string(),
            reason,
        };
        let mut requirements = Vec::new();
        for part in split_top_level(selector).map_err(error)? {
            let part = part.trim();
            if part.is_empty() {
                if selector.trim().is_empty() {
                    continue;
                }
                return Err(error("an empty requirement".into()));
            }
            requirements.push(parse_requirement(part).map_err(error)?);
        }
        Ok(Selector { requirements })
    }

    /// Whether this selector matches everything.
    pub fn is_everything(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The requirements.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether the labels, looked up through `label`, satisfy every requirement.
    pub fn matches<'a>(&self, label: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.requirements.iter().all(|r| r.matches(&label))
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Selector {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Selector::parse(s)
    }
}

/// Splits at commas that are not inside parentheses.
fn split_top_level(s: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0u32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' if depth > 0 => return Err("nested parentheses".into()),
            '(' => depth += 1,
            ')' if depth == 0 => return Err("a ')' without '('".into()),
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth > 0 {
        return Err("a '(' without ')'".into());
    }
    parts.push(&s[start..]);
    Ok(parts)
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    if let Some(key) = part.strip_prefix('!') {
        return Ok(Requirement::DoesNotExist(key_of(key)?));
    }
    if let Some((key, value)) = part.split_once("!=") {
        return Ok(Requirement::NotEquals(key_of(key)?, value_of(value)?));
    }
    if let Some((key, value)) = part.split_once("==").or_else(|| part.split_once('=')) {
        return Ok(Requirement::Equals(key_of(key)?, value_of(value)?));
    }
    if let Some(open) = part.find('(') {
        let close = part.rfind(')').ok_or("a '(' without ')'")?;
        if !part[close + 1..].trim().is_empty() {
            return Err(format!("unexpected text after ')' in {part:?}"));
        }
        let head = part[..open].trim_end();
        let (key, negated) = if let Some(key) = head.strip_suffix(" notin") {
            (key, true)
        } else if let Some(key) = head.strip_suffix(" in") {
            (key, false)
        } else {
            return Err(format!("expected 'in' or 'notin' before '(' in {part:?}"));
        };
        let values = part[open + 1..close]
            .split(',')
            .map(value_of)
            .collect::<Result<Vec<_>, _>>()?;
        if values.iter().all(String::is_empty) {
            return Err(format!("{part:?} lists no values"));
        }
        let key = key_of(key)?;
        return Ok(if negated {
            Requirement::NotIn(key, values)
        } else {
            Requirement::In(key, values)
        });
    }
    Ok(Requirement::Exists(key_of(part)?))
}

/// A label key: `[prefix/]name`, names of alphanumerics, `-`, `_` and `.`.
fn key_of(key: &str) -> Result<String, String> {
    let key = key.trim();
    let name = key.rsplit_once('/').map_or(key, |(_, name)| name);
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
    };
    if !valid(key) || name.is_empty() || key.len() > 317 {
        return Err(format!("{key:?} is not a valid label key"));
    }
    Ok(key.to_string())
}

/// A label value: empty, or alphanumerics with `-`, `_` and `.` inside, at most 63 characters.
fn value_of(value: &str) -> Result<String, String> {
    let value = value.trim();
    let valid = value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        return Err(format!("{value:?} is not a valid label value"));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn matches(selector: &str, l: &BTreeMap<String, String>) -> bool {
        Selector::parse(selector)
            .expect("valid selector")
            .matches(|k| l.get(k).map(String::as_str))
    }

    #[test]
    fn every_operator_matches_as_the_api_server_does() {
        let web = labels(&[("app", "web"), ("tier", "front"), ("example.com/team", "a")]);
        let none = labels(&[]);
        assert!(matches("", &web) && matches("", &none));
        assert!(matches("app=web", &web) && matches("app==web", &web));
        assert!(!matches("app=db", &web) && !matches("app=web", &none));
        assert!(matches("app!=db", &web) && matches("app!=db", &none));
        assert!(!matches("app!=web", &web));
        assert!(matches("tier in (front, back)", &web));
        assert!(!matches("tier in (back)", &web) && !matches("tier in (front)", &none));
        assert!(matches("tier notin (back)", &web) && matches("tier notin (back)", &none));
        assert!(!matches("tier notin (front,back)", &web));
        assert!(matches("app", &web) && !matches("app", &none));
        assert!(matches("!canary", &web) && !matches("!app", &web));
        assert!(matches("example.com/team=a,app=web, tier in (front)", &web));
        assert!(!matches("example.com/team=a,app=db", &web));
    }

    #[test]
    fn display_gives_a_string_that_parses_back_to_the_same_selector() {
        let s = Selector::parse("a=1, b!=2,c in (x,y),d notin (z),e,!f").expect("valid");
        assert_eq!(s.to_string(), "a=1,b!=2,c in (x,y),d notin (z),e,!f");
        assert_eq!(Selector::parse(&s.to_string()).expect("round trip"), s);
        assert!(Selector::parse("").expect("empty").is_everything());
    }

    #[test]
    fn malformed_selectors_are_errors_naming_the_selector() {
        for bad in [
            "a=1,,b=2",
            "a in (x",
            "a in x)",
            "a in ()",
            "a between (x)",
            "a in (x) y",
            "=x",
            "a=b c",
            "a in ((x))",
        ] {
            let err = Selector::parse(bad).expect_err(bad);
            assert_eq!(err.selector, bad);
            assert!(err.to_string().contains(bad), "{err}");
        }
    }
}
