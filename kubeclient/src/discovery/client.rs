//! [`DiscoveryClient`]: fetches discovery (aggregated when the server offers it, legacy
//! otherwise), keeps it in memory, and optionally in a [`DiskCache`], whose files are read
//! and written on tokio's blocking threads, never on the async caller's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_TYPE;

use super::Error;
use super::disk::DiskCache;
use super::mapper::{RestMapper, RestMapping};
use crate::rest::{self, ApiError, RestClient};
use kubeclient_core::discovery::wire;
use kubeclient_core::discovery::{ApiGroup, ApiResource, Discovery, GroupVersion, Info};

/// Queries per second kubectl allows discovery (`WithDiscoveryQPS(50)`).
pub const DEFAULT_QPS: f32 = 50.0;
/// The burst kubectl allows discovery (`WithDiscoveryBurst(300)`): the legacy path makes one
/// request per group version, all at once.
pub const DEFAULT_BURST: u32 = 300;
/// The per-request timeout of client-go's discovery client when none is configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(32);

/// What one live download of `/api` and `/apis` gave.
struct Live {
    groups: Vec<ApiGroup>,
    /// Every group version's resources, when both documents were aggregated.
    resources: Option<BTreeMap<GroupVersion, Vec<ApiResource>>>,
    failed: BTreeMap<GroupVersion, String>,
}

/// One of the two top-level documents, decoded.
enum TopLevel {
    Aggregated(wire::Aggregated),
    Legacy(Vec<ApiGroup>),
}

/// Merges `/api` and `/apis` (core group first), keeping the resources only when both came
/// aggregated, as client-go does for safety.
fn merge(core: TopLevel, apis: TopLevel) -> Live {
    let mut live = Live {
        groups: Vec::new(),
        resources: Some(BTreeMap::new()),
        failed: BTreeMap::new(),
    };
    for document in [core, apis] {
        match document {
            TopLevel::Aggregated(agg) => {
                live.groups.extend(agg.groups);
                if let Some(all) = live.resources.as_mut() {
                    all.extend(agg.resources);
                }
                live.failed.extend(agg.failed);
            }
            TopLevel::Legacy(groups) => {
                live.groups.extend(groups);
                live.resources = None;
            }
        }
    }
    live
}

/// One group version's resources from a disk cache file; `None` (logged) if corrupt.
fn parse_cached_resources(path: &Path, bytes: &[u8]) -> Option<Vec<ApiResource>> {
    match wire::parse_resource_list(bytes) {
        Ok(resources) => Some(resources),
        Err(e) => {
            tracing::debug!(file = %path.display(), error = %wire::describe(&e), "ignoring a corrupt discovery cache file");
            None
        }
    }
}

/// A discovery client (client-go's `DiscoveryClient` with its memory cache, and kubectl's
/// disk cache when [`DiscoveryClient::with_disk_cache`] is set). Concurrent callers share one
/// download.
#[derive(Debug)]
pub struct DiscoveryClient {
    client: RestClient,
    legacy_only: bool,
    disk: Option<Arc<DiskCache>>,
    memory: tokio::sync::Mutex<Option<Arc<Discovery>>>,
}

impl DiscoveryClient {
    /// A client for `config`'s server with kubectl's discovery settings: its own token bucket
    /// of [`DEFAULT_QPS`] and [`DEFAULT_BURST`] (unless `config` has a custom rate limiter),
    /// and a [`DEFAULT_TIMEOUT`] per request when `config` sets none. No disk cache.
    pub fn new(config: &rest::Config) -> Result<Self, Error> {
        let mut config = config.clone();
        if config.rate_limiter.is_none() {
            config.qps = DEFAULT_QPS;
            config.burst = DEFAULT_BURST;
            config.shared_limiter = Default::default();
        }
        config.timeout.get_or_insert(DEFAULT_TIMEOUT);
        Ok(DiscoveryClient::from_client(RestClient::new(&config)?))
    }

    /// A client that sends its requests through `client` as it is.
    pub fn from_client(client: RestClient) -> Self {
        DiscoveryClient {
            client,
            legacy_only: false,
            disk: None,
            memory: tokio::sync::Mutex::new(None),
        }
    }

