//! The hosted site's calls: its bucket's objects (listed with their `sha256` metadata and
//! stale mark, uploaded, marked, deleted, emptied before a destroy) and the CloudFront
//! invalidation. What to do is [`stackgen_core::site_sync`]'s decision.

use std::time::Instant;

use aws_sdk_cloudfront as cloudfront;
use aws_sdk_s3 as s3;
use s3::error::ProvideErrorMetadata as _;
use s3::types::{Delete, ObjectIdentifier, Tag, Tagging};

use super::error::{
    CREATE_INVALIDATION, DELETE_OBJECTS, GET_INVALIDATION, GET_OBJECT_TAGGING, HEAD_OBJECT,
    LIST_OBJECT_VERSIONS, LIST_OBJECTS_V2, PUT_OBJECT, PUT_OBJECT_TAGGING, classify,
};
use super::{Cloud, Regional};
use crate::DeployError;
use stackgen_core::site_sync::RemoteObject;

/// The tag that marks an object no longer in `site/`; its value is when (Unix seconds).
pub const STALE_TAG: &str = "stackgen-stale";
/// The user metadata holding an uploaded object's SHA-256 (`x-amz-meta-sha256`).
pub const SHA256_METADATA: &str = "sha256";
/// DeleteObjects takes at most this many keys.
const DELETE_BATCH: usize = 1000;
/// How many times `--wait` asks CloudFront before giving up (CloudFront takes minutes).
const INVALIDATION_POLLS: usize = 600;

/// One object to upload.
pub struct SiteObject<'a> {
    pub key: &'a str,
    pub bytes: Vec<u8>,
    pub sha256: &'a str,
    pub content_type: &'a str,
    pub cache_control: &'a str,
}

fn build_error(what: &str, error: impl std::fmt::Display) -> DeployError {
    DeployError::Io(format!("building {what}: {error}"))
}

impl Regional {
    /// Every object of `bucket` with its hash and stale mark: ListObjectsV2 (every page),
    /// then HeadObject each, and GetObjectTagging those that have tags.
    pub async fn site_objects(&self, bucket: &str) -> Result<Vec<RemoteObject>, DeployError> {
        let keys = self.list_keys(bucket).await?;
        let mut objects = Vec::with_capacity(keys.len());
        for key in keys {
            let head = self
                .s3
                .head_object()
                .bucket(bucket)
                .key(&key)
                .send()
                .await
                .map_err(|e| classify(HEAD_OBJECT, &self.endpoint, e))?;
            let sha256 = head
                .metadata()
                .and_then(|m| m.get(SHA256_METADATA))
                .cloned();
            let stale = if head.tag_count().unwrap_or(0) > 0 {
                let tags = self
                    .s3
                    .get_object_tagging()
                    .bucket(bucket)
                    .key(&key)
                    .send()
                    .await
                    .map_err(|e| classify(GET_OBJECT_TAGGING, &self.endpoint, e))?;
                tags.tag_set().iter().any(|t| t.key() == STALE_TAG)
            } else {
                false
            };
            objects.push(RemoteObject { key, sha256, stale });
        }
        Ok(objects)
    }

