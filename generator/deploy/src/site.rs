//! The hosted site's local side: whether `site/` can be published, its files and their
//! hashes, the stack outputs that name the bucket and distribution, and what `gen deploy`
//! says about the sync. The calls are in `cloud/site.rs`; what to do is
//! [`stackgen_core::site_sync::plan`].

use stackgen_core::deploy::{SiteTarget, StackOutputs};
use stackgen_core::ledger::sha256_hex;
use stackgen_core::site_sync::{self, LocalFile, SyncPlan};
use stackgen_workspace::Project;

use crate::DeployError;

/// The directory of vendored bundles the page loads (filled by `npm install`).
pub const VENDOR: &str = "vendor";

/// Refuses a deploy, before any stack is touched, whose site would be published without the
/// bundles its page loads.
pub fn check_site_ready(project: &Project, target: &SiteTarget) -> Result<(), DeployError> {
    if project.path(&format!("{}/{VENDOR}", target.dir)).is_dir() {
        Ok(())
    } else {
        Err(DeployError::SiteNotReady {
            dir: target.dir.clone(),
        })
    }
}

/// The bucket, distribution and URL of the deployed site, from its stack's outputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteOutputs {
    pub bucket: String,
    pub distribution: String,
    pub url: String,
}

pub fn site_outputs(
    target: &SiteTarget,
    outputs: &StackOutputs,
) -> Result<SiteOutputs, DeployError> {
    let get = |output: &str| {
        outputs
            .get(output)
            .cloned()
            .ok_or_else(|| DeployError::SiteOutputMissing {
                stack: target.stack.clone(),
                output: output.to_owned(),
            })
    };
    Ok(SiteOutputs {
        bucket: get(&target.bucket_output)?,
        distribution: get(&target.distribution_output)?,
        url: get(&target.url_output)?,
    })
}

/// A file of `site/` to publish, with its bytes.
pub struct Local {
    pub file: LocalFile,
    pub bytes: Vec<u8>,
}

/// Every published file of `site/` (see [`site_sync::is_published`]), hashed, sorted by key.
pub fn local_files(project: &Project, target: &SiteTarget) -> Result<Vec<Local>, DeployError> {
    let root = project.path(&target.dir);
    let relative = |path: &std::path::Path| -> Option<String> {
        let rel = path.strip_prefix(&root).ok()?;
        let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
        Some(parts?.join("/"))
    };
    let mut files = Vec::new();
    let walk = walkdir::WalkDir::new(&root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            entry.depth() == 0
                || !entry.file_type().is_dir()
                || relative(entry.path()).is_some_and(|rel| !site_sync::is_skipped_dir(&rel))
        });
    for entry in walk {
        let entry =
            entry.map_err(|e| DeployError::Io(format!("reading {}: {e}", root.display())))?;
        if entry.file_type().is_dir() {
            continue;
        }
        let Some(key) = relative(entry.path()).filter(|k| site_sync::is_published(k)) else {
            continue;
        };
        let bytes = std::fs::read(entry.path())
            .map_err(|e| DeployError::Io(format!("reading {}: {e}", entry.path().display())))?;
        files.push(Local {
            file: LocalFile {
                key,
                sha256: sha256_hex(&bytes),
                size: bytes.len() as u64,
            },
            bytes,
        });
    }
    files.sort_by(|a, b| a.file.key.cmp(&b.file.key));
    Ok(files)
}

/// `Site: 3 uploaded, 20 unchanged, 1 marked for deletion next deploy, 0 deleted;
/// invalidation I2J… for 2 paths`.
pub fn summary(plan: &SyncPlan, invalidation: Option<&str>) -> String {
    let restored = if plan.restore.is_empty() {
        String::new()
    } else {
        format!(", {} restored", plan.restore.len())
    };
    let invalidation = match invalidation {
        Some(id) => format!("invalidation {id} for {} path(s)", plan.invalidate.len()),
        None if plan.is_empty() => "no invalidation: nothing changed".to_owned(),
        None => "no invalidation: no cached copy changed".to_owned(),
    };
    format!(
        "Site: {} uploaded{restored}, {} unchanged, {} marked for deletion next deploy, {} deleted; {invalidation}",
        plan.upload.len(),
        plan.unchanged.len(),
        plan.mark_stale.len(),
        plan.delete.len(),
    )
}

/// The site's URL and the Auth0 application settings it needs.
pub fn url_lines(url: &str) -> Vec<String> {
    // The site signs in and out with `redirect_uri`/`returnTo` = origin + "/" (the SiteUrl
    // itself), while Auth0 compares web origins without a path: a trailing "/" never matches.
    let origin = url.trim_end_matches('/');
    vec![
        format!("Site URL: {url}"),
        "  In the Auth0 application's settings, add it to:".to_owned(),
        format!("    Allowed Callback URLs: {url}"),
        format!("    Allowed Logout URLs:   {url}"),
        format!("    Allowed Web Origins:   {origin}"),
    ]
}

