//! [`Client<K>`]: one generic typed client for every resource type, as client-go's `gentype`
//! client that all its generated typed clients wrap. Scope is enforced by the types: a
//! namespaced resource is reached through [`Client::namespaced`] (or across namespaces with
//! [`Client::all`], for lists and watches), a cluster-scoped one through [`Client::cluster`].

use std::marker::PhantomData;

use futures_util::Stream;
use serde::Serialize;
use serde_json::Value;

use crate::rest::WireFormat;
use crate::rest::watch::WatchEvent;
use crate::rest::{
    ApplyOptions, CreateOptions, DeleteOptions, Error, GetOptions, ListOptions, PatchOptions,
    Request, RestClient, UpdateOptions,
};
use kubeclient_core::protobuf::{self, Codec};
use kubeclient_core::resource::{ClusterScoped, Namespaced, ObjectList, Resource, Scope};

/// The stream of events of a watch: a type you can name (e.g. in a struct field).
pub type WatchStream<K> =
    std::pin::Pin<Box<dyn Stream<Item = Result<WatchEvent<K>, Error>> + Send>>;

/// The page size [`Client::list_all`] uses unless the options set one (client-go's pager).
pub const DEFAULT_PAGE_SIZE: u32 = 500;

/// A patch, by the content type the server reads it as. The body is any serializable value:
/// a `serde_json::Value` (the default), or a typed (partial) object of your own.
#[derive(Debug, Clone, PartialEq)]
pub enum Patch<P = Value> {
    /// RFC 6902 JSON patch: a list of operations.
    Json(P),
    /// RFC 7386 JSON merge patch.
    Merge(P),
    /// Kubernetes strategic merge patch (built-in types only).
    Strategic(P),
    /// Server-side apply: the fields this manager wants, as a (partial) object.
    Apply(P),
}

impl<P: Serialize> Patch<P> {
    fn content_type(&self) -> &'static str {
        match self {
            Patch::Json(_) => "application/json-patch+json",
            Patch::Merge(_) => "application/merge-patch+json",
            Patch::Strategic(_) => "application/strategic-merge-patch+json",
            Patch::Apply(_) => "application/apply-patch+yaml",
        }
    }

    fn body(&self) -> &P {
        match self {
            Patch::Json(v) | Patch::Merge(v) | Patch::Strategic(v) | Patch::Apply(v) => v,
        }
    }
}

/// What a client's requests address: the resource and, for a namespaced one, the namespace.
/// Typed clients fill it from their type; the dynamic client from discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// `v1` or `group/version`.
    pub api_version: String,
    /// The plural resource name.
    pub plural: String,
    /// The kind, for messages.
    pub kind: String,
    /// Whether the resource is namespaced.
    pub namespaced: bool,
    /// The namespace (`None`: all namespaces, or cluster-scoped).
    pub namespace: Option<String>,
    /// Ask for `PartialObjectMetadata` instead of whole objects (the metadata client).
    pub metadata_only: bool,
}

impl Target {
    pub(crate) fn of<K: Resource>(namespace: Option<&str>) -> Self {
        Target {
            api_version: K::api_version(),
            plural: K::PLURAL.to_string(),
            kind: K::KIND.to_string(),
            namespaced: K::Scope::NAMESPACED,
            namespace: namespace.map(str::to_string),
            metadata_only: false,
        }
    }
}

/// What clients and caches need to know of the objects they send, receive and hold: typed
/// resources, dynamic objects and metadata-only objects alike.
pub trait Object: Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static {
    /// `metadata.name`.
    fn object_name(&self) -> Option<&str>;
    /// `metadata.namespace`.
    fn object_namespace(&self) -> Option<&str>;
    /// `metadata.resourceVersion`.
    fn object_resource_version(&self) -> Option<&str>;
    /// `metadata.uid`.
    fn object_uid(&self) -> Option<&str>;
    /// The value of label `key` in `metadata.labels`.
    fn object_label(&self, key: &str) -> Option<&str>;
    /// The protobuf codec of the type, if it has one ([`Resource::protobuf`]).
    fn protobuf() -> Option<Codec<Self>> {
        None
    }
}

impl<K: Resource> Object for K {
    fn object_name(&self) -> Option<&str> {
        self.name()
    }

    fn object_namespace(&self) -> Option<&str> {
        self.namespace()
    }

    fn object_resource_version(&self) -> Option<&str> {
        self.resource_version()
    }

    fn object_uid(&self) -> Option<&str> {
        self.uid()
    }

    fn object_label(&self, key: &str) -> Option<&str> {
        self.labels()?.get(key).map(String::as_str)
    }

    fn protobuf() -> Option<Codec<Self>> {
        <K as Resource>::protobuf()
    }
}

/// Typed access to one resource type, in one namespace or across all of them.
pub struct Client<K> {
    rest: RestClient,
    target: Target,
    _kind: PhantomData<fn() -> K>,
}

