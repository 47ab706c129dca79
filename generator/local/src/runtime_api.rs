//! A loopback Lambda Runtime API (the `2018-06-01` protocol a bootstrap polls), as
//! tests/site_e2e/api.mjs serves it: `GET …/invocation/next` long-polls for the next event,
//! `POST …/invocation/{id}/response|error` answers it, `POST …/init/error` reports a failed
//! start. Over the crate's minimal HTTP/1.1 server ([`crate::http`]).

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::BufReader;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinSet;

use crate::http::{Reply, read_request, write_reply};

const PREFIX: &str = "/2018-06-01/runtime/";
/// Larger requests are refused: Lambda's own payload limit is 6 MB.
const MAX_BODY: usize = 6 * 1024 * 1024 + 1024;

/// What a request to the Runtime API asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Next,
    Response(String),
    Error(String),
    InitError,
    NotFound,
}

/// The route of `method path` (a query string is ignored).
pub fn route(method: &str, path: &str) -> Route {
    let path = path.split('?').next().unwrap_or_default();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return Route::NotFound;
    };
    let parts: Vec<&str> = rest.split('/').collect();
    match (method, parts.as_slice()) {
        ("GET", ["invocation", "next"]) => Route::Next,
        ("POST", ["invocation", id, "response"]) if !id.is_empty() => {
            Route::Response((*id).to_owned())
        }
        ("POST", ["invocation", id, "error"]) if !id.is_empty() => Route::Error((*id).to_owned()),
        ("POST", ["init", "error"]) => Route::InitError,
        _ => Route::NotFound,
    }
}

/// How the function answered one invocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The body of `POST …/response`.
    Response(Vec<u8>),
    /// The body of `POST …/error` (`{"errorType", "errorMessage"}` by convention).
    Error(Vec<u8>),
}

/// One event waiting for the bootstrap's next poll.
struct Queued {
    request_id: String,
    event: Vec<u8>,
    deadline_ms: u64,
    answer: oneshot::Sender<Answer>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Queued>,
    /// Delivered invocations, by request id, until answered.
    delivered: HashMap<String, oneshot::Sender<Answer>>,
    next_id: u64,
}

struct Shared {
    function_arn: String,
    state: Mutex<State>,
    queued: Notify,
    init_errors: mpsc::UnboundedSender<Vec<u8>>,
}

/// A Runtime API serving one function on 127.0.0.1; stopped when dropped.
pub struct RuntimeApi {
    address: SocketAddr,
    shared: Arc<Shared>,
    tasks: JoinSet<()>,
    init_errors: mpsc::UnboundedReceiver<Vec<u8>>,
}