/// A CloudFront CallerReference: the same paths at another time are another invalidation.
pub fn caller_reference(paths: &[String], unix_millis: u128) -> String {
    let hash = sha256_hex(paths.join("\n").as_bytes());
    format!("gen-{}-{unix_millis}", &hash[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> SiteTarget {
        SiteTarget {
            stack: "app".to_owned(),
            dir: "site".to_owned(),
            bucket_output: "SiteBucketName".to_owned(),
            distribution_output: "SiteDistributionId".to_owned(),
            url_output: "SiteUrl".to_owned(),
        }
    }

    fn write(root: &std::path::Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_site_without_its_vendored_bundles_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let project = Project::new(dir.path());
        write(dir.path(), "site/index.html", "<html>");
        let error = check_site_ready(&project, &target()).unwrap_err();
        assert!(
            matches!(error, DeployError::SiteNotReady { .. }),
            "{error:?}"
        );
        assert!(
            error.to_string().contains("cd site && npm install"),
            "{error}"
        );
        write(dir.path(), "site/vendor/bootstrap.min.css", "x");
        check_site_ready(&project, &target()).unwrap();
    }

    #[test]
    fn the_published_files_are_walked_hashed_and_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let project = Project::new(dir.path());
        for path in [
            "site/index.html",
            "site/js/config.js",
            "site/vendor/bootstrap.min.css",
            "site/package.json",
            "site/package-lock.json",
            "site/scripts/vendor.mjs",
            "site/node_modules/bootstrap/dist/css/bootstrap.min.css",
            "site/.gitignore",
            "site/img/.DS_Store",
            "elsewhere.txt",
        ] {
            write(dir.path(), path, path);
        }
        let files = local_files(&project, &target()).unwrap();
        let keys: Vec<&str> = files.iter().map(|f| f.file.key.as_str()).collect();
        assert_eq!(
            keys,
            ["index.html", "js/config.js", "vendor/bootstrap.min.css"]
        );
        assert_eq!(files[0].file.sha256, sha256_hex(b"site/index.html"));
        assert_eq!(files[0].file.size, "site/index.html".len() as u64);
        assert_eq!(files[0].bytes, b"site/index.html");
    }

    #[test]
    fn the_outputs_name_the_bucket_distribution_and_url() {
        let outputs: StackOutputs = [
            ("SiteBucketName", "app-site-1"),
            ("SiteDistributionId", "E123"),
            ("SiteUrl", "https://d1.cloudfront.net"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(
            site_outputs(&target(), &outputs).unwrap(),
            SiteOutputs {
                bucket: "app-site-1".to_owned(),
                distribution: "E123".to_owned(),
                url: "https://d1.cloudfront.net".to_owned(),
            }
        );
        let mut partial = outputs.clone();
        partial.remove("SiteDistributionId");
        assert_eq!(
            site_outputs(&target(), &partial).unwrap_err().to_string(),
            "stack app has no `SiteDistributionId` output, so gen cannot publish the site: deploy again, or check the stack in the CloudFormation console"
        );
    }

    #[test]
    fn the_summary_counts_each_list_and_names_the_invalidation() {
        let plan = SyncPlan {
            upload: vec!["a".into(), "b".into(), "c".into()],
            unchanged: vec!["d".into(); 20],
            mark_stale: vec!["e".into()],
            invalidate: vec!["/a".into(), "/b".into()],
            ..SyncPlan::default()
        };
        assert_eq!(
            summary(&plan, Some("I2J")),
            "Site: 3 uploaded, 20 unchanged, 1 marked for deletion next deploy, 0 deleted; invalidation I2J for 2 path(s)"
        );
        let quiet = SyncPlan {
            unchanged: vec!["d".into()],
            ..SyncPlan::default()
        };
        assert_eq!(
            summary(&quiet, None),
            "Site: 0 uploaded, 1 unchanged, 0 marked for deletion next deploy, 0 deleted; no invalidation: nothing changed"
        );
        let restored = SyncPlan {
            restore: vec!["r".into()],
            ..SyncPlan::default()
        };
        assert!(summary(&restored, None).starts_with("Site: 0 uploaded, 1 restored, 0 unchanged"));
        assert_eq!(
            url_lines("https://d1.cloudfront.net/")[2..],
            [
                "    Allowed Callback URLs: https://d1.cloudfront.net/",
                "    Allowed Logout URLs:   https://d1.cloudfront.net/",
                "    Allowed Web Origins:   https://d1.cloudfront.net",
            ]
        );
        let reference = caller_reference(&["/a".into()], 5);
        assert!(
            reference.starts_with("gen-") && reference.ends_with("-5"),
            "{reference}"
        );
        assert_ne!(reference, caller_reference(&["/b".into()], 5));
    }
}
