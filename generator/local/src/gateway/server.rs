//! The gateway's listener: connections read with [`crate::http`], each request decided by
//! [`super::handle`] against the current [`Gateway`] (swappable while serving).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::io::BufReader;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use super::auth::Cache;
use super::handle::{Context, Incoming, gateway_response, handle};
use super::{Functions, Gateway, RequestLog, ServeConfig};
use crate::http::{ReadError, Reply, read_request, write_reply};

/// API Gateway's payload limit (10 MB); larger requests are answered 413.
pub(super) const MAX_BODY: usize = 10 * 1024 * 1024;

struct Shared {
    gateway: RwLock<Arc<Gateway>>,
    functions: Arc<dyn Functions>,
    cache: Cache,
    config: ServeConfig,
    on_request: Box<dyn Fn(RequestLog) + Send + Sync>,
    requests: AtomicU64,
}

/// The local API Gateway serving on a listener; stops when stopped or dropped.
pub struct GatewayServer {
    address: SocketAddr,
    shared: Arc<Shared>,
    tasks: JoinSet<()>,
}

impl GatewayServer {
    /// Serves on an already-bound listener until `stop()`/drop.
    pub fn start(
        listener: TcpListener,
        gateway: Arc<Gateway>,
        functions: Arc<dyn Functions>,
        config: ServeConfig,
        on_request: impl Fn(RequestLog) + Send + Sync + 'static,
    ) -> GatewayServer {
        let address = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        let shared = Arc::new(Shared {
            gateway: RwLock::new(gateway),
            functions,
            cache: Cache::default(),
            config,
            on_request: Box::new(on_request),
            requests: AtomicU64::new(0),
        });
        let mut tasks = JoinSet::new();
        let accepting = shared.clone();
        tasks.spawn(async move {
            // Connections live in their own set, dropped (so aborted) with the accept loop.
            let mut connections = JoinSet::new();
            loop {
                match listener.accept().await {
                    Ok((stream, peer)) => {
                        connections.spawn(serve(stream, peer, accepting.clone()));
                    }
                    // A failed accept (out of descriptors, a reset) ends no other connection.
                    Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
                }
                while connections.try_join_next().is_some() {}
            }
        });
        GatewayServer {
            address,
            shared,
            tasks,
        }
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Stops listening and closes every connection (requests in flight are dropped).
    pub async fn stop(mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }

    /// Drops every cached authorizer answer (the CLI calls it when the authorizer's code is
    /// rebuilt).
    pub fn clear_authorizer_cache(&self) {
        self.shared.cache.clear();
    }

    /// Serves `gateway` from the next request on (a manifest edit swaps routes without a
    /// restart). The authorizer cache is cleared: the authorizers may have changed.
    pub fn replace(&self, gateway: Arc<Gateway>) {
        *self.shared.gateway.write().expect("gateway") = gateway;
        self.shared.cache.clear();
    }
}

/// A request id in the UUID shape API Gateway uses, unique per request of this server.
fn request_id(n: u64, epoch_ms: u64) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (epoch_ms >> 16) as u32,
        epoch_ms as u16,
        (n >> 48) & 0xfff,
        (n >> 36) & 0xfff,
        n & 0xffff_ffff_ffff
    )
}

async fn serve(stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let source_ip = peer.ip().to_string();
    loop {
        let n = shared.requests.fetch_add(1, Ordering::Relaxed) + 1;
        let epoch_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let id = request_id(n, epoch_ms);
        let request = match read_request(&mut reader, MAX_BODY).await {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err(ReadError::TooLarge(head)) => {
                let gateway = shared.gateway.read().expect("gateway").clone();
                let reply = gateway_response(
                    &gateway,
                    "REQUEST_TOO_LARGE",
                    413,
                    Some("Request Too Long"),
                    &head.headers,
                    &id,
                );
                let path = head.target.split('?').next().unwrap_or_default();
                (shared.on_request)(RequestLog {
                    method: head.method.clone(),
                    path: path.to_owned(),
                    status: reply.status,
                    function: None,
                    authorizer: None,
                    duration: Default::default(),
                    note: Some(format!(
                        "the body is over API Gateway's {MAX_BODY}-byte limit"
                    )),
                });
                // The rest of the body is unread: the connection cannot go on.
                let _ = write_reply(&mut write, &reply, false).await;
                return;
            }
            Err(ReadError::Invalid(error)) => {
                (shared.on_request)(RequestLog {
                    method: String::new(),
                    path: String::new(),
                    status: 400,
                    function: None,
                    authorizer: None,
                    duration: Default::default(),
                    note: Some(format!("not a request this server reads: {error}")),
                });
                let reply = Reply::json(
                    400,
                    &serde_json::json!({ "message": error.to_string() }).to_string(),
                );
                let _ = write_reply(&mut write, &reply, false).await;
                return;
            }
        };
        let gateway = shared.gateway.read().expect("gateway").clone();
        let context = Context {
            gateway: &gateway,
            functions: shared.functions.as_ref(),
            cache: &shared.cache,
            config: &shared.config,
        };
        let incoming = Incoming {
            method: &request.method,
            target: &request.target,
            headers: &request.headers,
            body: &request.body,
            source_ip: &source_ip,
            request_id: &id,
            epoch_ms,
        };
        let (mut reply, log) = handle(&context, &incoming).await;
        (shared.on_request)(log);
        if request.method.eq_ignore_ascii_case("HEAD") {
            reply.body.clear();
        }
        if write_reply(&mut write, &reply, request.keep_alive)
            .await
            .is_err()
            || !request.keep_alive
        {
            return;
        }
    }
}
