//! What `gen deploy` does to the hosted site's bucket, decided without a disk or a cloud: which
//! files of `site/` are published, with which `Content-Type` and `Cache-Control`, and, from
//! the local files and the bucket's objects, what to upload, keep, mark, delete and invalidate.
//!
//! Deletion takes two deploys. An object that is no longer in `site/` is first only *marked*
//! stale (the deploy crate tags it `stackgen-stale=<unix seconds>`): a browser that loaded the
//! previous `index.html` a minute ago may still ask for the script it names, and should get it.
//! The next deploy deletes what an earlier one marked. A marked object that is back in `site/`
//! with the same bytes is [restored](SyncPlan::restore) (uploaded again, which clears the mark),
//! so it is never deleted under a page that uses it.

/// Whether the file at `path` (relative to `site/`, `/`-separated) is published. Left out:
/// what npm needs and the browser does not (`node_modules/`, the top-level `package*.json`,
/// `scripts/`), and dotfiles and dot-directories (`.gitignore`, `.DS_Store`, `.vscode/`).
pub fn is_published(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    if parts.iter().any(|part| part.is_empty()) {
        return false;
    }
    if parts[..parts.len() - 1]
        .iter()
        .enumerate()
        .any(|(depth, dir)| is_skipped_dir_name(depth, dir))
    {
        return false;
    }
    let name = parts[parts.len() - 1];
    if name.starts_with('.') {
        return false;
    }
    !(parts.len() == 1 && name.starts_with("package") && name.ends_with(".json"))
}

/// Whether the directory at `path` (relative to `site/`) holds nothing that is published, so
/// a walk need not enter it (`node_modules/` is large).
pub fn is_skipped_dir(path: &str) -> bool {
    path.split('/')
        .enumerate()
        .any(|(depth, dir)| is_skipped_dir_name(depth, dir))
}

fn is_skipped_dir_name(depth: usize, dir: &str) -> bool {
    dir.starts_with('.') || dir == "node_modules" || (depth == 0 && dir == "scripts")
}

/// The `Content-Type` an object is served with, from its extension (mime_guess's table);
/// text and JavaScript say their charset (gen writes UTF-8, and a browser guessing otherwise
/// garbles every non-ASCII character); `application/octet-stream` when the type is unknown.
pub fn content_type(key: &str) -> String {
    let name = key.rsplit('/').next().unwrap_or(key);
    let extension = name
        .rsplit_once('.')
        .map(|(stem, ext)| if stem.is_empty() { "" } else { ext })
        .unwrap_or("");
    let mime = match extension.to_ascii_lowercase().as_str() {
        // A source map is JSON (the source map specification); mime_guess says text/plain.
        "map" => "application/json".to_owned(),
        "" => "application/octet-stream".to_owned(),
        ext => mime_guess::from_ext(ext)
            .first_raw()
            .unwrap_or("application/octet-stream")
            .to_owned(),
    };
    if is_text(&mime) {
        format!("{mime}; charset=utf-8")
    } else {
        mime
    }
}

fn is_text(mime: &str) -> bool {
    let (top, sub) = mime.split_once('/').unwrap_or((mime, ""));
    top == "text" || matches!(sub, "javascript" | "json" | "manifest+json")
}

/// `max-age` of the user's own files: five minutes.
pub const SHORT_CACHE: &str = "public, max-age=300";
/// Vendored bundles: a day.
pub const BUNDLE_CACHE: &str = "public, max-age=86400";
/// Pages and config.js: always revalidated.
pub const NO_CACHE: &str = "no-cache";

/// The `Cache-Control` an object is served with.
///
/// - Pages (`*.html`) and `js/config.js` are `no-cache`: a browser revalidates them on every
///   load (cheap: an ETag match is a 304), so a deploy, which can change the API's URL in
///   config.js or the scripts a page names, is seen at once, not after a cached copy expires.
/// - `vendor/` holds the bundles `npm install` copies from node_modules (Bootstrap, the Auth0
///   SDK): they change only when their version does, so they are cached for a day. Not a
///   year and `immutable`: their names carry no version or hash, and an upgrade (invalidated
///   at CloudFront by the deploy) would leave browsers running the old bundle under the new
///   page for as long as they keep it; a day bounds that mismatch.
/// - Everything else is the user's own scripts, styles and images, which keep their names
///   across edits: five minutes, so an edit reaches every browser soon while a page's
///   repeated loads stay cached.
pub fn cache_control(key: &str) -> &'static str {
    if key.ends_with(".html") || key == "js/config.js" {
        NO_CACHE
    } else if key.starts_with("vendor/") {
        BUNDLE_CACHE
    } else {
        SHORT_CACHE
    }
}

/// A file of `site/` to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalFile {
    /// Its path relative to `site/`, `/`-separated: the object's key.
    pub key: String,
    /// SHA-256 of its bytes, lower-case hex.
    pub sha256: String,
    pub size: u64,
}

/// An object in the site's bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteObject {
    pub key: String,
    /// The `sha256` user metadata gen uploads it with; `None` when absent (not gen's upload).
    pub sha256: Option<String>,
    /// An earlier deploy marked it stale: no longer in `site/` then.
    pub stale: bool,
}

