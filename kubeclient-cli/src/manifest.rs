//! Reading manifests for `-f`: a file or `-` for stdin; YAML with any number of documents,
//! or JSON; a `kind: List` (or `…List`) contributes its items. Empty documents are skipped.

use std::io::Read;

use serde_json::Value;

use crate::session::{CliError, msg};

/// The bytes of `path`, or of stdin for `-`.
pub fn read_source(path: &str) -> Result<Vec<u8>, CliError> {
    if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| msg(format!("reading stdin: {e}")))?;
        Ok(buf)
    } else {
        std::fs::read(path).map_err(|e| msg(format!("reading {path}: {e}")))
    }
}

/// The objects of the manifest at `path` (`-`: stdin).
pub fn read_objects(path: &str) -> Result<Vec<Value>, CliError> {
    let bytes = read_source(path)?;
    let text =
        std::str::from_utf8(&bytes).map_err(|e| msg(format!("{path}: not UTF-8 text: {e}")))?;
    parse_objects(text).map_err(|e| msg(format!("error parsing {path}: {e}")))
}

/// The objects in `text`: JSON (one value) or YAML documents.
pub fn parse_objects(text: &str) -> Result<Vec<Value>, String> {
    let trimmed = text.trim_start();
    let docs: Vec<Value> = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(items)) => items,
            Ok(v) => vec![v],
            Err(e) => return Err(e.to_string()),
        }
    } else {
        serde_saphyr::from_multiple::<Value>(text).map_err(|e| e.to_string())?
    };
    let mut objects = Vec::new();
    for doc in docs {
        flatten(doc, &mut objects)?;
    }
    Ok(objects)
}

fn flatten(doc: Value, objects: &mut Vec<Value>) -> Result<(), String> {
    match doc {
        Value::Null => Ok(()),
        Value::Object(ref map) if map.is_empty() => Ok(()),
        Value::Object(mut map) => {
            let is_list = map
                .get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| k.ends_with("List"))
                && map.get("items").is_some_and(Value::is_array);
            if is_list {
                if let Some(Value::Array(items)) = map.remove("items") {
                    for item in items {
                        flatten(item, objects)?;
                    }
                }
                return Ok(());
            }
            let has = |k: &str| {
                map.get(k)
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty())
            };
            if !has("apiVersion") || !has("kind") {
                return Err("an object has no apiVersion or kind".to_string());
            }
            objects.push(Value::Object(map));
            Ok(())
        }
        other => Err(format!(
            "a document is not an object but {}",
            match other {
                Value::Array(_) => "a sequence",
                Value::String(_) => "a string",
                _ => "a scalar",
            }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_documents_and_lists() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\n\
                    apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  \
                    metadata: {name: b}\n";
        let objects = parse_objects(text).unwrap_or_default();
        let names: Vec<&str> = objects
            .iter()
            .filter_map(|o| o.pointer("/metadata/name").and_then(Value::as_str))
            .collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn json_and_bad_input() {
        let objects =
            parse_objects(r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}"#);
        assert_eq!(objects.map(|o| o.len()), Ok(1));
        assert!(parse_objects("kind: ConfigMap\n").is_err());
        assert!(parse_objects("- a\n- b\n").is_err());
        assert!(parse_objects("{not json").is_err());
    }
}