    /// Also keep discovery in `cache`, kubectl's way (see [`DiskCache`]).
    #[must_use]
    pub fn with_disk_cache(mut self, cache: DiskCache) -> Self {
        self.disk = Some(Arc::new(cache));
        self
    }

    /// Ask for the legacy documents only, never aggregated discovery (client-go's
    /// `UseLegacyDiscovery`).
    #[must_use]
    pub fn legacy_only(mut self, legacy_only: bool) -> Self {
        self.legacy_only = legacy_only;
        self
    }

    /// The disk cache, if any.
    pub fn disk_cache(&self) -> Option<&DiskCache> {
        self.disk.as_deref()
    }

    /// The server's version (`GET /version`); never cached.
    pub async fn server_version(&self) -> Result<Info, Error> {
        Ok(self.client.get().abs_path("/version").into_json().await?)
    }

    /// Everything the server offers: from memory if discovered before, else from the disk
    /// cache where fresh, else from the server. Group versions that could not be discovered
    /// are in [`Discovery::failed`]; only a failure of the top-level documents is an error.
    pub async fn discover(&self) -> Result<Arc<Discovery>, Error> {
        let mut memory = self.memory.lock().await;
        if let Some(found) = memory.as_ref() {
            return Ok(found.clone());
        }
        let found = Arc::new(self.load().await?);
        *memory = Some(found.clone());
        Ok(found)
    }

    /// Forget what was discovered: the next [`DiscoveryClient::discover`] asks the server
    /// again and ignores disk cache files not written since (client-go's `Invalidate`).
    pub async fn invalidate(&self) {
        *self.memory.lock().await = None;
        if let Some(disk) = &self.disk {
            disk.invalidate();
        }
    }

    /// Whether what is discovered is as fresh as this process can make it: nothing came
    /// from disk cache files written before this process wrote them (client-go's `Fresh`).
    pub fn fresh(&self) -> bool {
        self.disk.as_deref().is_none_or(DiskCache::fresh)
    }

    /// A [`RestMapper`] over what is discovered.
    pub async fn rest_mapper(&self) -> Result<RestMapper, Error> {
        Ok(RestMapper::new(&*self.discover().await?))
    }

    /// Resolves what a user typed — `deploy`, `deployments.apps`, `deployments.v1.apps`,
    /// `Deployment`, a CRD's short name — as kubectl does ([`RestMapper::resolve`]). As
    /// kubectl's deferred mapper, when nothing matches and the discovery came from an older
    /// cache, discovery is invalidated and the lookup tried once more.
    pub async fn resolve(&self, input: &str) -> Result<RestMapping, Error> {
        match self.rest_mapper().await?.resolve(input) {
            Err(e) if e.is_not_found() && !self.fresh() => {
                self.invalidate().await;
                self.rest_mapper().await?.resolve(input)
            }
            other => other,
        }
    }

    async fn load(&self) -> Result<Discovery, Error> {
        // Cache files to write, written together once everything is known.
        let mut writes = Vec::new();
        let mut live = None;
        let groups = match self.cached_groups().await {
            Some(groups) => groups,
            None => {
                let fetched = self.fetch_live().await?;
                if let Some(disk) = &self.disk
                    && !fetched.groups.is_empty()
                {
                    match wire::encode_group_list(&fetched.groups) {
                        Ok(bytes) => writes.push((disk.groups_file(), bytes)),
                        Err(e) => tracing::debug!(error = %e, "encoding the groups for the cache"),
                    }
                }
                let groups = fetched.groups.clone();
                live = Some(fetched);
                groups
            }
        };
        let mut out = Discovery::default();
        out.groups = groups;
        let mut missing = Vec::new();
        let group_versions = out.group_versions();
        let files: Vec<PathBuf> = match &self.disk {
            Some(disk) => group_versions
                .iter()
                .map(|gv| disk.resources_file(gv))
                .collect(),
            None => Vec::new(),
        };
        let contents = self.read_cached(files.clone()).await;
        let mut cached = files.iter().zip(contents);
        for gv in group_versions {
            let resources = cached
                .next()
                .and_then(|(file, bytes)| parse_cached_resources(file, &bytes?));
            match resources {
                Some(resources) => {
                    out.resources.insert(gv, resources);
                }
                None => missing.push(gv),
            }
        }
        if !missing.is_empty() && live.is_none() && !self.legacy_only {
            // The groups came from the cache, some resources did not: one aggregated
            // download covers them all.
            live = Some(self.fetch_live().await?);
        }
        match live.as_ref().and_then(|l| l.resources.as_ref()) {
            Some(all) => {
                for gv in missing {
                    match all.get(&gv) {
                        Some(resources) => {
                            self.store(&mut out, &mut writes, gv, resources.clone());
                        }
                        None => {
                            if !live.as_ref().is_some_and(|l| l.failed.contains_key(&gv)) {
                                out.failed
                                    .insert(gv, "no longer offered by the server".into());
                            }
                        }
                    }
                }
            }
            None => {
                let fetched = futures_util::future::join_all(
                    missing.iter().map(|gv| self.fetch_group_version(gv)),
                )
                .await;
                for (gv, result) in missing.into_iter().zip(fetched) {
                    match result {
                        Ok(resources) => self.store(&mut out, &mut writes, gv, resources),
                        Err(e) => {
                            tracing::debug!(group_version = %gv, error = %e, "group version discovery failed");
                            out.failed.insert(gv, e.to_string());
                        }
                    }
                }
            }
        }
        if let Some(live) = live {
            out.failed.extend(live.failed);
        }
        self.write_cached(writes).await;
        Ok(out)
    }

