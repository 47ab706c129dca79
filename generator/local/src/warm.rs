//! Long-lived functions for `gen dev`: each function's bootstrap runs as one warm instance
//! behind its own Runtime API, as a Lambda execution environment does between invocations
//! (a cold start on the first event, then the same process). A new binary (a rebuilt
//! handler) replaces the process; the next event cold-starts it. A timeout or a crash ends
//! the process, as Lambda ends an environment, and the next event starts a fresh one.
//!
//! One instance per function serves one event at a time: Lambda would scale out instead, but
//! locally a queue keeps logs readable and the machine calm; the gateway's caller waits.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Child;

use crate::run::{FunctionError, InvokeConfig, LogStream, Outcome, deadline_ms, spawn};
use crate::runtime_api::{Answer, RuntimeApi};

/// Where a warm function's log lines go: (function name, stream, line).
pub type LogSink = Arc<dyn Fn(&str, LogStream, &str) + Send + Sync>;

/// One function, started on its first event and kept warm.
pub struct WarmFunction {
    name: String,
    config: Mutex<InvokeConfig>,
    instance: tokio::sync::Mutex<Option<Instance>>,
    logs: LogSink,
}

/// A running bootstrap and its Runtime API.
struct Instance {
    api: RuntimeApi,
    child: Child,
    binary: PathBuf,
}

/// One answered (or failed) event, with whether it paid a cold start.
#[derive(Clone, Debug)]
pub struct WarmInvocation {
    pub outcome: Outcome,
    pub duration: Duration,
    pub cold: bool,
}

