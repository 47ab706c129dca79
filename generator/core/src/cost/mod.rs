//! The monthly cost estimate (`gen cost`): every resource of the synthesized templates, priced
//! in its template's region by the function for its type (`price.rs`), with the manifest's
//! usage assumptions for the key it stands for — found by following the template's references
//! (`graph.rs`), so there is no second description of what the app contains. AWS's public
//! prices are in `generator/data/prices.json`.

mod free_tier;
mod graph;
mod price;
mod render;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cfn::{LogicalId, Resource};
use crate::graph::StackNode;
use crate::model::Model;

pub use render::{count, money};

const PRICES_JSON: &str = include_str!("../../../data/prices.json");

/// AWS's prices, as read from its public price pages on `read_on`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceTable {
    pub currency: String,
    pub read_on: String,
    pub sources: BTreeMap<String, String>,
    pub free_tier: FreeTier,
    pub regions: BTreeMap<String, RegionPrices>,
}

/// Monthly Free Tier allowances.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreeTier {
    pub lambda_requests: f64,
    pub lambda_gb_seconds: f64,
    pub s3_storage_gb: f64,
    pub s3_put_requests: f64,
    pub s3_get_requests: f64,
    pub api_gateway_rest_requests: f64,
    pub cloudwatch_alarms: f64,
    pub cloudwatch_custom_metrics: f64,
    pub cloudwatch_logs_ingested_gb: f64,
    pub cloudwatch_logs_stored_gb: f64,
    pub sns_email_notifications: f64,
    pub sqs_requests: f64,
    #[serde(default)]
    pub notes: Option<String>,
}

/// One region's prices (USD), first tier where AWS tiers them.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionPrices {
    pub lambda_per_million_requests: f64,
    pub lambda_per_gb_second_x86_64: f64,
    pub lambda_per_gb_second_arm64: f64,
    pub s3_standard_per_gb_month: f64,
    pub s3_per_1000_put_requests: f64,
    pub s3_per_1000_get_requests: f64,
    pub api_gateway_rest_per_million_requests: f64,
    pub cloudwatch_per_alarm_month: f64,
    pub cloudwatch_per_custom_metric_month: f64,
    pub cloudwatch_logs_per_gb_ingested: f64,
    pub cloudwatch_logs_per_gb_month_stored: f64,
    pub cloudtrail_per_100000_data_events: f64,
    pub cloudtrail_per_100000_management_events_extra_copy: f64,
    pub sns_per_100000_email_notifications: f64,
    pub secrets_manager_per_secret_month: f64,
    pub secrets_manager_per_10000_api_calls: f64,
    pub sqs_per_million_requests: f64,
    pub dynamodb_per_million_read_request_units: f64,
    pub dynamodb_per_million_write_request_units: f64,
    pub dynamodb_per_gb_month_stored: f64,
    pub dynamodb_pitr_per_gb_month: f64,
    pub dynamodb_per_rcu_hour: f64,
    pub dynamodb_per_wcu_hour: f64,
    #[serde(default)]
    pub notes: Option<String>,
}

impl PriceTable {
    /// The table shipped with stackgen (checked by a test to parse).
    pub fn builtin() -> PriceTable {
        serde_json::from_str(PRICES_JSON).expect("generator/data/prices.json is valid (tested)")
    }

    fn region(&self, region: &str) -> Result<&RegionPrices, CostError> {
        self.regions
            .get(region)
            .ok_or_else(|| CostError::UnknownRegion {
                region: region.to_owned(),
                known: self.regions.keys().cloned().collect(),
            })
    }
}

/// One line of the estimate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Line {
    pub service: &'static str,
    pub resource: String,
    pub item: String,
    pub quantity: f64,
    pub unit: &'static str,
    pub usd: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Estimate {
    pub project: String,
    pub region: String,
    pub currency: String,
    pub prices_read_on: String,
    pub free_tier: bool,
    pub lines: Vec<Line>,
    pub total_usd: f64,
    /// Cost traps found in this app.
    pub warnings: Vec<String>,
    /// Assumptions worth knowing.
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum CostError {
    #[error("no prices for region `{region}`; regions with prices: {}", .known.join(", "))]
    UnknownRegion { region: String, known: Vec<String> },
}

/// Prices what the templates contain, each template in its region; free tier allowances (when
/// the manifest asks for them) at the app's region's prices.
pub fn estimate(
    model: &Model,
    templates: &[StackNode],
    table: &PriceTable,
) -> Result<Estimate, CostError> {
    let home = table.region(&model.region)?;
    let index = graph::Index::new(model);
    let mut sheet = Sheet::default();
    for synthesized in templates {
        let graph = graph::Graph::new(&synthesized.template, &index);
        let cx = price::Cx {
            graph: &graph,
            usage: &model.usage,
            prices: table.region(&synthesized.region)?,
        };
        price::template(&cx, &mut sheet);
    }
    if model.usage.free_tier {
        free_tier::credit(&mut sheet, &table.free_tier, home);
    }
    Ok(sheet.finish(model, table))
}

/// What pricing produces, in the order it produces it.
#[derive(Default)]
struct Sheet {
    lines: Vec<Line>,
    warnings: Vec<String>,
    notes: Vec<String>,
    /// Resources left out, each with why (reported as notes: a gap is never silent).
    unpriced: Vec<String>,
    totals: Totals,
}

/// The app's monthly quantities that free tier allowances apply to.
#[derive(Default)]
struct Totals {
    lambda_requests: f64,
    lambda_gb_seconds: f64,
    lambda_gb_seconds_usd: f64,
    s3_stored_gb: f64,
    s3_puts: f64,
    s3_gets: f64,
    alarms: f64,
    metrics: f64,
    logs_ingested_gb: f64,
    logs_stored_gb: f64,
    email_deliveries: f64,
}

impl Sheet {
    fn line(
        &mut self,
        service: &'static str,
        resource: &str,
        item: impl Into<String>,
        quantity: f64,
        unit: &'static str,
        usd: f64,
    ) {
        self.lines.push(Line {
            service,
            resource: resource.to_owned(),
            item: item.into(),
            quantity,
            unit,
            usd,
        });
    }

    fn unpriced(&mut self, id: &LogicalId, resource: &Resource, why: &str) {
        self.unpriced.push(format!(
            "not priced: {id} ({}): {why}",
            resource.resource_type
        ));
    }

    /// Lines grouped by service, then resource (items keep their natural order); the total.
    fn finish(mut self, model: &Model, table: &PriceTable) -> Estimate {
        self.lines.sort_by(|a, b| {
            a.service
                .cmp(b.service)
                .then_with(|| a.resource.cmp(&b.resource))
        });
        let total_usd = self.lines.iter().map(|l| l.usd).sum::<f64>().max(0.0);
        self.notes.append(&mut self.unpriced);
        Estimate {
            project: model.project.to_string(),
            region: model.region.clone(),
            currency: table.currency.clone(),
            prices_read_on: table.read_on.clone(),
            free_tier: model.usage.free_tier,
            lines: self.lines,
            total_usd,
            warnings: self.warnings,
            notes: self.notes,
        }
    }
}
