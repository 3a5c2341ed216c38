"""Strict, offline validation of Kubernetes manifests against pinned official schemas."""
