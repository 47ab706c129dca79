//! The website for `gen dev`: the project's `site/` served on 127.0.0.1 as files, except the
//! paths given in memory (its `js/config.js`, pointed at the local API). Every answer is
//! `no-cache`, so an edited page or a new config is seen on the next load.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

const MAX_HEAD: usize = 64 * 1024;

/// Paths answered from memory instead of the directory, e.g. `/js/config.js`.
pub type Overrides = Arc<Mutex<BTreeMap<String, Vec<u8>>>>;

/// A static file server; stopped by [`SiteServer::stop`] or when dropped.
pub struct SiteServer {
    address: SocketAddr,
    tasks: JoinSet<()>,
}

impl SiteServer {
    /// Serves `root` on `listener`.
    pub fn start(listener: TcpListener, root: PathBuf, overrides: Overrides) -> io::Result<Self> {
        let address = listener.local_addr()?;
        let mut tasks = JoinSet::new();
        let root = Arc::new(root);
        tasks.spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                connections.spawn(serve(stream, root.clone(), overrides.clone()));
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(SiteServer { address, tasks })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub async fn stop(mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}

async fn serve(stream: TcpStream, root: Arc<PathBuf>, overrides: Overrides) {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    loop {
        let Ok(Some(head)) = read_head(&mut reader).await else {
            return;
        };
        let (status, content_type, body) = if head.method == "GET" || head.method == "HEAD" {
            answer(&root, &overrides, &head.path).await
        } else {
            (
                405,
                "text/plain; charset=utf-8",
                b"method not allowed\n".to_vec(),
            )
        };
        let mut out = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n{}\r\n",
            reason(status),
            body.len(),
            if head.keep_alive { "" } else { "Connection: close\r\n" }
        )
        .into_bytes();
        if head.method != "HEAD" {
            out.extend_from_slice(&body);
        }
        if writer.write_all(&out).await.is_err() || !head.keep_alive {
            return;
        }
    }
}

struct Head {
    method: String,
    path: String,
    keep_alive: bool,
}

async fn read_head<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> io::Result<Option<Head>> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(path), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "bad request line",
        ));
    };
    let (method, path) = (method.to_owned(), path.to_owned());
    let mut keep_alive = version == "HTTP/1.1";
    let mut length = 0usize;
    let mut size = line.len();
    loop {
        line.clear();
        let read = reader.read_line(&mut line).await?;
        size += read;
        if read == 0 || size > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "bad head"));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("connection") {
                keep_alive = !value.eq_ignore_ascii_case("close");
            }
        }
    }
    // A body (none is expected) is read past, so the next request starts where it should.
    if length > 0 {
        let mut sink = vec![0; length.min(1 << 20)];
        reader.read_exact(&mut sink).await?;
    }
    Ok(Some(Head {
        method,
        path,
        keep_alive,
    }))
}

async fn answer(root: &Path, overrides: &Overrides, target: &str) -> (u16, &'static str, Vec<u8>) {
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let Some(path) = decode(path) else {
        return (400, "text/plain; charset=utf-8", b"bad path\n".to_vec());
    };
    let path = if path.ends_with('/') {
        format!("{path}index.html")
    } else {
        path
    };
    if let Some(body) = overrides.lock().expect("site overrides").get(&path) {
        return (200, content_type(&path), body.clone());
    }
    let relative = Path::new(path.trim_start_matches('/'));
    // Only plain names below the root: no `..`, no absolute part.
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return (404, "text/plain; charset=utf-8", b"not found\n".to_vec());
    }
    let file = root.join(relative);
    match tokio::fs::read(&file).await {
        Ok(body) => (200, content_type(&path), body),
        Err(_) if file.is_dir() => (
            404,
            "text/plain; charset=utf-8",
            b"not found (a directory: ask for its index.html)\n".to_vec(),
        ),
        Err(_) => (404, "text/plain; charset=utf-8", b"not found\n".to_vec()),
    }
}

/// Percent-decoding of a URL path; `None` when it is not UTF-8 or holds a NUL.
fn decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let text = String::from_utf8(out).ok()?;
    (!text.contains('\0')).then_some(text)
}

fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map_or("", |(_, e)| e);
    match extension {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(address: SocketAddr, path: &str) -> String {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream
            .write_all(
                format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
            )
            .await
            .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).await.unwrap();
        text
    }

    #[tokio::test]
    async fn files_overrides_and_escapes() {
        let root = std::env::temp_dir().join(format!("stackgen-site-{}", std::process::id()));
        std::fs::create_dir_all(root.join("js")).unwrap();
        std::fs::write(root.join("index.html"), "<p>home</p>").unwrap();
        std::fs::write(root.join("js/config.js"), "on disk").unwrap();
        std::fs::write(root.with_extension("secret"), "outside").unwrap();
        let overrides: Overrides = Arc::default();
        overrides
            .lock()
            .unwrap()
            .insert("/js/config.js".to_owned(), b"from memory".to_vec());
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let server = SiteServer::start(listener, root.clone(), overrides).unwrap();
        let address = server.address();

        let home = get(address, "/").await;
        assert!(home.starts_with("HTTP/1.1 200 OK\r\n"), "{home}");
        assert!(home.contains("Content-Type: text/html; charset=utf-8\r\n"));
        assert!(home.contains("Cache-Control: no-cache\r\n"));
        assert!(home.ends_with("<p>home</p>"));
        let config = get(address, "/js/config.js?v=1").await;
        assert!(
            config.contains("text/javascript") && config.ends_with("from memory"),
            "{config}"
        );
        let name = root.file_name().unwrap().to_str().unwrap();
        for escape in [
            format!("/../{name}.secret"),
            format!("/%2e%2e/{name}.secret"),
            "/missing.js".to_owned(),
        ] {
            let answer = get(address, &escape).await;
            assert!(answer.starts_with("HTTP/1.1 404"), "{escape}: {answer}");
        }
        server.stop().await;
    }
}
