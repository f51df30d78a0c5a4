//! `kubeclient get`: kubectl's `get` — tables printed by the server (`as=Table`), `-o
//! json|yaml|name`, `-n`/`-A`, label and field selectors, `-w`, and `--raw`.
//!
//! As kubectl: several resource types give one table each, names prefixed with the kind; a
//! list with `-o json|yaml` is a `kind: List` whose items carry their `apiVersion` and
//! `kind`; one object asked for by name is printed alone; nothing found prints `No resources
//! found…` on stderr; objects not found are reported after the ones found, with exit code 1.

use clap::{Args, ValueEnum};
use futures_util::StreamExt;
use kubeclient::discovery::{RestMapping, Scope};
use kubeclient::rest::watch::WatchEvent;
use serde_json::{Value, json};

use crate::flags::GlobalFlags;
use crate::session::{CliError, Session, kind_ref, msg, name_of, out, to_json, to_yaml};
use crate::table::{self, TABLE_ACCEPT, TableOptions, TableWriter};

/// Output formats of `get`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// The table with the columns of priority above 0 too.
    Wide,
    /// JSON.
    Json,
    /// YAML.
    Yaml,
    /// `kind[.group]/name`.
    Name,
}

/// Arguments of `kubeclient get`.
#[derive(Args)]
pub struct GetArgs {
    /// The resource type(s), comma-separated, then names; or `type/name` arguments.
    args: Vec<String>,
    /// List across all namespaces.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// Label selector (e.g. `app=web,tier!=db`).
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// Field selector (e.g. `metadata.name=foo`).
    #[arg(long)]
    field_selector: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum)]
    output: Option<Output>,
    /// After listing, watch for changes.
    #[arg(short = 'w', long)]
    watch: bool,
    /// Keep `metadata.managedFields` in JSON and YAML output.
    #[arg(long)]
    show_managed_fields: bool,
    /// GET this path of the server and print the answer as it is.
    #[arg(long, value_name = "PATH")]
    raw: Option<String>,
}

/// What to get: one resource type and the names asked for (none: list).
struct Query {
    mapping: RestMapping,
    names: Vec<String>,
}

