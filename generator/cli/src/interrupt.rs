//! SIGINT and SIGTERM during `gen deploy`: a thread of its own waits for them (so a signal is
//! taken while the deploy blocks on a y/N question or a cargo build), stops the deploy from
//! taking any further step, deletes the change set it had made and not executed (or says
//! that an executing one goes on in CloudFormation, and how to follow it), and exits 130
//! (SIGINT) or 143 (SIGTERM). A second signal while it cleans up exits at once.

use anyhow::{Context as _, Result};
use stackgen_deploy::DeployConfig;
use stackgen_deploy::cloud::Cloud;
use stackgen_deploy::interrupt::{self, InFlight, UnderWay};
use tokio::signal::unix::{SignalKind, signal};

use crate::ui::Terminal;

/// Takes SIGINT and SIGTERM from now on, for the deploy `config` describes.
pub fn watch(config: &DeployConfig) -> Result<()> {
    let config = config.clone();
    let (ready, registered) = std::sync::mpsc::channel::<Result<(), String>>();
    std::thread::Builder::new()
        .name("signals".to_owned())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready.send(Err(e.to_string()));
                    return;
                }
            };
            runtime.block_on(async move {
                let (mut int, mut term) =
                    match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
                        (Ok(int), Ok(term)) => (int, term),
                        (Err(e), _) | (_, Err(e)) => {
                            let _ = ready.send(Err(e.to_string()));
                            return;
                        }
                    };
                let _ = ready.send(Ok(()));
                let code = tokio::select! {
                    _ = int.recv() => 130,
                    _ = term.recv() => 143,
                };
                let lines = tokio::select! {
                    lines = clean_up(config) => lines,
                    _ = int.recv() => vec!["Interrupted again: gen stopped cleaning up; a change set it made may be left (gen deploy deletes none of its own later; `aws cloudformation list-change-sets --stack-name STACK` shows them)".to_owned()],
                    _ = term.recv() => vec!["Terminated again: gen stopped cleaning up; a change set it made may be left (`aws cloudformation list-change-sets --stack-name STACK` shows them)".to_owned()],
                };
                // After the prompt or status line the deploy may have left.
                eprintln!();
                for line in lines {
                    eprintln!("{line}");
                }
                std::process::exit(code);
            });
        })
        .context("starting the signal handler")?;
    registered
        .recv()
        .context("the signal handler stopped")?
        .map_err(|e| anyhow::anyhow!("taking SIGINT and SIGTERM: {e}"))
}

async fn clean_up(config: DeployConfig) -> Vec<String> {
    // Blocks (bounded) while an ExecuteChangeSet already sent awaits its answer.
    let under_way = config.in_flight.interrupt();
    if !matches!(under_way, UnderWay::ChangeSet(_)) {
        return interrupt::explain(&under_way);
    }
    let terminal = Terminal::new();
    match Cloud::connect(config, &terminal).await {
        Ok(cloud) => cloud.clean_up(&under_way).await,
        Err(e) => {
            let mut lines = interrupt::explain(&under_way);
            lines.push(format!("  but gen could not connect to delete it: {e}"));
            lines
        }
    }
}

/// After the deploy returned: when a signal stopped it, the handler is cleaning up and exits
/// the process; wait for that instead of reporting the deploy's own error. A cargo build
/// killed by the same Ctrl-C returns before the handler has claimed the signal, so a failed
/// build is given a moment.
pub fn settle(in_flight: &InFlight, failed_build: bool) {
    if failed_build && !in_flight.is_interrupted() {
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    if in_flight.is_interrupted() {
        loop {
            std::thread::park();
        }
    }
}
