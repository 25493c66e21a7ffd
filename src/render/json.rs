//! Stage `render`, the JSON format: stable and versioned (`format_version`), documented in the
//! README; control, bidirectional and zero-width characters in strings written as `\u` escapes.
//! Pure.

use serde_json::{Value, json};

use super::JSON_FORMAT_VERSION;
use crate::plan::{Options, Plan, Refusals};
use crate::provider::Target;

/// The JSON format (`format_version` "1"), documented in the README.
pub fn json(plan: &Plan, target: &Target, refusals: Option<&Refusals>) -> String {
    let by_action: serde_json::Map<String, Value> = plan
        .counts()
        .iter()
        .map(|(a, n)| (a.as_str().to_string(), json!(n)))
        .collect();
    let operations: Vec<Value> = plan
        .operations
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let mut v = serde_json::to_value(op).expect("operations serialize");
            if let Value::Object(m) = &mut v {
                m.insert("index".into(), json!(i));
                m.insert("symbol".into(), json!(op.action().symbol().to_string()));
                m.entry("depends_on").or_insert_with(|| json!([]));
            }
            v
        })
        .collect();
    let doc = json!({
        "format_version": JSON_FORMAT_VERSION,
        "target": {
            "endpoint": target.endpoint,
            "embedded": target.embedded,
            "partner": plan.partner,
        },
        "options": options(&plan.options),
        "summary": {
            "changes": !plan.is_empty(),
            "writes": plan.writes(),
            "by_action": by_action,
            "pending_invitations": plan.pending_invitations,
            "unmanaged": plan.unmanaged.len(),
            "unmanaged_admins": plan.unmanaged_admins(),
            "writes_per_minute": plan.limits.writes_per_minute,
            "min_seconds": plan.min_seconds(),
        },
        "operations": operations,
        "unmanaged": plan.unmanaged.iter().map(|u| {
            let mut v = serde_json::to_value(u).expect("unmanaged objects serialize");
            if let (Value::Object(m), true) = (&mut v, u.is_admin()) {
                m.insert("access_risk".into(), json!(true));
            }
            v
        }).collect::<Vec<_>>(),
        "warnings": plan.near_misses.iter().map(|w| {
            let mut v = serde_json::to_value(w).expect("warnings serialize");
            if let Value::Object(m) = &mut v {
                m.insert("type".into(), json!("near-miss"));
                m.insert("message".into(), json!(w.to_string()));
            }
            v
        }).collect::<Vec<_>>(),
        "refusals": refusals.map(|r| r.0.iter().map(ToString::to_string).collect::<Vec<_>>()).unwrap_or_default(),
    });
    let mut doc = doc;
    if !plan.targets.is_empty() {
        doc["targets"] = json!(plan.targets);
    }
    if !plan.manual.is_empty() {
        doc["manual_steps"] = json!(plan.manual);
    }
    doc["access_changes"] = json!(plan.access);
    let mut s = super::escape::json_pretty(&doc);
    s.push('\n');
    s
}

/// The planning options, every guard's limit included (a saved plan leaves out a default one).
fn options(options: &Options) -> Value {
    let Value::Object(fields) = serde_json::to_value(options).expect("options serialize") else {
        unreachable!("options serialize as an object");
    };
    let mut out = serde_json::Map::new();
    for (k, v) in fields {
        let next = k == "max_delete_percent";
        out.insert(k, v);
        if next {
            out.insert(
                "max_update_percent".into(),
                json!(options.max_update_percent),
            );
        }
    }
    Value::Object(out)
}
