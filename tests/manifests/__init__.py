"""Chart, workflow and deployment manifests: real Helm, strict schemas, promtool, checkov."""
