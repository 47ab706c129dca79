//! A typed model of CloudFormation templates. Constructs build it; it serialises to JSON.
//! Nothing here knows about manifests.

pub mod iam;
mod logical_id;
mod template;
mod value;

pub use logical_id::{LogicalId, pascal_case};
pub use template::{
    Condition, CrossStack, MAX_OUTPUTS, MAX_PARAMETERS, MAX_RESOURCES, MAX_TEMPLATE_BYTES, Output,
    Parameter, ParameterType, RemovalPolicy, Resource, Template, TemplateError, to_pretty_json,
};
pub use value::{Import, Intrinsic, Pseudo, Sub, SubRef, Value};