impl RuntimeApi {
    /// Listens on a free loopback port for the function `function_arn`.
    pub async fn start(function_arn: &str) -> io::Result<RuntimeApi> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let (init_tx, init_errors) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            function_arn: function_arn.to_owned(),
            state: Mutex::new(State::default()),
            queued: Notify::new(),
            init_errors: init_tx,
        });
        let mut tasks = JoinSet::new();
        let accepting = shared.clone();
        tasks.spawn(async move {
            // Connections live in their own set, dropped (so aborted) with the accept loop.
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                connections.spawn(serve(stream, accepting.clone()));
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(RuntimeApi {
            address,
            shared,
            tasks,
            init_errors,
        })
    }

    /// `127.0.0.1:PORT`: the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Queues `event` for the bootstrap; the receiver gets its answer. `deadline_ms` is the
    /// Unix time in ms the function is told it must finish by.
    pub fn invoke(&self, event: Vec<u8>, deadline_ms: u64) -> (String, oneshot::Receiver<Answer>) {
        let (answer, receiver) = oneshot::channel();
        let mut state = self.shared.state.lock().expect("runtime state");
        state.next_id += 1;
        let request_id = request_id(state.next_id);
        state.queue.push_back(Queued {
            request_id: request_id.clone(),
            event,
            deadline_ms,
            answer,
        });
        drop(state);
        self.shared.queued.notify_one();
        (request_id, receiver)
    }

    /// The next `POST …/init/error` body.
    pub async fn init_error(&mut self) -> Option<Vec<u8>> {
        self.init_errors.recv().await
    }

    /// Stops listening and closes every connection.
    pub async fn stop(mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// A request id in the UUID shape Lambda uses, unique per invocation of this server.
fn request_id(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let request = match read_request(&mut reader, MAX_BODY).await {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err(error) => {
                let reply = Reply::json(400, &error_body("InvalidRequest", &error.to_string()));
                let _ = write_reply(&mut write, &reply, false).await;
                return;
            }
        };
        let reply = handle(
            &shared,
            request.method.as_str(),
            &request.target,
            request.body,
        )
        .await;
        if write_reply(&mut write, &reply, request.keep_alive)
            .await
            .is_err()
            || !request.keep_alive
        {
            return;
        }
    }
}

fn error_body(kind: &str, message: &str) -> String {
    serde_json::json!({ "errorType": kind, "errorMessage": message }).to_string()
}

async fn handle(shared: &Shared, method: &str, path: &str, body: Vec<u8>) -> Reply {
    match route(method, path) {
        Route::Next => {
            let queued = next(shared).await;
            let headers = vec![
                ("Content-Type", "application/json".to_owned()),
                ("Lambda-Runtime-Aws-Request-Id", queued.request_id),
                ("Lambda-Runtime-Deadline-Ms", queued.deadline_ms.to_string()),
                (
                    "Lambda-Runtime-Invoked-Function-Arn",
                    shared.function_arn.clone(),
                ),
                (
                    "Lambda-Runtime-Trace-Id",
                    "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned(),
                ),
            ]
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
            Reply {
                status: 200,
                headers,
                body: queued.event,
            }
        }
        Route::Response(id) => answer(shared, &id, Answer::Response(body)),
        Route::Error(id) => answer(shared, &id, Answer::Error(body)),
        Route::InitError => {
            let _ = shared.init_errors.send(body);
            Reply::json(202, r#"{"status":"OK"}"#)
        }
        Route::NotFound => Reply::json(404, &error_body("NotFound", "no such Runtime API path")),
    }
}

/// Waits for the next queued event (a long poll, as Lambda's) and marks it delivered.
async fn next(shared: &Shared) -> QueuedEvent {
    loop {
        let notified = shared.queued.notified();
        {
            let mut state = shared.state.lock().expect("runtime state");
            if let Some(queued) = state.queue.pop_front() {
                state
                    .delivered
                    .insert(queued.request_id.clone(), queued.answer);
                return QueuedEvent {
                    request_id: queued.request_id,
                    event: queued.event,
                    deadline_ms: queued.deadline_ms,
                };
            }
        }
        notified.await;
    }
}

struct QueuedEvent {
    request_id: String,
    event: Vec<u8>,
    deadline_ms: u64,
}

fn answer(shared: &Shared, id: &str, answer: Answer) -> Reply {
    let sender = shared
        .state
        .lock()
        .expect("runtime state")
        .delivered
        .remove(id);
    match sender {
        Some(sender) => {
            // The waiter may have given up (a timeout): the answer is then nobody's.
            let _ = sender.send(answer);
            Reply::json(202, r#"{"status":"OK"}"#)
        }
        None => Reply::json(
            400,
            &error_body(
                "InvalidRequestID",
                &format!("no invocation {id} awaits an answer"),
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

    #[test]
    fn routes_follow_the_2018_06_01_protocol() {
        assert_eq!(
            route("GET", "/2018-06-01/runtime/invocation/next"),
            Route::Next
        );
        assert_eq!(
            route("POST", "/2018-06-01/runtime/invocation/abc/response"),
            Route::Response("abc".into())
        );
        assert_eq!(
            route("POST", "/2018-06-01/runtime/invocation/abc/error?x=1"),
            Route::Error("abc".into())
        );
        assert_eq!(
            route("POST", "/2018-06-01/runtime/init/error"),
            Route::InitError
        );
        assert_eq!(
            route("POST", "/2018-06-01/runtime/invocation/next"),
            Route::NotFound
        );
        assert_eq!(
            route("GET", "/2018-06-01/runtime/invocation//response"),
            Route::NotFound
        );
        assert_eq!(route("GET", "/other"), Route::NotFound);
    }

    /// Sends raw HTTP and reads one reply: status line, headers (lowercased names), body.
    async fn exchange(
        stream: &mut BufReader<TcpStream>,
        request: &str,
    ) -> (String, HashMap<String, String>, Vec<u8>) {
        stream
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .unwrap();
        let mut status = String::new();
        stream.read_line(&mut status).await.unwrap();
        let mut headers = HashMap::new();
        loop {
            let mut line = String::new();
            stream.read_line(&mut line).await.unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            headers.insert(name.to_ascii_lowercase(), value.trim().to_owned());
        }
        let mut body = vec![0; headers["content-length"].parse().unwrap()];
        stream.read_exact(&mut body).await.unwrap();
        (status.trim_end().to_owned(), headers, body)
    }

    #[tokio::test]
    async fn an_event_is_delivered_and_answered_over_one_kept_alive_connection() {
        let api = RuntimeApi::start("arn:aws:lambda:us-east-1:123456789012:function:f")
            .await
            .unwrap();
        let mut stream = BufReader::new(TcpStream::connect(api.address()).await.unwrap());
        let (_, answer) = api.invoke(br#"{"n":1}"#.to_vec(), 1_700_000_000_000);
        let (status, headers, body) = exchange(
            &mut stream,
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .await;
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert_eq!(body, br#"{"n":1}"#);
        assert_eq!(headers["lambda-runtime-deadline-ms"], "1700000000000");
        assert_eq!(
            headers["lambda-runtime-invoked-function-arn"],
            "arn:aws:lambda:us-east-1:123456789012:function:f"
        );
        assert!(headers["lambda-runtime-trace-id"].starts_with("Root=1-"));
        let id = &headers["lambda-runtime-aws-request-id"];
        // A chunked body, as a streaming client may send it.
        let (status, _, _) = exchange(
            &mut stream,
            &format!(
                "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n\"ok\r\n1\r\n\"\r\n0\r\n\r\n"
            ),
        )
        .await;
        assert_eq!(status, "HTTP/1.1 202 Accepted");
        assert_eq!(answer.await.unwrap(), Answer::Response(br#""ok""#.to_vec()));
        // The same id cannot be answered twice.
        let (status, _, body) = exchange(
            &mut stream,
            &format!("POST /2018-06-01/runtime/invocation/{id}/error HTTP/1.1\r\nContent-Length: 2\r\n\r\n{{}}"),
        )
        .await;
        assert_eq!(status, "HTTP/1.1 400 Bad Request");
        assert!(String::from_utf8_lossy(&body).contains("InvalidRequestID"));
        api.stop().await;
    }

    #[tokio::test]
    async fn errors_and_init_errors_reach_the_caller() {
        let mut api = RuntimeApi::start("arn").await.unwrap();
        let mut stream = BufReader::new(TcpStream::connect(api.address()).await.unwrap());
        let error = r#"{"errorType":"Boom","errorMessage":"no"}"#;
        let (status, _, _) = exchange(
            &mut stream,
            &format!(
                "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nContent-Length: {}\r\n\r\n{error}",
                error.len()
            ),
        )
        .await;
        assert_eq!(status, "HTTP/1.1 202 Accepted");
        assert_eq!(api.init_error().await.unwrap(), error.as_bytes());
        let (_, answer) = api.invoke(b"{}".to_vec(), 0);
        let (_, headers, _) = exchange(
            &mut stream,
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n",
        )
        .await;
        let id = &headers["lambda-runtime-aws-request-id"];
        let (_, headers, _) = exchange(
            &mut stream,
            &format!(
                "POST /2018-06-01/runtime/invocation/{id}/error HTTP/1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{error}",
                error.len()
            ),
        )
        .await;
        assert_eq!(headers["connection"], "close");
        assert_eq!(
            answer.await.unwrap(),
            Answer::Error(error.as_bytes().to_vec())
        );
        let (status, _, _) = {
            let mut other = BufReader::new(TcpStream::connect(api.address()).await.unwrap());
            exchange(&mut other, "GET /nope HTTP/1.1\r\n\r\n").await
        };
        assert_eq!(status, "HTTP/1.1 404 Not Found");
        api.stop().await;
    }
}