/// Runs `get`.
pub async fn run(flags: &GlobalFlags, args: GetArgs) -> Result<(), CliError> {
    let session = Session::new(flags)?;
    if let Some(path) = &args.raw {
        let body = session.rest.get().abs_path(path).raw().await?;
        out(&String::from_utf8_lossy(&body));
        return Ok(());
    }
    let queries = parse_queries(&session, &args.args).await?;
    let namespace = (!args.all_namespaces).then_some(session.namespace.as_str());
    let several_types = queries.len() > 1;
    let single_item = queries.len() == 1 && queries.iter().all(|q| q.names.len() == 1);
    let all_namespaced =
        !args.all_namespaces && queries.iter().all(|q| q.mapping.scope == Scope::Namespaced);

    let mut errors = Vec::new();
    let mut written = false;
    let mut items = Vec::new();
    let mut writer = TableWriter::default();
    for query in &queries {
        let ns = match query.mapping.scope {
            Scope::Namespaced => namespace,
            _ => None,
        };
        match args.output {
            None | Some(Output::Wide) => {
                let (table, errs) = fetch(&session, query, ns, &args, true).await?;
                errors.extend(errs);
                let empty = table::row_count(&table) == 0;
                if empty && !args.watch {
                    continue;
                }
                let prefix = several_types.then(|| kind_ref(&query.mapping));
                let options = TableOptions {
                    wide: args.output == Some(Output::Wide),
                    with_namespace: args.all_namespaces && query.mapping.scope == Scope::Namespaced,
                    kind_prefix: prefix.as_deref(),
                };
                if written {
                    out("\n");
                }
                writer.reset();
                writer.push(table::header(&table, options));
                if empty {
                    // The header waits for the first event's row.
                    eprintln!("No resources found in {} namespace.", session.namespace);
                } else {
                    for row in table::rows(&table, options) {
                        writer.push(row);
                    }
                    out(&writer.flush());
                    written = true;
                }
                if args.watch {
                    return watch_table(&session, query, ns, &args, &table, options, writer).await;
                }
            }
            Some(_) => {
                let (found, errs) = fetch(&session, query, ns, &args, false).await?;
                errors.extend(errs);
                let mut found = objects(found, &query.mapping);
                if !args.show_managed_fields {
                    for item in &mut found {
                        if let Some(meta) = item.get_mut("metadata").and_then(Value::as_object_mut)
                        {
                            meta.remove("managedFields");
                        }
                    }
                }
                items.extend(found);
            }
        }
    }
    match args.output {
        Some(Output::Json | Output::Yaml) => {
            let doc = if single_item && items.len() == 1 {
                items.pop().unwrap_or_default()
            } else if items.is_empty() && !errors.is_empty() {
                Value::Null
            } else {
                json!({"apiVersion": "v1", "kind": "List", "items": items,
                       "metadata": {"resourceVersion": ""}})
            };
            if !doc.is_null() {
                written = true;
                match args.output {
                    Some(Output::Json) => out(&to_json(&doc)?),
                    _ => out(&to_yaml(&doc)?),
                }
            }
        }
        Some(Output::Name) => {
            for item in &items {
                out(&format!("{}\n", object_name_ref(&session, item).await?));
                written = true;
            }
        }
        _ => {}
    }
    // Only tables say that nothing was found (kubectl prints other formats through a list).
    let human = matches!(args.output, None | Some(Output::Wide));
    if human && !written && errors.is_empty() {
        if all_namespaced {
            eprintln!("No resources found in {} namespace.", session.namespace);
        } else {
            eprintln!("No resources found");
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    for e in &errors {
        eprintln!("{e}");
    }
    Err(CliError::Reported)
}

/// The queries of `args`: `type[,type…] [name…]` or `type/name…`.
async fn parse_queries(session: &Session, args: &[String]) -> Result<Vec<Query>, CliError> {
    let Some(first) = args.first() else {
        return Err(msg(
            "you must specify the type of resource to get (e.g. `kubeclient api-resources` \
             lists them)",
        ));
    };
    let mut queries: Vec<Query> = Vec::new();
    if args.iter().any(|a| a.contains('/')) {
        for arg in args {
            let Some((kind, name)) = arg.split_once('/') else {
                return Err(msg(format!(
                    "there is no need to specify a resource type as a separate argument when \
                     passing arguments in resource/name form (e.g. 'kubeclient get \
                     resource/<resource_name>' instead of 'kubeclient get resource \
                     resource/<resource_name>'), got {arg:?}"
                )));
            };
            if name.is_empty() {
                return Err(msg(format!(
                    "arguments in resource/name form must have a single resource and name, got {arg:?}"
                )));
            }
            let mapping = session.resolve(kind).await?;
            match queries.iter_mut().find(|q| q.mapping == mapping) {
                Some(q) => q.names.push(name.to_string()),
                None => queries.push(Query {
                    mapping,
                    names: vec![name.to_string()],
                }),
            }
        }
        return Ok(queries);
    }
    let names: Vec<String> = args[1..].to_vec();
    for kind in first.split(',').filter(|k| !k.is_empty()) {
        let mapping = session.resolve(kind).await?;
        if !queries.iter().any(|q| q.mapping == mapping) {
            queries.push(Query {
                mapping,
                names: names.clone(),
            });
        }
    }
    Ok(queries)
}

fn request(
    session: &Session,
    mapping: &RestMapping,
    ns: Option<&str>,
) -> kubeclient::rest::Request {
    let gv = mapping.resource.group_version().to_string();
    let mut req = session.rest.get().group_version(&gv);
    if let Some(ns) = ns {
        req = req.namespace(ns);
    }
    req.resource(&mapping.resource.resource)
}

/// Gets a query's objects: as one table (or list) with the rows of every name found, and the
/// errors of names not found. Any other failure ends the command.
async fn fetch(
    session: &Session,
    query: &Query,
    ns: Option<&str>,
    args: &GetArgs,
    as_table: bool,
) -> Result<(Value, Vec<CliError>), CliError> {
    let accept = if as_table {
        TABLE_ACCEPT
    } else {
        "application/json"
    };
    if query.names.is_empty() {
        let mut req = request(session, &query.mapping, ns).header("Accept", accept);
        if let Some(s) = &args.selector {
            req = req.param("labelSelector", s);
        }
        if let Some(s) = &args.field_selector {
            req = req.param("fieldSelector", s);
        }
        return Ok((req.into_json::<Value>().await?, Vec::new()));
    }
    let mut merged: Option<Value> = None;
    let mut errors = Vec::new();
    for name in &query.names {
        let got = request(session, &query.mapping, ns)
            .name(name)
            .header("Accept", accept)
            .into_json::<Value>()
            .await;
        let found = match got {
            Ok(v) => v,
            Err(e) if e.is_not_found() => {
                errors.push(CliError::from(e));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let key = if as_table { "rows" } else { "items" };
        let found = if as_table {
            found
        } else {
            json!({"items": [found]})
        };
        match &mut merged {
            None => merged = Some(found),
            Some(m) => {
                let more = found.get(key).and_then(Value::as_array).cloned();
                if let (Some(list), Some(more)) =
                    (m.get_mut(key).and_then(Value::as_array_mut), more)
                {
                    list.extend(more);
                }
            }
        }
    }
    Ok((merged.unwrap_or_else(|| json!({})), errors))
}

/// The objects of a list answer (or of merged single gets), each with `apiVersion` and
/// `kind`, as kubectl's decoder fills them in.
fn objects(found: Value, mapping: &RestMapping) -> Vec<Value> {
    let api_version = mapping.kind.group_version().to_string();
    let Value::Object(mut found) = found else {
        return Vec::new();
    };
    let Some(Value::Array(items)) = found.remove("items") else {
        return Vec::new();
    };
    items
        .into_iter()
        .map(|mut item| {
            if let Some(obj) = item.as_object_mut() {
                obj.entry("apiVersion")
                    .or_insert_with(|| Value::String(api_version.clone()));
                obj.entry("kind")
                    .or_insert_with(|| Value::String(mapping.kind.kind.clone()));
            }
            item
        })
        .collect()
}

/// `kind[.group]/name` of an object.
async fn object_name_ref(session: &Session, obj: &Value) -> Result<String, CliError> {
    let mapping = session.mapping_for(obj).await?;
    Ok(format!("{}/{}", kind_ref(&mapping), name_of(obj)))
}

/// `-w` on a table: a row per event, aligned under the list's header, until the server ends
/// the watch.
async fn watch_table(
    session: &Session,
    query: &Query,
    ns: Option<&str>,
    args: &GetArgs,
    listed: &Value,
    options: TableOptions<'_>,
    mut writer: TableWriter,
) -> Result<(), CliError> {
    let rv = listed
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut req = request(session, &query.mapping, ns)
        .header("Accept", TABLE_ACCEPT)
        .param("resourceVersion", rv);
    if let Some(s) = &args.selector {
        req = req.param("labelSelector", s);
    }
    let mut field_selector = args.field_selector.clone().unwrap_or_default();
    if let [name] = query.names.as_slice() {
        if !field_selector.is_empty() {
            field_selector.push(',');
        }
        field_selector.push_str(&format!("metadata.name={name}"));
    }
    if !field_selector.is_empty() {
        req = req.param("fieldSelector", &field_selector);
    }
    let columns = listed.get("columnDefinitions").cloned();
    let stream = req.watch::<Value>().await?;
    futures_util::pin_mut!(stream);
    while let Some(event) = stream.next().await {
        let mut table = match event? {
            WatchEvent::Added(t) | WatchEvent::Modified(t) | WatchEvent::Deleted(t) => t,
            WatchEvent::Bookmark(_) => continue,
            WatchEvent::Error(e) => return Err(CliError::Server(e)),
        };
        if table.get("columnDefinitions").is_none_or(Value::is_null)
            && let (Some(obj), Some(cols)) = (table.as_object_mut(), columns.clone())
        {
            obj.insert("columnDefinitions".into(), cols);
        }
        let rows = table::rows(&table, options);
        if rows.is_empty() {
            continue;
        }
        for row in rows {
            writer.push(row);
        }
        out(&writer.flush());
    }
    Ok(())
}
