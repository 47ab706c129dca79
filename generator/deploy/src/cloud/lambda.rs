//! `gen deploy --hotswap`'s one call: new code for a function, straight to Lambda, then
//! waiting until Lambda says the update is done (the function runs the old code until then).

use aws_sdk_lambda::types::LastUpdateStatus;

use super::error::{GET_FUNCTION_CONFIGURATION, UPDATE_FUNCTION_CODE, classify};
use super::{Cloud, Regional};
use crate::DeployError;

impl<'c> Cloud<'c> {
    /// Points `function` at the zip `bucket`/`key` and waits for the update to succeed.
    /// Returns the function's new CodeSha256.
    pub async fn update_function_code(
        &self,
        regional: &Regional,
        function: &str,
        bucket: &str,
        key: &str,
    ) -> Result<String, DeployError> {
        let updated = regional
            .lambda
            .update_function_code()
            .function_name(function)
            .s3_bucket(bucket)
            .s3_key(key)
            .send()
            .await
            .map_err(|e| classify(UPDATE_FUNCTION_CODE, &regional.endpoint, e))?;
        // (status, reason, CodeSha256) as Lambda last said them.
        let mut state = (
            updated.last_update_status().cloned(),
            updated.last_update_status_reason().map(str::to_owned),
            updated.code_sha256().unwrap_or_default().to_owned(),
        );
        while state.0 == Some(LastUpdateStatus::InProgress) {
            self.sleep().await;
            let config = regional
                .lambda
                .get_function_configuration()
                .function_name(function)
                .send()
                .await
                .map_err(|e| classify(GET_FUNCTION_CONFIGURATION, &regional.endpoint, e))?;
            state = (
                config.last_update_status().cloned(),
                config.last_update_status_reason().map(str::to_owned),
                config.code_sha256().unwrap_or_default().to_owned(),
            );
        }
        let (status, reason, sha) = state;
        if status == Some(LastUpdateStatus::Failed) {
            return Err(DeployError::Aws {
                operation: "UpdateFunctionCode",
                message: format!(
                    "Lambda could not update {function}: {}",
                    reason.as_deref().unwrap_or("no reason given")
                ),
            });
        }
        Ok(sha)
    }
}