/// What one deploy does to the bucket. Every list is sorted by key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncPlan {
    /// New, or different bytes than the bucket's (by SHA-256, never by time stamps).
    pub upload: Vec<String>,
    /// Marked stale earlier, now in `site/` again with the same bytes: uploaded again, which
    /// clears the mark, so the next deploy does not delete it.
    pub restore: Vec<String>,
    pub unchanged: Vec<String>,
    /// Not in `site/`, not marked yet: kept this deploy, marked, deleted by the next.
    pub mark_stale: Vec<String>,
    /// Not in `site/` and marked by an earlier deploy.
    pub delete: Vec<String>,
    /// CloudFront paths whose cached copies are now wrong: changed objects and deleted ones
    /// (a new object has no cached copy; a marked one is still served as it was).
    pub invalidate: Vec<String>,
}

impl SyncPlan {
    /// Whether the bucket is left as it is.
    pub fn is_empty(&self) -> bool {
        self.upload.is_empty()
            && self.restore.is_empty()
            && self.mark_stale.is_empty()
            && self.delete.is_empty()
    }
}

/// Compares `site/` with the bucket.
pub fn plan(local: &[LocalFile], remote: &[RemoteObject]) -> SyncPlan {
    use std::collections::BTreeMap;
    let local: BTreeMap<&str, &LocalFile> = local.iter().map(|f| (f.key.as_str(), f)).collect();
    let remote: BTreeMap<&str, &RemoteObject> =
        remote.iter().map(|o| (o.key.as_str(), o)).collect();
    let mut plan = SyncPlan::default();
    let mut invalidate = Vec::new();
    for (key, file) in &local {
        match remote.get(key) {
            None => plan.upload.push((*key).to_owned()),
            Some(object) if object.sha256.as_deref() != Some(file.sha256.as_str()) => {
                plan.upload.push((*key).to_owned());
                invalidate.push(*key);
            }
            Some(object) if object.stale => plan.restore.push((*key).to_owned()),
            Some(_) => plan.unchanged.push((*key).to_owned()),
        }
    }
    for (key, object) in &remote {
        if local.contains_key(key) {
            continue;
        }
        if object.stale {
            plan.delete.push((*key).to_owned());
            invalidate.push(*key);
        } else {
            plan.mark_stale.push((*key).to_owned());
        }
    }
    invalidate.sort_unstable();
    plan.invalidate = invalidate.into_iter().map(invalidation_path).collect();
    plan
}

