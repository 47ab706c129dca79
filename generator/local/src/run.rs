//! One invocation of one function: its bootstrap started behind a fresh Runtime API, one
//! event, its answer (or its timeout, crash or failed start), then the process killed and the
//! server stopped, so nothing is left running.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::LocalError;
use crate::runtime_api::{Answer, RuntimeApi};

/// What runs, with what, for how long.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvokeConfig {
    /// The function's executable (its `bootstrap`).
    pub binary: PathBuf,
    /// The whole environment of the process (nothing is inherited), without
    /// `AWS_LAMBDA_RUNTIME_API`, which is the server's address.
    pub environment: BTreeMap<String, String>,
    /// The ARN the function is told it was invoked as.
    pub function_arn: String,
    /// The function's timeout: the process is killed when it has not answered by then.
    pub timeout: Duration,
}

/// Which of the process's streams a log line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogStream {
    Stdout,
    Stderr,
}

/// How an invocation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The function answered (the response body, JSON by the runtime's convention).
    Response(Vec<u8>),
    /// The function returned an error.
    Error(FunctionError),
    /// The bootstrap reported that it could not start.
    InitError(FunctionError),
    /// No answer within the timeout.
    TimedOut(Duration),
    /// The process ended without answering (a panic that aborted, an `exit`).
    Exited(String),
}

/// An error body as the runtime posts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionError {
    pub error_type: String,
    pub error_message: String,
}

impl FunctionError {
    /// Reads `{"errorType", "errorMessage"}`; another body becomes the message.
    pub fn parse(body: &[u8]) -> FunctionError {
        let value: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let field = |name: &str| {
            value
                .as_ref()
                .and_then(|v| v.get(name))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        FunctionError {
            error_type: field("errorType").unwrap_or_else(|| "Unknown".to_owned()),
            error_message: field("errorMessage")
                .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned()),
        }
    }
}

/// One finished invocation.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub outcome: Outcome,
    /// From the process's start to its answer (a cold start and the invocation).
    pub duration: Duration,
}

/// Runs `config.binary` once with `event`, handing each line it logs to `on_log` as it
/// comes. The timeout counts from the process's start.
pub async fn invoke_once(
    config: &InvokeConfig,
    event: Vec<u8>,
    mut on_log: impl FnMut(LogStream, &str),
) -> Result<Invocation, LocalError> {
    let mut api = RuntimeApi::start(&config.function_arn)
        .await
        .map_err(LocalError::Server)?;
    let started = Instant::now();
    let mut child = spawn(config, &api)?;
    let (logs_tx, mut logs) = mpsc::unbounded_channel();
    let readers = [
        child
            .stdout
            .take()
            .map(|s| forward(s, LogStream::Stdout, logs_tx.clone())),
        child
            .stderr
            .take()
            .map(|s| forward(s, LogStream::Stderr, logs_tx.clone())),
    ];
    drop(logs_tx);
    let (_, mut answer) = api.invoke(event, deadline_ms(config.timeout));
    let timeout = tokio::time::sleep(config.timeout);
    tokio::pin!(timeout);
    let mut exited = None;
    let outcome = loop {
        tokio::select! {
            biased;
            Some((stream, line)) = logs.recv() => on_log(stream, &line),
            result = &mut answer => match result {
                Ok(Answer::Response(body)) => break Outcome::Response(body),
                Ok(Answer::Error(body)) => break Outcome::Error(FunctionError::parse(&body)),
                Err(_) => break Outcome::Exited("the Runtime API stopped".to_owned()),
            },
            Some(body) = api.init_error() => break Outcome::InitError(FunctionError::parse(&body)),
            status = child.wait(), if exited.is_none() => {
                // Its last answer may still be in flight on the loopback: give it a moment.
                exited = Some(match status {
                    Ok(status) => status.to_string(),
                    Err(error) => error.to_string(),
                });
                timeout.as_mut().reset(tokio::time::Instant::now() + Duration::from_millis(200));
            }
            () = &mut timeout => break match exited.take() {
                Some(status) => Outcome::Exited(status),
                None => Outcome::TimedOut(config.timeout),
            },
        }
    };
    let duration = started.elapsed();
    // One invocation only: the process goes, by its own handle (its PID), not by name.
    let _ = child.start_kill();
    let _ = child.wait().await;
    // Its pipes are closed now; what it wrote before is still worth showing.
    while let Some((stream, line)) = logs.recv().await {
        on_log(stream, &line);
    }
    for reader in readers.into_iter().flatten() {
        let _ = reader.await;
    }
    api.stop().await;
    Ok(Invocation { outcome, duration })
}

/// Starts `config.binary` behind `api` with exactly its environment, stdout and stderr piped;
/// killed when its handle is dropped.
pub(crate) fn spawn(config: &InvokeConfig, api: &RuntimeApi) -> Result<Child, LocalError> {
    Command::new(&config.binary)
        .env_clear()
        .envs(&config.environment)
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| LocalError::Spawn {
            binary: config.binary.clone(),
            source,
        })
}

/// The Unix time in ms an event started now must finish by (`Lambda-Runtime-Deadline-Ms`).
pub(crate) fn deadline_ms(timeout: Duration) -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
        + timeout.as_millis() as u64
}

fn forward(
    stream: impl AsyncRead + Unpin + Send + 'static,
    which: LogStream,
    logs: mpsc::UnboundedSender<(LogStream, String)>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if logs.send((which, line)).is_err() {
                return;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_read_as_the_runtime_writes_them() {
        let error = FunctionError::parse(br#"{"errorType":"Boom","errorMessage":"no"}"#);
        assert_eq!(
            (error.error_type.as_str(), error.error_message.as_str()),
            ("Boom", "no")
        );
        let other = FunctionError::parse(b"plain text");
        assert_eq!(
            (other.error_type.as_str(), other.error_message.as_str()),
            ("Unknown", "plain text")
        );
    }

    fn shell(script: &str, timeout: Duration) -> InvokeConfig {
        let dir = std::env::temp_dir().join(format!(
            "stackgen-local-{}-{}",
            std::process::id(),
            script.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let binary = dir.join("bootstrap");
        std::fs::write(&binary, format!("#!/bin/sh\n{script}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
        InvokeConfig {
            binary,
            environment: [("PATH".to_owned(), "/usr/bin:/bin".to_owned())].into(),
            function_arn: "arn".to_owned(),
            timeout,
        }
    }

    #[tokio::test]
    async fn a_process_that_never_answers_is_killed_at_its_timeout() {
        let config = shell("echo starting; exec sleep 30", Duration::from_millis(300));
        let mut logs = Vec::new();
        let invocation = invoke_once(&config, b"{}".to_vec(), |s, l| logs.push((s, l.to_owned())))
            .await
            .unwrap();
        assert_eq!(invocation.outcome, Outcome::TimedOut(config.timeout));
        assert_eq!(logs, [(LogStream::Stdout, "starting".to_owned())]);
        assert!(invocation.duration < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_process_that_exits_without_answering_is_reported() {
        let config = shell("echo oops >&2; exit 3", Duration::from_secs(10));
        let mut logs = Vec::new();
        let invocation = invoke_once(&config, b"{}".to_vec(), |s, l| logs.push((s, l.to_owned())))
            .await
            .unwrap();
        assert_eq!(
            invocation.outcome,
            Outcome::Exited("exit status: 3".to_owned())
        );
        assert_eq!(logs, [(LogStream::Stderr, "oops".to_owned())]);
    }
}
