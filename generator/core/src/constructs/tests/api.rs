//! The REST API, its authorizer, CORS and deployment.

use super::{example, of_type as by_type, synth};
use serde_json::{Value as J, json};

#[test]
fn protected_route_goes_through_the_token_authorizer() {
    let t = example();
    let (authorizer_id, authorizer) = by_type(&t, "AWS::ApiGateway::Authorizer").pop().unwrap();
    let a = &authorizer["Properties"];
    assert_eq!(a["Type"], "TOKEN");
    assert_eq!(a["IdentitySource"], "method.request.header.Authorization");
    assert_eq!(a["AuthorizerResultTtlInSeconds"], 300);
    assert!(
        a["AuthorizerUri"]["Fn::Sub"]
            .as_str()
            .unwrap()
            .contains("${FunctionAuthorizer")
    );
    let get = by_type(&t, "AWS::ApiGateway::Method")
        .into_iter()
        .find(|(_, m)| m["Properties"]["HttpMethod"] == "GET")
        .unwrap()
        .1;
    assert_eq!(get["Properties"]["AuthorizationType"], "CUSTOM");
    assert_eq!(
        get["Properties"]["AuthorizerId"],
        json!({"Ref": authorizer_id})
    );
    assert_eq!(get["Properties"]["Integration"]["Type"], "AWS_PROXY");
    // The authorizer function gets the issuer with its trailing slash.
    let env = &t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(id, _)| {
            id.starts_with("FunctionAuthorizer") && id.len() == "FunctionAuthorizer".len() + 8
        })
        .unwrap()
        .1["Properties"]["Environment"]["Variables"];
    assert_eq!(env["AUTH_ISSUER"], "https://dev-24hourvideo.us.auth0.com/");
    assert_eq!(
        env["AUTH_JWKS_URL"],
        "https://dev-24hourvideo.us.auth0.com/.well-known/jwks.json"
    );
}

#[test]
fn deployment_waits_for_every_method_and_the_stage_logs_and_throttles() {
    let t = example();
    let methods: Vec<J> = by_type(&t, "AWS::ApiGateway::Method")
        .into_iter()
        .map(|(id, _)| json!(id))
        .collect();
    let (deployment_id, deployment) = by_type(&t, "AWS::ApiGateway::Deployment").pop().unwrap();
    assert_eq!(deployment["DependsOn"].as_array().unwrap(), &methods);
    let (_, stage) = by_type(&t, "AWS::ApiGateway::Stage").pop().unwrap();
    let s = &stage["Properties"];
    assert_eq!(s["DeploymentId"], json!({"Ref": deployment_id}));
    assert!(
        s["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]
            .as_str()
            .unwrap()
            .starts_with("ApiAccessLogGroup")
    );
    assert_eq!(s["MethodSettings"][0]["ThrottlingRateLimit"], 50);
    assert!(
        t["Outputs"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.starts_with("ApiUrl"))
    );
}

#[test]
fn a_route_change_makes_a_new_deployment() {
    let changed = crate::example::unstaged().replace("GET /user-profile:", "GET /profile:");
    let model = crate::load(&changed).unwrap();
    let t2 = crate::constructs::synthesize(&model)
        .unwrap()
        .into_stacks()
        .remove(0)
        .template
        .to_json();
    let id = |t: &J| {
        by_type(t, "AWS::ApiGateway::Deployment")
            .pop()
            .unwrap()
            .0
            .clone()
    };
    assert_ne!(id(&example()), id(&t2));
}

#[test]
fn route_permissions_are_scoped_to_the_route() {
    let t = example();
    let arns: Vec<String> = by_type(&t, "AWS::Lambda::Permission")
        .into_iter()
        .filter(|(_, p)| p["Properties"]["Principal"] == "apigateway.amazonaws.com")
        .map(|(_, p)| {
            p["Properties"]["SourceArn"]["Fn::Sub"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let api = by_type(&t, "AWS::ApiGateway::RestApi")
        .pop()
        .unwrap()
        .0
        .clone();
    let prefix = format!(
        "arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{api}}}/"
    );
    assert!(
        arns.contains(&format!("{prefix}prod/GET/user-profile")),
        "{arns:?}"
    );
    assert!(arns.contains(&format!("{prefix}test-invoke-stage/GET/user-profile")));
    assert!(arns.iter().any(
        |a| a.ends_with("/authorizers/${ApiAuthorizerB2F0A4E9}") || a.contains("/authorizers/")
    ));
}

#[test]
fn functions_read_exactly_their_secrets_by_arn() {
    let t = synth(
        "name: video24\nregion: us-east-1\nsecrets:\n  db-credentials:\n    username: profiles\nfunctions:\n  user-profile:\n    secrets: [db-credentials]\n  transcode: {}\n",
    )
    .remove(0);
    let (_, secret) = by_type(&t, "AWS::SecretsManager::Secret").pop().unwrap();
    let generate = &secret["Properties"]["GenerateSecretString"];
    assert_eq!(generate["GenerateStringKey"], "password");
    assert!(
        secret["Properties"].get("SecretString").is_none(),
        "no value in the template"
    );
    let role = &t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(id, _)| id.starts_with("FunctionUserProfileRole"))
        .unwrap()
        .1;
    let statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    let read = statements
        .iter()
        .find(|s| s["Action"] == "secretsmanager:GetSecretValue")
        .unwrap();
    assert_eq!(
        read["Resource"]["Ref"].as_str().unwrap()[..19],
        *"SecretDbCredentials"
    );
    let transcode_role = &t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(id, _)| id.starts_with("FunctionTranscodeRole"))
        .unwrap()
        .1;
    assert!(!transcode_role.to_string().contains("secretsmanager"));
}
