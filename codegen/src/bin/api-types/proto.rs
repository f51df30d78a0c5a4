//! The protobuf side of the generated types: field numbers and types from the `.proto` files
//! of the `k8s.io/api`, `k8s.io/apimachinery`, `k8s.io/apiextensions-apiserver` and
//! `k8s.io/kube-aggregator` modules, and from the Go structs beside them what the `.proto`
//! files cannot say:
//!
//! - whether a field is a pointer and `omitempty` (Go writes a non-pointer scalar in protobuf
//!   even when it is zero, but leaves it out of JSON under `omitempty`: such a zero reads as
//!   absent, so that an object read in protobuf equals the same object read in JSON);
//! - whether a field is a Go struct embedded in its parent (`VolumeSource` in `Volume`): inline
//!   in JSON (and so in the OpenAPI schema and the Rust struct), but a nested message in
//!   protobuf.
//!
//! [`impls`] writes `crate::protobuf::Message` for every struct whose fields all map onto
//! protobuf; a struct that cannot (no message, or a field whose JSON and protobuf shapes
//! differ, like apiextensions' `JSONSchemaProps`) and every struct holding one stay JSON-only.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// How a `.proto` field repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Label {
    /// `optional`.
    Single,
    /// `repeated`.
    Repeated,
    /// `map<string, value>`: the value type is the field's type.
    Map,
}

/// What the Go struct says of a field.
#[derive(Debug, Clone, Default)]
pub struct GoField {
    /// The JSON name (empty when unknown or inline); some differ from the `.proto` name
    /// (`uid` is `uID` in protobuf).
    json: String,
    pointer: bool,
    omitempty: bool,
    embedded: bool,
}

/// One field of a message.
#[derive(Debug, Clone)]
pub struct ProtoField {
    number: u32,
    name: String,
    label: Label,
    /// A scalar (`string`, `int32`, ...) or a message, as an OpenAPI schema name.
    ty: String,
    go: GoField,
}

/// The messages, by OpenAPI schema name.
pub type Protos = BTreeMap<String, Vec<ProtoField>>;

/// A field of a generated Rust struct, as `render_struct` wrote it.
#[derive(Debug, Clone)]
pub struct RustField {
    /// The JSON name.
    pub json: String,
    /// The Rust field name.
    pub field: String,
    /// The Rust type, without the `Option`.
    pub ty: String,
    /// Whether the field is an `Option`.
    pub optional: bool,
}

const SCALARS: &[(&str, &str)] = &[
    ("string", "crate::primitives::Str"),
    ("int32", "i32"),
    ("int64", "i64"),
    ("bool", "bool"),
    ("double", "f64"),
    ("bytes", "crate::primitives::ByteString"),
];

/// Messages written by hand in `kubeclient_core::protobuf`, by OpenAPI name, and the Rust
/// type that implements them.
const SPECIAL_MESSAGES: &[(&str, &str)] = &[
    (
        "io.k8s.apimachinery.pkg.api.resource.Quantity",
        "crate::primitives::Quantity",
    ),
    (
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
        "crate::primitives::IntOrString",
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
        "crate::primitives::Time",
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
        "crate::primitives::MicroTime",
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
        "crate::primitives::FieldsV1",
    ),
    (
        "io.k8s.apimachinery.pkg.runtime.RawExtension",
        "crate::primitives::RawExtension",
    ),
];

/// `k8s.io.api.core.v1` -> `io.k8s.api.core.v1`; `k8s.io.kube_aggregator...` ->
/// `io.k8s.kube-aggregator...`.
fn schema_prefix(package: &str) -> String {
    let rest = package.strip_prefix("k8s.io.").unwrap_or(package);
    format!("io.k8s.{}", rest.replace('_', "-"))
}

/// Reads every `generated.proto` (and the Go structs beside it) under the module directories.
pub fn read(module_dirs: &[PathBuf]) -> Result<Protos, String> {
    let mut protos = Protos::new();
    for dir in module_dirs {
        let mut files = Vec::new();
        find_protos(dir, &mut files);
        files.sort();
        for file in files {
            read_proto(&file, &mut protos)?;
        }
    }
    if protos.is_empty() {
        return Err("no generated.proto files found".into());
    }
    Ok(protos)
}

fn find_protos(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "testdata" && name != "testapigroup" {
                find_protos(&path, out);
            }
        } else if name == "generated.proto" {
            out.push(path);
        }
    }
}