    /// Records one group version's resources, and queues them for the disk cache (unless
    /// empty, as client-go).
    fn store(
        &self,
        out: &mut Discovery,
        writes: &mut Vec<(PathBuf, Vec<u8>)>,
        gv: GroupVersion,
        resources: Vec<ApiResource>,
    ) {
        if let Some(disk) = &self.disk
            && !resources.is_empty()
        {
            match wire::encode_resource_list(&gv, &resources) {
                Ok(bytes) => writes.push((disk.resources_file(&gv), bytes)),
                Err(e) => tracing::debug!(error = %e, "encoding resources for the cache"),
            }
        }
        out.resources.insert(gv, resources);
    }

    /// The usable contents of disk cache `files` (`None` where missing, expired or
    /// invalidated), read on a blocking thread; one entry per file.
    async fn read_cached(&self, files: Vec<PathBuf>) -> Vec<Option<Vec<u8>>> {
        let (Some(disk), false) = (self.disk.clone(), files.is_empty()) else {
            return Vec::new();
        };
        let count = files.len();
        tokio::task::spawn_blocking(move || files.iter().map(|f| disk.read(f)).collect())
            .await
            .unwrap_or_else(|e| {
                tracing::debug!(error = %e, "reading the discovery cache");
                vec![None; count]
            })
    }

    /// Writes disk cache files on a blocking thread; failures are logged, as client-go.
    async fn write_cached(&self, files: Vec<(PathBuf, Vec<u8>)>) {
        let (Some(disk), false) = (self.disk.clone(), files.is_empty()) else {
            return;
        };
        let written = tokio::task::spawn_blocking(move || {
            for (path, bytes) in &files {
                disk.write(path, bytes);
            }
        })
        .await;
        if let Err(e) = written {
            tracing::debug!(error = %e, "writing the discovery cache");
        }
    }

    async fn cached_groups(&self) -> Option<Vec<ApiGroup>> {
        let path = self.disk.as_ref()?.groups_file();
        let bytes = self
            .read_cached(vec![path.clone()])
            .await
            .into_iter()
            .next()
            .flatten()?;
        match wire::parse_group_list(&bytes) {
            Ok(groups) if !groups.is_empty() => Some(groups),
            Ok(_) => None,
            Err(e) => {
                tracing::debug!(file = %path.display(), error = %wire::describe(&e), "ignoring a corrupt discovery cache file");
                None
            }
        }
    }

