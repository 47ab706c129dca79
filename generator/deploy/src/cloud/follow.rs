//! Following a stack operation: the stack's events, polled until the stack settles, each
//! new one shown as [`crate::events::Progress`] words it.

use std::collections::HashSet;
use std::time::Instant;

use aws_sdk_cloudformation as cfn;

use super::error::{DESCRIBE_STACK_EVENTS, DESCRIBE_STACKS, classify, is_missing_stack};
use super::{Cloud, Regional, status_of};
use crate::DeployError;
use crate::events::{self, Progress};
use crate::status::{self, StackStatus};

impl<'c> Cloud<'c> {
    /// The IDs of the events `stack_id` has so far: what the next operation's progress leaves
    /// out.
    pub(super) async fn event_ids(
        &self,
        regional: &Regional,
        stack_id: &str,
    ) -> Result<HashSet<String>, DeployError> {
        Ok(self
            .new_events(regional, stack_id, &HashSet::new())
            .await?
            .into_iter()
            .filter_map(|e| e.event_id().map(str::to_owned))
            .collect())
    }

    /// Events not in `seen`, oldest first.
    async fn new_events(
        &self,
        regional: &Regional,
        stack_id: &str,
        seen: &HashSet<String>,
    ) -> Result<Vec<cfn::types::StackEvent>, DeployError> {
        let mut fresh = Vec::new();
        let mut token: Option<String> = None;
        'pages: loop {
            let out = match regional
                .cfn
                .describe_stack_events()
                .stack_name(stack_id)
                .set_next_token(token.take())
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) if is_missing_stack(&e) => break,
                Err(e) => return Err(classify(DESCRIBE_STACK_EVENTS, &regional.endpoint, e)),
            };
            // Newest first: stop at the first event already shown.
            for event in out.stack_events() {
                if event.event_id().is_some_and(|id| seen.contains(id)) {
                    break 'pages;
                }
                fresh.push(event.clone());
            }
            match out.next_token() {
                Some(next) => token = Some(next.to_owned()),
                None => break,
            }
        }
        fresh.reverse();
        Ok(fresh)
    }

    /// Follows a stack until it settles (leaves `*_IN_PROGRESS`), showing each new event with
    /// a done/total count, and on failure the failing resources' reasons. A stack that is gone
    /// settles as DELETE_COMPLETE.
    pub(super) async fn wait(
        &self,
        regional: &Regional,
        stack_id: &str,
        name: &str,
        mut seen: HashSet<String>,
        total: usize,
    ) -> Result<cfn::types::Stack, DeployError> {
        let mut progress = Progress::new(total);
        let started = Instant::now();
        let mut last_said = Instant::now();
        let mut tick = 0usize;
        loop {
            let stack = regional.stack_by_id(stack_id).await?;
            for event in self.new_events(regional, stack_id, &seen).await? {
                if let Some(id) = event.event_id() {
                    seen.insert(id.to_owned());
                }
                self.console.line(&progress.record(&event));
                last_said = Instant::now();
            }
            let status = stack
                .as_ref()
                .map_or(StackStatus::DeleteComplete, status_of);
            if status::phase(&status).is_settled() {
                self.console.clear_status();
                if status::phase(&status).went_wrong() {
                    // A nested stack's failure says only "Embedded stack … was not
                    // successfully created": its own events hold the cause.
                    for nested in progress.failed_nested().to_vec() {
                        let events = self
                            .new_events(regional, &nested.stack_id, &HashSet::new())
                            .await
                            .unwrap_or_default();
                        progress.explain_nested(&nested.logical_id, &events);
                    }
                }
                let reason = stack.as_ref().and_then(|s| s.stack_status_reason());
                for line in progress.settled(name, &status, reason) {
                    self.console.line(&line);
                }
                return Ok(stack.unwrap_or_else(|| {
                    cfn::types::Stack::builder()
                        .stack_name(name)
                        .stack_status(StackStatus::DeleteComplete)
                        .build()
                }));
            }
            tick += 1;
            self.console
                .status(tick, &progress.waiting(name, &status, started.elapsed()));
            if !self.console.watched() && last_said.elapsed() >= events::QUIET_LIMIT {
                self.console
                    .line(&events::still_waiting(name, &status, started.elapsed()));
                last_said = Instant::now();
            }
            self.sleep().await;
        }
    }
}

impl Regional {
    /// The stack with this ID, deleted or not; `None` once CloudFormation forgot it.
    async fn stack_by_id(&self, stack_id: &str) -> Result<Option<cfn::types::Stack>, DeployError> {
        match self.cfn.describe_stacks().stack_name(stack_id).send().await {
            Ok(out) => Ok(out.stacks().first().cloned()),
            Err(e) if is_missing_stack(&e) => Ok(None),
            Err(e) => Err(classify(DESCRIBE_STACKS, &self.endpoint, e)),
        }
    }
}