/// The CloudFront path of an object: `/` and its key, with what is not an unreserved URL
/// character percent-encoded (CloudFront asks for it, and a literal `*` would be a wildcard).
pub fn invalidation_path(key: &str) -> String {
    let mut path = String::with_capacity(key.len() + 1);
    path.push('/');
    for byte in key.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'/' | b'-' | b'_' | b'.' | b'~') {
            path.push(byte as char);
        } else {
            path.push_str(&format!("%{byte:02X}"));
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(key: &str, sha: &str) -> LocalFile {
        LocalFile {
            key: key.to_owned(),
            sha256: sha.to_owned(),
            size: 1,
        }
    }

    fn object(key: &str, sha: Option<&str>, stale: bool) -> RemoteObject {
        RemoteObject {
            key: key.to_owned(),
            sha256: sha.map(str::to_owned),
            stale,
        }
    }

    #[test]
    fn npm_files_scripts_and_dotfiles_are_not_published() {
        for published in [
            "index.html",
            "js/config.js",
            "js/user-controller.js",
            "vendor/bootstrap.min.css",
            "img/logo.svg",
            "docs/package.json",
            "js/scripts/x.js",
        ] {
            assert!(is_published(published), "{published}");
        }
        for left_out in [
            "package.json",
            "package-lock.json",
            "node_modules/bootstrap/dist/css/bootstrap.min.css",
            "js/node_modules/x.js",
            "scripts/vendor.mjs",
            ".gitignore",
            ".DS_Store",
            "img/.DS_Store",
            ".vscode/settings.json",
            "",
        ] {
            assert!(!is_published(left_out), "{left_out}");
        }
        assert!(is_skipped_dir("node_modules"));
        assert!(is_skipped_dir("scripts"));
        assert!(is_skipped_dir(".git"));
        assert!(!is_skipped_dir("js/scripts"));
        assert!(!is_skipped_dir("vendor"));
    }

    #[test]
    fn content_types_come_from_the_extension_with_a_charset_for_text() {
        for (key, expected) in [
            ("index.html", "text/html; charset=utf-8"),
            ("js/config.js", "text/javascript; charset=utf-8"),
            ("js/user-controller.js", "text/javascript; charset=utf-8"),
            (
                "vendor/auth0-spa-js.production.js",
                "text/javascript; charset=utf-8",
            ),
            ("vendor/bootstrap.min.css", "text/css; charset=utf-8"),
            (
                "vendor/bootstrap.min.css.map",
                "application/json; charset=utf-8",
            ),
            (
                "site.webmanifest",
                "application/manifest+json; charset=utf-8",
            ),
            ("img/logo.svg", "image/svg+xml"),
            ("img/LOGO.PNG", "image/png"),
            ("fonts/x.woff2", "font/woff2"),
            ("data.weird-extension", "application/octet-stream"),
            ("LICENSE", "application/octet-stream"),
        ] {
            assert_eq!(content_type(key), expected, "{key}");
        }
    }

    #[test]
    fn pages_and_config_revalidate_vendored_bundles_keep_a_day_the_rest_is_short() {
        assert_eq!(cache_control("index.html"), "no-cache");
        assert_eq!(cache_control("help/about.html"), "no-cache");
        assert_eq!(cache_control("js/config.js"), "no-cache");
        assert_eq!(
            cache_control("vendor/bootstrap.min.css"),
            "public, max-age=86400"
        );
        assert_eq!(
            cache_control("vendor/auth0-spa-js.production.js"),
            "public, max-age=86400"
        );
        assert_eq!(
            cache_control("js/user-controller.js"),
            "public, max-age=300"
        );
        assert_eq!(cache_control("img/logo.svg"), "public, max-age=300");
    }

    #[test]
    fn new_changed_and_unchanged_files() {
        let plan = plan(
            &[
                file("new.js", "n"),
                file("index.html", "v2"),
                file("same.css", "s"),
                file("foreign.txt", "f"),
            ],
            &[
                object("index.html", Some("v1"), false),
                object("same.css", Some("s"), false),
                // Uploaded by something else than gen: no hash to compare, so it is replaced.
                object("foreign.txt", None, false),
            ],
        );
        assert_eq!(plan.upload, ["foreign.txt", "index.html", "new.js"]);
        assert_eq!(plan.unchanged, ["same.css"]);
        assert!(plan.restore.is_empty() && plan.mark_stale.is_empty() && plan.delete.is_empty());
        // The new file has no cached copy to invalidate.
        assert_eq!(plan.invalidate, ["/foreign.txt", "/index.html"]);
        assert!(!plan.is_empty());
    }

    #[test]
    fn a_removed_file_is_marked_then_deleted_a_deploy_later() {
        let local = [file("index.html", "i")];
        let first = plan(
            &local,
            &[
                object("index.html", Some("i"), false),
                object("js/old.js", Some("o"), false),
            ],
        );
        assert_eq!(first.mark_stale, ["js/old.js"]);
        assert!(first.delete.is_empty());
        assert!(first.upload.is_empty());
        // Still served as it was: nothing to invalidate yet.
        assert!(first.invalidate.is_empty());

        let second = plan(
            &local,
            &[
                object("index.html", Some("i"), false),
                object("js/old.js", Some("o"), true),
            ],
        );
        assert!(second.mark_stale.is_empty());
        assert_eq!(second.delete, ["js/old.js"]);
        assert_eq!(second.invalidate, ["/js/old.js"]);
    }

    #[test]
    fn a_marked_file_back_in_the_site_is_restored_not_deleted() {
        let plan = plan(
            &[file("js/back.js", "b"), file("js/edited.js", "e2")],
            &[
                object("js/back.js", Some("b"), true),
                object("js/edited.js", Some("e1"), true),
            ],
        );
        assert_eq!(plan.restore, ["js/back.js"]);
        // Back with other bytes: an ordinary changed upload (which clears the mark too).
        assert_eq!(plan.upload, ["js/edited.js"]);
        assert!(plan.delete.is_empty() && plan.mark_stale.is_empty());
        assert_eq!(plan.invalidate, ["/js/edited.js"]);
    }

    #[test]
    fn the_invalidation_lists_exactly_the_changed_and_deleted_paths_sorted() {
        let plan = plan(
            &[
                file("z.js", "z2"),
                file("a.js", "a2"),
                file("fresh.js", "f"),
                file("m.js", "m"),
            ],
            &[
                object("z.js", Some("z1"), false),
                object("a.js", Some("a1"), false),
                object("m.js", Some("m"), false),
                object("gone/b file.js", Some("b"), true),
                object("going.js", Some("g"), false),
            ],
        );
        assert_eq!(
            plan.invalidate,
            ["/a.js", "/gone/b%20file.js", "/z.js"],
            "{plan:#?}"
        );
        assert_eq!(plan.upload, ["a.js", "fresh.js", "z.js"]);
        assert_eq!(plan.unchanged, ["m.js"]);
        assert_eq!(plan.mark_stale, ["going.js"]);
        assert_eq!(plan.delete, ["gone/b file.js"]);
    }

    #[test]
    fn nothing_changed_is_an_empty_plan() {
        let plan = plan(
            &[file("index.html", "i")],
            &[object("index.html", Some("i"), false)],
        );
        assert!(plan.is_empty());
        assert!(plan.invalidate.is_empty());
        assert_eq!(plan.unchanged, ["index.html"]);
        assert_eq!(invalidation_path("a*b/ü.js"), "/a%2Ab/%C3%BC.js");
    }
}