impl<K> Clone for Client<K> {
    fn clone(&self) -> Self {
        Client {
            rest: self.rest.clone(),
            target: self.target.clone(),
            _kind: PhantomData,
        }
    }
}

impl<K> std::fmt::Debug for Client<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field(
                "resource",
                &format_args!("{}.{}", self.target.plural, self.target.api_version),
            )
            .field("namespace", &self.target.namespace)
            .finish()
    }
}

impl<K> Client<K> {
    /// A client for `target`, whatever `K` is (the dynamic client's constructor).
    pub(crate) fn for_target(rest: RestClient, target: Target) -> Self {
        Client {
            rest,
            target,
            _kind: PhantomData,
        }
    }
}

impl<K: Resource<Scope = Namespaced>> Client<K> {
    /// The objects of namespace `namespace`.
    pub fn namespaced(rest: RestClient, namespace: &str) -> Self {
        Client::for_target(rest, Target::of::<K>(Some(namespace)))
    }
}

impl<K: Resource<Scope = ClusterScoped>> Client<K> {
    /// The cluster-scoped objects.
    pub fn cluster(rest: RestClient) -> Self {
        Client::for_target(rest, Target::of::<K>(None))
    }
}

impl<K: Resource> Client<K> {
    /// Every namespace at once (for a namespaced resource: lists and watches only; calls that
    /// name one object need [`Client::namespaced`]).
    pub fn all(rest: RestClient) -> Self {
        Client::for_target(rest, Target::of::<K>(None))
    }
}

impl<K: Object> Client<K> {
    /// The namespace this client works in (`None`: all, or cluster-scoped).
    pub fn namespace(&self) -> Option<&str> {
        self.target.namespace.as_deref()
    }

    fn request(&self, verb: http::Method) -> Request {
        let request = self
            .rest
            .verb(verb)
            .group_version(&self.target.api_version)
            .resource(&self.target.plural);
        match &self.target.namespace {
            Some(ns) if self.target.namespaced => request.namespace(ns),
            _ => request,
        }
    }

