//! Reading one kubeconfig file: YAML (which includes JSON) into [`Kubeconfig`], with errors
//! that point at the file, the entry and the field.
//!
//! As client-go's `clientcmd.Load`: an empty file is an empty config; `apiVersion` must be
//! `v1` and `kind` `Config` when given; a name used twice in one list is an error. The
//! document is first read into a generic tree (anchors, merge keys and flow style are the
//! YAML parser's business), then into the model; when that fails, the offending field is
//! found by trying the model's pieces one by one, so the error can say
//! `users[0] ("alice").user.as-groups` rather than only "invalid type".

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::KubeconfigError;
use super::model::{
    AuthInfo, AuthProviderConfig, Cluster, Context, ExecConfig, Kubeconfig, NamedAuthInfo,
    NamedCluster, NamedContext, NamedExtension, Preferences,
};

/// The name used in errors for a kubeconfig that did not come from a file.
pub const INLINE_SOURCE: &str = "<inline>";

impl Kubeconfig {
    /// Parses kubeconfig text (YAML or JSON). Entries get no origin.
    pub fn from_slice(bytes: &[u8]) -> Result<Kubeconfig, KubeconfigError> {
        parse(bytes, Path::new(INLINE_SOURCE))
    }

    /// Reads one kubeconfig file as it is — paths inside it are not resolved — and records
    /// the file as the origin of every cluster, user and context.
    pub fn read_file(path: impl AsRef<Path>) -> Result<Kubeconfig, KubeconfigError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| KubeconfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = parse(&bytes, path)?;
        config.set_origin(path);
        Ok(config)
    }

    /// Records `path` as the file every cluster, user and context came from.
    pub fn set_origin(&mut self, path: &Path) {
        for c in &mut self.clusters {
            c.origin = Some(path.to_path_buf());
        }
        for u in &mut self.users {
            u.origin = Some(path.to_path_buf());
        }
        for c in &mut self.contexts {
            c.origin = Some(path.to_path_buf());
        }
    }
}

/// Parses `bytes` read from `path`.
pub(crate) fn parse(bytes: &[u8], path: &Path) -> Result<Kubeconfig, KubeconfigError> {
    if bytes.is_empty() {
        return Ok(Kubeconfig::default());
    }
    let mut options = serde_saphyr::Options::default();
    // A snippet of the source could show a token or a key.
    options.with_snippet = false;
    // Keep `yes`, `0755` and `1_000` in unknown fields as written; the typed fields accept
    // them as Go's YAML 1.1 reader does (see `serde_util::boolean`).
    options.strict_booleans = true;
    options.leading_zero_numbers_as_strings = true;
    options.underscored_numbers_as_strings = true;
    let value: Value = serde_saphyr::from_slice_with_options(bytes, options).map_err(|e| {
        let location = e.location();
        KubeconfigError::Syntax {
            path: path.to_path_buf(),
            line: location.map(|l| l.line()),
            column: location.map(|l| l.column()),
            message: e.without_snippet().to_string(),
        }
    })?;
    let field_error = |field: String, message: String| KubeconfigError::Field {
        path: path.to_path_buf(),
        field,
        message,
    };
    let object = match &value {
        Value::Null => return Ok(Kubeconfig::default()),
        Value::Object(o) => o,
        other => {
            return Err(field_error(
                "(document)".to_string(),
                format!("expected a mapping, found {}", kind_of(other)),
            ));
        }
    };
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    if !matches!(api_version, "" | "v1") || !matches!(kind, "" | "Config") {
        return Err(KubeconfigError::UnsupportedVersion {
            path: path.to_path_buf(),
            api_version: api_version.to_string(),
            kind: kind.to_string(),
        });
    }
    let config: Kubeconfig = match serde_json::from_value(value.clone()) {
        Ok(c) => c,
        Err(e) => {
            let (field, message) = locate_level(&value, "", Level::Top)
                .unwrap_or_else(|| ("(document)".to_string(), scrub(&e.to_string())));
            return Err(field_error(field, message));
        }
    };
    check_duplicates(&config, path)?;
    Ok(config)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn check_duplicates(config: &Kubeconfig, path: &Path) -> Result<(), KubeconfigError> {
    let dup = |list: &'static str, names: Vec<&str>| -> Result<(), KubeconfigError> {
        let mut seen = std::collections::BTreeSet::new();
        for name in names {
            if !seen.insert(name) {
                return Err(KubeconfigError::DuplicateName {
                    path: PathBuf::from(path),
                    list,
                    name: name.to_string(),
                });
            }
        }
        Ok(())
    };
    dup(
        "clusters",
        config.clusters.iter().map(|c| c.name.as_str()).collect(),
    )?;
    dup(
        "users",
        config.users.iter().map(|c| c.name.as_str()).collect(),
    )?;
    dup(
        "contexts",
        config.contexts.iter().map(|c| c.name.as_str()).collect(),
    )?;
    dup(
        "extensions",
        config.extensions.iter().map(|c| c.name.as_str()).collect(),
    )?;
    dup(
        "preferences.extensions",
        config
            .preferences
            .extensions
            .iter()
            .map(|c| c.name.as_str())
            .collect(),
    )
}

