//! The REST API Lambda proxy event (payload v1) as API Gateway sends it, and the small
//! encodings it needs (percent-decoding, base64, the `requestTime` clock format).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// `%XX` decoded (invalid escapes kept as they are); `+` stays `+`, as in a path.
pub(super) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(super) fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> shift) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 (padding optional, whitespace ignored); `None` when it is not.
pub(super) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut buffer = 0u32;
    let mut bits = 0;
    let mut padding = false;
    for byte in text.bytes() {
        if byte.is_ascii_whitespace() {
            continue;
        }
        if byte == b'=' {
            padding = true;
            continue;
        }
        if padding {
            return None;
        }
        let value = ALPHABET.iter().position(|&a| a == byte)? as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// `03/Dec/2026:17:00:00 +0000` (API Gateway's `requestTime`) of a Unix time in ms.
pub(super) fn request_time(epoch_ms: u64) -> String {
    let seconds = epoch_ms / 1000;
    let (h, m, s) = (seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
    // Days to a civil date (Howard Hinnant's algorithm).
    let z = (seconds / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{day:02}/{}/{year}:{h:02}:{m:02}:{s:02} +0000",
        MONTHS[(month - 1) as usize]
    )
}

/// What one request contributes to its event.
pub(super) struct EventInput<'a> {
    pub method: &'a str,
    /// The path below the stage (`/user-profile/42`), as sent.
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    pub resource_path: &'a str,
    pub resource_id: &'a str,
    pub path_parameters: &'a BTreeMap<String, String>,
    pub stage: &'a str,
    pub stage_variables: Option<&'a BTreeMap<String, String>>,
    pub account: &'a str,
    pub api_id: &'a str,
    pub request_id: &'a str,
    pub epoch_ms: u64,
    pub source_ip: &'a str,
    /// `principalId`, the context (as strings) and `integrationLatency`.
    pub authorizer: Option<Map<String, Value>>,
}

/// The query string's parameters, in order, decoded (`+` as a space, as API Gateway does).
pub(super) fn query_parameters(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| percent_decode(&s.replace('+', " "));
            (decode(name), decode(value))
        })
        .collect()
}

/// Last value per name, and every value per name: API Gateway's single- and multi-value maps;
/// both null when there are none.
fn maps(pairs: &[(String, String)]) -> (Value, Value) {
    if pairs.is_empty() {
        return (Value::Null, Value::Null);
    }
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (name, value) in pairs {
        single.insert(name.clone(), Value::String(value.clone()));
        match multi.get_mut(name) {
            Some(Value::Array(values)) => values.push(Value::String(value.clone())),
            _ => {
                multi.insert(name.clone(), json!([value]));
            }
        }
    }
    (Value::Object(single), Value::Object(multi))
}

pub(super) fn proxy_event(input: &EventInput) -> Value {
    let header = |name: &str| {
        input
            .headers
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let (headers, multi_headers) = maps(input.headers);
    let query = query_parameters(input.query.unwrap_or(""));
    let (query, multi_query) = maps(&query);
    let path_parameters = if input.path_parameters.is_empty() {
        Value::Null
    } else {
        json!(input.path_parameters)
    };
    let (body, base64) = match (input.body.is_empty(), std::str::from_utf8(input.body)) {
        (true, _) => (Value::Null, false),
        (false, Ok(text)) => (Value::String(text.to_owned()), false),
        (false, Err(_)) => (Value::String(base64_encode(input.body)), true),
    };
    let domain = header("Host").unwrap_or_else(|| "127.0.0.1".to_owned());
    let prefix = domain
        .split(['.', ':'])
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut context = json!({
        "accountId": input.account,
        "apiId": input.api_id,
        "domainName": domain,
        "domainPrefix": prefix,
        "extendedRequestId": extended_request_id(input.request_id),
        "httpMethod": input.method,
        "identity": {
            "accessKey": null,
            "accountId": null,
            "caller": null,
            "cognitoAuthenticationProvider": null,
            "cognitoAuthenticationType": null,
            "cognitoIdentityId": null,
            "cognitoIdentityPoolId": null,
            "principalOrgId": null,
            "sourceIp": input.source_ip,
            "user": null,
            "userAgent": header("User-Agent"),
            "userArn": null
        },
        "path": format!("/{}{}", input.stage, input.path),
        "protocol": "HTTP/1.1",
        "requestId": input.request_id,
        "requestTime": request_time(input.epoch_ms),
        "requestTimeEpoch": input.epoch_ms,
        "resourceId": input.resource_id,
        "resourcePath": input.resource_path,
        "stage": input.stage
    });
    if let Some(authorizer) = &input.authorizer {
        context["authorizer"] = Value::Object(authorizer.clone());
    }
    json!({
        "resource": input.resource_path,
        "path": input.path,
        "httpMethod": input.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters,
        "stageVariables": input.stage_variables.map_or(Value::Null, |v| json!(v)),
        "requestContext": context,
        "body": body,
        "isBase64Encoded": base64
    })
}

/// API Gateway's `extendedRequestId` shape (`AbCdEfGhIjKlMnO=`), derived from the request id.
fn extended_request_id(request_id: &str) -> String {
    let mut id = base64_encode(request_id.as_bytes());
    id.truncate(15);
    id.push('=');
    id
}

/// A function's proxy response, read as API Gateway reads it.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct ProxyResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// `None` when the answer is not a proxy response ("Malformed Lambda proxy response").
pub(super) fn proxy_response(answer: &[u8]) -> Result<ProxyResponse, String> {
    let value: Value = serde_json::from_slice(answer).map_err(|e| format!("not JSON: {e}"))?;
    let object = value.as_object().ok_or("not a JSON object")?;
    let status = object
        .get("statusCode")
        .and_then(|s| {
            s.as_u64()
                .or_else(|| s.as_str().and_then(|s| s.parse().ok()))
        })
        .filter(|s| (100..=599).contains(s))
        .ok_or("no statusCode between 100 and 599")? as u16;
    let scalar = |value: &Value| match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    let multi = match object.get("multiValueHeaders") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err("multiValueHeaders is not an object".to_owned()),
    };
    for (name, values) in &multi {
        let values = values
            .as_array()
            .ok_or_else(|| format!("multiValueHeaders.{name} is not a list"))?;
        for value in values {
            let value = scalar(value)
                .ok_or_else(|| format!("multiValueHeaders.{name} holds a non-scalar"))?;
            headers.push((name.clone(), value));
        }
    }
    // Both maps merge; for a name in both, multiValueHeaders' values win.
    match object.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(single)) => {
            for (name, value) in single {
                let value =
                    scalar(value).ok_or_else(|| format!("headers.{name} is not a scalar"))?;
                if !multi.keys().any(|m| m.eq_ignore_ascii_case(name)) {
                    headers.push((name.clone(), value));
                }
            }
        }
        Some(_) => return Err("headers is not an object".to_owned()),
    }
    let base64 = match object.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("isBase64Encoded is not a boolean".to_owned()),
    };
    let body = match object.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(text)) if base64 => {
            base64_decode(text).ok_or("isBase64Encoded, but the body is not base64")?
        }
        Some(Value::String(text)) => text.clone().into_bytes(),
        Some(_) => return Err("body is not a string".to_owned()),
    };
    Ok(ProxyResponse {
        status,
        headers,
        body,
    })
}