    /// `request` asking for metadata only, when this is a metadata client: one object
    /// (`as=PartialObjectMetadata`) or a list (`as=PartialObjectMetadataList`).
    fn accept(&self, request: Request, list: bool) -> Request {
        if !self.target.metadata_only {
            return request;
        }
        let r#as = if list {
            "PartialObjectMetadataList"
        } else {
            "PartialObjectMetadata"
        };
        request.header(
            "accept",
            &format!("application/json;as={as};g=meta.k8s.io;v=v1"),
        )
    }

    /// The protobuf codec this client speaks: `K`'s, unless the configuration asks for JSON
    /// or this is a metadata-only client.
    fn codec(&self) -> Option<Codec<K>> {
        if self.target.metadata_only || self.rest.wire_format() != WireFormat::Protobuf {
            return None;
        }
        <K as Object>::protobuf()
    }

    /// `request` asking for protobuf (JSON accepted too) when this client speaks it, with the
    /// codec that reads a protobuf answer.
    fn negotiate(&self, request: Request) -> (Request, Option<Codec<K>>) {
        match self.codec() {
            Some(codec) => (request.header("accept", protobuf::ACCEPT), Some(codec)),
            None => (request, None),
        }
    }

    /// Sends `request` and decodes the object it answers with (in protobuf when this client
    /// speaks it and the server answers in it).
    async fn send_for_object(&self, request: Request) -> Result<K, Error> {
        match self.negotiate(request) {
            (request, Some(codec)) => request.into_decoded(|body| codec.decode_object(body)).await,
            (request, None) => request.into_json().await,
        }
    }

    /// Sends `obj` as the body of `request` (protobuf when this client speaks it, else JSON)
    /// with the write options in the query; decodes the answer.
    async fn send_object(
        &self,
        request: Request,
        obj: &K,
        options: &CreateOptions,
    ) -> Result<K, Error> {
        let request = request.params(options);
        let request = match self.codec() {
            Some(codec) => request
                .content_type(protobuf::CONTENT_TYPE)
                .body((codec.encode)(obj)),
            None => request.json(obj),
        };
        self.send_for_object(request).await
    }

    /// A request for the object `name`; refused for a namespaced resource without a namespace.
    fn object(&self, verb: http::Method, name: &str) -> Result<Request, Error> {
        self.require_namespace(&verb, &format!("{} {name:?}: ", self.target.kind))?;
        Ok(self.accept(self.request(verb).name(name), false))
    }

    /// Refuses a call that needs one namespace on a namespaced client without one.
    fn require_namespace(&self, verb: &http::Method, what: &str) -> Result<(), Error> {
        if self.target.namespaced && self.target.namespace.is_none() {
            return Err(Error::InvalidRequest {
                verb: verb.clone(),
                reason: format!(
                    "{what}{} are namespaced; use a client for one namespace",
                    self.target.plural
                ),
            });
        }
        Ok(())
    }

    fn name_of(&self, obj: &K, verb: &http::Method) -> Result<String, Error> {
        obj.object_name()
            .map(str::to_string)
            .ok_or_else(|| Error::InvalidRequest {
                verb: verb.clone(),
                reason: format!("the {} has no metadata.name", self.target.kind),
            })
    }

    /// GET one object (`&GetOptions::default()` for the latest state).
    pub async fn get(&self, name: &str, options: &GetOptions) -> Result<K, Error> {
        self.send_for_object(self.object(http::Method::GET, name)?.params(options))
            .await
    }

    /// GET one page of objects.
    pub async fn list(&self, options: &ListOptions) -> Result<ObjectList<K>, Error> {
        let request = self
            .accept(self.request(http::Method::GET), true)
            .params(options);
        match self.negotiate(request) {
            (request, Some(codec)) => request.into_list_decoded(codec.decode).await,
            (request, None) => request.into_json().await,
        }
    }

    /// Every object, page by page (`limit` from the options, else [`DEFAULT_PAGE_SIZE`]),
    /// following `continue` tokens, as client-go's pager does.
    pub fn list_all(&self, options: &ListOptions) -> impl Stream<Item = Result<K, Error>> + use<K> {
        let mut options = options.clone();
        options.limit.get_or_insert(DEFAULT_PAGE_SIZE);
        let client = self.clone();
        let state = (client, options, Vec::<K>::new().into_iter(), false);
        futures_util::stream::unfold(
            state,
            |(client, mut options, mut page, mut last)| async move {
                loop {
                    if let Some(item) = page.next() {
                        return Some((Ok(item), (client, options, page, last)));
                    }
                    if last {
                        return None;
                    }
                    match client.list(&options).await {
                        Ok(list) => {
                            options.continue_token =
                                list.metadata.continue_token.filter(|c| !c.is_empty());
                            last = options.continue_token.is_none();
                            page = list.items.into_iter();
                        }
                        Err(e) => return Some((Err(e), (client, options, page, true))),
                    }
                }
            },
        )
    }

    /// Watch the objects: the options' `resourceVersion` says from where.
    pub async fn watch(&self, options: &ListOptions) -> Result<WatchStream<K>, Error> {
        self.watch_request(options, None).await
    }

    /// [`Client::watch`], ending the stream with an error when nothing at all (no event, no
    /// bookmark) arrives for `idle` (see [`Request::idle_timeout`]).
    pub async fn watch_with_idle_timeout(
        &self,
        options: &ListOptions,
        idle: std::time::Duration,
    ) -> Result<WatchStream<K>, Error> {
        self.watch_request(options, Some(idle)).await
    }

    async fn watch_request(
        &self,
        options: &ListOptions,
        idle: Option<std::time::Duration>,
    ) -> Result<WatchStream<K>, Error> {
        let mut request = self
            .accept(self.request(http::Method::GET), false)
            .params(options);
        if let Some(idle) = idle {
            request = request.idle_timeout(idle);
        }
        Ok(match self.negotiate(request) {
            (request, Some(codec)) => Box::pin(request.watch_decoded::<K>(codec.decode).await?),
            (request, None) => Box::pin(request.watch::<K>().await?),
        })
    }

    /// POST a new object (in this client's namespace, for a namespaced resource).
    pub async fn create(&self, obj: &K, options: &CreateOptions) -> Result<K, Error> {
        self.require_namespace(&http::Method::POST, "")?;
        self.send_object(self.request(http::Method::POST), obj, options)
            .await
    }

    /// PUT the object (named by its metadata; its resourceVersion guards against lost updates).
    pub async fn update(&self, obj: &K, options: &UpdateOptions) -> Result<K, Error> {
        let name = self.name_of(obj, &http::Method::PUT)?;
        self.send_object(self.object(http::Method::PUT, &name)?, obj, options)
            .await
    }

    /// PUT the object's status subresource.
    pub async fn update_status(&self, obj: &K, options: &UpdateOptions) -> Result<K, Error> {
        let name = self.name_of(obj, &http::Method::PUT)?;
        self.write_subresource(http::Method::PUT, &name, "status", obj, options)
            .await
    }

    /// PATCH one object.
    pub async fn patch<P: Serialize>(
        &self,
        name: &str,
        patch: &Patch<P>,
        options: &PatchOptions,
    ) -> Result<K, Error> {
        self.send_for_object(self.patch_request(name, None, patch, options)?)
            .await
    }

    /// PATCH the object's status subresource.
    pub async fn patch_status<P: Serialize>(
        &self,
        name: &str,
        patch: &Patch<P>,
        options: &PatchOptions,
    ) -> Result<K, Error> {
        self.send_for_object(self.patch_request(name, Some("status"), patch, options)?)
            .await
    }

    fn patch_request<P: Serialize>(
        &self,
        name: &str,
        sub: Option<&str>,
        patch: &Patch<P>,
        options: &PatchOptions,
    ) -> Result<Request, Error> {
        let mut request = self.object(http::Method::PATCH, name)?;
        if let Some(sub) = sub {
            request = request.subresource(sub);
        }
        let body = serde_json::to_vec(patch.body()).map_err(|e| Error::Encode(e.to_string()))?;
        Ok(request
            .params(options)
            .content_type(patch.content_type())
            .body(body))
    }

    /// Server-side apply of `obj` (a full or partial object, typed or not) with the options'
    /// field manager; with `force`, fields other managers own are taken over instead of
    /// failing with a conflict.
    pub async fn apply<T: Serialize>(
        &self,
        name: &str,
        obj: &T,
        options: &ApplyOptions,
    ) -> Result<K, Error> {
        self.patch(name, &Patch::Apply(obj), &options.patch_options())
            .await
    }

    /// Server-side apply of the status subresource.
    pub async fn apply_status<T: Serialize>(
        &self,
        name: &str,
        obj: &T,
        options: &ApplyOptions,
    ) -> Result<K, Error> {
        self.patch_status(name, &Patch::Apply(obj), &options.patch_options())
            .await
    }

    /// GET a subresource of one object (e.g. `scale`), decoded as `T`.
    pub async fn get_subresource<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
        subresource: &str,
    ) -> Result<T, Error> {
        self.object(http::Method::GET, name)?
            .subresource(subresource)
            .into_json()
            .await
    }

    /// PUT a subresource of one object (e.g. `scale`, `approval`, `resize`,
    /// `ephemeralcontainers`), returning what the server answers, decoded as `R`.
    pub async fn replace_subresource<T: Serialize, R: serde::de::DeserializeOwned>(
        &self,
        name: &str,
        subresource: &str,
        body: &T,
        options: &UpdateOptions,
    ) -> Result<R, Error> {
        self.write_subresource(http::Method::PUT, name, subresource, body, options)
            .await
    }

    /// POST to a subresource of one object (e.g. `eviction`, `binding`, `token`).
    pub async fn create_subresource<T: Serialize, R: serde::de::DeserializeOwned>(
        &self,
        name: &str,
        subresource: &str,
        body: &T,
        options: &CreateOptions,
    ) -> Result<R, Error> {
        self.write_subresource(http::Method::POST, name, subresource, body, options)
            .await
    }

    async fn write_subresource<T: Serialize, R: serde::de::DeserializeOwned>(
        &self,
        verb: http::Method,
        name: &str,
        subresource: &str,
        body: &T,
        options: &CreateOptions,
    ) -> Result<R, Error> {
        send_body(
            self.object(verb, name)?.subresource(subresource),
            body,
            options,
        )
        .await
    }

    /// PATCH a subresource of one object, decoded as `R`.
    pub async fn patch_subresource<P: Serialize, R: serde::de::DeserializeOwned>(
        &self,
        name: &str,
        subresource: &str,
        patch: &Patch<P>,
        options: &PatchOptions,
    ) -> Result<R, Error> {
        self.patch_request(name, Some(subresource), patch, options)?
            .into_json()
            .await
    }

    /// GET a subresource as a stream of bytes (e.g. a pod's `log` with `follow`); `params`
    /// are its query parameters.
    pub async fn stream_subresource<P: Serialize>(
        &self,
        name: &str,
        subresource: &str,
        params: &P,
    ) -> Result<impl Stream<Item = Result<bytes::Bytes, Error>> + use<K, P>, Error> {
        self.object(http::Method::GET, name)?
            .subresource(subresource)
            .params(params)
            .header("accept", "*/*")
            .stream()
            .await
    }

    /// DELETE one object (client-go returns only the error; so does this).
    pub async fn delete(&self, name: &str, options: &DeleteOptions) -> Result<(), Error> {
        self.object(http::Method::DELETE, name)?
            .json(options)
            .raw()
            .await
            .map(|_| ())
    }

    /// DELETE every object the list options select.
    pub async fn delete_collection(
        &self,
        options: &DeleteOptions,
        list: &ListOptions,
    ) -> Result<(), Error> {
        self.request(http::Method::DELETE)
            .params(list)
            .json(options)
            .raw()
            .await
            .map(|_| ())
    }
}

/// Sends `body` as JSON with the write options in the query; decodes the answer.
async fn send_body<T: Serialize, R: serde::de::DeserializeOwned>(
    request: Request,
    body: &T,
    options: &CreateOptions,
) -> Result<R, Error> {
    request.params(options).json(body).into_json().await
}