/// The number, pointer-ness and JSON options of each field of each Go struct in `dir`.
fn go_structs(dir: &Path) -> Result<BTreeMap<String, BTreeMap<u32, GoField>>, String> {
    let mut structs = BTreeMap::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.ends_with(".go")
            || name.ends_with("_test.go")
            || name.starts_with("generated")
            || name.starts_with("zz_generated")
        {
            continue;
        }
        let path = entry.path();
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut current: Option<(String, BTreeMap<u32, GoField>)> = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("type ")
                && let Some(name) = rest.strip_suffix(" struct {")
            {
                current = Some((name.trim().to_string(), BTreeMap::new()));
                continue;
            }
            if line == "}" {
                if let Some((name, fields)) = current.take() {
                    structs.insert(name, fields);
                }
                continue;
            }
            let Some((_, fields)) = current.as_mut() else {
                continue;
            };
            let line = line.trim();
            if line.starts_with("//") {
                continue;
            }
            let Some((decl, tag)) = line.split_once('`') else {
                continue;
            };
            let Some(number) = tag_value(tag, "protobuf")
                .and_then(|p| p.split(',').nth(1).and_then(|n| n.parse::<u32>().ok()))
            else {
                continue;
            };
            let tokens: Vec<&str> = decl.split_whitespace().collect();
            let json = tag_value(tag, "json").unwrap_or_default();
            fields.insert(
                number,
                GoField {
                    json: json.split(',').next().unwrap_or_default().to_string(),
                    pointer: tokens.last().is_some_and(|t| t.starts_with('*')),
                    omitempty: json.split(',').skip(1).any(|o| o == "omitempty"),
                    // Embedded with no JSON name: inline in JSON (`json:""`, `json:",inline"`).
                    embedded: tokens.len() == 1
                        && json.split(',').next().unwrap_or_default().is_empty(),
                },
            );
        }
    }
    Ok(structs)
}

/// `key:"value"` in a Go struct tag.
fn tag_value<'a>(tag: &'a str, key: &str) -> Option<&'a str> {
    let start = tag.find(&format!("{key}:\""))? + key.len() + 2;
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

fn read_proto(file: &Path, protos: &mut Protos) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let dir = file.parent().unwrap_or(Path::new("."));
    let go = go_structs(dir)?;
    let package = text
        .lines()
        .find_map(|l| l.strip_prefix("package "))
        .map(|p| p.trim_end_matches(';').trim().to_string())
        .ok_or_else(|| format!("{}: no package", file.display()))?;
    let prefix = schema_prefix(&package);
    let resolve = |ty: &str| -> String {
        if SCALARS.iter().any(|(s, _)| *s == ty) {
            return ty.to_string();
        }
        match ty.strip_prefix('.') {
            Some(full) => match full.rsplit_once('.') {
                Some((pkg, name)) => format!("{}.{name}", schema_prefix(pkg)),
                None => full.to_string(),
            },
            None => format!("{prefix}.{ty}"),
        }
    };
    let mut current: Option<(String, Vec<ProtoField>)> = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(name) = line
            .strip_prefix("message ")
            .and_then(|l| l.strip_suffix(" {"))
        {
            current = Some((name.trim().to_string(), Vec::new()));
            continue;
        }
        if line == "}" {
            if let Some((name, fields)) = current.take() {
                // Go writes fields in the order of their numbers.
                let mut fields = fields;
                fields.sort_by_key(|f| f.number);
                protos.insert(format!("{prefix}.{name}"), fields);
            }
            continue;
        }
        let Some((message, fields)) = current.as_mut() else {
            continue;
        };
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let bad = || format!("{}:{}: cannot read {line:?}", file.display(), n + 1);
        let body = line.strip_suffix(';').ok_or_else(bad)?;
        let (decl, number) = body.split_once('=').ok_or_else(bad)?;
        let number: u32 = number.trim().parse().map_err(|_| bad())?;
        let (label, ty, name) = if let Some(map) = decl.trim().strip_prefix("map<") {
            let (types, name) = map.split_once('>').ok_or_else(bad)?;
            let (key, value) = types.split_once(',').ok_or_else(bad)?;
            if key.trim() != "string" {
                return Err(format!("{}: a map keyed by {key}", bad()));
            }
            (Label::Map, resolve(value.trim()), name.trim().to_string())
        } else {
            let tokens: Vec<&str> = decl.split_whitespace().collect();
            let [label, ty, name] = tokens.as_slice() else {
                return Err(bad());
            };
            let label = match *label {
                "optional" => Label::Single,
                "repeated" => Label::Repeated,
                _ => return Err(bad()),
            };
            (label, resolve(ty), name.to_string())
        };
        let go = go
            .get(message.as_str())
            .and_then(|f| f.get(&number))
            .cloned()
            .unwrap_or_default();
        fields.push(ProtoField {
            number,
            name,
            label,
            ty,
            go,
        });
    }
    Ok(())
}