    /// The keys of `bucket`, every page; `None` when the bucket does not exist.
    async fn list_keys_if_any(&self, bucket: &str) -> Result<Option<Vec<String>>, DeployError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = match self
                .s3
                .list_objects_v2()
                .bucket(bucket)
                .set_continuation_token(token.take())
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) if e.code() == Some("NoSuchBucket") => return Ok(None),
                Err(e) => return Err(classify(LIST_OBJECTS_V2, &self.endpoint, e)),
            };
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
            match out.next_continuation_token() {
                Some(next) if out.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(Some(keys))
    }

    async fn list_keys(&self, bucket: &str) -> Result<Vec<String>, DeployError> {
        self.list_keys_if_any(bucket)
            .await?
            .ok_or_else(|| DeployError::Aws {
                operation: LIST_OBJECTS_V2.operation,
                message: format!("the site bucket {bucket} does not exist"),
            })
    }

    /// PutObject with the type, caching and hash the site is served with. A new object
    /// carries no tags, so this also clears a stale mark.
    pub async fn put_site_object(
        &self,
        bucket: &str,
        object: SiteObject<'_>,
    ) -> Result<(), DeployError> {
        self.s3
            .put_object()
            .bucket(bucket)
            .key(object.key)
            .content_type(object.content_type)
            .cache_control(object.cache_control)
            .metadata(SHA256_METADATA, object.sha256)
            .body(s3::primitives::ByteStream::from(object.bytes))
            .send()
            .await
            .map_err(|e| classify(PUT_OBJECT, &self.endpoint, e))?;
        Ok(())
    }

    /// Tags `key` stale as of `now` (Unix seconds).
    pub async fn mark_stale(&self, bucket: &str, key: &str, now: u64) -> Result<(), DeployError> {
        let tag = Tag::builder()
            .key(STALE_TAG)
            .value(now.to_string())
            .build()
            .map_err(|e| build_error("a tag", e))?;
        let tagging = Tagging::builder()
            .tag_set(tag)
            .build()
            .map_err(|e| build_error("a tag set", e))?;
        self.s3
            .put_object_tagging()
            .bucket(bucket)
            .key(key)
            .tagging(tagging)
            .send()
            .await
            .map_err(|e| classify(PUT_OBJECT_TAGGING, &self.endpoint, e))?;
        Ok(())
    }

    /// Deletes `objects` (key, version), [`DELETE_BATCH`] per DeleteObjects call; a key S3
    /// could not delete is an error.
    pub async fn delete_objects(
        &self,
        bucket: &str,
        objects: &[(String, Option<String>)],
    ) -> Result<(), DeployError> {
        for batch in objects.chunks(DELETE_BATCH) {
            let identifiers = batch
                .iter()
                .map(|(key, version)| {
                    ObjectIdentifier::builder()
                        .key(key)
                        .set_version_id(version.clone())
                        .build()
                        .map_err(|e| build_error("an object identifier", e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let delete = Delete::builder()
                .set_objects(Some(identifiers))
                .quiet(true)
                .build()
                .map_err(|e| build_error("a delete request", e))?;
            let out = self
                .s3
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| classify(DELETE_OBJECTS, &self.endpoint, e))?;
            if let Some(failed) = out.errors().first() {
                return Err(DeployError::Aws {
                    operation: DELETE_OBJECTS.operation,
                    message: format!(
                        "{} of {} object(s) not deleted, e.g. {}: {} {}",
                        out.errors().len(),
                        batch.len(),
                        failed.key().unwrap_or("?"),
                        failed.code().unwrap_or("?"),
                        failed.message().unwrap_or("")
                    ),
                });
            }
        }
        Ok(())
    }

    /// Deletes every object of `bucket`, and every version and delete marker if it keeps
    /// versions, so CloudFormation can delete the bucket. Returns how many were deleted, or
    /// `None` when the bucket does not exist.
    pub async fn empty_bucket(&self, bucket: &str) -> Result<Option<usize>, DeployError> {
        let Some(keys) = self.list_keys_if_any(bucket).await? else {
            return Ok(None);
        };
        let current: Vec<(String, Option<String>)> = keys.into_iter().map(|k| (k, None)).collect();
        self.delete_objects(bucket, &current).await?;
        let versions = self.versions(bucket).await?;
        self.delete_objects(bucket, &versions).await?;
        Ok(Some(current.len() + versions.len()))
    }

    /// Every (key, version ID) of the bucket's object versions and delete markers.
    async fn versions(&self, bucket: &str) -> Result<Vec<(String, Option<String>)>, DeployError> {
        let mut found = Vec::new();
        let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
        loop {
            let out = match self
                .s3
                .list_object_versions()
                .bucket(bucket)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) if e.code() == Some("NoSuchBucket") => return Ok(found),
                Err(e) => return Err(classify(LIST_OBJECT_VERSIONS, &self.endpoint, e)),
            };
            let pairs = out
                .versions()
                .iter()
                .map(|v| (v.key(), v.version_id()))
                .chain(
                    out.delete_markers()
                        .iter()
                        .map(|m| (m.key(), m.version_id())),
                );
            found.extend(
                pairs.filter_map(|(key, version)| {
                    Some((key?.to_owned(), version.map(str::to_owned)))
                }),
            );
            if out.is_truncated() != Some(true) {
                break;
            }
            key_marker = out.next_key_marker().map(str::to_owned);
            version_marker = out.next_version_id_marker().map(str::to_owned);
            if key_marker.is_none() {
                break;
            }
        }
        Ok(found)
    }
}