    fn accept(&self) -> &'static str {
        if self.legacy_only {
            wire::ACCEPT_LEGACY
        } else {
            wire::ACCEPT_AGGREGATED
        }
    }

    /// GETs `path`; `None` for a 404. Returns the body and whether it is aggregated.
    async fn get_document(&self, path: &str) -> Result<Option<(Bytes, bool)>, Error> {
        let response = self
            .client
            .get()
            .abs_path(path)
            .header("accept", self.accept())
            .send()
            .await?;
        if !response.status.is_success() {
            let error =
                ApiError::from_response("GET", path, response.status.as_u16(), &response.body);
            if error.is_not_found() {
                return Ok(None);
            }
            return Err(Error::Request(rest::Error::Api {
                error: Box::new(error),
                attempts: 1,
            }));
        }
        let aggregated = response
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(wire::is_aggregated);
        Ok(Some((response.body, aggregated)))
    }

    fn decode_error(path: &str, e: &serde_json::Error) -> Error {
        Error::Decode {
            path: path.to_string(),
            reason: wire::describe(e),
        }
    }

    /// `/api` or `/apis`, in whichever format the server chose.
    async fn fetch_top_level(&self, path: &str, core: bool) -> Result<TopLevel, Error> {
        let Some((body, aggregated)) = self.get_document(path).await? else {
            if core {
                // Tolerated as client-go does: aggregated API servers may not serve /api.
                return Ok(TopLevel::Aggregated(wire::Aggregated::default()));
            }
            return Err(Error::Request(rest::Error::Api {
                error: Box::new(ApiError::from_response("GET", path, 404, &[])),
                attempts: 1,
            }));
        };
        if aggregated {
            let parsed = wire::parse_aggregated(&body).map_err(|e| Self::decode_error(path, &e))?;
            return Ok(TopLevel::Aggregated(parsed));
        }
        let groups = if core {
            wire::parse_api_versions(&body)
                .map_err(|e| Self::decode_error(path, &e))?
                .into_iter()
                .collect()
        } else {
            wire::parse_group_list(&body).map_err(|e| Self::decode_error(path, &e))?
        };
        Ok(TopLevel::Legacy(groups))
    }

    /// Downloads `/api` then `/apis` (client-go's `GroupsAndMaybeResources`): resources are
    /// kept only when both came aggregated.
    async fn fetch_live(&self) -> Result<Live, Error> {
        let (core, apis) = futures_util::future::try_join(
            self.fetch_top_level("/api", true),
            self.fetch_top_level("/apis", false),
        )
        .await?;
        Ok(merge(core, apis))
    }

    /// One group version's legacy `APIResourceList`.
    async fn fetch_group_version(&self, gv: &GroupVersion) -> Result<Vec<ApiResource>, Error> {
        let path = if gv.group.is_empty() {
            format!("/api/{}", gv.version)
        } else {
            format!("/apis/{}/{}", gv.group, gv.version)
        };
        let body = self
            .client
            .get()
            .abs_path(&path)
            .header("accept", wire::ACCEPT_LEGACY)
            .raw()
            .await?;
        wire::parse_resource_list(&body).map_err(|e| Self::decode_error(&path, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CORE: &[u8] = br#"{"kind":"APIGroupDiscoveryList","items":[{"metadata":{},"versions":[{"version":"v1","resources":[
        {"resource":"pods","responseKind":{"group":"","version":"","kind":"Pod"},"scope":"Namespaced","verbs":["get"]}]}]}]}"#;
    const APIS: &[u8] =
        br#"{"kind":"APIGroupDiscoveryList","items":[{"metadata":{"name":"apps"},"versions":[
        {"version":"v1","resources":[]},{"version":"v2","freshness":"Stale"}]}]}"#;

    fn aggregated(body: &[u8]) -> TopLevel {
        TopLevel::Aggregated(wire::parse_aggregated(body).expect("parse"))
    }

    #[test]
    fn resources_are_kept_only_when_both_documents_are_aggregated() {
        let live = merge(aggregated(CORE), aggregated(APIS));
        let names: Vec<&str> = live.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["", "apps"]);
        let resources = live.resources.expect("both aggregated");
        assert_eq!(resources[&GroupVersion::new("", "v1")][0].name, "pods");
        assert!(live.failed.contains_key(&GroupVersion::new("apps", "v2")));

        let legacy_apis = TopLevel::Legacy(vec![ApiGroup::new("apps", &["v1"], "v1")]);
        let live = merge(aggregated(CORE), legacy_apis);
        assert!(
            live.resources.is_none(),
            "mixed formats: ask per group version"
        );
        assert_eq!(live.groups.len(), 2);
        let live = merge(TopLevel::Legacy(Vec::new()), aggregated(APIS));
        assert!(live.resources.is_none());
        assert_eq!(live.groups.len(), 1);
    }
}