/// What to write for the fields of one message (or of an embedded Go struct).
#[derive(Default)]
struct Code {
    encode: String,
    len: Vec<String>,
    arms: String,
    locals: String,
    epilogue: String,
}

/// Why a struct has no protobuf form.
type Declined = String;

struct Context<'a> {
    protos: &'a Protos,
    fields: &'a BTreeMap<String, Vec<RustField>>,
    path_of: &'a dyn Fn(&str) -> Option<String>,
}

impl Context<'_> {
    /// The Rust type a proto type must have (for a message: its generated struct or special).
    fn rust_of(&self, proto_ty: &str) -> Option<String> {
        if let Some((_, rust)) = SCALARS.iter().find(|(s, _)| *s == proto_ty) {
            return Some(rust.to_string());
        }
        if let Some((_, rust)) = SPECIAL_MESSAGES.iter().find(|(s, _)| *s == proto_ty) {
            return Some(rust.to_string());
        }
        if let Some(path) = (self.path_of)(proto_ty) {
            return Some(path);
        }
        // A Go slice type as a message of its `items` (`ExtraValue`, `Verbs`): a list in JSON,
        // so not a schema of its own.
        if let Some([item]) = self.protos.get(proto_ty).map(Vec::as_slice)
            && item.name == "items"
            && item.number == 1
            && item.label == Label::Repeated
        {
            return Some(format!("Vec<{}>", self.rust_of(&item.ty)?));
        }
        None
    }

    /// The generated structs referred to by the struct `name`'s fields (for the fixpoint).
    fn code(
        &self,
        schema: &str,
        message: &str,
        rust: &[RustField],
        buf: &str,
        depth: usize,
        code: &mut Code,
    ) -> Result<BTreeSet<String>, Declined> {
        let fields = self
            .protos
            .get(message)
            .ok_or_else(|| format!("{schema}: no protobuf message {message}"))?;
        let mut needs = BTreeSet::new();
        for pf in fields {
            let tag = pf.number;
            if pf.go.embedded {
                if pf.label != Label::Single {
                    return Err(format!("{schema}: embedded {} repeats", pf.name));
                }
                let mut inner = Code::default();
                let inner_buf = format!("g{depth}");
                needs.extend(self.code(schema, &pf.ty, rust, &inner_buf, depth + 1, &mut inner)?);
                let len = join_len(&inner.len);
                let _ = writeln!(
                    code.encode,
                    "pb::put_group({tag}, {len}, buf, |buf| {{ {} }});",
                    inner.encode
                );
                code.len.push(format!("pb::put_group_len({tag}, {len})"));
                let _ = writeln!(
                    code.arms,
                    "({tag}, wire) => {{ let mut {inner_buf} = pb::get_group(wire, &mut {buf})?; while !{inner_buf}.is_empty() {{ match pb::key(&mut {inner_buf})? {{ {} (_, wire) => pb::skip(wire, &mut {inner_buf}), }}?; }} Ok(()) }}",
                    inner.arms
                );
                code.locals.push_str(&inner.locals);
                code.epilogue.push_str(&inner.epilogue);
                continue;
            }
            let json = if pf.go.json.is_empty() {
                &pf.name
            } else {
                &pf.go.json
            };
            let Some(rf) = rust.iter().find(|r| r.json == *json) else {
                // Read and written again, it would be lost.
                return Err(format!(
                    "{schema}: protobuf field {} ({json}) has no Rust field",
                    pf.name
                ));
            };
            let f = &rf.field;
            let want = self
                .rust_of(&pf.ty)
                .ok_or_else(|| format!("{schema}.{}: no Rust type for {}", pf.name, pf.ty))?;
            if self.fields.contains_key(&pf.ty) {
                needs.insert(pf.ty.clone());
            }
            let mismatch = || {
                format!(
                    "{schema}.{}: Rust {} against protobuf {:?} {}",
                    pf.name, rf.ty, pf.label, pf.ty
                )
            };
            match pf.label {
                Label::Repeated => {
                    let element = rf
                        .ty
                        .strip_prefix("Vec<")
                        .and_then(|t| t.strip_suffix('>'))
                        .ok_or_else(mismatch)?;
                    if element != want {
                        return Err(mismatch());
                    }
                    if rf.optional {
                        let _ = writeln!(
                            code.encode,
                            "if let Some(v) = &self.{f} {{ pb::put_each({tag}, v, buf); }}"
                        );
                        code.len.push(format!(
                            "self.{f}.as_ref().map_or(0, |v| pb::put_each_len({tag}, v))"
                        ));
                        let _ = writeln!(
                            code.arms,
                            "({tag}, wire) => pb::push_some(wire, &mut {buf}, &mut m.{f}),"
                        );
                        let _ = writeln!(
                            code.epilogue,
                            "if let Some(v) = &mut m.{f} {{ v.shrink_to_fit(); }}"
                        );
                    } else {
                        let _ = writeln!(code.encode, "pb::put_each({tag}, &self.{f}, buf);");
                        code.len.push(format!("pb::put_each_len({tag}, &self.{f})"));
                        let _ = writeln!(
                            code.arms,
                            "({tag}, wire) => pb::push(wire, &mut {buf}, &mut m.{f}),"
                        );
                        let _ = writeln!(code.epilogue, "m.{f}.shrink_to_fit();");
                    }
                }
                Label::Map => {
                    if rf.ty == "std::collections::BTreeMap<String, String>"
                        && want == "crate::primitives::Str"
                    {
                        let _ = writeln!(
                            code.encode,
                            "if let Some(v) = &self.{f} {{ pb::put_map({tag}, v.iter(), buf); }}"
                        );
                        code.len.push(format!(
                            "self.{f}.as_ref().map_or(0, |v| pb::put_map_len({tag}, v.iter()))"
                        ));
                        let _ = writeln!(
                            code.arms,
                            "({tag}, wire) => pb::insert_entry(wire, &mut {buf}, &mut m.{f}),"
                        );
                        continue;
                    }
                    let value = rf
                        .ty
                        .strip_prefix("crate::primitives::Map<")
                        .and_then(|t| t.strip_suffix('>'))
                        .ok_or_else(mismatch)?;
                    if value != want {
                        return Err(mismatch());
                    }
                    let entries = "entries().iter().map(|(k, v)| (k, v))";
                    let local = format!("e_{f}");
                    let _ = writeln!(
                        code.locals,
                        "let mut {local}: Vec<(crate::primitives::Str, {value})> = Vec::new();"
                    );
                    let _ = writeln!(
                        code.arms,
                        "({tag}, wire) => pb::push_entry(wire, &mut {buf}, &mut {local}),"
                    );
                    if rf.optional {
                        let _ = writeln!(
                            code.encode,
                            "if let Some(v) = &self.{f} {{ pb::put_map({tag}, v.{entries}, buf); }}"
                        );
                        code.len.push(format!(
                            "self.{f}.as_ref().map_or(0, |v| pb::put_map_len({tag}, v.{entries}))"
                        ));
                        let _ = writeln!(
                            code.epilogue,
                            "if !{local}.is_empty() {{ m.{f} = Some({local}.into_iter().collect()); }}"
                        );
                    } else {
                        let _ =
                            writeln!(code.encode, "pb::put_map({tag}, self.{f}.{entries}, buf);");
                        code.len
                            .push(format!("pb::put_map_len({tag}, self.{f}.{entries})"));
                        let _ = writeln!(code.epilogue, "m.{f} = {local}.into_iter().collect();");
                    }
                }
                Label::Single => {
                    let boxed = rf.ty.strip_prefix("Box<").and_then(|t| t.strip_suffix('>'));
                    if boxed.unwrap_or(&rf.ty) != want {
                        return Err(mismatch());
                    }
                    let time = matches!(
                        want.as_str(),
                        "crate::primitives::Time" | "crate::primitives::MicroTime"
                    );
                    let scalar = SCALARS.iter().any(|(_, r)| *r == want);
                    match (rf.optional, boxed.is_some()) {
                        (true, true) => {
                            let _ = writeln!(
                                code.encode,
                                "pb::put_opt({tag}, self.{f}.as_deref(), buf);"
                            );
                            code.len
                                .push(format!("pb::put_opt_len({tag}, self.{f}.as_deref())"));
                            let _ = writeln!(
                                code.arms,
                                "({tag}, wire) => pb::set_box(wire, &mut {buf}, &mut m.{f}),"
                            );
                        }
                        (true, false) => {
                            let _ = writeln!(
                                code.encode,
                                "pb::put_opt({tag}, self.{f}.as_ref(), buf);"
                            );
                            code.len
                                .push(format!("pb::put_opt_len({tag}, self.{f}.as_ref())"));
                            let zero_is_absent =
                                time || (scalar && !pf.go.pointer && pf.go.omitempty);
                            let read = if zero_is_absent {
                                "set_nonzero"
                            } else {
                                "set_some"
                            };
                            let _ = writeln!(
                                code.arms,
                                "({tag}, wire) => pb::{read}(wire, &mut {buf}, &mut m.{f}),"
                            );
                        }
                        (false, _) => {
                            let _ = writeln!(code.encode, "pb::put({tag}, &self.{f}, buf);");
                            code.len.push(format!("pb::put_len({tag}, &self.{f})"));
                            let _ = writeln!(
                                code.arms,
                                "({tag}, wire) => pb::set(wire, &mut {buf}, &mut m.{f}),"
                            );
                        }
                    }
                }
            }
        }
        Ok(needs)
    }
}