impl<'c> Cloud<'c> {
    /// CloudFront's client: a global service, signed for us-east-1, through the same
    /// endpoint override as every other client.
    fn cloudfront(&self) -> cloudfront::Client {
        cloudfront::Client::from_conf(
            cloudfront::config::Builder::from(&self.sdk)
                .region(aws_config::Region::new("us-east-1"))
                .build(),
        )
    }

    fn cloudfront_endpoint(&self) -> String {
        self.sdk
            .endpoint_url()
            .map_or_else(|| "AWS CloudFront".to_owned(), str::to_owned)
    }

    /// One invalidation of `paths` (not empty); returns its ID without waiting.
    pub async fn invalidate(
        &self,
        distribution: &str,
        paths: &[String],
        caller_reference: &str,
    ) -> Result<String, DeployError> {
        let paths = cloudfront::types::Paths::builder()
            .quantity(i32::try_from(paths.len()).unwrap_or(i32::MAX))
            .set_items(Some(paths.to_vec()))
            .build()
            .map_err(|e| build_error("the invalidation's paths", e))?;
        let batch = cloudfront::types::InvalidationBatch::builder()
            .paths(paths)
            .caller_reference(caller_reference)
            .build()
            .map_err(|e| build_error("the invalidation", e))?;
        let out = self
            .cloudfront()
            .create_invalidation()
            .distribution_id(distribution)
            .invalidation_batch(batch)
            .send()
            .await
            .map_err(|e| classify(CREATE_INVALIDATION, &self.cloudfront_endpoint(), e))?;
        out.invalidation()
            .map(|i| i.id().to_owned())
            .ok_or(DeployError::Aws {
                operation: CREATE_INVALIDATION.operation,
                message: "the answer names no invalidation".to_owned(),
            })
    }

    /// Polls the invalidation until CloudFront says `Completed`, with a status line (or, when
    /// nobody watches, a line now and then); gives up after [`INVALIDATION_POLLS`] polls.
    pub async fn wait_for_invalidation(
        &self,
        distribution: &str,
        id: &str,
    ) -> Result<(), DeployError> {
        let client = self.cloudfront();
        let started = Instant::now();
        let mut last_said = Instant::now();
        for tick in 0..INVALIDATION_POLLS {
            let out = client
                .get_invalidation()
                .distribution_id(distribution)
                .id(id)
                .send()
                .await
                .map_err(|e| classify(GET_INVALIDATION, &self.cloudfront_endpoint(), e))?;
            let status = out
                .invalidation()
                .map(|i| i.status().to_owned())
                .unwrap_or_default();
            if status == "Completed" {
                self.console.clear_status();
                self.console.line(&format!(
                    "Invalidation {id}: Completed after {:.0} s",
                    started.elapsed().as_secs_f64()
                ));
                return Ok(());
            }
            let text = format!(
                "Invalidation {id}: {status} ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
            self.console.status(tick, &text);
            if !self.console.watched() && last_said.elapsed() >= crate::events::QUIET_LIMIT {
                self.console.line(&text);
                last_said = Instant::now();
            }
            self.sleep().await;
        }
        self.console.clear_status();
        Err(DeployError::Aws {
            operation: GET_INVALIDATION.operation,
            message: format!(
                "invalidation {id} is not Completed after {INVALIDATION_POLLS} polls; it goes on without gen: see the CloudFront console"
            ),
        })
    }
}
