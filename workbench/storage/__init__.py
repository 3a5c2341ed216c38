"""Object storage (S3 and S3-compatible): one client, versioned publishing."""