fn join_len(terms: &[String]) -> String {
    if terms.is_empty() {
        "0".into()
    } else {
        terms.join(" + ")
    }
}

/// The `Message` impls, by schema name, and the structs left without one (with the reason).
pub fn impls(
    protos: &Protos,
    fields: &BTreeMap<String, Vec<RustField>>,
    path_of: &dyn Fn(&str) -> Option<String>,
) -> (BTreeMap<String, String>, BTreeMap<String, Declined>) {
    let context = Context {
        protos,
        fields,
        path_of,
    };
    let mut written: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
    let mut declined: BTreeMap<String, Declined> = BTreeMap::new();
    for (schema, rust) in fields {
        let mut code = Code::default();
        match context.code(schema, schema, rust, "buf", 0, &mut code) {
            Ok(needs) => {
                let name = schema.rsplit('.').next().unwrap_or(schema);
                written.insert(schema.clone(), (render(name, &code), needs));
            }
            Err(reason) => {
                declined.insert(schema.clone(), reason);
            }
        }
    }
    // A struct holding one without protobuf has none either.
    loop {
        let fallen: Vec<(String, String)> = written
            .iter()
            .filter_map(|(schema, (_, needs))| {
                needs
                    .iter()
                    .find(|n| declined.contains_key(*n) || !written.contains_key(*n))
                    .map(|n| {
                        (
                            schema.clone(),
                            format!("{schema}: holds {n}, which has no protobuf form"),
                        )
                    })
            })
            .collect();
        if fallen.is_empty() {
            break;
        }
        for (schema, reason) in fallen {
            written.remove(&schema);
            declined.insert(schema, reason);
        }
    }
    (
        written
            .into_iter()
            .map(|(k, (code, _))| (k, code))
            .collect(),
        declined,
    )
}