/// Serde messages quote the offending string (`invalid type: string "…"`); that string could
/// be a secret put in the wrong place, so it is dropped.
fn scrub(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find("string \"") {
        out.push_str(&rest[..i + "string".len()]);
        let after = &rest[i + "string \"".len()..];
        rest = match after.find('"') {
            Some(j) => &after[j + 1..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// Which part of the model a value is meant to be, to look one level deeper.
#[derive(Clone, Copy)]
enum Level {
    Top,
    Preferences,
    NamedCluster,
    Cluster,
    NamedUser,
    User,
    NamedContext,
    Context,
    Extension,
    AuthProvider,
    Exec,
    Leaf,
}

fn fails<T: DeserializeOwned>(v: &Value) -> Option<String> {
    serde_json::from_value::<T>(v.clone())
        .err()
        .map(|e| scrub(&e.to_string()))
}

fn fails_as(level: Level, v: &Value) -> Option<String> {
    match level {
        Level::Top => fails::<Kubeconfig>(v),
        Level::Preferences => fails::<Preferences>(v),
        Level::NamedCluster => fails::<NamedCluster>(v),
        Level::Cluster => fails::<Cluster>(v),
        Level::NamedUser => fails::<NamedAuthInfo>(v),
        Level::User => fails::<AuthInfo>(v),
        Level::NamedContext => fails::<NamedContext>(v),
        Level::Context => fails::<Context>(v),
        Level::Extension => fails::<NamedExtension>(v),
        Level::AuthProvider => fails::<AuthProviderConfig>(v),
        Level::Exec => fails::<ExecConfig>(v),
        Level::Leaf => None,
    }
}

/// What a field of `level` holds: a list of `item`, or a single value of `inner`.
fn child(level: Level, key: &str) -> (Option<Level>, Level) {
    match (level, key) {
        (Level::Top, "clusters") => (Some(Level::NamedCluster), Level::Leaf),
        (Level::Top, "users") => (Some(Level::NamedUser), Level::Leaf),
        (Level::Top, "contexts") => (Some(Level::NamedContext), Level::Leaf),
        (Level::Top, "preferences") => (None, Level::Preferences),
        (_, "extensions") => (Some(Level::Extension), Level::Leaf),
        (Level::NamedCluster, "cluster") => (None, Level::Cluster),
        (Level::NamedUser, "user") => (None, Level::User),
        (Level::NamedContext, "context") => (None, Level::Context),
        (Level::User, "auth-provider") => (None, Level::AuthProvider),
        (Level::User, "exec") => (None, Level::Exec),
        _ => (None, Level::Leaf),
    }
}

/// Finds the innermost field of `v` (meant as `level`) that fails, and why.
fn locate_level(v: &Value, prefix: &str, level: Level) -> Option<(String, String)> {
    let object = v.as_object()?;
    for (key, field_value) in object {
        let mut single = serde_json::Map::new();
        single.insert(key.clone(), field_value.clone());
        let Some(message) = fails_as(level, &Value::Object(single)) else {
            continue;
        };
        let here = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let (item, inner) = child(level, key);
        if let (Some(item), Some(items)) = (item, field_value.as_array()) {
            for (i, entry) in items.iter().enumerate() {
                if let Some(entry_message) = fails_as(item, entry) {
                    let name = entry
                        .get("name")
                        .and_then(Value::as_str)
                        .map(|n| format!(" ({n:?})"))
                        .unwrap_or_default();
                    let at = format!("{here}[{i}]{name}");
                    return Some(locate_level(entry, &at, item).unwrap_or((at, entry_message)));
                }
            }
        }
        if !matches!(inner, Level::Leaf)
            && field_value.is_object()
            && let Some(found) = locate_level(field_value, &here, inner)
        {
            return Some(found);
        }
        return Some((here, message));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_error(yaml: &str) -> (String, String, String) {
        match parse(yaml.as_bytes(), Path::new("/k/config")) {
            Err(e @ KubeconfigError::Field { .. }) => {
                let shown = e.to_string();
                match e {
                    KubeconfigError::Field { field, message, .. } => (field, message, shown),
                    _ => unreachable!(),
                }
            }
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn empty_and_null_documents_are_empty_configs() -> Result<(), KubeconfigError> {
        assert_eq!(parse(b"", Path::new("x"))?, Kubeconfig::default());
        assert_eq!(
            parse(b"# only a comment\n", Path::new("x"))?,
            Kubeconfig::default()
        );
        let c = parse(b"clusters: null\nusers: ~\ncontexts:\n", Path::new("x"))?;
        assert!(c.clusters.is_empty() && c.users.is_empty() && c.contexts.is_empty());
        Ok(())
    }

    #[test]
    fn json_anchors_and_scalars() -> Result<(), KubeconfigError> {
        let json = br#"{"apiVersion":"v1","kind":"Config","current-context":"a",
            "contexts":[{"name":"a","context":{"cluster":"c","user":"u","namespace":123}}]}"#;
        let c = parse(json, Path::new("x"))?;
        assert_eq!(c.contexts[0].context.namespace, "123");
        let yaml = b"base: &b {server: https://s}\nclusters:\n- name: c\n  cluster:\n    <<: *b\n    insecure-skip-tls-verify: true\n";
        let c = parse(yaml, Path::new("x"))?;
        assert_eq!(c.clusters[0].cluster.server, "https://s");
        assert!(c.clusters[0].cluster.insecure_skip_tls_verify);
        assert!(c.unknown_fields.0.contains_key("base"));
        Ok(())
    }

    #[test]
    fn wrong_type_names_file_entry_and_field() {
        let (field, message, shown) =
            field_error("users:\n- name: alice\n  user:\n    as-groups: {a: b}\n");
        assert_eq!(field, "users[0] (\"alice\").user.as-groups");
        assert!(message.contains("invalid type"), "{message}");
        assert!(shown.contains("/k/config"), "{shown}");

        let (field, _, _) = field_error(
            "clusters:\n- name: ok\n  cluster: {server: a}\n- name: bad\n  cluster:\n    insecure-skip-tls-verify: [1]\n",
        );
        assert_eq!(
            field,
            "clusters[1] (\"bad\").cluster.insecure-skip-tls-verify"
        );

        let (field, _, _) = field_error("clusters: 5\n");
        assert_eq!(field, "clusters");

        let (field, _, _) = field_error(
            "users:\n- name: u\n  user:\n    exec: {command: x, env: [{name: a, value: [1]}]}\n",
        );
        assert_eq!(field, "users[0] (\"u\").user.exec.env");
    }

    #[test]
    fn secrets_never_appear_in_field_errors() {
        let (_, message, shown) =
            field_error("users:\n- name: u\n  user:\n    client-key-data: \"s3cr3t-key!\"\n");
        assert!(
            !message.contains("s3cr3t") && !shown.contains("s3cr3t"),
            "{shown}"
        );
        let (_, _, shown) = field_error(
            "clusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: \"tok-abc\"\n",
        );
        assert!(!shown.contains("tok-abc"), "{shown}");
    }

    #[test]
    fn malformed_yaml_has_a_position() {
        match parse(b"clusters:\n- name: a\n  cluster: [\n", Path::new("/k/bad")) {
            Err(e @ KubeconfigError::Syntax { .. }) => {
                assert!(e.to_string().contains("/k/bad"), "{e}");
                assert!(
                    matches!(e, KubeconfigError::Syntax { line: Some(_), .. }),
                    "{e:?}"
                );
            }
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn version_kind_and_duplicates() {
        assert!(matches!(
            parse(b"apiVersion: v2\n", Path::new("x")),
            Err(KubeconfigError::UnsupportedVersion { .. })
        ));
        assert!(matches!(
            parse(b"kind: Pod\n", Path::new("x")),
            Err(KubeconfigError::UnsupportedVersion { .. })
        ));
        match parse(
            b"contexts:\n- name: a\n  context: {}\n- name: a\n  context: {}\n",
            Path::new("/k/dup"),
        ) {
            Err(e @ KubeconfigError::DuplicateName { .. }) => {
                let shown = e.to_string();
                assert!(
                    shown.contains("/k/dup")
                        && shown.contains("\"a\"")
                        && shown.contains("contexts"),
                    "{shown}"
                );
            }
            other => panic!("expected a duplicate error, got {other:?}"),
        }
        assert!(matches!(
            parse(b"- a\n- b\n", Path::new("x")),
            Err(KubeconfigError::Field { .. })
        ));
    }

    #[test]
    fn unknown_fields_survive_a_round_trip() -> Result<(), Box<dyn std::error::Error>> {
        let yaml = "future: {x: 1}\nclusters:\n- name: c\n  tag: t\n  cluster:\n    server: s\n    new-field: [1, 2]\nusers:\n- name: u\n  user:\n    exec: {command: c, newExec: true, env: [{name: a, value: b, extra: 1}]}\n    auth-provider: {name: oidc, config: {id-token: x}, more: y}\ncontexts:\n- name: x\n  context: {cluster: c, user: u, later: z}\n";
        let c = parse(yaml.as_bytes(), Path::new("x"))?;
        let written = serde_json::to_value(&c)?;
        let reread: Kubeconfig = serde_json::from_value(written.clone())?;
        assert_eq!(reread, c);
        assert_eq!(written["future"]["x"], 1);
        assert_eq!(written["clusters"][0]["tag"], "t");
        assert_eq!(written["clusters"][0]["cluster"]["new-field"][1], 2);
        assert_eq!(written["users"][0]["user"]["exec"]["newExec"], true);
        assert_eq!(written["users"][0]["user"]["exec"]["env"][0]["extra"], 1);
        assert_eq!(written["users"][0]["user"]["auth-provider"]["more"], "y");
        assert_eq!(written["contexts"][0]["context"]["later"], "z");
        Ok(())
    }
}
