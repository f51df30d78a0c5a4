//! Fuzzes the kubeconfig parser and everything that runs on a parsed kubeconfig without I/O:
//! no input may panic, and whatever parses must serialize and parse back.
#![no_main]

use kubeclient::config::{ClientConfig, ConfigOverrides, Kubeconfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(config) = Kubeconfig::from_slice(data) else {
        return;
    };
    let _ = format!("{config:?}");

    // What is written back must read back, in both formats.
    let json = config.to_json().expect("a parsed kubeconfig serializes as JSON");
    let from_json = Kubeconfig::from_slice(json.as_bytes()).expect("our JSON parses");
    assert_eq!(
        serde_json::to_value(&from_json).ok(),
        serde_json::to_value(&config).ok(),
        "JSON round trip changed the kubeconfig"
    );
    if let Ok(yaml) = config.to_yaml() {
        Kubeconfig::from_slice(yaml.as_bytes()).expect("our YAML parses");
    }

    // Resolution, minify and redaction never panic.
    let resolved = ClientConfig::new(config.clone(), ConfigOverrides::default()).resolve();
    if let Ok(r) = resolved {
        let _ = r.to_kubeconfig().to_json();
    }
    let mut minified = config.clone();
    if minified.minify().is_ok() {
        minified.redact();
        let _ = minified.to_yaml();
    }
    let mut merged = Kubeconfig::default();
    merged.merge_lower_priority(&config);
    merged.merge_lower_priority(&config);
});