fn render(name: &str, code: &Code) -> String {
    let len = join_len(&code.len);
    let has_fields = !code.arms.is_empty();
    let decode = if has_fields {
        format!(
            "let mut m = Self::default();\n{}while !buf.is_empty() {{ match pb::key(&mut buf)? {{ {} (_, wire) => pb::skip(wire, &mut buf), }}?; }}\n{}Ok(m)",
            code.locals, code.arms, code.epilogue
        )
    } else {
        "while !buf.is_empty() { let (_, wire) = pb::key(&mut buf)?; pb::skip(wire, &mut buf)?; }\nOk(Self::default())".to_string()
    };
    let buf_param = if code.encode.is_empty() {
        "_buf"
    } else {
        "buf"
    };
    format!(
        "impl crate::protobuf::Message for {name} {{
    const NAME: &'static str = {name:?};
    fn encode_fields(&self, {buf_param}: &mut Vec<u8>) {{
        #[allow(unused_imports)]
        use crate::protobuf as pb;
        {}
    }}
    fn fields_len(&self) -> usize {{
        #[allow(unused_imports)]
        use crate::protobuf as pb;
        {len}
    }}
    fn decode(mut buf: &[u8]) -> Result<Self, crate::protobuf::DecodeError> {{
        use crate::protobuf as pb;
        {decode}
    }}
}}

",
        code.encode
    )
}
