//! The minimal HTTP/1.1 both loopback servers speak (the Runtime API and the local API
//! Gateway): one request read at a time (Content-Length or chunked bodies, a body limit, a
//! head limit), keep-alive unless the client says otherwise, every reply with a
//! Content-Length. No HTTP crate: hyper's server feature would be a dependency for ~200 lines.

use std::io;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

/// Larger request heads (request line and headers) are refused.
pub const MAX_HEAD: usize = 64 * 1024;

/// One request as read.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// The request target as sent: path and query string.
    pub target: String,
    /// `HTTP/1.1`, `HTTP/1.0`.
    pub version: String,
    /// In the order sent, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub keep_alive: bool,
}

impl Request {
    /// The last value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The body is over the limit (the connection cannot be reused: the rest is unread); the
    /// request's head, without its body.
    TooLarge(Box<Request>),
    /// Not HTTP/1.1 as this server reads it, or the connection failed mid-request.
    Invalid(io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::TooLarge(_) => f.write_str("request body too large"),
            ReadError::Invalid(error) => error.fmt(f),
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(error: io::Error) -> ReadError {
        ReadError::Invalid(error)
    }
}

fn invalid(message: impl Into<String>) -> ReadError {
    ReadError::Invalid(io::Error::new(io::ErrorKind::InvalidData, message.into()))
}

/// Reads one request with a body of at most `max_body` bytes; `None` when the client closed
/// the connection between requests.
pub async fn read_request<R: AsyncBufReadExt + Unpin>(
    reader: &mut R,
    max_body: usize,
) -> Result<Option<Request>, ReadError> {
    let mut line = String::new();
    let mut head = 0;
    // Tolerate blank lines before a request line (RFC 9112, 2.2).
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid(format!("bad request line {:?}", line.trim_end())));
    };
    let (method, target, version) = (method.to_owned(), target.to_owned(), version.to_owned());
    let mut keep_alive = version != "HTTP/1.0";
    let mut length: Option<usize> = None;
    let mut chunked = false;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Err(invalid("connection closed in the request head"));
        }
        head += line.len();
        if head > MAX_HEAD {
            return Err(invalid("request head too large"));
        }
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            return Err(invalid(format!("bad header {header:?}")));
        };
        let (name, value) = (name.trim(), value.trim());
        match name.to_ascii_lowercase().as_str() {
            "content-length" => {
                length = Some(value.parse().map_err(|_| invalid("bad Content-Length"))?);
            }
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "connection" => {
                if value.eq_ignore_ascii_case("close") {
                    keep_alive = false;
                } else if value.eq_ignore_ascii_case("keep-alive") {
                    keep_alive = true;
                }
            }
            _ => {}
        }
        headers.push((name.to_owned(), value.to_owned()));
    }
    let mut request = Request {
        method,
        target,
        version,
        headers,
        body: Vec::new(),
        keep_alive,
    };
    let body = if chunked {
        read_chunked(reader, max_body).await?
    } else {
        let length = length.unwrap_or(0);
        if length > max_body {
            return Err(ReadError::TooLarge(Box::new(request)));
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        Some(body)
    };
    match body {
        Some(body) => {
            request.body = body;
            Ok(Some(request))
        }
        None => Err(ReadError::TooLarge(Box::new(request))),
    }
}

/// A chunked body; `None` when it grows over `max_body`.
async fn read_chunked<R: AsyncBufReadExt + Unpin>(
    reader: &mut R,
    max_body: usize,
) -> Result<Option<Vec<u8>>, ReadError> {
    let mut body = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).await?;
        let size = line.trim().split(';').next().unwrap_or_default();
        let size = usize::from_str_radix(size, 16).map_err(|_| invalid("bad chunk size"))?;
        if body.len() + size > max_body {
            return Ok(None);
        }
        if size == 0 {
            // Trailers, up to the blank line.
            loop {
                line.clear();
                if reader.read_line(&mut line).await? == 0 || line.trim().is_empty() {
                    return Ok(Some(body));
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..]).await?;
        line.clear();
        reader.read_line(&mut line).await?;
    }
}

/// One reply; `Content-Length` (and `Connection: close` when the connection ends) are added
/// when written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The reason phrase of `status`.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Writes `reply`; header values with a line break are dropped (they would split the head).
pub async fn write_reply<W: AsyncWriteExt + Unpin>(
    writer: &mut W,
    reply: &Reply,
    keep_alive: bool,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (name, value) in &reply.headers {
        if name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("connection")
            || name.eq_ignore_ascii_case("transfer-encoding")
            || value.contains(['\r', '\n'])
            || name.contains(['\r', '\n', ':'])
        {
            continue;
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    writer.write_all(head.as_bytes()).await?;
    writer.write_all(&reply.body).await?;
    writer.flush().await
}