impl WarmFunction {
    /// `name` prefixes its log lines; `config` says what runs (nothing starts yet).
    pub fn new(name: &str, config: InvokeConfig, logs: LogSink) -> WarmFunction {
        WarmFunction {
            name: name.to_owned(),
            config: Mutex::new(config),
            instance: tokio::sync::Mutex::new(None),
            logs,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `event` on the warm instance, starting one first when none runs (or when its
    /// binary was replaced). Waits for the events queued before it.
    pub async fn invoke(&self, event: Vec<u8>) -> Result<WarmInvocation, crate::LocalError> {
        let mut slot = self.instance.lock().await;
        let config = self.config.lock().expect("function config").clone();
        if slot.as_ref().is_some_and(|i| i.binary != config.binary)
            && let Some(old) = slot.take()
        {
            old.stop().await;
        }
        let started = Instant::now();
        let cold = slot.is_none();
        if cold {
            *slot = Some(self.start(&config).await?);
        }
        let instance = slot.as_mut().expect("an instance runs");
        let (_, mut answer) = instance.api.invoke(event, deadline_ms(config.timeout));
        let timeout = tokio::time::sleep(config.timeout);
        tokio::pin!(timeout);
        let mut exited: Option<String> = None;
        let outcome = loop {
            tokio::select! {
                biased;
                result = &mut answer => break match result {
                    Ok(Answer::Response(body)) => Outcome::Response(body),
                    Ok(Answer::Error(body)) => Outcome::Error(FunctionError::parse(&body)),
                    Err(_) => Outcome::Exited("the Runtime API stopped".to_owned()),
                },
                Some(body) = instance.api.init_error() => {
                    break Outcome::InitError(FunctionError::parse(&body));
                }
                status = instance.child.wait(), if exited.is_none() => {
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
        // An answer, or a handler's error, leaves Lambda's environment running; anything
        // else ends it.
        let keep = matches!(outcome, Outcome::Response(_) | Outcome::Error(_));
        if !keep && let Some(instance) = slot.take() {
            instance.stop().await;
        }
        Ok(WarmInvocation {
            outcome,
            duration: started.elapsed(),
            cold,
        })
    }

    /// The next event runs `binary` (a rebuilt handler): the running process, if any, is
    /// stopped now, between events (an event in flight finishes on the old one first).
    pub async fn replace_binary(&self, binary: PathBuf) {
        self.config.lock().expect("function config").binary = binary;
        let mut slot = self.instance.lock().await;
        if let Some(instance) = slot.take() {
            instance.stop().await;
        }
    }

    /// The next event runs with `config` (a regenerated template's environment or timeout).
    pub async fn reconfigure(&self, config: InvokeConfig) {
        let changed = *self.config.lock().expect("function config") != config;
        if changed {
            *self.config.lock().expect("function config") = config;
            if let Some(instance) = self.instance.lock().await.take() {
                instance.stop().await;
            }
        }
    }

    /// Whether a process runs now.
    pub async fn is_warm(&self) -> bool {
        self.instance.lock().await.is_some()
    }

    /// Stops the process (by its own handle) and the Runtime API.
    pub async fn stop(&self) {
        if let Some(instance) = self.instance.lock().await.take() {
            instance.stop().await;
        }
    }

    async fn start(&self, config: &InvokeConfig) -> Result<Instance, crate::LocalError> {
        let api = RuntimeApi::start(&config.function_arn)
            .await
            .map_err(crate::LocalError::Server)?;
        let mut child = spawn(config, &api)?;
        if let Some(stdout) = child.stdout.take() {
            forward(stdout, LogStream::Stdout, &self.name, self.logs.clone());
        }
        if let Some(stderr) = child.stderr.take() {
            forward(stderr, LogStream::Stderr, &self.name, self.logs.clone());
        }
        Ok(Instance {
            api,
            child,
            binary: config.binary.clone(),
        })
    }
}

impl Instance {
    async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        self.api.stop().await;
    }
}

/// Hands each line of `stream` to `logs` until the process closes it.
fn forward(
    stream: impl AsyncRead + Unpin + Send + 'static,
    which: LogStream,
    name: &str,
    logs: LogSink,
) {
    let name = name.to_owned();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            logs(&name, which, &line);
        }
    });
}

/// The warm functions of an app, by function name (the template's `FunctionName`).
#[derive(Default)]
pub struct WarmPool {
    functions: Mutex<BTreeMap<String, Arc<WarmFunction>>>,
}

impl WarmPool {
    pub fn new() -> WarmPool {
        WarmPool::default()
    }

    /// Adds or reconfigures `name` (its logs prefixed with `label`); returns it.
    pub async fn upsert(
        &self,
        name: &str,
        label: &str,
        config: InvokeConfig,
        logs: &LogSink,
    ) -> Arc<WarmFunction> {
        let existing = self.get(name);
        match existing {
            Some(function) => {
                function.reconfigure(config).await;
                function
            }
            None => {
                let function = Arc::new(WarmFunction::new(label, config, logs.clone()));
                self.functions
                    .lock()
                    .expect("pool")
                    .insert(name.to_owned(), function.clone());
                function
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<Arc<WarmFunction>> {
        self.functions.lock().expect("pool").get(name).cloned()
    }

    /// Every function's name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.functions
            .lock()
            .expect("pool")
            .keys()
            .cloned()
            .collect()
    }

    /// Removes (and stops) the functions not in `keep`.
    pub async fn retain(&self, keep: &std::collections::BTreeSet<String>) {
        let gone: Vec<Arc<WarmFunction>> = {
            let mut functions = self.functions.lock().expect("pool");
            let names: Vec<String> = functions
                .keys()
                .filter(|n| !keep.contains(*n))
                .cloned()
                .collect();
            names.iter().filter_map(|n| functions.remove(n)).collect()
        };
        for function in gone {
            function.stop().await;
        }
    }

    /// Stops every process.
    pub async fn stop_all(&self) {
        let all: Vec<Arc<WarmFunction>> = self
            .functions
            .lock()
            .expect("pool")
            .values()
            .cloned()
            .collect();
        for function in all {
            function.stop().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bootstrap in sh that answers every event with its own PID, so a test can tell a
    /// warm instance (same PID) from a fresh one.
    fn echo_pid(tag: &str, timeout: Duration) -> InvokeConfig {
        let dir = std::env::temp_dir().join(format!("stackgen-warm-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let binary = dir.join("bootstrap");
        // curl is not everywhere; bash's /dev/tcp speaks enough HTTP/1.1 for the protocol.
        let script = r#"#!/bin/bash
host=${AWS_LAMBDA_RUNTIME_API%:*}; port=${AWS_LAMBDA_RUNTIME_API#*:}
echo "started $$"
while true; do
  exec 3<>/dev/tcp/$host/$port
  printf 'GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
  id=""; body=""
  while IFS= read -r line <&3; do
    line=${line%$'\r'}
    case "$line" in Lambda-Runtime-Aws-Request-Id:*) id=${line#*: };; "") break;; esac
  done
  body=$(cat <&3); exec 3<&-
  case "$body" in *sleep*) sleep 30;; esac
  answer="{\"pid\":$$}"
  exec 3<>/dev/tcp/$host/$port
  printf 'POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: x\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s' "$id" "${#answer}" "$answer" >&3
  cat <&3 >/dev/null; exec 3<&-
done
"#;
        std::fs::write(&binary, script).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
        InvokeConfig {
            binary,
            environment: [("PATH".to_owned(), "/usr/bin:/bin".to_owned())].into(),
            function_arn: "arn".to_owned(),
            timeout,
        }
    }

    fn pid(invocation: &WarmInvocation) -> String {
        match &invocation.outcome {
            Outcome::Response(body) => String::from_utf8_lossy(body).into_owned(),
            other => panic!("no response: {other:?}"),
        }
    }

    fn quiet() -> LogSink {
        Arc::new(|_: &str, _: LogStream, _: &str| {})
    }

    #[tokio::test]
    async fn the_same_process_answers_until_its_binary_is_replaced() {
        let config = echo_pid("replace", Duration::from_secs(10));
        let function = WarmFunction::new("f", config.clone(), quiet());
        let first = function.invoke(b"{}".to_vec()).await.unwrap();
        let second = function.invoke(b"{}".to_vec()).await.unwrap();
        assert!(first.cold && !second.cold);
        assert_eq!(pid(&first), pid(&second));

        let copy = config.binary.with_file_name("bootstrap-2");
        std::fs::copy(&config.binary, &copy).unwrap();
        function.replace_binary(copy).await;
        assert!(!function.is_warm().await);
        let third = function.invoke(b"{}".to_vec()).await.unwrap();
        assert!(third.cold);
        assert_ne!(pid(&first), pid(&third));
        function.stop().await;
        assert!(!function.is_warm().await);
    }

    #[tokio::test]
    async fn a_timed_out_instance_is_stopped_and_the_next_event_starts_a_fresh_one() {
        let config = echo_pid("timeout", Duration::from_millis(800));
        let function = WarmFunction::new("f", config, quiet());
        let first = function.invoke(b"{}".to_vec()).await.unwrap();
        let stuck = function.invoke(b"\"sleep\"".to_vec()).await.unwrap();
        assert_eq!(stuck.outcome, Outcome::TimedOut(Duration::from_millis(800)));
        assert!(!function.is_warm().await);
        let next = function.invoke(b"{}".to_vec()).await.unwrap();
        assert!(next.cold);
        assert_ne!(pid(&first), pid(&next));
        function.stop().await;
    }
}
